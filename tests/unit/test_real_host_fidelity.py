"""Where the real Functions host differs from a naive stand-in: load-time checks, instances that
already exist, triggers that throw, batch ids reused with other content, batches that end through
`fail`, and aggregate writes from a cold cache. Each test runs the real function app on the local
host with in-memory stores, with faults injected, and checks that every event is stored once,
counted as a duplicate, or dead-lettered once, with aggregates equal to a recomputation from the
stored documents."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any, List  # noqa: UP035 (a binding annotation the worker accepts)

import aiohttp
import azure.durable_functions as df
import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from function_app import app
from pipeline.aggregates import WindowKey, WindowStats, apply_contributions, contributions
from pipeline.contributions import fold_pending
from pipeline.enrich import document_id
from pipeline.errors import TransientError
from pipeline.functions_host import LocalFunctionsHost, RuntimeStatus
from pipeline.functions_host.indexing import index_app
from pipeline.functions_host.trigger_delivery import BlobPoisonedError, TriggerFailedError, retry_delays
from pipeline.functions_host.worker_checks import FunctionLoadError
from pipeline.ingest import blob_batch_id, eventhub_batch_id, eventhub_stream
from pipeline.reference import ReferenceCache
from pipeline.runtime import Runtime, install_runtime, uninstall_runtime
from pipeline.settings import (
    CONTAINER_BATCHES,
    CONTAINER_CONTRIBUTIONS,
    CONTAINER_DEADLETTER,
    CONTAINER_REFERENCE,
    COSMOS_AGGREGATES,
    COSMOS_EVENTS,
    Settings,
)
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore
from tests import factories as f
from tests.unit import toy_durable_app as toy

# -- fixtures ---------------------------------------------------------------------------------------


async def _runtime(blobs: MemoryBlobStore, documents: MemoryDocumentStore, **settings: Any) -> Runtime:
    for name, content in zip(("tenants.json", "fx_rates.json", "devices.json"), f.reference_files(), strict=True):
        await blobs.put(CONTAINER_REFERENCE, name, content)
    runtime = Runtime(dataclasses.replace(Settings.local_emulators(), **settings), blobs, documents, ReferenceCache())
    await runtime.ensure_stores()
    install_runtime(runtime)
    return runtime


async def _aggregates_match_documents(blobs: MemoryBlobStore, documents: MemoryDocumentStore) -> None:
    """Once the pending contributions are folded in (as the fold timer would), the aggregate rows are
    exactly the window statistics of the stored event documents."""
    await fold_pending(blobs, documents)
    stored = await documents.query_all(COSMOS_EVENTS)
    expected = {
        (k.tenant_id, k.event_type, k.window_start): (v.count, v.total, v.minimum, v.maximum)
        for k, v in contributions(stored).items()
    }
    rows = {
        (r["tenant_id"], r["event_type"], r["window_start"]): (
            r["event_count"],
            Decimal(r["value_sum"]),
            Decimal(r["value_min"]),
            Decimal(r["value_max"]),
        )
        for r in await documents.query_all(COSMOS_AGGREGATES)
    }
    assert rows == expected


def _events(prefix: str, count: int) -> list[bytes]:
    return [f.raw(f.page(f"{prefix}{n}", duration_ms=1000 + n)) for n in range(count)]


def _blob(name: str, lines: list[bytes], etag: str) -> func.blob.InputStream:
    content = b"\n".join(lines) + b"\n"
    path = f"incoming/{name}"
    return func.blob.InputStream(
        data=content, name=path, uri=f"local://{path}", length=len(content), blob_properties={"ETag": etag}
    )


def _eventhub_batch(lines: list[bytes], first: int = 0) -> list[func.EventHubEvent]:
    return [func.EventHubEvent(body=body, sequence_number=first + n) for n, body in enumerate(lines)]


LOCAL_STREAM = eventhub_stream("", "", "")


# -- 1. the worker's load-time checks ----------------------------------------------------------------


def _app_with_annotation(annotation: Any) -> df.DFApp:
    bp = df.Blueprint()

    async def ingest(events, client: df.DurableOrchestrationClient) -> None:  # type: ignore[no-untyped-def]
        return None

    ingest.__annotations__["events"] = annotation
    decorated = bp.durable_client_input(client_name="client")(ingest)
    bp.event_hub_message_trigger(arg_name="events", event_hub_name="h", connection="c", cardinality="many")(decorated)
    test_app = df.DFApp()
    test_app.register_functions(bp)
    return test_app


def test_the_worker_refuses_a_builtin_generic_on_a_binding_and_accepts_the_typing_form() -> None:
    with pytest.raises(FunctionLoadError, match="binding events has invalid non-type annotation"):
        index_app(_app_with_annotation(list[func.EventHubEvent]))
    assert len(index_app(_app_with_annotation(List[func.EventHubEvent]))) == 1  # noqa: UP006


def test_every_function_of_the_app_passes_the_workers_load_time_checks() -> None:
    index = index_app(app)
    assert {"eventhub_ingest", "blob_ingest", "http_ingest", "curate_batch", "reconcile_batches"} <= set(
        index.functions
    )


# -- 2. an instance that already exists ------------------------------------------------------------


async def test_starting_a_running_id_answers_500_with_the_extensions_error_body() -> None:
    async with LocalFunctionsHost(toy.app) as host:  # real time: the approval waits for its event
        url = f"{host.api.rpc_base_url}orchestrators/approval/singleton"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json="null") as first:
                assert first.status == 202
            async with session.post(url, json="null") as second:
                body = await second.json()
                assert second.status == 500
        await host.client().terminate("singleton", "done")
    assert body == {
        "Message": "Something went wrong while processing your request",
        "ExceptionMessage": "An Orchestration instance with the status Running already exists.",
        "ExceptionType": "System.InvalidOperationException",
    }


class BlockingDocuments(MemoryDocumentStore):
    """Holds every event write until released, so an orchestration stays Running."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def create(self, container, doc):  # type: ignore[no-untyped-def]
        await self.release.wait()
        return await super().create(container, doc)

    async def write_batch(self, container, partition_key, operations):  # type: ignore[no-untyped-def]
        await self.release.wait()
        return await super().write_batch(container, partition_key, operations)


