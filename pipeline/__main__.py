import atexit
import os
import sys
import threading
from pathlib import Path

# `function_app.py` sits at the repository root, beside this package: make it importable from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import worker_server

if __name__ == "__main__" and worker_server.wanted(sys.argv[1:]):
    worker_server.start("pipeline.worker_preload")  # it imports the app for the workers while this process imports

from pipeline.cli import main


def leave(code: int) -> None:
    """End the process as the interpreter would, but without tearing down every module it imported
    (about 0.3 s with the Azure SDKs loaded, at the end of every command): wait for the threads that are
    not daemons, run the exit handlers (logging, telemetry), flush the standard streams, and exit."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # not when a worker process is spawned from it
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader of the output left early (`| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    leave(code)
