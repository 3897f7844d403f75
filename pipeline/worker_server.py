"""The server process that `python -m pipeline run`'s activity workers fork from.

Importing `function_app.py` and the store clients takes a worker process about a second.
`pipeline/__main__.py` calls `start` before it imports anything else, so that a clean server process
(Python's `forkserver`, on Linux and macOS) imports them (`worker_preload.py`) while the runner does its
own imports; each worker then forks from it in milliseconds (`functions_host/workers.py`). The server
keeps the environment of that moment, so code that changes its environment later (a test) does not
start it, and its workers are spawned afresh. This module imports nothing heavy, so that calling it
first costs nothing.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

_context: Any = None  # multiprocessing.context.ForkServerContext


def start(module: str) -> None:
    """Start the server now, with `module` imported in it, where the platform has one."""
    global _context
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([module])
    forkserver.ensure_running()
    _context = context


def context() -> Any:
    """The server's context once `start` ran (workers fork from it), else None (they are spawned)."""
    return _context


def wanted(argv: list[str]) -> bool:
    """Whether these command-line arguments start a run with activity worker processes (`--workers 0`
    runs the activities in the runner's own process)."""
    if argv[:1] != ["run"]:
        return False
    for index, arg in enumerate(argv):
        if (arg == "--workers" and argv[index + 1 : index + 2] == ["0"]) or arg == "--workers=0":
            return False
    return True
