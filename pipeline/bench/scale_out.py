"""Scale-out: several runner processes at once over disjoint partitions of one stream, as several
Functions instances on one Event Hub would be, checked against the independent computation.

The stream shares tenants and windows across the partitions. Events go to partitions by identity (as
an Event Hubs partition key would send them), and a share of valid events is delivered again on
another partition (a redelivery that crosses instances). Every runner writes to the same stores and
takes part in the same fold. At the end the stores must hold what one clean run over the whole
stream holds: each event once, aggregate rows equal to the independent computation; and the runners'
write conflicts are counted (an `events` 409 is how a duplicate is found; anything on `aggregates`
would be contention).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.aggregates import csv_row, sort_key
from pipeline.contributions import PENDING, fold_pending
from pipeline.runner.inputs import identity_of
from pipeline.runtime import Runtime, reset_local_stores
from pipeline.settings import CONTAINER_CONTRIBUTIONS, COSMOS_AGGREGATES, COSMOS_EVENTS, Settings
from pipeline.soak.expected import CSV_HEADER, expected
from pipeline.synthetic import generate_events

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "samples" / "reference"


def partitioned_stream(
    events: int, partitions: int, *, cross_redeliveries: float = 0.02, seed: int = 23
) -> tuple[list[list[bytes]], list[bytes]]:
    """A real-time stream split by identity into `partitions`, plus copies of a share of its events
    on the next partition. Returns the partitions and the whole stream as one run would read it."""
    now = datetime.now(UTC)
    lines = list(generate_events(events, seed=seed, now=now, window=timedelta(minutes=10), max_oversized=1))
    rng = random.Random(seed)
    # By identity, as the runner and an Event Hubs partition key send every copy of an event to one partition.
    identities = [identity_of(line, position) for position, line in enumerate(lines)]
    parts: list[list[bytes]] = [[] for _ in range(partitions)]
    for line, identity in zip(lines, identities, strict=True):
        parts[identity % partitions].append(line)
    # Redeliver only events whose identity occurs once: a copy of one of two differing events with one
    # identity could otherwise overtake the first, and which is the conflicting one depends on order.
    once = Counter(identities)
    redelivered = []
    for index in range(partitions):
        candidates = [
            line for line, i in zip(lines, identities, strict=True) if i % partitions == index and once[i] == 1
        ]
        for line in rng.sample(candidates, int(len(parts[index]) * cross_redeliveries)):
            target = parts[(index + 1) % partitions]
            target.insert(rng.randrange(len(target) + 1), line)  # before or after the original
            redelivered.append(line)
    return parts, lines + redelivered


def run_scale_out(settings: Settings, events: int, runners: int = 4, batch_size: int = 100) -> dict[str, Any]:
    parts, whole = partitioned_stream(events, runners)
    exp = expected(whole, REFERENCE, 1, datetime.now(UTC))
    asyncio.run(reset_local_stores(settings))
    with tempfile.TemporaryDirectory() as scratch:
        processes = []
        started = time.perf_counter()
        for index, part in enumerate(parts):
            path = Path(scratch) / f"partition-{index}.ndjson"
            path.write_bytes(b"\n".join(part) + b"\n")
            command = [sys.executable, "-m", "pipeline", "run", "--input", str(path), "--quiet"]
            command += ["--out", f"{scratch}/out-{index}", "--batch-size", str(batch_size), "--partitions", "2"]
            processes.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for process in processes:
            _, error = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"a runner of the scale-out failed: {error.decode()[-800:]}")
        elapsed = time.perf_counter() - started
        reports = [json.loads((Path(scratch) / f"out-{i}" / "report.json").read_text()) for i in range(runners)]
    stored_documents, pending, table = asyncio.run(_stores_after(settings))
    totals = Counter[str]()
    conflicts = Counter[str]()
    reasons = Counter[str]()
    for report in reports:
        totals.update(
            {k: report[k] for k in ("received", "stored", "duplicates", "dead_lettered", "activity_failures")}
        )
        conflicts.update(report.get("write_conflicts", {}))
        reasons.update(report["dead_letter_reasons"])
    aggregate_conflicts = sum(n for key, n in conflicts.items() if key.startswith(COSMOS_AGGREGATES))
    return {
        "runners": runners,
        "events": len(whole),
        "elapsed_s": round(elapsed, 1),
        "events_per_s": round(len(whole) / elapsed, 1),
        "stored_once": stored_documents == exp.stored == totals["stored"],
        "stored_documents": stored_documents,
        "expected_stored": exp.stored,
        "duplicates": {"reported": totals["duplicates"], "expected": exp.duplicates},
        "dead_letters_match": dict(sorted(reasons.items())) == dict(sorted(exp.reasons.items())),
        "conservation": totals["received"] == totals["stored"] + totals["duplicates"] + totals["dead_lettered"],
        "aggregates_exact": table == exp.csv_lines(1),
        "contributions_left_pending": pending,
        "write_conflicts": dict(sorted(conflicts.items())),
        "aggregate_write_conflicts_per_1000_events": round(1000 * aggregate_conflicts / len(whole), 3),
        "activity_failures": totals["activity_failures"],
    }


async def _stores_after(settings: Settings) -> tuple[int, int, list[str]]:
    """The stored event count, the contributions still pending (each runner's last fold should have
    left none), and the aggregates table after one more fold."""
    runtime = Runtime.from_settings(settings)
    try:
        pending = len(await runtime.blobs.list_names(CONTAINER_CONTRIBUTIONS, PENDING))
        await fold_pending(runtime.blobs, runtime.documents)
        stored = len(await runtime.documents.query_all(COSMOS_EVENTS))
        rows = sorted(await runtime.documents.query_all(COSMOS_AGGREGATES), key=sort_key)
        return stored, pending, [CSV_HEADER, *(",".join(csv_row(row)) for row in rows)]
    finally:
        await runtime.close()
