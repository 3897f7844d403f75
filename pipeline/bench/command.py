"""The `bench` command: runs every measurement, prints a table and writes `bench/results.json`."""

from __future__ import annotations

import json
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.bench import end_to_end, scale_out, validation
from pipeline.functions_host.workers import default_worker_processes
from pipeline.settings import Settings

#: The whole-process runs: (label, valid events, event-time spread, extra `pipeline run` options).
PROCESS_RUNS = (
    ("real-time 5k", 5_000, "real-time", ()),
    ("real-time 20k", 20_000, "real-time", ()),
    ("backfill 5k", 5_000, "backfill", ()),
    ("real-time 5k, task hub in memory", 5_000, "real-time", ("--durable-state", "memory")),
)
SCALE_OUT_EVENTS, SCALE_OUT_RUNNERS = 10_000, 4


def run_benchmarks(out: Path, sizes: list[int], batch_size: int) -> dict[str, Any]:
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
        "whole_process": {},
    }
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, *_ in PROCESS_RUNS}
    for round_ in range(_SHORT_RUNS):  # in rounds, so that the machine's drift falls on every entry alike
        for label, valid, spread, extra in PROCESS_RUNS:
            if round_ and valid >= _SHORT_PROCESS_EVENTS:
                continue
            print(f"whole process, {label}, and the floor (round {round_ + 1}) …", flush=True)
            options = ("--batch-size", str(batch_size), *extra)
            runs[label].append(end_to_end.process_vs_floor(settings, valid, spread, *options))
    results["whole_process"] = {label: _median_run(points, "ratio_whole_process") for label, points in runs.items()}
    # Throughput lost to the task hub in Azurite: 1 - (1 / wall in Azurite) / (1 / wall in memory), medians.
    in_azurite, in_memory = (
        statistics.median(point["process_wall_s"] for point in runs[label])
        for label in ("real-time 5k", "real-time 5k, task hub in memory")
    )
    results["durable_state_cost"] = round(1 - in_memory / in_azurite, 3)
    print(f"scale-out: {SCALE_OUT_RUNNERS} runners at once over {SCALE_OUT_EVENTS:,} events …", flush=True)
    results["scale_out"] = scale_out.run_scale_out(settings, SCALE_OUT_EVENTS, SCALE_OUT_RUNNERS, batch_size)
    results["scale"] = []
    document_bytes = results["whole_process"]["backfill 5k"]["document_bytes"]
    for size in sizes:
        repeats = _SHORT_RUNS if size < _SHORT_RUN_EVENTS else 1
        print(f"scale: {size:,} events{f', {repeats} runs' if repeats > 1 else ''} …", flush=True)
        points = [end_to_end.scale_point(settings, size, batch_size, document_bytes) for _ in range(repeats)]
        results["scale"].append(_median_run(points, "events_per_s"))
    if results["scale"]:
        results["scale_spread"] = _spread([point["events_per_s"] for point in results["scale"]])
        results["scale_ratio_spread"] = _spread([point["ratio"] for point in results["scale"]])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(format_table(results))
    print(f"wrote {out}")
    return results


#: A measurement of fewer events than these lasts under ten seconds, where the machine's jitter is a
#: large share (three runs of 1,000 events read 1,517-2,046 events/s, and whole-process runs of 5,000
#: read 5.6-6.8 s): it is run this many times and its median run kept.
_SHORT_RUN_EVENTS = 50_000  # scale points
_SHORT_PROCESS_EVENTS = 20_000  # whole-process runs, by valid events
_SHORT_RUNS = 3


def _median_run(points: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run with the median `key` (its own floor and ratios with it), the peak memory of all runs
    where it is measured, and every run's `key` and wall clock."""
    median = sorted(points, key=lambda point: point[key])[len(points) // 2]
    if len(points) == 1:
        return median
    merged = {**median, f"runs_{key}": [point[key] for point in points]}
    if "peak_rss_mib" in median:
        merged["peak_rss_mib"] = max(point["peak_rss_mib"] for point in points)
    if "process_wall_s" in median:
        merged["runs_process_wall_s"] = [point["process_wall_s"] for point in points]
    return merged


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
    for label, e in results["whole_process"].items():
        lines.append(
            f"{label:34} whole process {e['whole_process_valid_events_per_s']:>7,.0f} valid events/s "
            f"({e['valid']:,} in {e['process_wall_s']:.1f} s, start-up {e['startup_s']} s, "
            f"workers ready {e.get('workers_ready_s')} s), "
            f"floor {e['floor_upserts_per_s']:,.0f} upserts/s → ratio {e['ratio_whole_process']:.2f} "
            f"(goal ≥ 1.0); in run {e['in_run_events_per_s']:,.0f} events/s → {e['ratio_in_run']:.2f}"
        )
        if "runs_ratio_whole_process" in e:
            lines.append(
                f"{'':34} the median of {len(e['runs_ratio_whole_process'])} runs: ratios "
                f"{' / '.join(f'{r:.2f}' for r in e['runs_ratio_whole_process'])}, walls "
                f"{' / '.join(f'{w:.1f}' for w in e['runs_process_wall_s'])} s"
            )
        lines.append(
            f"{'':34} floor with the pipeline's transport {e['floor_tuned_upserts_per_s']:,.0f} upserts/s "
            f"→ whole-process ratio {e['ratio_whole_process_to_tuned_floor']:.2f}"
        )
        lines.append(
            f"{'':34} Cosmos requests per accepted event {e['requests_per_accepted_event']} "
            f"{e['requests_by_kind_per_accepted_event']}, est. Azure RU/event "
            f"{e['estimated_azure_ru_per_accepted_event']}; per 1,000 events {e['economy_per_1000_events']}"
        )
    lines.append(
        f"durable state in Azurite costs {results['durable_state_cost']:.1%} of the whole process "
        "(median walls; goal ≤ 15%)"
    )
    so = results["scale_out"]
    lines.append(
        f"scale-out, {so['runners']} runners, {so['events']:,} events: stored once {so['stored_once']}, "
        f"aggregates exact {so['aggregates_exact']}, write conflicts {so['write_conflicts']} "
        f"(aggregates {so['aggregate_write_conflicts_per_1000_events']} per 1,000 events, goal 0), "
        f"{so['events_per_s']:,.0f} events/s together"
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
