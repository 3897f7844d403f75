from datetime import UTC, datetime

import pytest

from pipeline.deadletter import DeadLetter, write_dead_letters
from pipeline.replay import list_dead_letters, replay_dead_letters
from pipeline.stores.memory import MemoryBlobStore
from schemas import Reason
from tests import factories as f

NOW = datetime(2026, 11, 2, tzinfo=UTC)


async def blobs_with_dead_letters(count: int) -> MemoryBlobStore:
    blobs = MemoryBlobStore()
    records = [
        DeadLetter(
            Reason.UNKNOWN_TENANT,
            ({"loc": "tenantid", "msg": "unknown"},),
            "eventhub",
            f"p0/{i}",
            "2026-11-01T00:00:00Z",
            f.raw(f.page(f"e{i}", tenant="newco")),
            "b1",
            i,
        )
        for i in range(count)
    ]
    records.append(
        DeadLetter(
            Reason.MALFORMED_JSON,
            ({"loc": "", "msg": "bad"},),
            "http",
            "r#0",
            "2026-11-01T00:00:00Z",
            b"\xff not json",
            "b2",
            0,
        )
    )
    await write_dead_letters(blobs, records)
    return blobs


async def test_an_interrupted_replay_loses_nothing_and_a_second_one_finishes_it():
    blobs = await blobs_with_dead_letters(5)
    started: list[str] = []

    async def start_then_crash(batch_id, batch):
        if started:
            raise ConnectionError("host went away")
        started.append(batch_id)

    with pytest.raises(ConnectionError):
        await replay_dead_letters(blobs, start_then_crash, now=NOW, batch_size=2)
    assert len(await list_dead_letters(blobs)) == 3, "only the handed-over chunk was removed"

    async def start(batch_id, batch):
        started.append(batch_id)

    summary = await replay_dead_letters(blobs, start, now=NOW, batch_size=2)
    assert summary.replayed == 3 and len(started) == 3
    assert await list_dead_letters(blobs) == []
    remaining = await list_dead_letters(blobs, all_reasons=True)
    assert [e.record["reason"] for e in remaining] == ["malformed_json"]
    assert remaining[0].raw == b"\xff not json", "non-UTF-8 events keep their bytes (raw_base64)"
