"""Resident memory of processes, read from Linux /proc (nothing is read on other systems)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Memory:
    """A process's resident memory now (`VmRSS`) and its peak so far (`VmHWM`), in KiB."""

    rss_kib: int
    peak_kib: int


def parse_status(text: str) -> Memory | None:
    """`VmRSS` and `VmHWM` from the text of `/proc/<pid>/status`; None when it has no `VmRSS`
    (a kernel thread, or a process that is exiting)."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            value, _, unit = rest.strip().partition(" ")
            if unit.strip() not in ("kB", ""):
                raise ValueError(f"unexpected unit in /proc status line {line!r}")
            fields[name] = int(value)
    if "VmRSS" not in fields:
        return None
    return Memory(fields["VmRSS"], max(fields.get("VmHWM", 0), fields["VmRSS"]))


def memory(pid: int, proc: Path = PROC) -> Memory | None:
    """The process's memory, or None when it is gone."""
    try:
        return parse_status((proc / str(pid) / "status").read_text())
    except (OSError, ValueError):
        return None


def children(pid: int, proc: Path = PROC) -> list[int]:
    """Direct children of `pid`, from every thread's `children` file."""
    found: list[int] = []
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return sorted(set(found))


def descendants(pid: int, proc: Path = PROC) -> list[int]:
    """Every process below `pid`, parents before children."""
    found: list[int] = []
    pending = children(pid, proc)
    while pending:
        current = pending.pop(0)
        found.append(current)
        pending.extend(children(current, proc))
    return found


def command_line(pid: int, proc: Path = PROC) -> str:
    try:
        return (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""
