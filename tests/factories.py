"""Small builders of CloudEvents for tests: valid by default, every field overridable."""

from __future__ import annotations

import json
from typing import Any

TIME = "2026-11-01T10:15:30Z"


def order(
    id: str = "o-1",
    tenant: str = "acme",
    *,
    time: str = TIME,
    currency: str = "EUR",
    items: list[dict[str, Any]] | None = None,
    total: Any = "25.00",
    version: int = 1,
    **data: Any,
) -> dict[str, Any]:
    items = items if items is not None else [{"sku": "A", "quantity": 2, "unit_price": "12.50"}]
    body = {"order_id": id, "customer_id": "c-1", "currency": currency, "items": items, "total": total, **data}
    if version == 2:
        body.setdefault("channel", "web")
    return envelope(f"com.contoso.order.placed.v{version}", id, tenant, time, body)


def page(
    id: str = "p-1",
    tenant: str = "acme",
    *,
    time: str = TIME,
    duration_ms: int = 12_000,
    url: str = "https://Shop.Example.com/cart?x=1",
    **data: Any,
) -> dict[str, Any]:
    body = {"session_id": "s-1", "url": url, "duration_ms": duration_ms, **data}
    return envelope("com.contoso.page.viewed.v1", id, tenant, time, body)


def reading(
    id: str = "r-1",
    tenant: str = "acme",
    *,
    time: str = TIME,
    temperature_c: Any = 21.5,
    device_id: str = "dev-001",
    **data: Any,
) -> dict[str, Any]:
    body = {"device_id": device_id, "temperature_c": temperature_c, **data}
    return envelope("com.contoso.device.reading.v1", id, tenant, time, body)


def envelope(type_: str, id: str, tenant: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id,
        "source": "/tests",
        "type": type_,
        "time": time,
        "tenantid": tenant,
        "datacontenttype": "application/json",
        "data": data,
    }


def raw(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


REFERENCE_TENANTS = {
    "tenants": [
        {"id": "acme", "name": "Acme Corp", "region": "westeurope", "tier": "gold"},
        {"id": "globex", "name": "Globex", "region": "eastus", "tier": "silver"},
    ]
}
REFERENCE_RATES = {"base": "USD", "rates": {"USD": "1", "EUR": "1.0850", "JPY": "0.0067"}}
REFERENCE_DEVICES = {"devices": [{"id": "dev-001", "tenant_id": "acme", "site": "plant-7"}]}


def reference_files() -> tuple[bytes, bytes, bytes]:
    return (
        json.dumps(REFERENCE_TENANTS).encode(),
        json.dumps(REFERENCE_RATES).encode(),
        json.dumps(REFERENCE_DEVICES).encode(),
    )
