"""The three ways in: Event Hubs batches, files dropped in Blob storage, and HTTP.

Each trigger frames its input into raw events and hands them to the one shared ingest path, which
validates, dead-letters and writes the claim check; then it starts the batch's orchestration with a
deterministic instance id. A trigger returns only once every event is handed over or dead-lettered:
the Event Hubs host checkpoints after the function returns, even when it throws.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, List  # noqa: UP035 (binding annotations: see worker_checks)

import azure.durable_functions as df
import azure.functions as func

from orchestrations.handover import start_batch
from pipeline import framing, ingest
from pipeline.ingest import RawEvent, utc_now_text
from pipeline.observability import batch_scope, batch_trace, record_ingest, traceparents_in, with_trace
from pipeline.runtime import current_runtime
from pipeline.settings import CONTAINER_INCOMING

bp = df.Blueprint()
log = logging.getLogger(__name__)


async def _ingest_and_start(
    client: df.DurableOrchestrationClient,
    raws: list[RawEvent],
    source_kind: str,
    batch_id: str,
    enqueued_at: str | None = None,
) -> ingest.IngestOutcome:
    trace = batch_trace(batch_id, traceparents_in(raw.body for raw in raws))
    with batch_scope(batch_id, step="ingest", traceparent=trace, source_kind=source_kind):
        runtime = current_runtime()
        now = datetime.now(UTC)
        outcome = await ingest.ingest_batch(
            raws,
            source_kind=source_kind,
            batch_id=batch_id,
            blobs=runtime.blobs,
            now=now,
            host_instance=runtime.settings.host_instance_id,
        )
        if outcome.orchestration_input is not None:
            carried = with_trace(
                outcome.orchestration_input, trace, ingested_at=utc_now_text(now), enqueued_at=enqueued_at
            )
            await start_batch(client, batch_id, carried)
        record_ingest(outcome)
    return outcome


# The Event Hubs host checkpoints after the function returns, even when it throws: a failure (a store
# unreachable beyond the SDK's own retries) is retried on the same events first. What still fails is
# found again by the reconciliation sweep (`reconcile.py`) from its claim check.
@bp.retry(strategy="exponential_backoff", max_retry_count="5", minimum_interval="00:00:02", maximum_interval="00:01:00")
@bp.event_hub_message_trigger(
    arg_name="events",
    event_hub_name="%EVENTHUB_NAME%",
    connection="EventHubConnection",
    consumer_group="%EVENTHUB_CONSUMER_GROUP%",
    cardinality=func.Cardinality.MANY,
    data_type=func.DataType.BINARY,
)
@bp.durable_client_input(client_name="client")
async def eventhub_ingest(
    events: List[func.EventHubEvent],  # noqa: UP006 (the worker refuses list[...] on a binding: see worker_checks)
    client: df.DurableOrchestrationClient,
) -> None:
    if not events:
        return
    context = _partition_context(events[0])
    partition = str(context.get("PartitionId", "0"))
    stream = ingest.eventhub_stream(
        str(context.get("FullyQualifiedNamespace", "")),
        str(context.get("EventHubName", "")),
        str(context.get("ConsumerGroup", "")),
    )
    raws = [RawEvent(event.get_body(), f"partition={partition}/sequence={event.sequence_number}") for event in events]
    batch_id = ingest.eventhub_batch_id(
        stream, partition, events[0].sequence_number or 0, events[-1].sequence_number or 0
    )
    enqueued = events[0].enqueued_time
    await _ingest_and_start(client, raws, "eventhub", batch_id, utc_now_text(enqueued) if enqueued else None)


def _partition_context(event: func.EventHubEvent) -> dict[str, Any]:
    """The trigger's `PartitionContext` metadata: `FullyQualifiedNamespace`, `EventHubName`,
    `ConsumerGroup` and `PartitionId`, as the Event Hubs extension passes them."""
    context = (event.metadata or {}).get("PartitionContext") or {}
    if isinstance(context, str):
        context = json.loads(context)
    return dict(context)


@bp.blob_trigger(
    arg_name="blob",
    path=f"{CONTAINER_INCOMING}/{{name}}",
    connection="DataStorage",
    source=func.BlobSource.EVENT_GRID,
)
@bp.durable_client_input(client_name="client")
async def blob_ingest(blob: func.InputStream, client: df.DurableOrchestrationClient) -> None:
    name = blob.name or "unnamed"
    url = blob.uri or name
    version = _blob_version(blob)
    batch_size = current_runtime().settings.ingest_batch_size
    chunk: list[RawEvent] = []
    chunk_index = 0
    for framed in framing.split_file(name, blob.read()):
        chunk.append(RawEvent(framed.body, f"{name}:{framed.position}"))
        if len(chunk) == batch_size:
            await _ingest_and_start(client, chunk, "blob", ingest.blob_batch_id(url, version, chunk_index))
            chunk, chunk_index = [], chunk_index + 1
    if chunk:
        await _ingest_and_start(client, chunk, "blob", ingest.blob_batch_id(url, version, chunk_index))


def _blob_version(blob: func.InputStream) -> str:
    """The version of the blob the trigger fired for: its version id where versioning is on, else its ETag."""
    properties: dict[str, Any] = getattr(blob, "blob_properties", None) or {}  # func.blob.InputStream
    return str(properties.get("VersionId") or properties.get("ETag") or properties.get("Etag") or "")


@bp.route(route="events", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def http_ingest(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body() or b""
    headers = dict(req.headers)
    media_type = framing.media_type(headers)
    settings = current_runtime().settings
    if len(body) > settings.http_max_body_bytes:
        return _problem(
            413,
            "Request body too large",
            f"The body has {len(body):,} bytes; the limit is {settings.http_max_body_bytes:,}. "
            "Split the batch into smaller requests.",
        )
    if framing.is_binary_mode(headers):
        bodies = [framing.binary_mode_event(headers, body)]
    elif media_type == framing.CONTENT_TYPE_BATCH:
        elements = framing.split_json_array(body)
        bodies = elements if elements is not None else [body]
        if len(bodies) > settings.http_max_batch_events:
            return _problem(
                413,
                "Too many events in one batch",
                f"The batch holds {len(bodies):,} events; the limit is {settings.http_max_batch_events:,}. "
                "Split it into smaller batches.",
            )
    elif media_type in (framing.CONTENT_TYPE_STRUCTURED, "application/json"):
        bodies = [body]
    else:
        return _problem(
            415,
            "Unsupported media type",
            f"Content-Type {media_type or '(none)'} is not accepted: send {framing.CONTENT_TYPE_STRUCTURED}, "
            f"{framing.CONTENT_TYPE_BATCH}, or a binary-mode CloudEvent with ce-* headers.",
        )
    request_id = ingest.http_batch_id(
        body, json.dumps(sorted(headers.items())) if framing.is_binary_mode(headers) else ""
    )
    raws = [RawEvent(raw, f"{request_id}#{index}") for index, raw in enumerate(bodies)]
    outcome = await _ingest_and_start(client, raws, "http", request_id)
    return _ingest_response(req, client, outcome)


def _ingest_response(
    req: func.HttpRequest, client: df.DurableOrchestrationClient, outcome: ingest.IngestOutcome
) -> func.HttpResponse:
    rejected = [
        {"index": index, "reason": record.reason.value, "errors": list(record.errors)}
        for index, record in outcome.rejections
    ]
    payload: dict[str, Any] = {
        "batch_id": outcome.batch_id,
        "received": outcome.received,
        "accepted": outcome.valid,
        "rejected": rejected,
    }
    if outcome.valid:
        payload["status"] = client.create_http_management_payload(outcome.batch_id)
        return func.HttpResponse(json.dumps(payload), status_code=202, mimetype="application/json")
    return func.HttpResponse(
        json.dumps(
            {
                "type": "https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md",
                "title": "No event was accepted",
                "status": 400,
                "detail": f"{len(rejected)} event(s) rejected; each is listed with its reason and dead-lettered.",
                **payload,
            }
        ),
        status_code=400,
        mimetype="application/problem+json",
    )


def _problem(status: int, title: str, detail: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}),
        status_code=status,
        mimetype="application/problem+json",
    )
