"""The local runner: `python -m pipeline run` (see `run.py`)."""
