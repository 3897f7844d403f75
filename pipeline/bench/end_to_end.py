"""End to end: the whole local pipeline's events/s vs the floor, the orchestration economy, the
scale curve with peak memory, and the Cosmos DB requests per event with an RU estimate for Azure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.bench.floor import bare_upserts_per_s
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
    with tempfile.TemporaryDirectory() as scratch:
        corpus = write_corpus(Path(scratch) / "bench.ndjson", events)
        await reset_local_stores(settings)
        options = RunOptions(
            inputs=[corpus], reference=REFERENCE, out=Path(scratch) / "out", batch_size=batch_size, quiet=True
        )
        report = await run(options, settings)
    size = await mean_document_bytes(settings)
    floor = await bare_upserts_per_s(settings, report["stored"], size)
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
        "floor_upserts_per_s": round(floor, 1),
        "floor_documents": report["stored"],
        "document_bytes": size,
        "ratio": round(report["events_per_s"] / floor, 2),
        "goal_ratio_at_least": 0.8,
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


def scale_point(settings: Settings, events: int, batch_size: int) -> dict[str, Any]:
    """One size, in a fresh process, so its peak memory is its own."""
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
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            detail = process.stderr.read().decode()[-500:] if process.stderr else ""
            raise RuntimeError(f"scale run of {events} events failed: {detail}")
        report = json.loads(Path(f"{scratch}/out/report.json").read_text())
    peak_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return {
        "events": events,
        "events_per_s": report["events_per_s"],
        "process_s": round(elapsed, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "input_mib": input_mib,
    }
