"""Property tests: random mixes of valid, invalid, duplicated and conflicting events, with random store
failures, through the real function app on in-memory stores. Conservation and exact aggregates hold."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import azure.functions as func
from azure.functions.timer import TimerRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from function_app import app
from pipeline.errors import TransientError
from pipeline.functions_host import LocalFunctionsHost
from pipeline.ingest import RawEvent, eventhub_batch_id, eventhub_stream, ingest_batch
from pipeline.reference import ReferenceCache
from pipeline.runtime import Runtime, install_runtime, uninstall_runtime
from pipeline.settings import CONTAINER_REFERENCE, Settings
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore
from tests import factories as f

NOW = datetime.now(UTC)


class FlakyDocuments(MemoryDocumentStore):
    """Fails a share of requests with a transient error, before or after doing the work, up to a
    budget of failures smaller than the orchestration's retry attempts (so every batch completes)."""

    def __init__(self, rng: random.Random, rate: float, budget: int = 4) -> None:
        super().__init__()
        self._rng, self._rate, self.budget = rng, rate, budget
        self.injected = 0

    async def _maybe_fail(self) -> None:
        if self.injected < self.budget and self._rng.random() < self._rate:
            self.injected += 1
            raise TransientError("injected: store briefly unavailable")

    async def create(self, container, doc):
        await self._maybe_fail()
        created = await super().create(container, doc)
        await self._maybe_fail()  # the write landed but the answer was lost
        return created

    async def read(self, container, doc_id, partition_key):
        await self._maybe_fail()
        return await super().read(container, doc_id, partition_key)

    async def read_many(self, container, partition_key, doc_ids):
        await self._maybe_fail()
        return await super().read_many(container, partition_key, doc_ids)

    async def replace(self, container, doc, *, etag):
        await self._maybe_fail()
        return await super().replace(container, doc, etag=etag)

    async def write_batch(self, container, partition_key, operations):
        await self._maybe_fail()
        results = await super().write_batch(container, partition_key, operations)
        await self._maybe_fail()  # the batch landed but the answer was lost
        return results


def variants(index: int) -> list[dict]:
    minute = f"2026-11-01T10:{index % 7:02d}:{index % 60:02d}Z"
    return [
        f.order(
            f"o{index}",
            time=minute,
            total=f"{index % 5 * 2}.00",
            items=[{"sku": "A", "quantity": 2, "unit_price": f"{index % 5}.00"}],
        ),
        f.page(f"p{index}", time=minute, duration_ms=index * 37),
        f.reading(f"r{index}", time=minute, temperature_c=index / 8),
        f.order(f"x{index}", time=minute, currency="CHF"),
    ]


event_choice = st.tuples(st.integers(0, 40), st.integers(0, 3), st.sampled_from(["same", "changed", "bad", "tenant"]))


def build_input(choices: list[tuple[int, int, str]]) -> list[bytes]:
    lines = []
    for index, kind, twist in choices:
        event = variants(index)[kind]
        if twist == "changed":
            event = {**event, "subject": "changed"}
        elif twist == "bad":
            event = {**event, "specversion": "0.3"}
        elif twist == "tenant":
            event = {**event, "tenantid": "ghost-tenant"}
        lines.append(f.raw(event))
    return lines


def oracle(lines: list[bytes]):
    import tempfile
    from pathlib import Path

    from tests.oracle import expected

    with tempfile.TemporaryDirectory() as directory:
        for name, content in zip(("tenants.json", "fx_rates.json", "devices.json"), f.reference_files(), strict=True):
            (Path(directory) / name).write_bytes(content)
        exp = expected(lines, Path(directory), 1, NOW)
    return exp


async def fold_until_done(host) -> None:
    """Run the fold timer as its next ticks would: a tick the flaky store breaks is finished by the next."""
    for _ in range(FlakyDocuments(random.Random(0), 0).budget + 1):
        try:
            await host.call_starter("fold_aggregates", timer=TimerRequest(past_due=False))
            return
        except TransientError:
            continue
    raise AssertionError("the fold did not finish within the injected failure budget")


async def run_through_app(lines: list[bytes], seed: int, failure_rate: float, batch_size: int):
    rng = random.Random(seed)
    blobs = MemoryBlobStore()
    for name, content in zip(("tenants.json", "fx_rates.json", "devices.json"), f.reference_files(), strict=True):
        await blobs.put(CONTAINER_REFERENCE, name, content)
    documents = FlakyDocuments(rng, failure_rate)
    runtime = Runtime(Settings.local_emulators(), blobs, documents, ReferenceCache())
    await runtime.ensure_stores()
    install_runtime(runtime)
    totals = Counter()
    try:
        async with LocalFunctionsHost(app, timer_scale=0, verify=False, max_concurrent_orchestrations=1) as host:
            for start in range(0, len(lines), batch_size):
                chunk = lines[start : start + batch_size]
                events = [func.EventHubEvent(body=b, sequence_number=start + i) for i, b in enumerate(chunk)]
                await host.call_starter("eventhub_ingest", events=events)
                batch_id = eventhub_batch_id(eventhub_stream("", "", ""), "0", start, start + len(chunk) - 1)
                manifest = json.loads(await blobs.get("batches", f"{batch_id}/ingest.json"))
                totals.update(manifest["dead_letter_reasons"])
                totals["received"] += manifest["received"]
                if manifest["valid"]:
                    record = await host.wait_for(batch_id)
                    totals["stored"] += record.output["stored"]
                    totals["duplicates"] += record.output["duplicates"]
                    totals.update(record.output["dead_letter_reasons"])
            await fold_until_done(host)
        rows = {
            (r["tenant_id"], r["event_type"], r["window_start"]): (r["event_count"], r["value_sum"])
            for r in await documents.query_all("aggregates")
        }
        stored_docs = len(await documents.query_all("events"))
    finally:
        uninstall_runtime()
    return totals, rows, stored_docs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    choices=st.lists(event_choice, min_size=1, max_size=60),
    seed=st.integers(0, 10_000),
    failure_rate=st.sampled_from([0.0, 0.02, 0.1]),
    batch_size=st.integers(1, 25),
)
def test_conservation_and_exact_aggregates_hold_under_random_input_and_store_failures(
    choices, seed, failure_rate, batch_size
):
    lines = build_input(choices)
    exp = oracle(lines)
    totals, rows, stored_docs = asyncio.run(run_through_app(lines, seed, failure_rate, batch_size))
    dead = sum(v for k, v in totals.items() if k not in ("received", "stored", "duplicates"))
    assert totals["received"] == len(lines) == totals["stored"] + totals["duplicates"] + dead
    assert stored_docs == exp.stored
    assert totals["stored"] == exp.stored and totals["duplicates"] == exp.duplicates
    assert {k: v for k, v in totals.items() if k not in ("received", "stored", "duplicates")} == exp.reasons
    expected_rows = {k: (v[0], Decimal(v[1])) for k, v in exp.rows.items()}
    assert {k: (count, Decimal(total)) for k, (count, total) in rows.items()} == expected_rows


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=20))
def test_ingest_accounts_for_arbitrary_bytes_and_never_raises(bodies):
    blobs = MemoryBlobStore()
    raws = [RawEvent(b, f"fuzz#{i}") for i, b in enumerate(bodies)]
    outcome = asyncio.run(ingest_batch(raws, source_kind="http", batch_id="fuzz", blobs=blobs, now=NOW))
    assert outcome.received == len(bodies) == outcome.valid + outcome.dead_lettered
    dead_letters = asyncio.run(blobs.list_names("deadletter"))
    assert len(dead_letters) == outcome.dead_lettered
