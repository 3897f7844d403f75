"""`python -m pipeline run --status-file FILE`: a run in progress, as a small JSON snapshot.

Long runs are watched from outside (a soak run samples memory from /proc beside it): the runner
rewrites the file every second while it runs, atomically (a reader never sees half a snapshot), and
once more when the last batch is accounted for, with `"done": true`. What it holds: the runner's
clock (`elapsed_s`, started when the host and its workers are warm, as the report's), the counts
accounted for so far (`received`, `stored`, `duplicates`, `dead_lettered`), `batches_in_flight`
(delivered to the trigger and not yet accounted for), `batches_settled`, the Cosmos DB requests so
far by operation (`store_requests`, the worker processes' included) and the process ids
(`pids.runner`, `pids.activity_workers`).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

INTERVAL_S = 1.0


class StatusFile:
    def __init__(self, path: Path, snapshot: Callable[[], dict[str, Any]], interval_s: float = INTERVAL_S) -> None:
        self._path = path
        self._snapshot = snapshot
        self._interval = interval_s

    def write(self, **extra: Any) -> None:
        """Replace the file with a fresh snapshot (plus `extra` keys)."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_name(f".{self._path.name}.partial")
        partial.write_text(json.dumps({**self._snapshot(), **extra}) + "\n", encoding="utf-8")
        os.replace(partial, self._path)

    async def keep_writing(self) -> None:
        """Rewrite the file every interval until cancelled."""
        while True:
            self.write(done=False)
            await asyncio.sleep(self._interval)
