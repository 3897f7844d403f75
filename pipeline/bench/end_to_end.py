"""End to end: the whole local pipeline's events/s vs the floor, the orchestration economy, the
scale curve with peak memory, and the Cosmos DB requests per event with an RU estimate for Azure."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.bench.floor import bare_upserts_per_s
from pipeline.functions_host.workers import default_worker_processes
from pipeline.runner.run import RunOptions, run
from pipeline.runtime import Runtime, reset_local_stores
from pipeline.settings import COSMOS_EVENTS, Settings
from pipeline.synthetic import generate_events

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "samples" / "reference"

# Request units per operation on Azure Cosmos DB for a ~1 KB item with the indexing policy the Bicep
# sets (a handful of indexed paths). Microsoft's guidance: a 1 KB point read is 1 RU, a 1 KB write ~5 RU;
# a replace costs about a write; a transactional batch costs the sum of its operations. These are estimates:
# measure with the x-ms-request-charge header in Azure.
RU_ESTIMATE = {"create": 5.5, "upsert": 5.5, "replace": 6.0, "read": 1.0, "batch": 0.0}


def write_corpus(path: Path, events: int, seed: int = 17) -> Path:
    now = datetime.now(UTC)
    with path.open("wb") as handle:
        for raw in generate_events(events, seed=seed, now=now, bad_ratio=0.05, duplicate_ratio=0.03, max_oversized=2):
            handle.write(raw + b"\n")
    return path


async def mean_document_bytes(settings: Settings, sample: int = 200) -> int:
    runtime = Runtime.from_settings(settings)
    try:
        docs = (await runtime.documents.query_all(COSMOS_EVENTS))[:sample]
    finally:
        await runtime.close()
    return int(sum(len(json.dumps(d)) for d in docs) / max(len(docs), 1))


async def pipeline_vs_floor(settings: Settings, events: int, batch_size: int) -> dict[str, Any]:
    """The pipeline as `python -m pipeline run` runs it (activities in one worker process per CPU), and
    with every activity in the runner's own process (the figure for one Python process). Right after each
    run, against the same server, the floor writes as many documents of the same size; the ratio is taken
    against the mean of the two floors, which keeps a noisy moment from deciding it."""
    workers = default_worker_processes()
    reports: dict[int, dict[str, Any]] = {}
    floors: list[float] = []
    size = 0
    with tempfile.TemporaryDirectory() as scratch:
        corpus = write_corpus(Path(scratch) / "bench.ndjson", events)
        for processes in (workers, 0):
            await reset_local_stores(settings)
            options = RunOptions(
                inputs=[corpus],
                reference=REFERENCE,
                out=Path(scratch) / f"out-{processes}",
                batch_size=batch_size,
                quiet=True,
                workers=processes,
            )
            reports[processes] = await run(options, settings)
            size = size or await mean_document_bytes(settings)
            floors.append(await bare_upserts_per_s(settings, reports[processes]["stored"], size))
    report, in_process = reports[workers], reports[0]
    floor = sum(floors) / len(floors)
    requests = report.get("store_requests", {})
    batched = report.get("store_batched_operations", {})
    per_event = {op: round(n / report["received"], 3) for op, n in requests.items()}
    operations = [*requests.items(), *batched.items()]
    ru = sum(RU_ESTIMATE.get(op, 1.0) * n for op, n in operations) / report["received"]
    thousands = report["received"] / 1000
    return {
        "events": report["received"],
        "stored": report["stored"],
        "pipeline_events_per_s": report["events_per_s"],
        "activity_worker_processes": workers,
        "floor_upserts_per_s": round(floor, 1),
        "floor_measurements": [round(f, 1) for f in floors],
        "floor_documents": report["stored"],
        "document_bytes": size,
        "ratio": round(report["events_per_s"] / floor, 2),
        "goal_ratio_at_least": 0.8,
        "in_process_events_per_s": in_process["events_per_s"],
        "in_process_ratio": round(in_process["events_per_s"] / floor, 2),
        "economy_per_1000_events": {
            "orchestrations": round(report["orchestrations"] / thousands, 1),
            "activity_executions": round(report["activities"] / thousands, 1),
            "history_events": round(report["history_events"] / thousands, 1),
            "goal": "<= 10 orchestrations and <= 40 activity executions at batch size 100",
        },
        "cosmos_requests_per_event": per_event,
        "cosmos_batched_writes_per_event": {op: round(n / report["received"], 3) for op, n in batched.items()},
        "server_request_charge": "the local server reports 1 RU for every request, so it says nothing",
        "estimated_azure_ru_per_event": round(ru, 2),
        "aggregate_rows": report["aggregate_rows"],
    }


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
        peak_tree_kib = 0
        while process.poll() is None:
            peak_tree_kib = max(peak_tree_kib, _tree_rss_kib(process.pid))
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
        "processes": 1 + report.get("activity_processes", 0),
        "input_mib": input_mib,
    }


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc; 0 where it is not available)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        pending.extend(int(child) for child in children)
    return total
