"""`GET /api/health`: every store probed with its latency; 200 when all answer, 503 otherwise."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable

import azure.functions as func
import pytest

from orchestrations import health as health_blueprint
from pipeline.errors import StoreUnavailableError
from pipeline.observability import check_health
from pipeline.reference import ReferenceCache
from pipeline.runtime import COSMOS_CONTAINERS, Runtime, install_runtime, uninstall_runtime
from pipeline.settings import BLOB_CONTAINERS, Settings
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore


async def cosmos() -> MemoryDocumentStore:
    store = MemoryDocumentStore()
    await store.ensure_containers(COSMOS_CONTAINERS)
    return store


class UnreachableBlobs(MemoryBlobStore):
    """A Blob store whose service cannot be reached (DNS, firewall, identity)."""

    async def list_names(self, container: str, prefix: str = "") -> list[str]:
        raise StoreUnavailableError("Blob storage at https://st.blob.core.windows.net is unreachable: timeout")


class HangingCosmos(MemoryDocumentStore):
    async def read(self, container: str, doc_id: str, partition_key: str) -> None:
        await asyncio.sleep(60)


async def test_reachable_stores_are_healthy_with_one_check_per_container() -> None:
    report = await check_health(MemoryBlobStore(), await cosmos())
    assert report.healthy and report.status_code == 200
    body = report.to_json()
    assert body["status"] == "healthy"
    assert [(c["store"], c["container"]) for c in body["checks"]] == [
        *(("blob", name) for name in BLOB_CONTAINERS),
        ("cosmos", "events"),
        ("cosmos", "aggregates"),
    ]
    assert all(c["ok"] and c["latency_ms"] >= 0 and "error" not in c for c in body["checks"])


async def test_an_unreachable_store_makes_the_report_unhealthy_and_names_the_error() -> None:
    report = await check_health(UnreachableBlobs(), await cosmos())
    assert report.status_code == 503 and report.to_json()["status"] == "unhealthy"
    failed = [c for c in report.checks if not c.ok]
    assert {c.container for c in failed} == set(BLOB_CONTAINERS)
    assert failed[0].error.startswith("StoreUnavailableError: Blob storage at")
    assert all(c.ok for c in report.checks if c.store == "cosmos")


async def test_a_store_that_does_not_answer_in_time_is_down_without_holding_the_others() -> None:
    report = await check_health(MemoryBlobStore(), HangingCosmos(), timeout_s=0.05)
    assert report.status_code == 503
    down = [c for c in report.checks if not c.ok]
    assert [c.container for c in down] == ["events", "aggregates"]
    assert down[0].error == "no answer within 0.05 s"
    assert report.elapsed_ms < 1000


async def test_a_missing_cosmos_container_is_reported_by_the_in_memory_store() -> None:
    report = await check_health(MemoryBlobStore(), MemoryDocumentStore())  # no containers created
    assert not report.healthy
    assert all(c.error.startswith("KeyError") for c in report.checks if c.store == "cosmos")


def _function(app_blueprint: func.Blueprint) -> func.decorators.core.Function:  # type: ignore[name-defined]
    app = func.FunctionApp()
    app.register_functions(app_blueprint)
    (function,) = app.get_functions()
    return function


def _bindings(function) -> Iterable[dict]:  # type: ignore[no-untyped-def]
    return json.loads(function.get_function_json())["bindings"]


def test_the_route_is_get_api_health_with_function_level_auth() -> None:
    function = _function(health_blueprint.bp)
    trigger = next(b for b in _bindings(function) if b["type"] == "httpTrigger")
    assert function.get_function_name() == "health"
    assert (trigger["route"], trigger["methods"], trigger["authLevel"]) == ("health", ["GET"], "FUNCTION")


@pytest.mark.parametrize("blobs, status", [(MemoryBlobStore, 200), (UnreachableBlobs, 503)])
async def test_the_http_function_answers_with_the_report_of_the_current_runtime(blobs, status) -> None:  # type: ignore[no-untyped-def]
    install_runtime(Runtime(Settings.local_emulators(), blobs(), await cosmos(), ReferenceCache()))
    try:
        handler = _function(health_blueprint.bp).get_user_function()
        response = await handler(func.HttpRequest("GET", "/api/health", body=b""))
    finally:
        uninstall_runtime()
    assert response.status_code == status
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.get_body())["status"] == ("healthy" if status == 200 else "unhealthy")
