"""The `bench` command: runs every measurement, prints a table and writes `bench/results.json`."""

from __future__ import annotations

import asyncio
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.bench import end_to_end, validation
from pipeline.functions_host.workers import default_worker_processes
from pipeline.settings import Settings


def run_benchmarks(out: Path, events: int, sizes: list[int], batch_size: int) -> dict[str, Any]:
    settings = Settings.from_env()
    print("validation …", flush=True)
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "cpus": default_worker_processes(),
        },
        "validation": validation.measure(),
    }
    print(f"end to end, {events:,} events, and the floor …", flush=True)
    results["end_to_end"] = asyncio.run(end_to_end.pipeline_vs_floor(settings, events, batch_size))
    results["scale"] = []
    for size in sizes:
        runs = _SHORT_RUNS if size < _SHORT_RUN_EVENTS else 1
        print(f"scale: {size:,} events{f', {runs} runs' if runs > 1 else ''} …", flush=True)
        document_bytes = results["end_to_end"]["document_bytes"]
        points = [end_to_end.scale_point(settings, size, batch_size, document_bytes) for _ in range(runs)]
        results["scale"].append(_median_run(points))
    if results["scale"]:
        results["scale_spread"] = _spread([point["events_per_s"] for point in results["scale"]])
        results["scale_ratio_spread"] = _spread([point["ratio"] for point in results["scale"]])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(format_table(results))
    print(f"wrote {out}")
    return results


#: A scale point of fewer events than this lasts a few seconds, where the machine's jitter is a
#: large share: it is run this many times and its median run kept.
_SHORT_RUN_EVENTS = 5_000
_SHORT_RUNS = 3


def _median_run(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median events/s (its own floor and ratio with it), the peak memory of all
    runs, and every run's events/s."""
    median = sorted(points, key=lambda point: point["events_per_s"])[len(points) // 2]
    if len(points) == 1:
        return median
    return {
        **median,
        "peak_rss_mib": max(point["peak_rss_mib"] for point in points),
        "runs_events_per_s": [point["events_per_s"] for point in points],
    }


def _spread(values: list[float]) -> float:
    """(max - min) / max."""
    return round((max(values) - min(values)) / max(values), 3)


def format_table(results: dict[str, Any]) -> str:
    lines = ["", "measure                                   value      floor / goal"]
    for label, v in results["validation"].items():
        lines.append(
            f"validation µs/event ({label:7})          {v['platform_us_per_event']:>8.2f}   "
            f"plain {v['plain_us_per_event']:.2f} µs → ratio {v['ratio']:.2f} (goal ≤ {v['goal_ratio_at_most']})"
        )
    e = results["end_to_end"]
    lines.append(
        f"end to end events/s ({e['events']:,} events)     {e['pipeline_events_per_s']:>8,.0f}   "
        f"floor {e['floor_upserts_per_s']:,.0f} upserts/s → ratio {e['ratio']:.2f} "
        f"(goal ≥ {e['goal_ratio_at_least']}), activities in {e['activity_worker_processes']} worker processes"
    )
    lines.append(
        f"  the same, all in one Python process     {e['in_process_events_per_s']:>8,.0f}   "
        f"ratio {e['in_process_ratio']:.2f}"
    )
    eco = e["economy_per_1000_events"]
    lines.append(
        f"per 1,000 events: orchestrations {eco['orchestrations']}, activities {eco['activity_executions']}, "
        f"history events {eco['history_events']} (goal ≤ 10 / ≤ 40)"
    )
    lines.append(
        f"Cosmos requests per event {e['cosmos_requests_per_event']}; "
        f"est. Azure RU/event {e['estimated_azure_ru_per_event']}"
    )
    for point in results["scale"]:
        runs = point.get("runs_events_per_s")
        median_of = f"; the median of {' / '.join(f'{run:,.0f}' for run in runs)}" if runs else ""
        lines.append(
            f"scale {point['events']:>9,} events: {point['events_per_s']:>8,.0f} events/s, "
            f"floor {point['floor_upserts_per_s']:,.0f} → ratio {point['ratio']:.2f}, "
            f"peak RSS {point['peak_rss_mib']:,.0f} MiB over {point['processes']} processes "
            f"(input {point['input_mib']} MiB){median_of}"
        )
    if "scale_spread" in results:
        lines.append(
            f"scale spread (max-min)/max: {results['scale_spread']:.0%} of events/s (goal ≤ 20%), "
            f"{results['scale_ratio_spread']:.0%} of the ratio to the floor at each size"
        )
    return "\n".join(lines)