async def test_an_http_retry_while_the_first_instance_runs_is_accepted_and_stored_once() -> None:
    blobs, documents = MemoryBlobStore(), BlockingDocuments()
    await _runtime(blobs, documents)
    body = b"[" + b",".join(_events("h", 3)) + b"]"
    headers = {"content-type": "application/cloudevents-batch+json"}
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            first = await host.call_http("http_ingest", "POST", "events", body=body, headers=headers)
            await asyncio.sleep(0.05)
            assert host.instances[json.loads(first.get_body())["batch_id"]].runtime_status is RuntimeStatus.RUNNING
            retry = await host.call_http("http_ingest", "POST", "events", body=body, headers=headers)
            documents.release.set()
            record = await host.wait_for(json.loads(first.get_body())["batch_id"])
            assert (first.status_code, retry.status_code) == (202, 202)
            assert host.stats.orchestrations == 1
            assert record.output["stored"] == 3
    finally:
        uninstall_runtime()
    await _aggregates_match_documents(blobs, documents)


# -- the blob trigger: retried by the host, then poisoned -------------------------------------------


class FailingClaimChecks(MemoryBlobStore):
    """Fails the claim-check writes of the named batches, `times` times each (-1: always)."""

    def __init__(self, batches: set[str], times: int) -> None:
        super().__init__()
        self.failures = {batch: times for batch in batches}

    async def put(self, container: str, name: str, data: bytes) -> str:
        batch = name.partition("/")[0]
        if container == CONTAINER_BATCHES and name.endswith("events.ndjson") and self.failures.get(batch, 0) != 0:
            self.failures[batch] -= 1
            raise TransientError(f"injected: claim check of {batch} not written")
        return await super().put(container, name, data)


async def test_a_blob_trigger_retried_by_the_host_ingests_every_chunk_once() -> None:
    lines = _events("b", 6)
    second_chunk = blob_batch_id("local://incoming/file.ndjson", '"v1"', 1)
    blobs, documents = FailingClaimChecks({second_chunk}, times=2), MemoryDocumentStore()
    await _runtime(blobs, documents, ingest_batch_size=2)
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            await host.call_starter("blob_ingest", blob=_blob("file.ndjson", lines, '"v1"'))
            records = await host.wait_all()
    finally:
        uninstall_runtime()
    assert sorted(r.instance_id[-1] for r in records) == ["0", "1", "2"]  # the later chunks were ingested
    assert [r.runtime_status for r in records] == [RuntimeStatus.COMPLETED] * 3
    # chunk 0 finished before the host's retry started it again: the rerun found its events duplicates
    assert sum(r.output["stored"] + r.output["duplicates"] for r in records) == 6
    assert len(await documents.query_all(COSMOS_EVENTS)) == 6
    await _aggregates_match_documents(blobs, documents)


