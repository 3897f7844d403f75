"""The `WindowAggregates` table: exact windowed statistics per (tenant, event type, window).

A contribution is merged into each window's row once: the row records what it has absorbed
(`applied`, the last `APPLIED_KEPT` ids), so applying the same contribution again is a no-op, and
concurrent writers serialise on the row's etag. The pipeline's only writer is the fold
(`contributions.py`), which applies the sum of many batches' contributions at a time under one fold
id; folds run one after another and a fold is finished before the next is planned, so only the
latest ids can ever come again, and the list stays short however long the row lives.
A contribution is the set of documents one `curate` attempt created: each stored event
document names its contribution (`contribution_of`), so however a batch's attempts, failures and
redeliveries interleave, every document is counted in exactly one contribution, applied once.
A tenant's rows share a partition, so a batch's changes to them travel as one request.
Values are kept as exact decimal text; rounding happens only on export.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from pipeline.enrich import analytics_value
from pipeline.errors import TransientError
from pipeline.settings import COSMOS_AGGREGATES
from pipeline.stores.base import (
    CONFLICT,
    MAX_BATCH_OPERATIONS,
    NOT_ATTEMPTED,
    NOT_FOUND,
    PRECONDITION_FAILED,
    BatchOperation,
    DocumentStore,
)
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


def contribution_of(doc: dict[str, Any]) -> str:
    """The contribution a stored event document belongs to (documents written before contributions
    were named belong to their batch)."""
    return str(doc.get("contribution") or doc["batch_id"])


def contributions_by_id(documents: Iterable[dict[str, Any]]) -> dict[str, dict[WindowKey, WindowStats]]:
    """Each contribution's window statistics over the given stored documents."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in documents:
        groups.setdefault(contribution_of(doc), []).append(doc)
    return {contribution: contributions(docs) for contribution, docs in groups.items()}


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


#: Rounds of read-and-write for one tenant's rows before giving up (a fold tries again on its next tick):
#: a bound on a store that misbehaves, far above what racing writers need.
MAX_ROUNDS = 50

#: How many applied ids a row keeps (only the fold in progress can be applied again; the rest is margin).
APPLIED_KEPT = 16


def _row(key: WindowKey, stats: WindowStats, applied: list[str]) -> dict[str, Any]:
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
        "applied": applied[-APPLIED_KEPT:],
    }


_UNKNOWN: dict[str, Any] = {}  # a row whose state must be read before it can be written


async def apply_contributions(
    documents: DocumentStore,
    contribution_id: str,
    stats: dict[WindowKey, WindowStats],
) -> int:
    """Merge one contribution into every window row it touches, once; returns the rows changed.

    The rows of one tenant share a partition, so each tenant's changes go out together as transactional
    batches: one request per tenant (per 100 rows) instead of one per row. The rows are read first, by
    one query per tenant (per 100 rows); then a row that does not exist is created and one that does is
    replaced on its etag. Only another writer can make a write
    fail (409, 412: none, while the fold is the only writer); the row is then read again for another
    round, as are the other writes of a batch that failed with it (424 on Azure).
    """
    by_tenant: dict[str, dict[WindowKey, WindowStats]] = {}
    for key, value in stats.items():
        by_tenant.setdefault(key.tenant_id, {})[key] = value
    changed = await asyncio.gather(
        *(_apply_tenant(documents, contribution_id, tenant, rows) for tenant, rows in by_tenant.items())
    )
    return sum(changed)


async def apply_contribution(
    documents: DocumentStore, contribution_id: str, key: WindowKey, stats: WindowStats
) -> bool:
    """Merge one contribution into one row, once. False when the row already had it."""
    return await apply_contributions(documents, contribution_id, {key: stats}) == 1


async def _apply_tenant(
    documents: DocumentStore,
    contribution_id: str,
    tenant_id: str,
    pending: dict[WindowKey, WindowStats],
) -> int:
    pending = dict(pending)
    changed = 0
    # Every row is read first (one query per 100 rows), so a create never meets a row: the fold writes
    # rows once a minute, on whichever instance holds its lease, so a row remembered from an earlier
    # fold may have been written by another instance since.
    known: dict[WindowKey, dict[str, Any] | None] = dict.fromkeys(pending, _UNKNOWN)
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        unknown = [key for key in pending if known[key] is _UNKNOWN]
        if unknown:
            rows = await documents.read_many(COSMOS_AGGREGATES, tenant_id, [key.row_id for key in unknown])
            by_id = {row["id"]: row for row in rows}
            known.update((key, by_id.get(key.row_id)) for key in unknown)
        writes: list[tuple[WindowKey, BatchOperation]] = []
        for key, contribution in list(pending.items()):
            current = known[key]
            if current is None:
                writes.append((key, BatchOperation("create", _row(key, contribution, [contribution_id]))))
            elif contribution_id in current["applied"]:
                del pending[key]  # applied by an earlier attempt
            else:
                merged = WindowStats.from_json(_stats_fields(current))
                merged.merge(contribution)
                row = _row(key, merged, [*current["applied"], contribution_id])
                writes.append((key, BatchOperation("replace", row, current["_etag"])))
        for chunk in _chunks(writes):
            results = await documents.write_batch(COSMOS_AGGREGATES, tenant_id, [op for _, op in chunk])
            for (key, _), result in zip(chunk, results, strict=True):
                if result.ok:
                    del pending[key]
                    changed += 1
                elif result.status in (CONFLICT, PRECONDITION_FAILED, NOT_FOUND):
                    known[key] = _UNKNOWN  # another writer changed the row since it was read: read it again
                elif result.status != NOT_ATTEMPTED:  # (not attempted: written again in the next round)
                    raise RuntimeError(f"writing aggregate row {key.row_id} of {tenant_id} failed: {result.status}")
    if pending:  # the rows kept changing (or the store misbehaves): the next fold tries again
        raise TransientError(f"{len(pending)} aggregate rows of {tenant_id} unwritten after {MAX_ROUNDS} rounds")
    return changed


def _stats_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {"count": row["event_count"], "sum": row["value_sum"], "min": row["value_min"], "max": row["value_max"]}


# A transactional batch carries at most 100 operations and 2 MB; rows grow with their `applied` lists.
_BATCH_BYTES = 1_500_000


def _chunks(writes: list[tuple[WindowKey, BatchOperation]]) -> list[list[tuple[WindowKey, BatchOperation]]]:
    chunks: list[list[tuple[WindowKey, BatchOperation]]] = [[]]
    size = 0
    for write in writes:
        row_bytes = 200 + sum(len(b) + 3 for b in write[1].doc["applied"])
        if chunks[-1] and (len(chunks[-1]) == MAX_BATCH_OPERATIONS or size + row_bytes > _BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(write)
        size += row_bytes
    return [chunk for chunk in chunks if chunk]


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
