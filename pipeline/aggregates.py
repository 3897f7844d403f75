"""The `WindowAggregates` table: exact windowed statistics per (tenant, event type, window).

A batch's contribution is merged into each window's row once: the row records the batches it has
absorbed, so a retried or replayed aggregate step is a no-op, and concurrent batches serialise on the
row's etag. Values are kept as exact decimal text; rounding happens only on export.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from pipeline.enrich import analytics_value
from pipeline.settings import COSMOS_AGGREGATES
from pipeline.stores.base import DocumentStore, PreconditionFailed
from pipeline.windows import round_cents

EXACT = Context(prec=100)  # wide enough that sums of any realistic input never round
CSV_COLUMNS = (
    "tenant_id",
    "event_type",
    "window_start",
    "window_minutes",
    "event_count",
    "value_sum",
    "value_min",
    "value_max",
)
AGGREGATES_PARTITION_KEY = "/tenant_id"


@dataclass(frozen=True, slots=True)
class WindowKey:
    tenant_id: str
    event_type: str
    window_start: str
    window_minutes: int

    @property
    def row_id(self) -> str:
        return f"{self.event_type}|{self.window_minutes}|{self.window_start}"


@dataclass(slots=True)
class WindowStats:
    count: int
    total: Decimal
    minimum: Decimal
    maximum: Decimal

    @classmethod
    def of(cls, value: Decimal) -> WindowStats:
        return cls(1, value, value, value)

    def merge(self, other: WindowStats) -> None:
        self.count += other.count
        self.total = EXACT.add(self.total, other.total)
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "sum": str(self.total), "min": str(self.minimum), "max": str(self.maximum)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> WindowStats:
        return cls(int(doc["count"]), Decimal(doc["sum"]), Decimal(doc["min"]), Decimal(doc["max"]))


def contributions(documents: Iterable[dict[str, Any]]) -> dict[WindowKey, WindowStats]:
    """Each window's statistics over the given curated documents."""
    stats: dict[WindowKey, WindowStats] = {}
    for doc in documents:
        key = WindowKey(doc["tenantid"], doc["family"], doc["window_start"], doc["window_minutes"])
        value = analytics_value(doc)
        if key in stats:
            stats[key].merge(WindowStats.of(value))
        else:
            stats[key] = WindowStats.of(value)
    return stats


def contributions_to_json(stats: dict[WindowKey, WindowStats]) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": k.tenant_id,
            "event_type": k.event_type,
            "window_start": k.window_start,
            "window_minutes": k.window_minutes,
            **v.to_json(),
        }
        for k, v in stats.items()
    ]


def contributions_from_json(rows: list[dict[str, Any]]) -> dict[WindowKey, WindowStats]:
    return {
        WindowKey(r["tenant_id"], r["event_type"], r["window_start"], int(r["window_minutes"])): WindowStats.from_json(
            r
        )
        for r in rows
    }


def _row(key: WindowKey, stats: WindowStats, batches: list[str]) -> dict[str, Any]:
    return {
        "id": key.row_id,
        "tenant_id": key.tenant_id,
        "event_type": key.event_type,
        "window_start": key.window_start,
        "window_minutes": key.window_minutes,
        "event_count": stats.count,
        "value_sum": str(stats.total),
        "value_min": str(stats.minimum),
        "value_max": str(stats.maximum),
        "batches": batches,
    }


async def apply_contribution(documents: DocumentStore, batch_id: str, key: WindowKey, stats: WindowStats) -> bool:
    """Merge one batch's contribution into one row, once. False when the row already had it.

    The row is created outright when it does not exist yet (one request: the common case when
    events spread over many windows); otherwise it is read and replaced on its etag, and a lost
    race with a concurrent batch is simply tried again.
    """
    if await documents.create(COSMOS_AGGREGATES, _row(key, stats, [batch_id])):
        return True
    while True:
        current = await documents.read(COSMOS_AGGREGATES, key.row_id, key.tenant_id)
        if current is None:
            if await documents.create(COSMOS_AGGREGATES, _row(key, stats, [batch_id])):
                return True
            continue
        if batch_id in current["batches"]:
            return False
        merged = WindowStats(
            current["event_count"],
            Decimal(current["value_sum"]),
            Decimal(current["value_min"]),
            Decimal(current["value_max"]),
        )
        merged.merge(stats)
        try:
            await documents.replace(
                COSMOS_AGGREGATES, _row(key, merged, [*current["batches"], batch_id]), etag=current["_etag"]
            )
            return True
        except PreconditionFailed:
            continue  # a concurrent batch updated the row: read it again


async def apply_contributions(
    documents: DocumentStore,
    batch_id: str,
    stats: dict[WindowKey, WindowStats],
    *,
    concurrency: int = 32,
) -> int:
    """Apply a batch's contributions to every window it touched; returns the rows changed."""
    limit = asyncio.Semaphore(concurrency)

    async def one(key: WindowKey, value: WindowStats) -> bool:
        async with limit:
            return await apply_contribution(documents, batch_id, key, value)

    results = await asyncio.gather(*(one(k, v) for k, v in stats.items()))
    return sum(results)


def csv_row(doc: dict[str, Any]) -> list[str]:
    """A stored row as the `WindowAggregates` CSV row: values with two decimals, half-even."""
    return [
        doc["tenant_id"],
        doc["event_type"],
        doc["window_start"],
        str(doc["window_minutes"]),
        str(doc["event_count"]),
        *(f"{round_cents(Decimal(doc[c])):.2f}" for c in ("value_sum", "value_min", "value_max")),
    ]


def sort_key(doc: dict[str, Any]) -> tuple[str, str, str, int]:
    return (doc["tenant_id"], doc["event_type"], doc["window_start"], int(doc["window_minutes"]))
