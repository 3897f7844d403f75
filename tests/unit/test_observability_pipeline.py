"""One batch through the real ingest, curate and aggregate steps with the observability calls the
triggers and activities make: every line of the batch shares one correlation id, each event is
counted exactly once, and the latencies are recorded."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pipeline import batch as steps
from pipeline.ingest import RawEvent, ingest_batch, utc_now_text
from pipeline.observability import (
    InMemoryMetrics,
    batch_scope,
    batch_trace,
    configure_logging,
    get_metrics,
    record_batch,
    record_ingest,
    record_stored,
    set_metrics,
    traceparents_in,
    with_trace,
)
from pipeline.observability.logs import APP_LOGGERS, QUIET_LOGGERS
from pipeline.observability.metrics import (
    BATCH_DURATION,
    BATCHES,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATES,
    EVENTS_RECEIVED,
    EVENTS_STORED,
    LATENCY_ENQUEUED,
    LATENCY_EVENT_TIME,
)
from pipeline.reference import DEVICES_BLOB, FX_RATES_BLOB, TENANTS_BLOB, ReferenceCache
from pipeline.runtime import COSMOS_CONTAINERS, Runtime
from pipeline.settings import CONTAINER_REFERENCE, COSMOS_EVENTS, Settings
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore
from tests import factories as f

TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOW = datetime(2026, 11, 1, 10, 16, tzinfo=UTC)  # 30 s after factories.TIME
ENQUEUED = NOW - timedelta(seconds=2)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    names = ("", *APP_LOGGERS, *QUIET_LOGGERS)
    handlers, levels = list(root.handlers), {name: logging.getLogger(name).level for name in names}
    buffer = io.StringIO()
    configure_logging("DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def memory() -> Iterator[InMemoryMetrics]:
    metrics = InMemoryMetrics()
    previous = set_metrics(metrics)
    yield metrics
    set_metrics(previous)


async def runtime() -> Runtime:
    blobs, documents = MemoryBlobStore(), MemoryDocumentStore()
    await documents.ensure_containers(COSMOS_CONTAINERS)
    for name, content in zip((TENANTS_BLOB, FX_RATES_BLOB, DEVICES_BLOB), f.reference_files(), strict=True):
        await blobs.put(CONTAINER_REFERENCE, name, content)
    return Runtime(Settings.local_emulators(), blobs, documents, ReferenceCache())


def traced(event: dict) -> dict:
    return {**event, "traceparent": TRACE}


async def run_one_batch(rt: Runtime) -> str:
    raws = [
        RawEvent(f.raw(traced(f.order("o-1"))), "partition=0/sequence=10"),
        RawEvent(f.raw(traced(f.page("p-1"))), "partition=0/sequence=11"),
        RawEvent(f.raw(traced(f.order("o-1"))), "partition=0/sequence=12"),  # a redelivery
        RawEvent(b'{"id": "broken"', "partition=0/sequence=13"),
        RawEvent(f.raw(traced(f.reading("r-1", tenant="wayne-enterprises"))), "partition=0/sequence=14"),
    ]
    batch_id = "eh-0-10-14"
    trace = batch_trace(batch_id, traceparents_in(raw.body for raw in raws))
    # The trigger.
    with batch_scope(batch_id, step="ingest", traceparent=trace, source_kind="eventhub"):
        outcome = await ingest_batch(raws, source_kind="eventhub", batch_id=batch_id, blobs=rt.blobs, now=NOW)
        record_ingest(outcome)
    assert outcome.orchestration_input is not None
    batch = with_trace(
        outcome.orchestration_input, trace, ingested_at=utc_now_text(NOW), enqueued_at=utc_now_text(ENQUEUED)
    )
    # The activities (the orchestrator passes the same input to each).
    with batch_scope(batch_id, step="curate", traceparent=batch["traceparent"], source_kind="eventhub"):
        recorded = get_metrics().histogram(LATENCY_EVENT_TIME).count  # type: ignore[attr-defined]
        await steps.curate(batch, rt, NOW)
        if get_metrics().histogram(LATENCY_EVENT_TIME).count == recorded:  # type: ignore[attr-defined]
            # The curate step records its stored events itself once wired; until then, here.
            record_stored(await rt.documents.query_all(COSMOS_EVENTS), batch, now=NOW)
    with batch_scope(batch_id, step="aggregate", traceparent=batch["traceparent"], source_kind="eventhub"):
        result = await steps.aggregate(batch, rt)
        record_batch(result, batch, now=NOW + timedelta(seconds=1))
    return batch_id


async def test_every_line_of_a_batch_shares_the_events_trace_as_correlation_id(
    stream: io.StringIO, memory: InMemoryMetrics
) -> None:
    batch_id = await run_one_batch(await runtime())
    found = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in found if line.get("batch_id") == batch_id]
    assert {line["step"] for line in ours} == {"ingest", "curate", "aggregate"}
    assert {line["correlation_id"] for line in ours} == {"0af7651916cd43dd8448eb211c80319c"}
    assert {line["instance_id"] for line in ours} == {batch_id}
    stored = [line for line in ours if line["message"] == "event stored"]
    assert {line["event_id"] for line in stored} == {"o-1", "p-1"}
    assert all(len(line["event_key"]) == 64 for line in stored)
    dead = {line["reason"]: line for line in ours if line["message"].startswith("event dead-lettered")}
    assert dead["malformed_json"]["deadletter_blob"].startswith(f"deadletter/malformed_json/{batch_id}/")
    assert dead["malformed_json"]["source_ref"] == "partition=0/sequence=13"
    (done,) = [line for line in ours if line["message"].startswith(f"batch {batch_id} completed")]
    assert (done["stored"], done["duplicates"], done["dead_lettered"]) == (2, 1, 1)
    assert json.loads(done["dead_letter_reasons"]) == {"unknown_tenant": 1}
    assert done["batch_duration_s"] == 1.0


async def test_each_event_is_counted_once_and_latencies_are_recorded(
    stream: io.StringIO, memory: InMemoryMetrics
) -> None:
    await run_one_batch(await runtime())
    received = memory.counter(EVENTS_RECEIVED, source_kind="eventhub")
    stored, duplicates = memory.counter(EVENTS_STORED), memory.counter(EVENTS_DUPLICATES)
    dead = memory.by_attribute(EVENTS_DEAD_LETTERED, "reason")
    assert (received, stored, duplicates, dead) == (5, 2, 1, {"malformed_json": 1, "unknown_tenant": 1})
    assert received == stored + duplicates + sum(dead.values())
    assert memory.counter(EVENTS_DEAD_LETTERED, stage="ingest") == 1
    assert memory.counter(BATCHES, outcome="completed") == 1
    event_time = memory.histogram(LATENCY_EVENT_TIME)
    assert (event_time.count, event_time.minimum, event_time.maximum) == (2, 30.0, 30.0)
    assert memory.histogram(LATENCY_ENQUEUED).maximum == 2.0
    assert memory.histogram(BATCH_DURATION).total == 1.0


def test_a_failed_batch_is_counted_with_its_processing_failed_dead_letters(memory: InMemoryMetrics) -> None:
    result = {"batch_id": "b1", "stored": 1, "duplicates": 0, "dead_letter_reasons": {"processing_failed": 4}}
    record_batch({**result, "error": "Cosmos DB unreachable"}, {"source_kind": "http"}, now=NOW)
    assert memory.counter(BATCHES, outcome="failed") == 1
    assert memory.counter(EVENTS_DEAD_LETTERED, reason="processing_failed", stage="fail") == 4
    assert memory.histogram(BATCH_DURATION).count == 0  # no ingest time carried: no duration
