"""The fold: queued contributions reach the aggregate rows exactly once, through retries and crashes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.aggregates import APPLIED_KEPT, WindowKey, WindowStats, contributions_to_json
from pipeline.contributions import CURRENT_FOLD, fold_pending, queue_contributions
from pipeline.errors import TransientError
from pipeline.settings import CONTAINER_CONTRIBUTIONS, COSMOS_AGGREGATES
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore

KEYS = [WindowKey(t, "page.viewed", f"2026-11-01T10:{m:02d}:00Z", 1) for t in ("acme", "globex") for m in (0, 1)]


def contribution(value: int, keys: list[WindowKey] = KEYS) -> list[dict[str, object]]:
    return contributions_to_json({key: WindowStats.of(Decimal(value)) for key in keys})


async def counts(documents: MemoryDocumentStore) -> dict[str, tuple[int, str]]:
    return {row["id"]: (row["event_count"], row["value_sum"]) for row in await documents.query_all(COSMOS_AGGREGATES)}


async def stores() -> tuple[MemoryBlobStore, MemoryDocumentStore]:
    blobs, documents = MemoryBlobStore(), MemoryDocumentStore()
    await blobs.ensure_containers([CONTAINER_CONTRIBUTIONS])
    await documents.ensure_containers({COSMOS_AGGREGATES: "/tenant_id"})
    return blobs, documents


async def test_contributions_queued_again_are_folded_once() -> None:
    blobs, documents = await stores()
    await queue_contributions(blobs, {"b1": contribution(2), "b2": contribution(3)})
    await queue_contributions(blobs, {"b1": contribution(2)})  # an activity retried before the fold
    first = await fold_pending(blobs, documents)
    await queue_contributions(blobs, {"b2": contribution(3)})  # retried after the fold: dropped
    second = await fold_pending(blobs, documents)

    assert (first.contributions, second.contributions, second.dropped) == (2, 0, 1)
    assert set((await counts(documents)).values()) == {(2, "5")}
    assert await blobs.list_names(CONTAINER_CONTRIBUTIONS, "pending/") == []


class FailingRows(MemoryDocumentStore):
    """Transactional batches on the aggregates container fail while `failing` is set."""

    failing = False

    async def write_batch(self, container, partition_key, operations):  # type: ignore[no-untyped-def]
        if self.failing and container == COSMOS_AGGREGATES and partition_key == "globex":
            raise TransientError("injected: aggregates unavailable")
        return await super().write_batch(container, partition_key, operations)


async def test_a_fold_that_died_midway_is_finished_by_the_next_which_then_folds_what_came_since() -> None:
    blobs, documents = MemoryBlobStore(), FailingRows()
    await blobs.ensure_containers([CONTAINER_CONTRIBUTIONS])
    await documents.ensure_containers({COSMOS_AGGREGATES: "/tenant_id"})
    await queue_contributions(blobs, {"b1": contribution(2)})
    documents.failing = True
    with pytest.raises(TransientError):
        await fold_pending(blobs, documents)  # acme's rows written, globex's not
    assert await blobs.get(CONTAINER_CONTRIBUTIONS, CURRENT_FOLD) is not None
    documents.failing = False
    await queue_contributions(blobs, {"b2": contribution(5)})

    summary = await fold_pending(blobs, documents)

    assert summary.resumed and summary.contributions == 2
    assert set((await counts(documents)).values()) == {(2, "7")}
    assert await blobs.get(CONTAINER_CONTRIBUTIONS, CURRENT_FOLD) is None


async def test_a_row_keeps_a_bounded_list_of_applied_folds() -> None:
    blobs, documents = await stores()
    for n in range(APPLIED_KEPT + 5):
        await queue_contributions(blobs, {f"b{n}": contribution(1, KEYS[:1])})
        await fold_pending(blobs, documents)
    (row,) = await documents.query_all(COSMOS_AGGREGATES)
    assert row["event_count"] == APPLIED_KEPT + 5
    assert len(row["applied"]) == APPLIED_KEPT


async def test_two_folds_at_once_apply_one_plan() -> None:
    """Should the timer's lease lapse and two instances fold at once, only one plan reaches the rows."""
    import asyncio

    blobs, documents = await stores()
    await queue_contributions(blobs, {f"b{n}": contribution(1) for n in range(20)})

    await asyncio.gather(fold_pending(blobs, documents), fold_pending(blobs, documents))
    await fold_pending(blobs, documents)

    assert set((await counts(documents)).values()) == {(20, "20")}
