"""The soak's chart: events/s and the memory of every process over the run (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

PIPELINE_COLOURS = ("#3B5BDB", "#F08C00", "#0CA678", "#C2255C", "#5F3DC4", "#1098AD")
SERVER_COLOURS = {"azurite": "#868E96", "cosmos": "#495057"}


def draw(results: dict[str, Any], path: Path) -> Path:
    """Top: events/s between samples, the first and last tenths' means, the floor before and after.
    Bottom: RSS of the runner and each worker process (left axis), of the emulators (right axis)."""
    samples = [s for s in results["samples"] if s.get("elapsed_s") is not None]
    verdict = results["verdict"]
    speed, server = verdict["throughput"], verdict["server"]
    duration = results["progress"][-1][0] / 60
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, layout="constrained")
    minutes = [s["elapsed_s"] / 60 for s in samples]
    top.plot(minutes, [s["events_per_s"] for s in samples], color="#3B5BDB", marker=".", label="events/s (per sample)")
    tenth = speed["tenth_s"] / 60
    top.hlines(speed["first_tenth_events_per_s"], 0, tenth, colors="#2F9E44", linewidth=3, label="first tenth")
    top.hlines(
        speed["last_tenth_events_per_s"], duration - tenth, duration, colors="#E03131", linewidth=3, label="last tenth"
    )
    top.axhline(server["floor_start_upserts_per_s"], color="#868E96", linestyle="--", label="floor before (upserts/s)")
    top.axhline(server["floor_end_upserts_per_s"], color="#495057", linestyle=":", label="floor after (upserts/s)")
    top.set_ylabel("events/s")
    top.set_ylim(bottom=0)
    top.legend(loc="lower left", fontsize="small", ncols=3)
    events = results["config"]["events"]
    top.set_title(
        f"Soak: {events:,} events via {results['config']['via']}, "
        f"{results['config']['partitions']} partitions, {results['config']['workers']} worker processes"
    )
    names = sorted({name for s in samples for name in s["processes"]})
    for colour, name in zip(PIPELINE_COLOURS * 4, names, strict=False):
        points = [(s["elapsed_s"] / 60, s["processes"][name]["rss_mib"]) for s in samples if name in s["processes"]]
        bottom.plot(*zip(*points, strict=True), color=colour, label=name)
    bottom.set_ylabel("RSS (MiB), pipeline processes")
    bottom.set_ylim(bottom=0)
    bottom.set_xlabel("minutes since the runner was warm")
    servers = bottom.twinx()
    for name, colour in SERVER_COLOURS.items():
        points = [(s["elapsed_s"] / 60, s["servers"][name]["rss_mib"]) for s in samples if name in s.get("servers", {})]
        if points:
            servers.plot(*zip(*points, strict=True), color=colour, linestyle="--", label=f"{name} server")
    servers.set_ylabel("RSS (MiB), emulators (dashed)")
    servers.set_ylim(bottom=0)
    lines, labels = bottom.get_legend_handles_labels()
    more_lines, more_labels = servers.get_legend_handles_labels()
    bottom.legend(lines + more_lines, labels + more_labels, loc="lower right", fontsize="small", ncols=3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
