"""Whether a long run stayed flat: throughput in its last tenth against its first, memory after its
first tenth against the first tenth, and how much of a slowdown is the local Cosmos DB server's own.

Times are the runner's clock (`elapsed_s` of its status file: from the moment the host and its
workers are warm), so start-up is not a tenth's throughput; the last tenth ends when the last batch
is accounted for, so it includes the drain.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import Any

THROUGHPUT_TOLERANCE = 0.15  # the last tenth's events/s within 15% of the first tenth's
MEMORY_GROWTH_LIMIT = 0.10  # no process's RSS more than 10% above its first tenth's


def cumulative_at(points: Sequence[tuple[float, float]], at: float) -> float:
    """Events accounted for at time `at`, linear between the (time, events) points (sorted by time;
    before the first point, linear from (0, 0); after the last, the last)."""
    if not points:
        raise ValueError("no progress points")
    times = [t for t, _ in points]
    i = bisect_left(times, at)
    if i < len(points) and times[i] == at:
        return points[i][1]
    if i == 0:
        t1, n1 = points[0]
        return n1 * at / t1 if t1 > 0 else n1
    if i == len(points):
        return points[-1][1]
    (t0, n0), (t1, n1) = points[i - 1], points[i]
    return n0 + (n1 - n0) * (at - t0) / (t1 - t0)


def throughput(points: Sequence[tuple[float, float]], tolerance: float = THROUGHPUT_TOLERANCE) -> dict[str, Any]:
    """Events/s in the first and the last tenth of the run; `points` end with the run's last (time, events)."""
    duration = points[-1][0]
    if duration <= 0:
        raise ValueError("the run has no duration")
    tenth = duration / 10
    first = cumulative_at(points, tenth) / tenth
    last = (points[-1][1] - cumulative_at(points, duration - tenth)) / tenth
    ratio = last / first if first else 0.0
    return {
        "tenth_s": round(tenth, 2),
        "first_tenth_events_per_s": round(first, 1),
        "last_tenth_events_per_s": round(last, 1),
        "last_vs_first": round(ratio, 3),
        "tolerance": tolerance,
        "within": abs(ratio - 1) <= tolerance,
    }


def memory_growth(
    series: Sequence[tuple[float, float]], duration: float, limit: float = MEMORY_GROWTH_LIMIT
) -> dict[str, Any]:
    """One process's (time, RSS) samples: the baseline is the highest RSS of the first tenth of the run
    (the first sample when none falls in it), the growth is the highest RSS after it over that."""
    if not series:
        raise ValueError("no memory samples")
    ordered = sorted(series)
    tenth = duration / 10
    early = [rss for t, rss in ordered if t <= tenth] or [ordered[0][1]]
    later = [rss for t, rss in ordered if t > tenth] or [ordered[-1][1]]
    baseline, highest = max(early), max(later)
    growth = highest / baseline - 1 if baseline else 0.0
    return {
        "first_tenth_mib": round(baseline, 1),
        "highest_after_mib": round(highest, 1),
        "last_mib": round(ordered[-1][1], 1),
        "growth": round(growth, 3),
        "limit": limit,
        "bounded": growth <= limit,
    }


def server_slope(floor_start: float, floor_end: float, last_vs_first: float, tolerance: float) -> dict[str, Any]:
    """The server's own slope (the bare floor at the end against the start) and the pipeline's once the
    server's is taken out (its last-vs-first ratio over the floor's)."""
    floor_ratio = floor_end / floor_start if floor_start else 0.0
    own = last_vs_first / floor_ratio if floor_ratio else 0.0
    return {
        "floor_start_upserts_per_s": round(floor_start, 1),
        "floor_end_upserts_per_s": round(floor_end, 1),
        "floor_end_vs_start": round(floor_ratio, 3),
        "pipeline_vs_floor_slope": round(own, 3),
        "within": abs(own - 1) <= tolerance,
    }


def judge(
    progress: Sequence[tuple[float, float]],
    memory: Mapping[str, Sequence[tuple[float, float]]],
    floor_start: float,
    floor_end: float,
) -> dict[str, Any]:
    """The whole verdict: throughput tenths, the server's slope apart, and every process's memory."""
    speed = throughput(progress)
    duration = progress[-1][0]
    processes = {name: memory_growth(series, duration) for name, series in memory.items() if series}
    slope = server_slope(floor_start, floor_end, speed["last_vs_first"], speed["tolerance"])
    return {
        "throughput": speed,
        "server": slope,
        "memory": processes,
        "memory_bounded": all(p["bounded"] for p in processes.values()),
        "flat": speed["within"],
        "flat_apart_from_server": slope["within"],
    }


def describe(verdict: dict[str, Any]) -> list[str]:
    """The verdict as the lines the soak prints."""
    speed, server = verdict["throughput"], verdict["server"]
    change = speed["last_vs_first"] - 1
    lines = [
        f"throughput: first tenth {speed['first_tenth_events_per_s']:,.0f} events/s, last tenth "
        f"{speed['last_tenth_events_per_s']:,.0f} ({change:+.1%}): "
        + ("within" if speed["within"] else "NOT within")
        + f" {speed['tolerance']:.0%} of the first tenth",
        f"server: the bare floor went {server['floor_start_upserts_per_s']:,.0f} -> "
        f"{server['floor_end_upserts_per_s']:,.0f} upserts/s ({server['floor_end_vs_start'] - 1:+.1%}); "
        f"the pipeline's own slope, relative to the floor: {server['pipeline_vs_floor_slope'] - 1:+.1%} ("
        + ("within" if server["within"] else "NOT within")
        + f" {speed['tolerance']:.0%})",
    ]
    grown = [
        f"{name} {m['first_tenth_mib']:,.0f} -> {m['highest_after_mib']:,.0f} MiB ({m['growth']:+.1%})"
        for name, m in verdict["memory"].items()
    ]
    lines.append(
        "memory: "
        + ("bounded" if verdict["memory_bounded"] else "NOT bounded")
        + f" (no process above its first tenth by more than {MEMORY_GROWTH_LIMIT:.0%}): "
        + "; ".join(grown)
    )
    return lines
