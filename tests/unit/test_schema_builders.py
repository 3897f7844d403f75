"""Builders of raw events for the schema and validation tests, with a check that each is valid."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from schemas import Rejection, ValidEvent, validate_event

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TIME = "2026-11-01T10:15:30Z"

ORDER_V1 = "com.contoso.order.placed.v1"
ORDER_V2 = "com.contoso.order.placed.v2"
PAGE = "com.contoso.page.viewed.v1"
READING = "com.contoso.device.reading.v1"


def envelope(type_: str, data: Any, **attrs: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "/shop/web",
        "type": type_,
        "time": TIME,
        "tenantid": "acme",
        "data": data,
    }
    event.update(attrs)
    return event


def order_v2(**data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "currency": "EUR",
        "channel": "web",
        "items": [
            {"sku": "A-1", "quantity": 2, "unit_price": "12.50"},
            {"sku": "B-2", "quantity": 1, "unit_price": 5},
        ],
        "discount": "0.50",
        "total": "29.50",
    }
    body.update(data)
    return envelope(ORDER_V2, body)


def order_v1(**data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "currency": "USD",
        "items": [{"sku": "A-1", "quantity": 3, "unit_price": 1.25}],
        "total": 3.75,
    }
    body.update(data)
    return envelope(ORDER_V1, body)


def page(**data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "session_id": "s-1",
        "url": "https://shop.contoso.com/cart?x=1",
        "duration_ms": 12000,
        "referrer": "https://www.bing.com/search?q=contoso",
        "user_agent": "Mozilla/5.0",
    }
    body.update(data)
    return envelope(PAGE, body)


def reading(**data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "device_id": "dev-001",
        "temperature_c": 21.5,
        "humidity_pct": 40,
        "battery_pct": 87,
    }
    body.update(data)
    return envelope(READING, body)


BUILDERS = {"order_v1": order_v1, "order_v2": order_v2, "page": page, "reading": reading}


def dumps(value: Any, *, spaced: bool = False) -> str:
    """JSON text with each ``Decimal`` written as a number with exactly its literal."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        inner = comma.join(json.dumps(k) + colon + dumps(v, spaced=spaced) for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + comma.join(dumps(v, spaced=spaced) for v in value) + "]"
    return json.dumps(value)


def raw(event: Any, **kwargs: Any) -> bytes:
    return dumps(event, **kwargs).encode()


def check(event: Any, now: datetime = NOW) -> ValidEvent | Rejection:
    if isinstance(event, bytes | str):
        return validate_event(event, now=now)
    return validate_event(raw(event), now=now)


def reason_of(event: Any, now: datetime = NOW) -> str:
    """The reason code, or ``"valid"``."""
    result = check(event, now)
    return result.reason.value if isinstance(result, Rejection) else "valid"


def locs(event: Any) -> list[str]:
    result = check(event)
    assert isinstance(result, Rejection), result
    return [e["loc"] for e in result.errors]


def without(event: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of ``event`` with the member at a dotted path removed."""
    copied = copy.deepcopy(event)
    *parents, last = path.split(".")
    target: Any = copied
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[int(last) if isinstance(target, list) else last]
    return copied


def with_(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``event`` with the member at a dotted path set to ``value``."""
    copied = copy.deepcopy(event)
    *parents, last = path.split(".")
    target: Any = copied
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return copied


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_makes_a_valid_event(name: str) -> None:
    assert isinstance(check(BUILDERS[name]()), ValidEvent)
