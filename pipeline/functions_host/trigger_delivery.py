"""What the host does when a trigger throws: retry policies, and the blob trigger's poison queue.

- A function with a retry policy (`@app.retry`, which the host honours for Event Hubs, Timer, Kafka
  and Cosmos DB triggers) is invoked again with the same input, `max_retry_count` times, after a
  `fixed_delay` or an `exponential_backoff` delay (doubling from `minimum_interval`, capped at
  `maximum_interval`; the host adds some jitter). When the retries run out the Event Hubs host logs
  the failure and checkpoints anyway: recovering those events is the app's business. Here the last
  failure is raised as `TriggerFailedError`, so the caller can move on the way the host would.
- A blob trigger runs off the host's internal queue: a failed invocation is dequeued again, up to
  `maxDequeueCount` times (host.json `extensions.queues`, default 5); then a message naming the blob
  goes to the queue `webjobs-blobtrigger-poison` and the blob is not tried again. Here that message
  goes to a `PoisonQueue` (Azurite's queue service in the local runner) and `BlobPoisonedError` is raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import azure.functions as func

from pipeline.functions_host.indexing import IndexedFunction

log = logging.getLogger(__name__)

BLOB_TRIGGER = "blobTrigger"
BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison"
DEFAULT_MAX_DEQUEUE_COUNT = 5


class TriggerFailedError(RuntimeError):
    """The function failed on every attempt its retry policy allows; the host moves on."""


class BlobPoisonedError(RuntimeError):
    """The blob trigger failed `maxDequeueCount` times; the blob's message is in the poison queue."""


class PoisonQueue(Protocol):
    async def send(self, message: dict[str, Any]) -> None: ...


@dataclass
class MemoryPoisonQueue:
    """The poison queue in memory, for tests."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


class AzuritePoisonQueue:
    """The poison queue in a storage account's queue service (Azurite locally), as the host writes it."""

    def __init__(self, connection_string: str, name: str = BLOB_POISON_QUEUE) -> None:
        self._connection_string, self._name = connection_string, name

    async def send(self, message: dict[str, Any]) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.queue.aio import QueueClient

        from pipeline.stores.http import transport_options

        queue_client = QueueClient.from_connection_string(self._connection_string, self._name, **transport_options())
        async with queue_client as queue:
            try:
                await queue.create_queue()
            except ResourceExistsError:
                pass
            await queue.send_message(json.dumps(message))


def retry_delays(policy: dict[str, Any] | None) -> list[timedelta]:
    """The waits before each retry a policy allows (none without a policy)."""
    if not policy:
        return []
    count = int(policy.get("max_retry_count", 0))
    if count < 0:
        raise ValueError("an unbounded retry policy (max_retry_count -1) would never give up on an event")
    if policy.get("strategy") == "fixed_delay":
        return [_timespan(policy["delay_interval"])] * count
    low, high = _timespan(policy["minimum_interval"]), _timespan(policy["maximum_interval"])
    return [min(high, low * 2**attempt) for attempt in range(count)]


async def deliver(
    function: IndexedFunction,
    invoke: Callable[[], Awaitable[Any]],
    *,
    timer_scale: float,
    poison_queue: PoisonQueue,
    max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT,
    blob: Any = None,
) -> Any:
    """Invoke a trigger as the host would, retrying it as its kind and its retry policy say."""
    if function.trigger_type == BLOB_TRIGGER:
        delays = [timedelta(0)] * (max_dequeue_count - 1)
    else:
        delays = retry_delays(function.retry_policy)
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return await invoke()
        except Exception as error:
            if delay is not None:
                log.warning("%s failed (attempt %d), retrying in %s: %s", function.name, attempt, delay, error)
                await asyncio.sleep(delay.total_seconds() * timer_scale)
                continue
            if function.trigger_type == BLOB_TRIGGER:
                await poison_queue.send(_poison_message(function, blob))
                raise BlobPoisonedError(
                    f"{function.name} failed {attempt} times on {getattr(blob, 'name', blob)}; "
                    f"its message is in the queue {BLOB_POISON_QUEUE}: {error}"
                ) from error
            if len(delays):
                raise TriggerFailedError(f"{function.name} failed {attempt} times: {error}") from error
            raise
    raise AssertionError("unreachable")


def replayable(value: Any) -> Callable[[], Any]:
    """The trigger input for each attempt: the host reads a blob afresh every time it runs the function
    (a stream the first attempt consumed would hand the retry an empty file); other inputs are reused."""
    if not isinstance(value, func.blob.InputStream):
        return lambda: value
    data = value.read()
    return lambda: func.blob.InputStream(
        data=data,
        name=value.name,
        uri=value.uri,
        length=value.length,
        blob_properties=getattr(value, "blob_properties", None),
    )


def _poison_message(function: IndexedFunction, blob: Any) -> dict[str, Any]:
    """The blob trigger's queue message (`BlobTriggerMessage`), as the host moves it to the poison queue."""
    container, _, name = str(getattr(blob, "name", "") or "").partition("/")
    properties = getattr(blob, "blob_properties", None) or {}
    return {
        "Type": "BlobTrigger",
        "FunctionId": f"Host.Functions.{function.name}",
        "BlobType": "BlockBlob",
        "ContainerName": container,
        "BlobName": name,
        "ETag": properties.get("ETag"),
    }


def _timespan(text: str) -> timedelta:
    hours, minutes, seconds = (float(part) for part in str(text).split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)
