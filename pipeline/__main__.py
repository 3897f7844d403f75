import sys
from pathlib import Path

# `function_app.py` sits at the repository root, beside this package: make it importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.cli import main

sys.exit(main())
