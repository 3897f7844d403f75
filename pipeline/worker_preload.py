"""What the worker server (`worker_server.py`) imports before it forks activity workers: the app, and
the store clients a worker connects with before it is ready. Imported in that server process only."""

import atexit
import os

import function_app  # noqa: F401
import pipeline.runtime
import pipeline.stores.blob
import pipeline.stores.cosmos  # noqa: F401

# The server holds nothing to save: when the runner ends, it leaves at once instead of tearing down
# every module it imported, which the runner's caller, reading its output to the end, would wait for.
atexit.register(os._exit, 0)
