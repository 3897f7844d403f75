import asyncio
from decimal import Decimal

from pipeline.aggregates import (
    WindowKey,
    WindowStats,
    apply_contribution,
    apply_contributions,
    contributions_from_json,
    contributions_to_json,
    csv_row,
)
from pipeline.runtime import COSMOS_CONTAINERS
from pipeline.stores.base import NOT_ATTEMPTED, PRECONDITION_FAILED, BatchOperation
from pipeline.stores.memory import MemoryDocumentStore
from pipeline.windows import window_start

KEY = WindowKey("acme", "order.placed", "2026-11-01T10:15:00Z", 1)


async def store() -> MemoryDocumentStore:
    documents = MemoryDocumentStore()
    await documents.ensure_containers(COSMOS_CONTAINERS)
    return documents


def test_windows_align_to_the_epoch():
    assert window_start(0, 1) == "1970-01-01T00:00:00Z"
    assert window_start(1_762_000_000, 1) == "2025-11-01T12:26:00Z"
    assert window_start(1_762_000_000, 60) == "2025-11-01T12:00:00Z"
    assert window_start(1_762_000_000, 5) == "2025-11-01T12:25:00Z"
    assert window_start(1_762_000_000 - 61, 7) == "2025-11-01T12:19:00Z"  # 7-minute windows from the epoch


async def test_a_batch_contribution_is_applied_once_however_often_it_is_retried():
    documents = await store()
    stats = WindowStats.of(Decimal("10.005"))
    assert await apply_contribution(documents, "b1", KEY, stats)
    assert not await apply_contribution(documents, "b1", KEY, stats)
    assert await apply_contribution(documents, "b2", KEY, WindowStats.of(Decimal("0.01")))
    (row,) = await documents.query_all("aggregates")
    assert (row["event_count"], row["value_sum"], row["value_min"], row["value_max"]) == (2, "10.015", "0.01", "10.005")
    assert csv_row(row) == ["acme", "order.placed", "2026-11-01T10:15:00Z", "1", "2", "10.02", "0.01", "10.00"]


async def test_concurrent_batches_on_one_row_lose_nothing():
    documents = await store()
    batches = {f"b{i}": {KEY: WindowStats.of(Decimal(i))} for i in range(50)}
    await asyncio.gather(*(apply_contributions(documents, b, s) for b, s in batches.items()))
    (row,) = await documents.query_all("aggregates")
    assert row["event_count"] == 50 and Decimal(row["value_sum"]) == sum(range(50))
    assert (row["value_min"], row["value_max"]) == ("0", "49")


def test_sums_stay_exact_where_floats_drift():
    stats = WindowStats.of(Decimal("0.1"))
    for _ in range(9):
        stats.merge(WindowStats.of(Decimal("0.1")))
    assert stats.total == Decimal("1.0")
    assert contributions_from_json(contributions_to_json({KEY: stats}))[KEY].total == Decimal("1.0")


def test_export_rounds_half_even_to_two_decimals():
    row = {
        "tenant_id": "t",
        "event_type": "device.reading",
        "window_start": "w",
        "window_minutes": 1,
        "event_count": 3,
        "value_sum": "0.125",
        "value_min": "-0.135",
        "value_max": "2.5",
    }
    assert csv_row(row)[5:] == ["0.12", "-0.14", "2.50"]


async def test_a_tenants_rows_are_read_with_one_query_and_written_as_one_batch_once_per_contribution():
    documents = await store()
    keys = [WindowKey("acme", "order.placed", f"2026-11-01T10:{m:02d}:00Z", 1) for m in range(30)]
    first = {k: WindowStats.of(Decimal(1)) for k in keys}
    assert await apply_contributions(documents, "b1", first) == 30
    assert await apply_contributions(documents, "b2", {keys[3]: WindowStats.of(Decimal(5))}) == 1
    assert await apply_contributions(documents, "b3", first) == 30
    assert await apply_contributions(documents, "b3", first) == 0  # a retry changes nothing
    rows = {row["id"]: row for row in await documents.query_all("aggregates")}
    assert rows[keys[3].row_id]["event_count"] == 3 and rows[keys[3].row_id]["value_sum"] == "7"
    assert rows[keys[3].row_id]["applied"] == ["b1", "b2", "b3"]
    assert all(rows[k.row_id]["event_count"] == 2 for k in keys if k != keys[3])


class RacingStore(MemoryDocumentStore):
    """Another writer replaces one row between this writer's read and its write, once."""

    raced = False

    async def read_many(self, container, partition_key, doc_ids):  # type: ignore[no-untyped-def]
        found = await super().read_many(container, partition_key, doc_ids)
        if not self.raced and found:
            self.raced = True
            row = dict(found[0])
            await self.replace(container, {**row, "event_count": row["event_count"] + 1}, etag=row["_etag"])
        return found


async def test_a_row_another_writer_changed_since_it_was_read_is_read_again_not_overwritten():
    documents = RacingStore()
    await documents.ensure_containers({"aggregates": "/tenant_id"})
    key = WindowKey("acme", "order.placed", "2026-11-01T10:00:00Z", 1)
    await apply_contributions(documents, "b1", {key: WindowStats.of(Decimal(1))})
    assert await apply_contributions(documents, "b2", {key: WindowStats.of(Decimal(1))}) == 1
    (row,) = await documents.query_all("aggregates")
    assert row["event_count"] == 3  # b1, the other writer's +1, b2


async def test_the_memory_store_applies_a_batch_all_or_none_as_azure_does():
    documents = await store()
    row = {"id": "r", "tenant_id": "t", "batches": []}
    (created,) = await documents.write_batch("aggregates", "t", [BatchOperation("create", row)])
    assert created.ok
    results = await documents.write_batch(
        "aggregates",
        "t",
        [BatchOperation("create", {**row, "id": "new"}), BatchOperation("replace", row, etag="stale")],
    )
    assert [r.status for r in results] == [NOT_ATTEMPTED, PRECONDITION_FAILED]
    assert await documents.read("aggregates", "new", "t") is None
