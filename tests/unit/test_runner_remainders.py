"""The runner's last partial batches: repacked into full ones, copies together, never overtaking."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from test_schema_builders import NOW, dumps, page, with_

from pipeline.runner.batching import QUEUE_DEPTH, InFlight, feed, order_matters, repack
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


def copies_of(**attrs: Any) -> bytes:
    return dumps(with_(page(), "id", "evt-7") | attrs).encode()


SAME = copies_of()
SPELT_DIFFERENTLY = dumps({"time": "2026-11-01T11:15:30+01:00", **json.loads(SAME)}, spaced=True).encode()
CHANGED = copies_of(subject="another")
FAR_FUTURE = copies_of(time="2099-01-01T00:00:00Z")
MISSING_TENANT = dumps({k: v for k, v in json.loads(SAME).items() if k != "tenantid"}).encode()


@pytest.mark.parametrize(
    ("copies", "matters"),
    [
        ([SAME, SAME], False),  # a byte-identical redelivery
        ([SAME, SPELT_DIFFERENTLY, b"\xef\xbb\xbf" + SAME], False),  # the same content, spelt differently
        ([SAME, MISSING_TENANT], False),  # refused for what its bytes hold: refused in any order
        ([b"not json", b"not json"], False),
        ([SAME, CHANGED], True),  # the first accepted stays, the other is a conflicting duplicate
        ([SAME, FAR_FUTURE], True),  # its time may come into range: it might be accepted
    ],
)
def test_order_matters_only_between_copies_that_could_both_be_accepted_differently(
    copies: list[bytes], matters: bool
) -> None:
    assert SPELT_DIFFERENTLY != SAME
    assert order_matters(copies, NOW) is matters


@pytest.mark.asyncio
@pytest.mark.parametrize(("copy", "waits"), [(SPELT_DIFFERENTLY, False), (CHANGED, True)])
async def test_a_repacked_copy_runs_beside_the_earlier_one_unless_their_order_matters(
    tmp_path: Path, copy: bytes, waits: bool
) -> None:
    other = dumps(with_(page(), "id", "evt-8")).encode()
    source = tmp_path / "input.ndjson"
    source.write_bytes(SAME + b"\n" + other + b"\n" + copy + b"\n")
    queues: list[asyncio.Queue[list[InputEvent] | None]] = [asyncio.Queue(maxsize=QUEUE_DEPTH)]
    in_flight = InFlight()
    release = asyncio.Event()
    started: list[tuple[int, list[bytes]]] = []

    async def process(lane: int, batch: list[InputEvent]) -> None:
        started.append((lane, [e.body for e in batch]))
        if lane == 0:
            await release.wait()  # the batch holding the earlier copy stays in flight
        await in_flight.settled(batch)

    async def partition_worker() -> None:
        while (batch := await queues[0].get()) is not None:
            await process(0, batch)

    workers = [asyncio.create_task(partition_worker())]
    feeding = asyncio.create_task(feed([source], 2, queues, workers, in_flight, process))
    await asyncio.sleep(0.2)
    assert started[0] == (0, [SAME, other])
    assert [lane for lane, _ in started[1:]] == ([] if waits else [1])
    release.set()
    await asyncio.wait_for(feeding, 2)
    await asyncio.wait_for(workers[0], 2)
    assert started[1] == (1, [copy])
