"""How the local runner cuts its input into batches and hands them out.

Events are spread over partitions by identity, as an Event Hubs producer using the identity as
partition key would; each partition has at most `QUEUE_DEPTH` batches waiting besides the one being
processed. The partitions' last, partial batches are repacked into full ones (see `feed`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.runner.inputs import InputEvent, read_events
from schemas import Rejection, validate_event
from schemas.reasons import Reason

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
    one orchestration, per partition. The copies of an event stay together and in input order. Which
    identities may still be in a partition's batch in flight is decided from the input alone (the last
    batches each partition was handed, as many as can be in flight), so the repacked batches, and their
    ids, are the same in every run over the same input, which crash recovery relies on. A repacked batch
    holding such a copy waits until the batch with the earlier copy is accounted for, unless the order
    of the two cannot change an outcome (`order_matters`): then both run side by side, and the store's
    idempotent create keeps one.
    """
    pending: list[list[InputEvent]] = [[] for _ in queues]
    recent: list[deque[list[InputEvent]]] = [deque(maxlen=QUEUE_DEPTH + 1) for _ in queues]
    for event in read_events(files, len(queues)):
        bucket = pending[event.partition]
        bucket.append(event)
        if len(bucket) == batch_size:
            in_flight.add(bucket)
            recent[event.partition].append(bucket)
            await unless_a_worker_fails(queues[event.partition].put(bucket), workers)
            pending[event.partition] = []
    copies_in_flight: dict[int, list[bytes]] = {}
    for lanes in recent:
        for batch in lanes:
            for event in batch:
                copies_in_flight.setdefault(event.identity, []).append(event.body)
    repacked = repack([e for bucket in pending for e in bucket], batch_size, set(copies_in_flight))
    now = datetime.now(UTC)

    async def lane(number: int, batch: list[InputEvent]) -> None:
        groups: dict[int, list[bytes]] = {}
        for event in batch:
            if event.identity in copies_in_flight:
                groups.setdefault(event.identity, []).append(event.body)
        await in_flight.wait_until_clear(
            {identity for identity, bodies in groups.items() if order_matters(copies_in_flight[identity] + bodies, now)}
        )
        in_flight.add(batch)
        await process(len(queues) + number, batch)

    await unless_a_worker_fails(asyncio.gather(*(lane(n, b) for n, b in enumerate(repacked))), workers)
    for queue in queues:
        await unless_a_worker_fails(queue.put(None), workers)


#: Refusals that depend on the moment of processing rather than on the bytes alone.
_MOMENT_DEPENDENT = frozenset({Reason.TIME_OUT_OF_RANGE, Reason.PROCESSING_FAILED})


def order_matters(copies: list[bytes], now: datetime) -> bool:
    """Whether the order in which these copies of one event are processed can change an outcome.

    Only two copies that are both accepted with different content depend on it (the first stays, the
    other is a `conflicting_duplicate`). Copies with the same normalised content end the same in any
    order (one stored, the others duplicates), and so does a copy refused for what its bytes hold. A
    copy refused for a reason that depends on the moment (its time's range) might be accepted later,
    so it counts as order-sensitive. Deciding this costs a validation of each copy, in the runner, for
    the few copies that would otherwise wait.
    """
    contents: set[str] = set()
    for body in copies:
        result = validate_event(body, now=now)
        if isinstance(result, Rejection):
            if result.reason in _MOMENT_DEPENDENT:
                return True
            continue
        contents.add(result.content_key())
        if len(contents) > 1:
            return True
    return False


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
