"""The `WindowAggregates` table: exact windowed statistics per (tenant, event type, window).

A batch's contribution is merged into each window's row once: the row records the batches it has
absorbed, so a retried or replayed aggregate step is a no-op, and concurrent batches serialise on the
row's etag. Values are kept as exact decimal text; rounding happens only on export.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from pipeline.enrich import analytics_value
from pipeline.settings import COSMOS_AGGREGATES
from pipeline.stores.base import DocumentStore, PreconditionFailed
from pipeline.windows import decimal_text, round_cents

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
        return {
            "count": self.count,
            "sum": decimal_text(self.total),
            "min": decimal_text(self.minimum),
            "max": decimal_text(self.maximum),
        }

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
        "value_sum": decimal_text(stats.total),
        "value_min": decimal_text(stats.minimum),
        "value_max": decimal_text(stats.maximum),
        "batches": batches,
    }


class RowCache:
    """The rows this worker wrote last, with their etags: most batches touch rows the worker itself
    updated a moment ago, so a replace can go out without reading the row first. A stale entry costs
    one failed conditional write (412) and a read; it can never cause a wrong result."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._rows: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._capacity = capacity

    def get(self, key: WindowKey) -> dict[str, Any] | None:
        row = self._rows.get((key.tenant_id, key.row_id))
        if row is not None:
            self._rows.move_to_end((key.tenant_id, key.row_id))
        return row

    def put(self, row: dict[str, Any]) -> None:
        self._rows[(row["tenant_id"], row["id"])] = row
        self._rows.move_to_end((row["tenant_id"], row["id"]))
        while len(self._rows) > self._capacity:
            self._rows.popitem(last=False)

    def forget(self, key: WindowKey) -> None:
        self._rows.pop((key.tenant_id, key.row_id), None)


async def apply_contribution(
    documents: DocumentStore, batch_id: str, key: WindowKey, stats: WindowStats, cache: RowCache | None = None
) -> bool:
    """Merge one batch's contribution into one row, once. False when the row already had it.

    Without a cached copy, the row is created outright (one request when it is new: the common case
    when events spread over many windows); with one, it is replaced on the cached etag. Either way a
    lost race (409, 412) leads to a fresh read and another try.
    """
    cache = cache if cache is not None else RowCache(capacity=0)
    current = cache.get(key)
    if current is None:
        written = await documents.create(COSMOS_AGGREGATES, _row(key, stats, [batch_id]))
        if written is not None:
            cache.put(written)
            return True
    while True:
        if current is None:
            current = await documents.read(COSMOS_AGGREGATES, key.row_id, key.tenant_id)
        if current is None:
            written = await documents.create(COSMOS_AGGREGATES, _row(key, stats, [batch_id]))
            if written is not None:
                cache.put(written)
                return True
            continue
        if batch_id in current["batches"]:
            cache.put(current)
            return False
        merged = WindowStats(
            current["event_count"],
            Decimal(current["value_sum"]),
            Decimal(current["value_min"]),
            Decimal(current["value_max"]),
        )
        merged.merge(stats)
        try:
            written = await documents.replace(
                COSMOS_AGGREGATES, _row(key, merged, [*current["batches"], batch_id]), etag=current["_etag"]
            )
            cache.put(written)
            return True
        except PreconditionFailed:
            cache.forget(key)
            current = None  # the row changed since it was read (or cached): read it again


async def apply_contributions(
    documents: DocumentStore,
    batch_id: str,
    stats: dict[WindowKey, WindowStats],
    *,
    cache: RowCache | None = None,
    concurrency: int = 32,
) -> int:
    """Apply a batch's contributions to every window it touched; returns the rows changed."""
    limit = asyncio.Semaphore(concurrency)

    async def one(key: WindowKey, value: WindowStats) -> bool:
        async with limit:
            return await apply_contribution(documents, batch_id, key, value, cache)

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
