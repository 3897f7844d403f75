"""The task hub's checkpoint survives a dropped connection, as the Durable extension's storage calls do."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from azure.core.exceptions import ServiceRequestError

from pipeline.functions_host import table_history_store as module
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus
from pipeline.functions_host.table_history_store import CHECKPOINT_ATTEMPTS, TableHistoryStore
from pipeline.settings import AZURITE_CONNECTION_STRING
from pipeline.stores.memory import MemoryBlobStore


class DroppingTable:
    """Resets the connection on the first `drops` writes, then takes them."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.taken: list[dict] = []

    async def upsert_entity(self, entity, mode):  # type: ignore[no-untyped-def]
        if self.drops:
            self.drops -= 1
            raise ServiceRequestError("[Errno 104] Connection reset by peer")
        self.taken.append(dict(entity))


def record() -> InstanceRecord:
    now = datetime.now(UTC)
    return InstanceRecord("b-1", "process_batch", RuntimeStatus.RUNNING, now, now, "e1", history_length=1)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(_: float) -> None:
        return None

    monkeypatch.setattr(module.asyncio, "sleep", instant)


async def test_a_checkpoint_is_written_once_the_connection_is_back() -> None:
    store = TableHistoryStore(AZURITE_CONNECTION_STRING, "Hub", MemoryBlobStore())
    table = DroppingTable(drops=CHECKPOINT_ATTEMPTS - 1)
    store._instances = table  # type: ignore[assignment]
    await store.checkpoint(record(), [{"EventType": 0, "EventId": -1}], new_execution=True)
    assert len(table.taken) == 1 and table.taken[0]["History"] == '[{"EventType": 0, "EventId": -1}]'  # one row


async def test_a_store_that_stays_away_is_reported() -> None:
    store = TableHistoryStore(AZURITE_CONNECTION_STRING, "Hub", MemoryBlobStore())
    store._instances = DroppingTable(drops=CHECKPOINT_ATTEMPTS)  # type: ignore[assignment]
    with pytest.raises(ServiceRequestError):
        await store.checkpoint(record(), [{"EventType": 0, "EventId": -1}], new_execution=True)
