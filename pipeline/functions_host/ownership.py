"""Which process drives an instance: the owner recorded on it, and whether that process still lives.

On Azure, Durable hosts that share a task hub divide its instances through leases on the control
queues; a host that dies loses its leases and another takes its instances over. Locally several
runner processes may share one task hub in Azurite (a scale-out run), so each instance records the
process that drives it, and a process resumes an unfinished instance only when its owner is gone:
the owner is `host:pid:start time`, and a process on this machine is alive when /proc shows that pid
with that start time (a recycled pid has another).
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, after the parenthesised command name


@cache
def this_process() -> str:
    """The owner name of the current process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"


def owner_alive(owner: str) -> bool:
    """Whether the process named by `owner` still runs (an owner on another machine counts as alive)."""
    if not owner:
        return False
    local = local_process_alive(owner)
    return True if local is None else local


def local_process_alive(owner: str) -> bool | None:
    """Whether `owner`, a process of this machine, still runs; None when it names no such process."""
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit() or not started:
        return None
    return _start_time(int(pid)) == started
