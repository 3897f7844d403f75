"""Sending: size-bounded batches per route to an event sink (a real Event Hub, or a fake in tests)."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from pipeline.producer.stream import identity_and_type


class SinkError(Exception):
    """A send failed; `retryable` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Route:
    """Where a batch goes: a partition id, a partition key, or neither (round robin)."""

    partition_id: str | None = None
    partition_key: str | None = None

    def __str__(self) -> str:
        if self.partition_id is not None:
            return f"partition {self.partition_id}"
        return f"key {self.partition_key}" if self.partition_key is not None else "any partition"


class OutgoingBatch(Protocol):
    @property
    def count(self) -> int: ...
    @property
    def size_in_bytes(self) -> int: ...
    def try_add(self, body: bytes) -> bool:
        """Add one event; False (and nothing added) when it does not fit."""


class EventSink(Protocol):
    async def partition_ids(self) -> list[str]: ...
    async def create_batch(self, route: Route) -> OutgoingBatch: ...
    async def send(self, batch: OutgoingBatch) -> None:
        """Publish a batch; raise :class:`SinkError` when it fails."""

    async def close(self) -> None: ...


@dataclass
class SendSummary:
    read: int = 0
    sent: int = 0
    failed: int = 0
    too_large: int = 0
    batches: int = 0
    retries: int = 0
    bytes_sent: int = 0
    elapsed_s: float = 0.0
    aborted: str | None = None
    routes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.aborted is None and self.failed == 0 and self.too_large == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "sent": self.sent,
            "failed": self.failed,
            "too_large": self.too_large,
            "batches": self.batches,
            "retries": self.retries,
            "bytes_sent": self.bytes_sent,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": round(self.sent / self.elapsed_s, 1) if self.elapsed_s > 0 else 0.0,
            "aborted": self.aborted,
            "routes": dict(sorted(self.routes.items())),
            "errors": dict(self.errors.most_common(10)),
        }


