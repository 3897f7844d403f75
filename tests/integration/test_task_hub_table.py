"""The task hub in Azurite's Table service: one row per instance, its history appended episode by
episode, an offloaded history read only as far as its row says, and purges that leave nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from pipeline.functions_host import table_history_store as module
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus
from pipeline.functions_host.table_history_store import TableHistoryStore
from pipeline.settings import AZURITE_CONNECTION_STRING, Settings
from pipeline.stores.blob import AzureBlobStore


def event(n: int, text: str = "") -> dict[str, Any]:
    return {"EventType": 4, "EventId": n, "Name": "curate_batch", "Input": text}


def record(instance_id: str, execution: str = "e1", length: int = 0) -> InstanceRecord:
    now = datetime.now(UTC)
    return InstanceRecord(
        instance_id, "process_batch", RuntimeStatus.RUNNING, now, now, execution, '{"batch": 1}', history_length=length
    )


async def _with_store(test: Any) -> Any:
    blobs = AzureBlobStore(Settings.local_emulators().blob)
    store = TableHistoryStore(AZURITE_CONNECTION_STRING, "HistoryTest", blobs)
    await store.clear()
    try:
        return await test(store, blobs)
    finally:
        await store.close()
        await blobs.close()


def test_episodes_append_to_one_row_and_a_fresh_store_reads_them_back() -> None:
    async def test(store: TableHistoryStore, blobs: AzureBlobStore) -> None:
        r = record("b-1")
        await store.checkpoint(r, [], new_execution=True)
        for episode in range(3):
            r.history_length += 2
            await store.checkpoint(r, [event(2 * episode), event(2 * episode + 1)])
        r.owner = "host:1:1"
        await store.checkpoint(r, [])  # the state alone: the history stays

        fresh = TableHistoryStore(AZURITE_CONNECTION_STRING, "HistoryTest", blobs)  # nothing remembered
        try:
            assert [e["EventId"] for e in await fresh.history("b-1")] == list(range(6))
            reread = await fresh.record("b-1")
            assert reread is not None and reread.owner == "host:1:1" and reread.input_json == '{"batch": 1}'
            reread.history_length += 1
            await fresh.checkpoint(reread, [event(6)])  # appends to what it read, not to nothing
            assert [e["EventId"] for e in await store.history("b-1")] == list(range(7))
            assert [x.instance_id for x in await fresh.records()] == ["b-1"]
        finally:
            await fresh.close()

    asyncio.run(_with_store(test))


def test_a_long_history_goes_to_a_blob_that_is_read_only_as_far_as_the_row_says(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(module, "MAX_INLINE_CHARS", 200)

    async def test(store: TableHistoryStore, blobs: AzureBlobStore) -> None:
        r = record("b-2", length=3)
        await store.checkpoint(r, [event(n, "x" * 100) for n in range(3)], new_execution=True)
        container = "historytest-largemessages"
        blob = "b-2/e1/history.json"
        assert await blobs.get(container, blob) is not None
        # A crash after the blob of the next episode was written, before its row: the row still says 3.
        longer = b"[" + b",".join(module.json.dumps(event(n)).encode() for n in range(5)) + b"]"
        await blobs.put(container, blob, longer)
        assert [e["EventId"] for e in await store.history("b-2")] == [0, 1, 2]

        assert await store.purge("b-2") is True
        assert await store.record("b-2") is None and await blobs.get(container, blob) is None
        assert await store.purge("b-2") is False

    asyncio.run(_with_store(test))


def test_a_new_execution_starts_a_history_of_its_own() -> None:
    async def test(store: TableHistoryStore, blobs: AzureBlobStore) -> None:
        first = record("b-3", length=2)
        await store.checkpoint(first, [event(0), event(1)], new_execution=True)
        second = record("b-3", execution="e2", length=1)
        await store.checkpoint(second, [event(9)], new_execution=True)
        assert [e["EventId"] for e in await store.history("b-3")] == [9]

    asyncio.run(_with_store(test))


def test_a_new_instance_is_one_insert_and_an_existing_one_is_answered_instead() -> None:
    async def test(store: TableHistoryStore, blobs: AzureBlobStore) -> None:
        before = store.requests
        assert await store.create(record("b-4")) is None
        assert store.requests - before == 1
        assert await store.history("b-4") == []

        existing = await store.create(record("b-4", execution="e2"))
        assert existing is not None and existing.execution_id == "e1"  # nothing was overwritten
        stored = await store.record("b-4")
        assert stored is not None and stored.execution_id == "e1"

    asyncio.run(_with_store(test))


def test_purging_a_row_this_store_wrote_is_one_request_and_takes_its_blobs_along(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(module, "MAX_INLINE_CHARS", 200)

    async def test(store: TableHistoryStore, blobs: AzureBlobStore) -> None:
        container = "historytest-largemessages"
        for instance_id, purger in (("b-5", store), ("b-6", None)):
            r = record(instance_id, length=3)
            assert await store.create(r) is None
            await store.checkpoint(r, [event(n, "x" * 100) for n in range(3)])
            blob = f"{instance_id}/e1/history.json"
            assert await blobs.get(container, blob) is not None
            if purger is None:  # a store that did not write the row reads it to find its blobs
                purger = TableHistoryStore(AZURITE_CONNECTION_STRING, "HistoryTest", blobs)
                expected_requests = 2
            else:
                expected_requests = 1
            try:
                before = purger.requests
                assert await purger.purge(instance_id) is True
                assert purger.requests - before == expected_requests
            finally:
                if purger is not store:
                    await purger.close()
            assert await store.record(instance_id) is None and await blobs.get(container, blob) is None

    asyncio.run(_with_store(test))
