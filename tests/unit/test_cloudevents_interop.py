"""Events made with the official CloudEvents Python SDK are accepted by `POST /api/events` unchanged.

The requests are built with the SDK (`cloudevents` 2.x: its `cloudevents.core` API and the 1.x API
kept as `cloudevents.v1`), framed by the same `pipeline.framing` functions `http_ingest` uses, and
validated; a last group sends them through the real `http_ingest` on the local host stand-in, with
in-memory stores. Event Grid deliveries in the CloudEvents schema, and its webhook handshake, too.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import azure.durable_functions as df
import pytest
from cloudevents.core.bindings import http as core_http
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1 import conversion as v1_conversion
from cloudevents.v1.http import CloudEvent as V1CloudEvent

from orchestrations import eventgrid
from pipeline import framing
from pipeline.functions_host import LocalFunctionsHost
from pipeline.reference import ReferenceCache
from pipeline.runtime import Runtime, install_runtime, uninstall_runtime
from pipeline.settings import CONTAINER_REFERENCE, COSMOS_EVENTS, Settings
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore
from pipeline.webhook_handshake import EVENT_GRID_ORIGIN, answer_validation_request
from schemas import Rejection, ValidEvent, validate_event
from schemas.types.device_reading import DeviceReading
from schemas.types.order_placed import OrderPlaced
from schemas.types.page_viewed import PageViewed
from tests import factories as f

JSON = JSONFormat()
ORDER = {
    "order_id": "o-1",
    "customer_id": "c-1",
    "currency": "EUR",
    "items": [{"sku": "A-1", "quantity": 2, "unit_price": "12.50"}, {"sku": "B-2", "quantity": 1, "unit_price": 4.99}],
    "total": "29.99",
    "channel": "web",
}
PAGE = {"session_id": "s-1", "url": "https://shop.contoso.com/cart?x=1", "duration_ms": 12_000}
READING = {"device_id": "dev-001", "temperature_c": 21.5, "humidity_pct": 40}


def attributes(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": f"com.contoso.{type_}", "source": "/shop/web", "tenantid": "acme", **extra}


def now() -> datetime:
    return datetime.now(UTC)


def over_http(headers: Mapping[str, Any]) -> dict[str, str]:
    """Headers as they reach the function: names lower-case, values text."""
    return {name.lower(): str(value) for name, value in headers.items()}


def frame_like_http_ingest(headers: Mapping[str, str], body: bytes) -> list[bytes]:
    """The raw events `http_ingest` hands to validation for one request (orchestrations/triggers.py)."""
    if framing.is_binary_mode(headers):
        return [framing.binary_mode_event(headers, body)]
    media_type = framing.media_type(headers)
    if media_type == framing.CONTENT_TYPE_BATCH:
        elements = framing.split_json_array(body)
        return elements if elements is not None else [body]
    assert media_type in (framing.CONTENT_TYPE_STRUCTURED, "application/json"), media_type
    return [body]


def accepted(headers: Mapping[str, Any], body: bytes) -> list[ValidEvent]:
    events = []
    for raw in frame_like_http_ingest(over_http(headers), body):
        result = validate_event(raw, now=now())
        assert isinstance(result, ValidEvent), result
        events.append(result)
    return events


def v1_sdk(call: Any, *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 1.x API warns that it is deprecated
        return call(*args)


# -- structured mode ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "data", "stored"),
    [
        ("order.placed.v2", ORDER, OrderPlaced),
        ("order.placed.v1", {k: v for k, v in ORDER.items() if k != "channel"}, OrderPlaced),
        ("page.viewed.v1", PAGE, PageViewed),
        ("device.reading.v1", READING, DeviceReading),
    ],
)
def test_structured_events_from_the_sdk_are_accepted(type_: str, data: dict[str, Any], stored: type) -> None:
    event = CloudEvent(attributes(type_, subject="item/1", traceid="abc", seq=7, replayed=False), data)
    message = core_http.to_structured(event, JSON)
    assert message.headers["content-type"] == "application/cloudevents+json"
    [valid] = accepted(message.headers, message.body)
    assert (valid.id, valid.type, valid.source, valid.tenantid) == (
        event.get_id(),
        f"com.contoso.{type_}",
        "/shop/web",
        "acme",
    )
    assert valid.subject == "item/1" and isinstance(valid.data, stored)
    assert valid.extensions == {"replayed": False, "seq": 7, "traceid": "abc"}
    time = event.get_time()
    assert time is not None and valid.timestamp == time


def test_structured_events_from_the_1_x_api_are_accepted() -> None:
    event = V1CloudEvent(attributes("order.placed.v2", traceid="abc"), ORDER)
    headers, body = v1_sdk(v1_conversion.to_structured, event)
    [valid] = accepted(headers, body)
    assert valid.id == event["id"] and isinstance(valid.data, OrderPlaced)
    assert valid.data.total == Decimal("29.99") and valid.data.items[1].unit_price == Decimal("4.99")
    assert valid.extensions == {"traceid": "abc"}


def test_cloudevents_format_edge_cases_are_accepted_as_the_format_defines_them() -> None:
    base = attributes("page.viewed.v1")
    cases = {
        "nanoseconds and an offset": (
            {"time": "2026-11-01T10:15:30.123456789+05:45"},
            "2026-11-01T04:30:30.123456789Z",
        ),
        "a lower-case t and z": ({"time": "2026-11-01t10:15:30z"}, "2026-11-01T10:15:30Z"),
        "-00:00": ({"time": "2026-11-01T10:15:30-00:00"}, "2026-11-01T10:15:30Z"),
    }
    for name, (extra, expected_time) in cases.items():
        headers, body = v1_sdk(v1_conversion.to_structured, V1CloudEvent({**base, **extra}, PAGE))
        result = validate_event(
            frame_like_http_ingest(over_http(headers), body)[0], now=datetime(2026, 11, 2, tzinfo=UTC)
        )
        assert isinstance(result, ValidEvent) and result.time == expected_time, name
    for source in ("#fragment", "mySource", "//host/path", "urn:contoso:shop", "/a/b?c=d"):
        [valid] = accepted(
            *core_http.to_structured(CloudEvent({**base, "source": source}, PAGE), JSON).__dict__.values()
        )
        assert valid.source == source


def test_null_optional_attributes_are_absent() -> None:
    event = V1CloudEvent({**attributes("page.viewed.v1"), "subject": None, "traceid": None}, PAGE)
    headers, body = v1_sdk(v1_conversion.to_structured, event)
    assert b'"traceid": null' in body  # the SDK drops a null subject but writes a null extension
    with_nulls = json.loads(body) | {"subject": None, "dataschema": None, "datacontenttype": None}
    for raw in (body, json.dumps(with_nulls).encode()):
        [valid] = accepted(headers, raw)
        assert valid.subject is None and valid.dataschema is None and valid.extensions == {}
    plain = core_http.to_structured(
        CloudEvent(
            {**attributes("page.viewed.v1"), "id": event["id"], "time": datetime.fromisoformat(event["time"])}, PAGE
        ),
        JSON,
    )
    assert accepted(plain.headers, plain.body)[0].content_key() == valid.content_key()


def test_bytes_data_is_sent_as_data_base64_which_the_contract_refuses() -> None:
    message = core_http.to_structured(CloudEvent(attributes("page.viewed.v1"), json.dumps(PAGE).encode()), JSON)
    assert b'"data_base64"' in message.body
    result = validate_event(message.body, now=now())
    assert isinstance(result, Rejection) and result.reason.value == "missing_field"


# -- binary mode ---------------------------------------------------------------------------------------


def test_binary_events_from_the_sdk_are_accepted() -> None:
    event = CloudEvent(
        attributes(
            "order.placed.v2",
            subject='Bestellung für 100% "Café"',  # percent-encoded in the header
            datacontenttype="application/json; charset=utf-8",
            traceid="abc",
        ),
        ORDER,
    )
    message = core_http.to_binary(event, JSON)
    assert message.headers["content-type"] == "application/json; charset=utf-8"
    assert "%C3%BC" in message.headers["ce-subject"]
    [valid] = accepted(message.headers, message.body)
    assert valid.subject == 'Bestellung für 100% "Café"'
    assert valid.datacontenttype == "application/json; charset=utf-8"
    assert valid.id == event.get_id() and isinstance(valid.data, OrderPlaced)
    assert valid.extensions == {"traceid": "abc"}


def test_binary_events_from_the_1_x_api_are_accepted() -> None:
    event = V1CloudEvent(attributes("device.reading.v1", traceid="abc"), READING)
    headers, body = v1_sdk(v1_conversion.to_binary, event)
    [valid] = accepted(headers, body)
    assert valid.id == event["id"] and isinstance(valid.data, DeviceReading)
    assert valid.data.temperature_c == Decimal("21.5")


def test_one_event_sent_in_either_mode_is_the_same_content_when_its_extensions_are_text() -> None:
    event = CloudEvent(attributes("page.viewed.v1", traceid="abc", datacontenttype="application/json"), PAGE)
    structured = core_http.to_structured(event, JSON)
    binary = core_http.to_binary(event, JSON)
    [a] = accepted(structured.headers, structured.body)
    [b] = accepted(binary.headers, binary.body)
    assert a.content_key() == b.content_key()


def test_in_binary_mode_integer_and_boolean_extensions_arrive_as_text() -> None:
    # Headers carry text only: the same event is other content than in structured mode (docs/schemas.md).
    event = CloudEvent(attributes("page.viewed.v1", seq=7, replayed=True), PAGE)
    [structured] = accepted(*core_http.to_structured(event, JSON).__dict__.values())
    [binary] = accepted(*core_http.to_binary(event, JSON).__dict__.values())
    assert structured.extensions == {"replayed": True, "seq": 7}
    assert binary.extensions == {"replayed": "True", "seq": "7"}
    assert structured.content_key() != binary.content_key()


# -- batch mode ------------------------------------------------------------------------------------------


def sdk_batch(*events: CloudEvent) -> bytes:
    """A JSON array of structured events, as `application/cloudevents-batch+json` defines it."""
    return b"[" + b",".join(core_http.to_structured(e, JSON).body for e in events) + b"]"


def test_a_batch_of_structured_sdk_events_is_accepted_element_by_element() -> None:
    events = [
        CloudEvent(attributes("order.placed.v2"), ORDER),
        CloudEvent(attributes("page.viewed.v1", seq=1), PAGE),
        CloudEvent(attributes("device.reading.v1"), READING),
    ]
    valid = accepted({"Content-Type": framing.CONTENT_TYPE_BATCH}, sdk_batch(*events))
    assert [v.id for v in valid] == [e.get_id() for e in events]
    assert [v.family for v in valid] == ["order.placed", "page.viewed", "device.reading"]


def test_a_bad_event_in_a_batch_is_rejected_alone() -> None:
    good = CloudEvent(attributes("page.viewed.v1"), PAGE)
    bad = CloudEvent(attributes("page.viewed.v1"), {**PAGE, "duration_ms": -1})
    raws = frame_like_http_ingest({"content-type": framing.CONTENT_TYPE_BATCH}, sdk_batch(good, bad))
    results = [validate_event(raw, now=now()) for raw in raws]
    assert isinstance(results[0], ValidEvent)
    assert isinstance(results[1], Rejection) and results[1].reason.value == "invalid_field"


# -- Event Grid ---------------------------------------------------------------------------------------------

EVENT_GRID_HEADERS = {
    "aeg-event-type": "Notification",
    "aeg-subscription-name": "EVENTS-TO-PIPELINE",
    "aeg-delivery-count": "0",
    "aeg-metadata-version": "1",
    "aeg-data-version": "",
    "origin": EVENT_GRID_ORIGIN,
}


def test_an_event_grid_delivery_in_the_cloudevents_schema_is_accepted() -> None:
    # Event Grid passes a CloudEvent published to a topic through unchanged, with its own headers.
    event = CloudEvent(attributes("page.viewed.v1", traceid="abc"), PAGE)
    body = core_http.to_structured(event, JSON).body
    single = {**EVENT_GRID_HEADERS, "content-type": "application/cloudevents+json; charset=utf-8"}
    [valid] = accepted(single, body)
    assert valid.id == event.get_id()
    batched = {**EVENT_GRID_HEADERS, "content-type": "application/cloudevents-batch+json; charset=utf-8"}
    assert len(accepted(batched, b"[" + body + b"," + sdk_batch(event)[1:-1] + b"]")) == 2


def test_the_webhook_handshake_grants_event_grid() -> None:
    answer = answer_validation_request({"WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "120"})
    assert answer.status == 200
    assert answer.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert answer.headers["WebHook-Allowed-Rate"] == "*"
    assert answer_validation_request({"webhook-request-origin": "EventGrid.Azure.NET"}).status == 200


def test_the_webhook_handshake_refuses_other_origins_and_other_requests() -> None:
    refused = answer_validation_request({"WebHook-Request-Origin": "evil.example.com"})
    assert refused.status == 403 and "WebHook-Allowed-Origin" not in refused.headers
    assert answer_validation_request({}).status == 400
    assert answer_validation_request({"WebHook-Request-Origin": "a.example"}, allowed_origins=("*",)).status == 200


async def test_the_handshake_function_answers_options_on_the_events_route() -> None:
    app = df.DFApp()
    app.register_functions(eventgrid.bp)
    async with LocalFunctionsHost(app, timer_scale=0) as host:
        response = await host.call_http(
            "events_webhook_handshake", "OPTIONS", "events", headers={"WebHook-Request-Origin": EVENT_GRID_ORIGIN}
        )
        assert response.status_code == 200
        assert response.headers["WebHook-Allowed-Origin"] == EVENT_GRID_ORIGIN
        refused = await host.call_http("events_webhook_handshake", "OPTIONS", "events", headers={})
        assert refused.status_code == 400 and refused.mimetype == "application/problem+json"


# -- through the real http_ingest -------------------------------------------------------------------------


@pytest.fixture
async def host() -> Any:
    from function_app import app

    settings = Settings.local_emulators()
    blobs = MemoryBlobStore()
    for name, content in zip(("tenants.json", "fx_rates.json", "devices.json"), f.reference_files(), strict=True):
        await blobs.put(CONTAINER_REFERENCE, name, content)
    runtime = Runtime(settings, blobs, MemoryDocumentStore(), ReferenceCache())
    await runtime.ensure_stores()
    install_runtime(runtime)
    try:
        async with LocalFunctionsHost(app, timer_scale=0) as local_host:
            local_host.runtime = runtime  # type: ignore[attr-defined]
            yield local_host
    finally:
        uninstall_runtime()


async def post(host: Any, headers: Mapping[str, Any], body: bytes) -> dict[str, Any]:
    response = await host.call_http("http_ingest", "POST", "events", body=body, headers=over_http(headers))
    payload = json.loads(response.get_body())
    assert response.status_code == 202, payload
    record = await host.wait_for(payload["batch_id"])
    assert record.output["stored"] == payload["accepted"], record.output
    return payload


async def test_sdk_requests_in_every_mode_are_stored_by_the_http_trigger(host: Any) -> None:
    recent = (now() - timedelta(minutes=1)).replace(microsecond=0)
    structured = CloudEvent(attributes("order.placed.v2", time=recent), ORDER)
    binary = CloudEvent(attributes("page.viewed.v1", time=recent, datacontenttype="application/json"), PAGE)
    batch = [
        CloudEvent(attributes("device.reading.v1", time=recent), READING),
        CloudEvent(attributes("page.viewed.v1"), PAGE),
    ]
    message = core_http.to_structured(structured, JSON)
    assert (await post(host, message.headers, message.body))["accepted"] == 1
    message = core_http.to_binary(binary, JSON)
    assert (await post(host, message.headers, message.body))["accepted"] == 1
    assert (await post(host, {"content-type": framing.CONTENT_TYPE_BATCH}, sdk_batch(*batch)))["accepted"] == 2
    headers, body = v1_sdk(v1_conversion.to_structured, V1CloudEvent(attributes("page.viewed.v1"), PAGE))
    assert (await post(host, headers, body))["accepted"] == 1
    stored = await host.runtime.documents.query_all(COSMOS_EVENTS)
    ids = {doc["event_id"] for doc in stored}
    assert {structured.get_id(), binary.get_id(), *(e.get_id() for e in batch)} <= ids and len(stored) == 5
    order = next(doc for doc in stored if doc["event_id"] == structured.get_id())
    assert (order["amount_usd"], order["item_count"]) == ("32.54", 3)  # 29.99 EUR x 1.0850, half-even


# -- framing: what the CloudEvents HTTP binding says about modes ------------------------------------------


def test_a_cloudevents_content_type_means_structured_mode_even_with_ce_headers() -> None:
    # HTTP binding 3.1: a Content-Type of application/cloudevents(+format) means structured mode.
    message = core_http.to_structured(CloudEvent(attributes("page.viewed.v1"), PAGE), JSON)
    headers = {**message.headers, "ce-specversion": "1.0"}
    assert not framing.is_binary_mode(headers)
