import sys
from pathlib import Path

# `function_app.py` sits at the repository root, beside this package: make it importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import worker_server

if __name__ == "__main__" and worker_server.wanted(sys.argv[1:]):
    worker_server.start("function_app")  # it imports the app for the workers while this process imports

from pipeline.cli import main

if __name__ == "__main__":  # not when a worker process is spawned from it
    sys.exit(main())
