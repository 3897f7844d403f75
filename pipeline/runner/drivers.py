"""Drivers: how the local runner delivers events to the real trigger functions of `function_app.py`.

- Event Hubs: `func.EventHubEvent` batches per partition with sequence numbers, as the host delivers
  them to a cardinality-many trigger (the transport itself cannot run here).
- Blob: each batch is uploaded to `incoming/` in Azurite and the blob trigger is invoked as its Event
  Grid notification would (`func.InputStream` of the uploaded blob).
- HTTP: `func.HttpRequest`s in batch mode (`application/cloudevents-batch+json`), and structured mode
  for events that cannot travel inside a JSON array (not JSON, not UTF-8, over the size limit).

Each driver returns the ids of the trigger invocations' batches, so the runner can read their manifests.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import azure.functions as func

from pipeline import ingest
from pipeline.functions_host.trigger_delivery import BlobPoisonedError, TriggerFailedError
from pipeline.runner.inputs import InputEvent
from pipeline.runtime import Runtime
from pipeline.settings import CONTAINER_INCOMING
from schemas import MAX_EVENT_BYTES

Invoke = Callable[..., Awaitable[Any]]  # calls the trigger function; the host fills in the durable client
log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    """The host gave up on a delivery in a way that leaves events behind (a poisoned blob)."""


class Driver(Protocol):
    async def deliver(self, partition: int, events: list[InputEvent]) -> list[str]:
        """Deliver one partition's batch; returns the batch ids the trigger created."""


#: The stream the local runner plays: a hub and consumer group in a namespace that exists nowhere else.
LOCAL_EVENT_HUB, LOCAL_CONSUMER_GROUP = "events", "$Default"


def local_namespace(files: list[Path]) -> str:
    """The namespace of the stream an input is played as: one per input (a digest of its files'
    contents). Runners over different inputs, at once, are then different streams whose batch ids
    never meet, as two Event Hubs are; a rerun over the same input plays the same stream again, so a
    crashed run's batches are re-derived and found."""
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return f"{digest.hexdigest()[:16]}.localhost"


class EventHubDriver:
    def __init__(self, invoke: Invoke, namespace: str) -> None:
        self._invoke = invoke
        self._namespace = namespace
        self._next_sequence: dict[int, int] = {}
        self._stream = ingest.eventhub_stream(namespace, LOCAL_EVENT_HUB, LOCAL_CONSUMER_GROUP)

    async def deliver(self, partition: int, events: list[InputEvent]) -> list[str]:
        first = self._next_sequence.get(partition, 0)
        self._next_sequence[partition] = first + len(events)
        context = {
            "FullyQualifiedNamespace": self._namespace,
            "EventHubName": LOCAL_EVENT_HUB,
            "ConsumerGroup": LOCAL_CONSUMER_GROUP,
            "PartitionId": str(partition),
        }
        metadata = {"PartitionContext": func.meta.Datum(type="json", value=json.dumps(context))}
        now = datetime.now(UTC)
        batch = [
            func.EventHubEvent(
                body=event.body,
                trigger_metadata=metadata,
                enqueued_time=now,
                sequence_number=first + offset,
                offset=str(first + offset),
                partition_key=None,
            )
            for offset, event in enumerate(events)
        ]
        try:
            await self._invoke(events=batch)
        except TriggerFailedError as error:
            # The Event Hubs host logs the failure and checkpoints all the same: the batch is left to
            # the reconciliation sweep, which finds it from its claim check (or, if ingest never got
            # that far, the runner reports it as lost).
            log.error("%s; the host moves on past these events", error)
        return [ingest.eventhub_batch_id(self._stream, str(partition), first, first + len(events) - 1)]


