"""What the worker server (`worker_server.py`) imports before it forks activity workers: the app, and
the store clients a worker connects with before it is ready. Imported in that server process only."""

import atexit
import importlib
import os

#: A worker forked from the server finds these imported; what it imports after the fork it imports alone.
PRELOADED = ("function_app", "pipeline.runtime", "pipeline.stores.blob", "pipeline.stores.cosmos")

for module in PRELOADED:
    importlib.import_module(module)

# The server holds nothing to save: when the runner ends, it leaves at once instead of tearing down
# every module it imported, which the runner's caller, reading its output to the end, would wait for.
atexit.register(os._exit, 0)
