"""How the local runner cuts its input into batches and hands them out.

Events are spread over partitions by identity, as an Event Hubs producer using the identity as
partition key would; each partition has at most `QUEUE_DEPTH` batches waiting besides the one being
processed. The partitions' last, partial batches are repacked into full ones (see `feed`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pipeline.runner.inputs import InputEvent, read_events

QUEUE_DEPTH = 2  # batches waiting per partition, besides the one being processed


class InFlight:
    """How many copies of each identity sit in batches handed out and not yet accounted for."""

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        self._changed = asyncio.Condition()

    def add(self, batch: list[InputEvent]) -> None:
        for event in batch:
            self._counts[event.identity] = self._counts.get(event.identity, 0) + 1

    async def settled(self, batch: list[InputEvent]) -> None:
        for event in batch:
            left = self._counts.get(event.identity, 0) - 1
            if left > 0:
                self._counts[event.identity] = left
            else:
                self._counts.pop(event.identity, None)
        async with self._changed:
            self._changed.notify_all()

    async def wait_until_clear(self, identities: set[int]) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: not any(i in self._counts for i in identities))


async def feed(
    files: list[Path],
    batch_size: int,
    queues: list[asyncio.Queue[list[InputEvent] | None]],
    workers: list[asyncio.Task[None]],
    in_flight: InFlight,
    process: Callable[[int, list[InputEvent]], Awaitable[None]],
) -> None:
    """Read the input once, cutting each partition's events into batches; backpressure via the queues.

    The partitions' last, partial batches are repacked into full ones, each processed on a lane of its
    own (a partition number after the real ones): without that a run would end with one partial batch,
    one orchestration, per partition. The copies of an event stay together and in input order: a copy
    whose identity may still be in a partition's batch in flight waits until that batch is accounted
    for. Which copies may be is decided from the input alone (the last batches each partition was
    handed, as many as can be in flight), so the repacked batches, and their ids, are the same in every
    run over the same input, which crash recovery relies on.
    """
    pending: list[list[InputEvent]] = [[] for _ in queues]
    recent: list[deque[set[int]]] = [deque(maxlen=QUEUE_DEPTH + 1) for _ in queues]
    for event in read_events(files, len(queues)):
        bucket = pending[event.partition]
        bucket.append(event)
        if len(bucket) == batch_size:
            in_flight.add(bucket)
            recent[event.partition].append({e.identity for e in bucket})
            await unless_a_worker_fails(queues[event.partition].put(bucket), workers)
            pending[event.partition] = []
    maybe_in_flight = set().union(*(identities for lanes in recent for identities in lanes))
    repacked = repack([e for bucket in pending for e in bucket], batch_size, maybe_in_flight)

    async def lane(number: int, batch: list[InputEvent]) -> None:
        await in_flight.wait_until_clear({e.identity for e in batch} & maybe_in_flight)
        in_flight.add(batch)
        await process(len(queues) + number, batch)

    await unless_a_worker_fails(asyncio.gather(*(lane(n, b) for n, b in enumerate(repacked))), workers)
    for queue in queues:
        await unless_a_worker_fails(queue.put(None), workers)


def repack(events: list[InputEvent], batch_size: int, maybe_in_flight: set[int]) -> list[list[InputEvent]]:
    """Full batches of whole identity groups, in input order per identity; the groups that may have to
    wait for a batch in flight go last, so that at most the last batches wait."""
    copies: dict[int, list[InputEvent]] = {}
    for event in events:
        copies.setdefault(event.identity, []).append(event)
    groups = sorted(copies.items(), key=lambda item: item[0] in maybe_in_flight)  # stable: free ones first
    packed: list[list[InputEvent]] = [[]]
    for _, group in groups:
        if packed[-1] and len(packed[-1]) + len(group) > batch_size:
            packed.append([])
        packed[-1].extend(group)
    return [batch for batch in packed if batch]


async def unless_a_worker_fails(awaitable: Awaitable[Any], workers: list[asyncio.Task[None]]) -> None:
    """Await `awaitable`, unless a partition worker fails first: then raise its error."""
    waiting = asyncio.ensure_future(awaitable)
    while not waiting.done():
        await asyncio.wait([waiting, *workers], return_when=asyncio.FIRST_COMPLETED)
        failed = next((w for w in workers if w.done() and w.exception()), None)
        if failed is not None:
            waiting.cancel()
            raise failed.exception()  # type: ignore[misc]
    waiting.result()
