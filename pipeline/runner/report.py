"""The run report (`OUT/report.json`) and the aggregates export (`OUT/analytics/aggregates.csv`)."""

from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.aggregates import CSV_COLUMNS, csv_row, sort_key


@dataclass
class RunTotals:
    received: int = 0
    valid: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    failed_batches: list[dict[str, Any]] = field(default_factory=list)
    batch_latencies_s: list[float] = field(default_factory=list)  # delivery to orchestration done

    @property
    def dead_lettered(self) -> int:
        return sum(self.dead_letter_reasons.values())

    def add_manifest(self, manifest: dict[str, Any]) -> None:
        self.received += manifest["received"]
        self.valid += manifest["valid"]
        self.dead_letter_reasons.update(manifest["dead_letter_reasons"])

    def add_result(self, result: dict[str, Any]) -> None:
        self.stored += result["stored"]
        self.duplicates += result["duplicates"]
        self.dead_letter_reasons.update(result["dead_letter_reasons"])
        if result.get("error"):
            self.failed_batches.append({"batch_id": result["batch_id"], "error": result["error"]})


def build_report(
    totals: RunTotals,
    *,
    aggregate_rows: int,
    orchestrations: int,
    activities: int,
    history_events: int,
    elapsed_s: float,
    via: str,
    batch_size: int,
    window_minutes: int,
) -> dict[str, Any]:
    return {
        "received": totals.received,
        "valid": totals.valid,
        "stored": totals.stored,
        "duplicates": totals.duplicates,
        "dead_lettered": totals.dead_lettered,
        "dead_letter_reasons": dict(sorted(totals.dead_letter_reasons.items())),
        "aggregate_rows": aggregate_rows,
        "orchestrations": orchestrations,
        "activities": activities,
        "history_events": history_events,
        "elapsed_s": round(elapsed_s, 3),
        "events_per_s": round(totals.received / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        "conservation_holds": totals.received == totals.stored + totals.duplicates + totals.dead_lettered,
        "via": via,
        "batch_size": batch_size,
        "window_minutes": window_minutes,
        "failed_batches": totals.failed_batches,
    }


def write_report(out: Path, report: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def write_aggregates_csv(out: Path, rows: list[dict[str, Any]]) -> Path:
    directory = out / "analytics"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "aggregates.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in sorted(rows, key=sort_key):
            writer.writerow(csv_row(row))
    return path


def process_age_s() -> float | None:
    """Seconds since this process started (interpreter start-up included): its start time in Linux's
    /proc, in clock ticks since boot, against the clock since boot. None where there is neither."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return since_boot - ticks / os.sysconf("SC_CLK_TCK")
