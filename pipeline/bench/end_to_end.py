"""End to end: the whole `python -m pipeline run` process (start-up included) against the floor, the
orchestration economy, the Cosmos DB requests per accepted event with an RU estimate for Azure, and
the scale curve with peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.bench.floor import bare_upserts_per_s
from pipeline.runtime import Runtime, reset_local_stores
from pipeline.settings import COSMOS_EVENTS, Settings
from pipeline.synthetic import generate_events

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "samples" / "reference"

# Request units per operation on Azure Cosmos DB for a ~1 KB item with the indexing policy the Bicep
# sets (a handful of indexed paths). Microsoft's guidance: a 1 KB point read is 1 RU, a 1 KB write ~5 RU;
# a replace costs about a write; a transactional batch costs the sum of its operations. These are estimates:
# measure with the x-ms-request-charge header in Azure.
# A query of one partition by ids (`read_many`) costs ~2.5 RU plus ~1 per document it returns; as most
# return few, 3 is the estimate.
RU_ESTIMATE = {"create": 5.5, "upsert": 5.5, "replace": 6.0, "read": 1.0, "query": 3.0, "batch": 0.0}


#: How the events of a corpus spread over event time: a real-time stream (the last 10 minutes) or a
#: backfill (3 hours).
SPREADS = {"real-time": timedelta(minutes=10), "backfill": timedelta(hours=3)}
BAD_RATIO, DUPLICATE_RATIO = 0.05, 0.03


def write_corpus(path: Path, events: int, seed: int = 17, spread: str = "backfill") -> Path:
    now = datetime.now(UTC)
    lines = generate_events(
        events,
        seed=seed,
        now=now,
        bad_ratio=BAD_RATIO,
        duplicate_ratio=DUPLICATE_RATIO,
        max_oversized=2,
        window=SPREADS[spread],
    )
    with path.open("wb") as handle:
        for raw in lines:
            handle.write(raw + b"\n")
    return path


def events_for_valid(valid: int) -> int:
    """How many generated events hold about `valid` valid ones."""
    return round(valid / (1 - BAD_RATIO))


def requests_and_ru(report: dict[str, Any]) -> dict[str, Any]:
    """Cosmos DB requests per accepted event (stored or found a duplicate), and RU per event estimated
    for Azure from the operations, batched writes included."""
    accepted = max(report["stored"] + report["duplicates"], 1)
    requests = report.get("store_requests", {})
    batched = report.get("store_batched_operations", {})
    ru = sum(RU_ESTIMATE.get(op, 1.0) * n for op, n in [*requests.items(), *batched.items()])
    return {
        "requests_per_accepted_event": round(sum(requests.values()) / accepted, 3),
        "requests_by_kind_per_accepted_event": {op: round(n / accepted, 3) for op, n in sorted(requests.items())},
        "estimated_azure_ru_per_accepted_event": round(ru / accepted, 2),
    }


def whole_process(corpus: Path, out: Path, *extra: str) -> dict[str, Any]:
    """`python -m pipeline run` as a user runs it, timed from outside: the whole process, start-up
    included. Returns its report with the wall clock added."""
    command = [sys.executable, "-m", "pipeline", "run", "--input", str(corpus), "--out", str(out), "--quiet", *extra]
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} failed: {finished.stderr.decode()[-800:]}")
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    report["process_wall_s"] = round(wall, 2)
    return report


def process_vs_floor(settings: Settings, valid: int, spread: str, *extra: str) -> dict[str, Any]:
    """One whole-process run from empty stores over a corpus of about `valid` valid events, and right
    after it the floor: bare per-event upserts of as many documents of the same size, same server
    (and then the same with the pipeline's transport)."""
    import asyncio

    with tempfile.TemporaryDirectory() as scratch:
        corpus = write_corpus(Path(scratch) / "corpus.ndjson", events_for_valid(valid), seed=valid, spread=spread)
        asyncio.run(reset_local_stores(settings))
        report = whole_process(corpus, Path(scratch) / "out", *extra)
    size = asyncio.run(mean_document_bytes(settings))
    floor = asyncio.run(bare_upserts_per_s(settings, report["stored"], size))
    floor_tuned = asyncio.run(bare_upserts_per_s(settings, report["stored"], size, tuned=True))
    valid_events = report["stored"] + report["duplicates"]
    whole_rate = valid_events / report["process_wall_s"]
    return {
        "spread": spread,
        "events": report["received"],
        "valid": valid_events,
        "process_wall_s": report["process_wall_s"],
        "startup_s": report.get("startup_s"),
        "workers_ready_s": report.get("workers_ready_s"),
        "whole_process_valid_events_per_s": round(whole_rate, 1),
        "in_run_events_per_s": report["events_per_s"],
        "floor_upserts_per_s": round(floor, 1),
        "document_bytes": size,
        "ratio_whole_process": round(whole_rate / floor, 2),
        "ratio_in_run": round(report["events_per_s"] / floor, 2),
        # The floor again, its client given the pipeline's transport (`bench/floor.py`).
        "floor_tuned_upserts_per_s": round(floor_tuned, 1),
        "ratio_whole_process_to_tuned_floor": round(whole_rate / floor_tuned, 2),
        "aggregate_rows": report["aggregate_rows"],
        "write_conflicts": report.get("write_conflicts", {}),
        **requests_and_ru(report),
        "economy_per_1000_events": {
            "orchestrations": round(1000 * report["orchestrations"] / report["received"], 1),
            "activity_executions": round(1000 * report["activities"] / report["received"], 1),
            "history_events": round(1000 * report["history_events"] / report["received"], 1),
        },
    }


async def mean_document_bytes(settings: Settings, sample: int = 200) -> int:
    runtime = Runtime.from_settings(settings)
    try:
        docs = (await runtime.documents.query_all(COSMOS_EVENTS))[:sample]
    finally:
        await runtime.close()
    return int(sum(len(json.dumps(d)) for d in docs) / max(len(docs), 1))


def scale_point(settings: Settings, events: int, batch_size: int, document_bytes: int) -> dict[str, Any]:
    """One size, in a fresh runner process (with its worker processes), so its peak memory is its own:
    the sum over the process tree, sampled every 0.2 s. Right after it, the floor writes as many
    documents of `document_bytes` (the corpora come from one generator) into the same server, which
    by then holds this size's data: the server's own speed at that size, so that the ratio shows how
    the pipeline's cost grows."""
    import asyncio

    with tempfile.TemporaryDirectory() as scratch:
        corpus = write_corpus(Path(scratch) / f"scale-{events}.ndjson", events, seed=events)
        input_mib = round(corpus.stat().st_size / 2**20, 1)
        asyncio.run(reset_local_stores(settings))
        command = [
            sys.executable,
            "-m",
            "pipeline",
            "run",
            "--input",
            str(corpus),
            "--out",
            f"{scratch}/out",
            "--batch-size",
            str(batch_size),
            "--quiet",
        ]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak_tree_kib, processes = 0, 0
        while process.poll() is None:
            tree_kib, tree_processes = _tree_rss_kib(process.pid)
            if tree_kib > peak_tree_kib:
                peak_tree_kib, processes = tree_kib, tree_processes
            time.sleep(0.2)
        status = process.returncode
        elapsed = time.perf_counter() - started
        if status != 0:
            detail = process.stderr.read().decode()[-500:] if process.stderr else ""
            raise RuntimeError(f"scale run of {events} events failed: {detail}")
        report = json.loads(Path(f"{scratch}/out/report.json").read_text())
    floor = asyncio.run(bare_upserts_per_s(settings, report["stored"], document_bytes))
    return {
        "events": events,
        "events_per_s": report["events_per_s"],
        "floor_upserts_per_s": round(floor, 1),
        "ratio": round(report["events_per_s"] / floor, 2),
        "process_s": round(elapsed, 1),
        "peak_rss_mib": round(peak_tree_kib / 1024, 1),
        "processes": processes,  # in the tree at the peak: the runner, the worker server, its workers, ...
        "input_mib": input_mib,
    }


def _tree_rss_kib(pid: int) -> tuple[int, int]:
    """Resident memory of a process and all its descendants, and how many they are (Linux /proc; 0 where
    it is not available)."""
    total, count = 0, 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        count += 1
        pending.extend(int(child) for child in children)
    return total, count