async def test_a_blob_that_fails_every_time_goes_to_the_poison_queue_after_five_attempts() -> None:
    only_chunk = blob_batch_id("local://incoming/bad.ndjson", '"v1"', 0)
    blobs = FailingClaimChecks({only_chunk}, times=-1)
    await _runtime(blobs, MemoryDocumentStore())
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            with pytest.raises(BlobPoisonedError, match="failed 5 times"):
                await host.call_starter("blob_ingest", blob=_blob("bad.ndjson", _events("p", 2), '"v1"'))
            assert host.poison_queue.messages == [  # type: ignore[attr-defined]
                {
                    "Type": "BlobTrigger",
                    "FunctionId": "Host.Functions.blob_ingest",
                    "BlobType": "BlockBlob",
                    "ContainerName": "incoming",
                    "BlobName": "bad.ndjson",
                    "ETag": '"v1"',
                }
            ]
    finally:
        uninstall_runtime()


# -- 3. an Event Hubs trigger that throws after the claim check --------------------------------------


def test_the_event_hubs_retry_policy_backs_off_exponentially() -> None:
    policy = index_app(app).get("eventhub_ingest").retry_policy
    assert [d.total_seconds() for d in retry_delays(policy)] == [2, 4, 8, 16, 32]


async def test_a_trigger_that_throws_after_the_claim_check_is_retried_then_reconciled_exactly_once() -> None:
    blobs, documents = MemoryBlobStore(), MemoryDocumentStore()
    runtime = await _runtime(blobs, documents, reconcile_grace_s=0)
    lines = [*_events("e", 4), b"not json"]
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            real_start = host.engine.start_new
            attempts = Counter[str]()

            async def unavailable(name: str, instance_id: str | None = None, *args: Any, **kwargs: Any) -> str:
                attempts[str(instance_id)] += 1
                raise RuntimeError("injected: task hub unavailable")

            host.engine.start_new = unavailable  # type: ignore[method-assign]
            with pytest.raises(TriggerFailedError, match="failed 6 times"):
                await host.call_starter("eventhub_ingest", events=_eventhub_batch(lines))
            host.engine.start_new = real_start  # type: ignore[method-assign]
            batch_id = eventhub_batch_id(LOCAL_STREAM, "0", 0, 4)
            assert attempts == {batch_id: 6}
            assert await host.engine.get_record(batch_id) is None  # stranded: claim check, no instance

            await host.call_starter("reconcile_batches", timer=TimerRequest(past_due=False))
            record = await host.wait_for(batch_id)
            await host.call_starter("reconcile_batches", timer=TimerRequest(past_due=False))  # nothing left
            assert host.stats.orchestrations == 1
    finally:
        uninstall_runtime()
    assert (record.runtime_status, record.output["stored"]) == (RuntimeStatus.COMPLETED, 4)
    assert [n.split("/")[0] for n in await runtime.blobs.list_names(CONTAINER_DEADLETTER)] == ["malformed_json"]
    await _aggregates_match_documents(blobs, documents)


# -- 4. a batch id reused with other content ----------------------------------------------------------


async def test_a_blob_overwritten_under_the_same_name_is_new_content_with_new_batches() -> None:
    blobs, documents = MemoryBlobStore(), MemoryDocumentStore()
    await _runtime(blobs, documents)
    first, second = _events("v", 3), [*_events("v", 2), *_events("w", 2)]
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            await host.call_starter("blob_ingest", blob=_blob("same.ndjson", first, '"1"'))
            await host.call_starter("blob_ingest", blob=_blob("same.ndjson", second, '"2"'))
            records = await host.wait_all()
    finally:
        uninstall_runtime()
    assert len({r.instance_id for r in records}) == 2
    assert sorted((r.output["stored"], r.output["duplicates"]) for r in records) == [(2, 2), (3, 0)]
    assert len(await documents.query_all(COSMOS_EVENTS)) == 5
    await _aggregates_match_documents(blobs, documents)