class BlobDriver:
    def __init__(self, invoke: Invoke, runtime: Runtime, run_prefix: str) -> None:
        self._invoke = invoke
        self._runtime = runtime
        self._prefix = run_prefix
        self._count: dict[int, int] = {}

    async def deliver(self, partition: int, events: list[InputEvent]) -> list[str]:
        """Upload the batch as one file (several when its events need different framings) and fire."""
        batch_ids: list[str] = []
        for as_array, bodies in _framing_runs(events):
            number = self._count.get(partition, 0)
            self._count[partition] = number + 1
            if as_array:
                name = f"{self._prefix}/part-{partition:02d}-{number:06d}.json"
                content = b"[" + b",".join(bodies) + b"]"
            else:
                name = f"{self._prefix}/part-{partition:02d}-{number:06d}.ndjson"
                content = b"".join(body + b"\n" for body in bodies)
            etag = await self._runtime.blobs.put(CONTAINER_INCOMING, name, content)
            path = f"{CONTAINER_INCOMING}/{name}"
            # What the host hands the function once Event Grid reports the BlobCreated event.
            blob = func.blob.InputStream(
                data=content, name=path, uri=f"local://{path}", length=len(content), blob_properties={"ETag": etag}
            )
            try:
                await self._invoke(blob=blob)
            except BlobPoisonedError as error:
                raise DeliveryFailed(str(error)) from error
            batch_ids.append(ingest.blob_batch_id(f"local://{path}", etag, 0))
        return batch_ids


def _framing_runs(events: list[InputEvent]) -> list[tuple[bool, list[bytes]]]:
    """Consecutive runs of events that fit NDJSON (one line each) or need a JSON array (multi-line,
    or empty elements that came from an array file)."""
    runs: list[tuple[bool, list[bytes]]] = []
    for event in events:
        as_array = not event.body or b"\n" in event.body
        if runs and runs[-1][0] == as_array:
            runs[-1][1].append(event.body)
        else:
            runs.append((as_array, [event.body]))
    return runs


class HttpDriver:
    def __init__(self, invoke: Invoke, max_batch_events: int) -> None:
        self._invoke = invoke
        self._max_batch = max_batch_events  # the route answers 413 beyond its limit

    async def deliver(self, partition: int, events: list[InputEvent]) -> list[str]:
        """One batch request for the events a JSON array can carry; structured requests for the rest.

        Order matters only between copies of one event. A structured event with no other copy in the
        batch is posted after the batch request, so it does not split the batch into several requests
        (and orchestrations); one that has copies here keeps its place among them.
        """
        batch_ids: list[str] = []
        pending: list[bytes] = []
        later: list[bytes] = []
        copies = Counter(event.identity for event in events)
        for event in events:
            if _fits_in_array(event.body):
                pending.append(event.body)
                if len(pending) == self._max_batch:
                    batch_ids.append(await self._post_batch(pending))
                    pending = []
                continue
            if copies[event.identity] == 1:
                later.append(event.body)
                continue
            if pending:
                batch_ids.append(await self._post_batch(pending))
                pending = []
            batch_ids.append(await self._post(event.body, "application/cloudevents+json"))
        if pending:
            batch_ids.append(await self._post_batch(pending))
        for body in later:
            batch_ids.append(await self._post(body, "application/cloudevents+json"))
        return batch_ids

    async def _post_batch(self, bodies: list[bytes]) -> str:
        return await self._post(b"[" + b",".join(bodies) + b"]", "application/cloudevents-batch+json")

    async def _post(self, body: bytes, content_type: str) -> str:
        request = func.HttpRequest(
            "POST", "http://localhost:7071/api/events", headers={"content-type": content_type}, body=body
        )
        response: func.HttpResponse = await self._invoke(req=request)
        if response.status_code not in (202, 400):
            raise RuntimeError(f"POST /api/events answered {response.status_code}: {response.get_body()[:300]!r}")
        return str(json.loads(response.get_body())["batch_id"])


def _fits_in_array(body: bytes) -> bool:
    """Whether an event can travel as an element of a JSON array without changing its bytes' meaning."""
    if len(body) > MAX_EVENT_BYTES:
        return False
    try:
        return isinstance(json.loads(body.decode("utf-8-sig")), dict) and not body.startswith(b"\xef\xbb\xbf")
    except (ValueError, RecursionError, UnicodeDecodeError):
        return False
