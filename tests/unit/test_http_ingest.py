"""POST /api/events through the real function, on the local host stand-in with in-memory stores."""

from __future__ import annotations

import dataclasses
import json

import pytest

from function_app import app
from pipeline.functions_host import LocalFunctionsHost
from pipeline.reference import ReferenceCache
from pipeline.runtime import Runtime, install_runtime, uninstall_runtime
from pipeline.settings import CONTAINER_DEADLETTER, CONTAINER_REFERENCE, Settings
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore
from tests import factories as f

STRUCTURED = {"content-type": "application/cloudevents+json"}
BATCH = {"content-type": "application/cloudevents-batch+json"}


@pytest.fixture
async def host():
    settings = dataclasses.replace(Settings.local_emulators(), http_max_body_bytes=4096, http_max_batch_events=3)
    blobs = MemoryBlobStore()
    for name, content in zip(("tenants.json", "fx_rates.json", "devices.json"), f.reference_files(), strict=True):
        await blobs.put(CONTAINER_REFERENCE, name, content)
    runtime = Runtime(settings, blobs, MemoryDocumentStore(), ReferenceCache())
    await runtime.ensure_stores()
    install_runtime(runtime)
    async with LocalFunctionsHost(app, timer_scale=0) as local_host:
        local_host.runtime = runtime
        yield local_host
    uninstall_runtime()


async def post(host, body: bytes, headers: dict[str, str]):
    response = await host.call_http("http_ingest", "POST", "events", body=body, headers=headers)
    return response.status_code, response.mimetype, json.loads(response.get_body())


async def test_an_accepted_batch_answers_202_with_status_urls_and_names_its_rejected_events(host):
    body = b"[" + b",".join([f.raw(f.order("1")), b'{"specversion": "1.0"}', f.raw(f.page("2"))]) + b"]"
    status, _, payload = await post(host, body, BATCH)
    assert status == 202
    assert (payload["received"], payload["accepted"]) == (3, 2)
    assert payload["rejected"] == [{"index": 1, "reason": "missing_field", "errors": payload["rejected"][0]["errors"]}]
    assert payload["status"]["statusQueryGetUri"].startswith("http://127.0.0.1")
    record = await host.wait_for(payload["batch_id"])
    assert record.output["stored"] == 2
    assert len(await host.runtime.blobs.list_names(CONTAINER_DEADLETTER)) == 1


async def test_nothing_accepted_is_a_400_problem_listing_each_event(host):
    status, mimetype, payload = await post(host, b"[1, {}]", BATCH)
    assert (status, mimetype) == (400, "application/problem+json")
    assert [r["reason"] for r in payload["rejected"]] == ["not_an_object", "missing_field"]
    assert payload["status"] == 400 and "2 event(s) rejected" in payload["detail"]


async def test_binary_mode_carries_the_attributes_in_headers(host):
    event = f.reading("r1")
    headers = {f"ce-{k}": v for k, v in event.items() if k not in ("data", "datacontenttype")}
    headers["content-type"] = "application/json"
    status, _, payload = await post(host, json.dumps(event["data"]).encode(), headers)
    assert (status, payload["accepted"]) == (202, 1)


async def test_limits_answer_413_and_unknown_media_types_415_without_accepting_anything(host):
    too_big = b"[" + b",".join([f.raw(f.page(str(i), url="https://x.example/" + "a" * 1500)) for i in range(3)]) + b"]"
    assert (await post(host, too_big, BATCH))[0] == 413
    too_many = b"[" + b",".join(f.raw(f.page(str(i))) for i in range(4)) + b"]"
    status, mimetype, payload = await post(host, too_many, BATCH)
    assert (status, mimetype) == (413, "application/problem+json") and "limit is 3" in payload["detail"]
    assert (await post(host, f.raw(f.page()), {"content-type": "text/plain"}))[0] == 415
    assert await host.runtime.blobs.list_names("batches") == []
