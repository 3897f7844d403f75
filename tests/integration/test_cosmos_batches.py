"""Transactional batches against the local Cosmos DB API server: the results the aggregates rely on."""

from __future__ import annotations

from decimal import Decimal

from pipeline.aggregates import WindowKey, WindowStats, apply_contributions
from pipeline.runtime import Runtime
from pipeline.settings import COSMOS_AGGREGATES, Settings
from pipeline.stores.base import NOT_ATTEMPTED, PRECONDITION_FAILED, BatchOperation


async def test_a_batch_reports_each_operation_and_stops_at_the_first_failure():
    runtime = Runtime.from_settings(Settings.local_emulators())
    try:
        await runtime.ensure_stores()
        rows = [{"id": f"r{i}", "tenant_id": "t", "batches": []} for i in range(3)]
        created = await runtime.documents.write_batch(
            COSMOS_AGGREGATES, "t", [BatchOperation("create", r) for r in rows]
        )
        assert [r.status for r in created] == [201, 201, 201]
        etags = [r.doc["_etag"] for r in created if r.doc]
        results = await runtime.documents.write_batch(
            COSMOS_AGGREGATES,
            "t",
            [
                BatchOperation("replace", {**rows[0], "batches": ["x"]}, etags[0]),
                BatchOperation("replace", {**rows[1], "batches": ["x"]}, "stale-etag"),
                BatchOperation("replace", {**rows[2], "batches": ["x"]}, etags[2]),
            ],
        )
        # The local server is not atomic: the write before the failure stays (Azure would roll it back
        # and answer 424 for it); the caller retries exactly the operations that did not come back ok.
        assert [r.status for r in results] == [200, PRECONDITION_FAILED, NOT_ATTEMPTED]
        assert runtime.documents.requests["batch"] == 2
    finally:
        await runtime.close()


async def test_racing_workers_on_one_tenant_lose_nothing():
    """Two writers interleave contributions over overlapping rows (two folds at once, should the timer's
    lease lapse); every contribution lands once."""
    import asyncio

    runtimes = [Runtime.from_settings(Settings.local_emulators()) for _ in range(2)]
    try:
        await runtimes[0].ensure_stores()
        keys = [WindowKey("acme", "page.viewed", f"2026-11-01T10:{m:02d}:00Z", 1) for m in range(20)]

        async def worker(n: int) -> None:
            for b in range(10):
                stats = {k: WindowStats.of(Decimal(b)) for k in keys[(b + n) % 5 :: 2]}
                await apply_contributions(runtimes[n].documents, f"w{n}-b{b}", stats)

        await asyncio.gather(worker(0), worker(1))
        rows = {r["id"]: r for r in await runtimes[0].documents.query_all(COSMOS_AGGREGATES)}
        for key in keys:
            expected = [(f"w{n}-b{b}", b) for n in range(2) for b in range(10) if key in keys[(b + n) % 5 :: 2]]
            row = rows.get(key.row_id)
            count = row["event_count"] if row else 0
            assert count == len(expected)
            if row:
                assert sorted(row["applied"]) == sorted(name for name, _ in expected)
                assert Decimal(row["value_sum"]) == sum(value for _, value in expected)
    finally:
        for runtime in runtimes:
            await runtime.close()


async def test_read_many_finds_the_named_partitions_documents_only():
    """Row ids repeat across tenants; the local server ignores a query's partition key unless the
    query names it, so `read_many` must keep to one partition itself (a fold would otherwise merge
    another tenant's row)."""
    runtime = Runtime.from_settings(Settings.local_emulators())
    try:
        await runtime.ensure_stores()
        for tenant in ("a", "b"):
            for i in range(3):
                await runtime.documents.upsert(COSMOS_AGGREGATES, {"id": f"r{i}", "tenant_id": tenant, "n": i})
        fresh = Runtime.from_settings(Settings.local_emulators())  # a process that never created the container
        try:
            found = await fresh.documents.read_many(COSMOS_AGGREGATES, "b", ["r0", "r2", "missing", "r0"])
        finally:
            await fresh.close()
        assert sorted((doc["id"], doc["tenant_id"]) for doc in found) == [("r0", "b"), ("r2", "b")]
    finally:
        await runtime.close()