class BrokenWrites(MemoryDocumentStore):
    """Creates of the named documents raise a non-transient error while `broken` holds."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: set[str] = set()

    async def create(self, container, doc):  # type: ignore[no-untyped-def]
        if container == COSMOS_EVENTS and doc["id"] in self.broken:
            raise ValueError("injected: document rejected")
        return await super().create(container, doc)

    async def write_batch(self, container, partition_key, operations):  # type: ignore[no-untyped-def]
        if container == COSMOS_EVENTS and any(op.doc["id"] in self.broken for op in operations):
            raise ValueError("injected: a document of the batch rejected")
        return await super().write_batch(container, partition_key, operations)


async def test_a_batch_that_ended_through_fail_and_is_redelivered_counts_its_new_events() -> None:
    blobs, documents = MemoryBlobStore(), BrokenWrites()
    await _runtime(blobs, documents)
    lines = _events("r", 4)
    events = _eventhub_batch(lines, first=10)
    batch_id = eventhub_batch_id(LOCAL_STREAM, "0", 10, 13)
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            documents.broken = set(_document_ids(lines)[2:])
            await host.call_starter("eventhub_ingest", events=events)
            failed = await host.wait_for(batch_id)
            documents.broken = set()
            await host.call_starter("eventhub_ingest", events=events)  # the redelivery, after the fix
            redelivered = await host.wait_for(batch_id)
    finally:
        uninstall_runtime()
    assert (failed.output["stored"], failed.output["dead_letter_reasons"]) == (2, {"processing_failed": 2})
    assert (redelivered.output["stored"], redelivered.output["duplicates"]) == (2, 2)
    assert len(await documents.query_all(COSMOS_EVENTS)) == 4
    await _aggregates_match_documents(blobs, documents)


def _document_ids(lines: list[bytes]) -> list[str]:
    """The contract's identity (tenantid, source, id) as the store's document ids."""
    events = [json.loads(line) for line in lines]
    return [document_id(e["tenantid"], e["source"], e["id"]) for e in events]


# -- 6. fail keeps one record per event ------------------------------------------------------------


class FailingContributions(MemoryBlobStore):
    """The first `times` writes of a contribution (the aggregate activity's one write) fail transiently."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    async def put_new(self, container, name, content):  # type: ignore[no-untyped-def]
        if container == CONTAINER_CONTRIBUTIONS and self.times > 0:
            self.times -= 1
            raise TransientError("injected: contributions unavailable")
        return await super().put_new(container, name, content)


async def test_fail_after_curate_keeps_curates_dead_letters_and_writes_no_second_record() -> None:
    from orchestrations.orchestrator import ATTEMPTS

    blobs, documents = FailingContributions(times=ATTEMPTS), MemoryDocumentStore()
    await _runtime(blobs, documents)
    lines = [*_events("d", 3), f.raw(f.page("ghost", tenant="ghost-tenant"))]
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False) as host:
            await host.call_starter("eventhub_ingest", events=_eventhub_batch(lines))
            record = await host.wait_for(eventhub_batch_id(LOCAL_STREAM, "0", 0, 3))
    finally:
        uninstall_runtime()
    assert "error" in record.output  # it ended through fail
    assert (record.output["stored"], record.output["dead_letter_reasons"]) == (3, {"unknown_tenant": 1})
    assert [n.split("/")[0] for n in await blobs.list_names(CONTAINER_DEADLETTER)] == ["unknown_tenant"]
    await _aggregates_match_documents(blobs, documents)


# -- 7. aggregate writes on a fresh instance ------------------------------------------------------------


class CountingDocuments(MemoryDocumentStore):
    def __init__(self) -> None:
        super().__init__()
        self.requests = Counter[str]()

    async def read(self, container, doc_id, partition_key):  # type: ignore[no-untyped-def]
        self.requests["read"] += 1
        return await super().read(container, doc_id, partition_key)

    async def read_many(self, container, partition_key, doc_ids):  # type: ignore[no-untyped-def]
        self.requests["query"] += 1
        return await super().read_many(container, partition_key, doc_ids)

    async def write_batch(self, container, partition_key, operations):  # type: ignore[no-untyped-def]
        self.requests["batch"] += 1
        return await super().write_batch(container, partition_key, operations)


async def test_a_fold_reads_a_tenants_rows_with_one_query_not_a_read_per_row() -> None:
    documents = CountingDocuments()
    await documents.ensure_containers({COSMOS_AGGREGATES: "/tenant_id"})
    keys = [WindowKey("acme", "page.viewed", f"2026-11-01T10:{m:02d}:00Z", 1) for m in range(30)]
    stats = {key: WindowStats.of(Decimal(1)) for key in keys}
    await apply_contributions(documents, "first", stats)
    documents.requests.clear()

    changed = await apply_contributions(documents, "second", stats)  # a fold on a fresh instance

    assert changed == 30
    assert documents.requests == {"batch": 1, "query": 1}
    rows = await documents.query_all(COSMOS_AGGREGATES)
    assert {row["event_count"] for row in rows} == {2}


def test_growing_retry_delays_cover_minutes_of_outage() -> None:
    from orchestrations.orchestrator import ATTEMPTS, retry_delay

    delays = [retry_delay(n) for n in range(1, ATTEMPTS)]
    assert delays[0] == timedelta(seconds=2) and delays == sorted(delays)
    assert sum(delays, timedelta()) > timedelta(minutes=8)