class Sender:
    """Publishes events in size-bounded batches per route, with retries and a summary.

    Args:
        sink: Where batches go.
        partition_by: ``identity`` (hash of the event identity onto the hub's partitions),
            ``tenant`` (the tenant id as partition key) or ``none`` (round robin).
        max_retries: Further attempts for a batch after a retryable failure (exponential backoff
            from `backoff_s`); a batch that still fails is counted failed and written to `failed_out`.
        rate: At most this many events per second (None: as fast as the hub accepts).
        linger_s: With a rate, the longest an event waits in an open batch.
        progress: Called with the running summary about once a second.
        failed_out: NDJSON file that receives events that could not be sent (resend it later).
    """

    def __init__(
        self,
        sink: EventSink,
        *,
        partition_by: str = "identity",
        max_retries: int = 3,
        backoff_s: float = 0.5,
        rate: float | None = None,
        linger_s: float = 0.25,
        progress: Callable[[SendSummary], None] | None = None,
        failed_out: IO[bytes] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if partition_by not in ("identity", "tenant", "none"):
            raise ValueError(f"partition_by must be identity, tenant or none, not {partition_by!r}")
        self.sink, self.partition_by, self.max_retries, self.backoff_s = sink, partition_by, max_retries, backoff_s
        self.rate, self.linger_s, self.progress, self.failed_out = rate, linger_s, progress, failed_out
        self.clock, self.sleep = clock, sleep
        self.summary = SendSummary()
        self._partitions: list[str] = []
        self._open: dict[Route, tuple[OutgoingBatch, list[bytes]]] = {}

    async def send_all(self, bodies: Iterable[bytes] | AsyncIterator[bytes]) -> SendSummary:
        started = last_flush = last_progress = self.clock()
        try:
            if self.partition_by == "identity":
                self._partitions = sorted(await self._sink_call(self.sink.partition_ids()), key=_partition_order)
            async for body in _aiter(bodies):
                self.summary.read += 1
                if self.rate:
                    delay = started + (self.summary.read - 1) / self.rate - self.clock()
                    if delay > 0:
                        await self.sleep(delay)
                await self._add(self.route(body), body)
                now = self.clock()
                if self.rate and now - last_flush >= self.linger_s:
                    await self._flush_all()
                    last_flush = now
                if self.progress and now - last_progress >= 1.0:
                    self.summary.elapsed_s = now - started
                    self.progress(self.summary)
                    last_progress = now
            await self._flush_all()
        except _Abort as abort:
            self.summary.aborted = str(abort)
            for _, held in self._open.values():
                self._give_up(held, "not sent: aborted")
            self._open.clear()
        self.summary.elapsed_s = self.clock() - started
        return self.summary

    def route(self, body: bytes) -> Route:
        if self.partition_by == "none":
            return Route()
        identity, _ = identity_and_type(body)
        if self.partition_by == "tenant":
            return Route(partition_key=identity[0]) if identity else Route()
        key = "\x1f".join(identity) if identity else hashlib.sha256(body).hexdigest()
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        return Route(partition_id=self._partitions[digest % len(self._partitions)])

    async def _sink_call(self, awaitable: Any) -> Any:
        """A call that sending cannot go on without (partition ids, a new batch)."""
        try:
            return await awaitable
        except SinkError as error:
            self.summary.errors[str(error)[:200]] += 1
            raise _Abort(str(error)) from error

    async def _add(self, route: Route, body: bytes) -> None:
        if route not in self._open:
            self._open[route] = (await self._sink_call(self.sink.create_batch(route)), [])
        batch, held = self._open[route]
        if batch.try_add(body):
            held.append(body)
            return
        if batch.count:
            await self._flush(route)
            self._open[route] = (await self._sink_call(self.sink.create_batch(route)), [])
            batch, held = self._open[route]
            if batch.try_add(body):
                held.append(body)
                return
        self.summary.too_large += 1
        self._give_up([body], f"too large for one Event Hubs message ({len(body)} bytes)", count=False)

    async def _flush_all(self) -> None:
        for route in list(self._open):
            await self._flush(route)

    async def _flush(self, route: Route) -> None:
        batch, held = self._open.pop(route)
        if not held:
            return
        for attempt in range(self.max_retries + 1):
            try:
                await self.sink.send(batch)
            except SinkError as error:
                self.summary.errors[str(error)[:200]] += 1
                if not error.retryable:
                    self._give_up(held, str(error))
                    raise _Abort(f"{error} (not retryable; stopped after {self.summary.sent} events)") from error
                if attempt < self.max_retries:
                    self.summary.retries += 1
                    await self.sleep(self.backoff_s * 2**attempt)
                    continue
                self._give_up(held, str(error))
                return
            self.summary.sent += len(held)
            self.summary.batches += 1
            self.summary.bytes_sent += batch.size_in_bytes
            self.summary.routes[str(route)] += len(held)
            return

    def _give_up(self, bodies: list[bytes], reason: str, *, count: bool = True) -> None:
        if count:
            self.summary.failed += len(bodies)
        if self.failed_out is not None:
            for body in bodies:
                self.failed_out.write(body + b"\n")


class _Abort(Exception):
    pass


def _partition_order(partition_id: str) -> tuple[int, str]:
    return (int(partition_id), partition_id) if partition_id.isdigit() else (sys.maxsize, partition_id)


async def _aiter(bodies: Iterable[bytes] | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if isinstance(bodies, AsyncIterator):
        async for body in bodies:
            yield body
    else:
        for body in bodies:
            yield body


class EventHubSink:
    """The real sink: `azure.eventhub.aio.EventHubProducerClient` with `DefaultAzureCredential`."""

    def __init__(self, namespace: str, eventhub: str, *, max_batch_bytes: int | None = None) -> None:
        from azure.eventhub.aio import EventHubProducerClient
        from azure.identity.aio import DefaultAzureCredential

        self._credential = DefaultAzureCredential()
        self._client = EventHubProducerClient(
            fully_qualified_namespace=namespace, eventhub_name=eventhub, credential=self._credential
        )
        self._max_batch_bytes = max_batch_bytes

    async def partition_ids(self) -> list[str]:
        return [str(p) for p in await self._guard(self._client.get_partition_ids())]

    async def create_batch(self, route: Route) -> OutgoingBatch:
        options: dict[str, Any] = {"partition_id": route.partition_id, "partition_key": route.partition_key}
        if self._max_batch_bytes:
            options["max_size_in_bytes"] = self._max_batch_bytes
        return _SdkBatch(await self._guard(self._client.create_batch(**options)))

    async def send(self, batch: OutgoingBatch) -> None:
        await self._guard(self._client.send_batch(batch.inner))  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self._client.close()
        await self._credential.close()

    @staticmethod
    async def _guard(awaitable: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.eventhub.exceptions import AuthenticationError, ConnectError, EventHubError

        try:
            return await awaitable
        except (AuthenticationError, ClientAuthenticationError) as error:
            raise SinkError(f"not authorised: {error}", retryable=False) from error
        except ConnectError as error:
            raise SinkError(f"cannot connect: {error}", retryable=False) from error
        except EventHubError as error:
            raise SinkError(str(error)) from error


class _SdkBatch:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def count(self) -> int:
        return len(self.inner)

    @property
    def size_in_bytes(self) -> int:
        return int(self.inner.size_in_bytes)

    def try_add(self, body: bytes) -> bool:
        from azure.eventhub import EventData

        try:
            self.inner.add(EventData(body))
        except ValueError:  # the batch (or the hub's message size) is full
            return False
        return True
