"""The runner's last partial batches: repacked into full ones, copies together, never overtaking."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from pipeline.runner.batching import InFlight, repack
from pipeline.runner.inputs import InputEvent


def event(identity: int, position: int, partitions: int = 8) -> InputEvent:
    return InputEvent(b"{}", Path("x"), position, identity % partitions, identity)


def test_remainders_fill_whole_batches_with_copies_together_and_waiting_groups_last() -> None:
    events = [event(position % 29, position) for position in range(43)]  # some identities come twice
    maybe_in_flight = {3, 11}
    batches = repack(events, 10, maybe_in_flight)

    assert len(batches) == math.ceil(43 / 10)
    assert sorted(e.position for b in batches for e in b) == list(range(43))
    for identity in range(29):
        holding = [b for b in batches if any(e.identity == identity for e in b)]
        assert len(holding) == 1  # copies of an event travel together ...
        positions = [e.position for e in holding[0] if e.identity == identity]
        assert positions == sorted(positions)  # ... in input order
    waiting = [i for i, b in enumerate(batches) if {e.identity for e in b} & maybe_in_flight]
    assert waiting == [len(batches) - 1]  # only the last batch may have to wait
    assert repack(list(events), 10, maybe_in_flight) == batches  # the same input, the same batches


@pytest.mark.asyncio
async def test_a_copy_waits_until_the_batch_holding_an_earlier_copy_is_accounted_for() -> None:
    in_flight = InFlight()
    earlier = [event(7, 1), event(8, 2)]
    in_flight.add(earlier)
    waiting = asyncio.create_task(in_flight.wait_until_clear({7}))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await in_flight.wait_until_clear({9})  # an identity with nothing in flight does not wait
    await in_flight.settled(earlier)
    await asyncio.wait_for(waiting, 1)
