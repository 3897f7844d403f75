import sys
from pathlib import Path

# `function_app.py` sits at the repository root, beside this package: make it importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.cli import main

if __name__ == "__main__":  # not when a worker process is spawned from it
    sys.exit(main())
