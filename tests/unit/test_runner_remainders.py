"""The runner's last partial batches: repacked into full ones, copies together, never overtaking."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from pipeline.runner.inputs import InputEvent
from pipeline.runner.run import _deliver_remainders


def event(identity: int, partitions: int, position: int) -> InputEvent:
    return InputEvent(b"{}", Path("x"), position, identity % partitions, identity)


@pytest.mark.asyncio
async def test_remainders_fill_whole_batches_and_wait_for_their_partitions() -> None:
    partitions, batch_size = 8, 10
    queues: list[asyncio.Queue] = [asyncio.Queue() for _ in range(partitions)]
    busy = queues[3]
    await busy.put(["an earlier batch of partition 3, still being processed"])
    remainders: dict[int, list[InputEvent]] = {}
    for position in range(43):
        identity = position % 29  # some identities come twice
        item = event(identity, partitions, position)
        remainders.setdefault(item.partition, []).append(item)

    delivery = asyncio.create_task(_deliver_remainders(sorted(remainders.items()), batch_size, queues))
    await asyncio.sleep(0.05)
    assert not delivery.done()  # every repacked batch draws on partition 3, which is not idle yet
    await busy.get()
    busy.task_done()
    await asyncio.wait_for(delivery, 1)

    batches = [queue.get_nowait() for queue in queues for _ in range(queue.qsize())]
    assert len(batches) == math.ceil(43 / batch_size)
    assert sorted(e.position for b in batches for e in b) == list(range(43))
    for identity in range(29):
        holding = [b for b in batches if any(e.identity == identity for e in b)]
        assert len(holding) == 1  # copies of an event travel together ...
        positions = [e.position for e in holding[0] if e.identity == identity]
        assert positions == sorted(positions)  # ... in input order
