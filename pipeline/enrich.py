"""Enrichment: a validated event plus reference data becomes the curated document stored in Cosmos DB.

Pure: no I/O, no clock (the caller passes the timestamps).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from pipeline.reference import ReferenceData
from pipeline.windows import decimal_text, round_cents, window_start
from schemas import DeviceReading, OrderPlaced, PageViewed, Reason, ValidEvent
from schemas.registry import family_value

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EnrichmentFailure:
    reason: Reason
    message: str
    loc: str


def document_id(tenantid: str, source: str, event_id: str) -> str:
    """The Cosmos DB id of an event: a digest of its identity (tenantid, source, id).

    Cosmos ids may not contain '/', '\\', '?' or '#', which sources and ids may; the digest is also
    the partition key, so an identity lookup is always a point read.
    """
    material = "\x1f".join((tenantid, source, event_id)).encode()
    return hashlib.sha256(material).hexdigest()


def analytics_value(doc: Document) -> Decimal:
    """The value a family contributes to `value_sum/min/max`, exactly as given (the registry names it)."""
    return Decimal(str(family_value(doc)))


def enrich(
    event: ValidEvent,
    reference: ReferenceData,
    *,
    window_minutes: int,
    ingested_at: str,
    processed_at: str,
) -> Document | EnrichmentFailure:
    tenant = reference.tenants.get(event.tenantid)
    if tenant is None:
        return EnrichmentFailure(
            Reason.UNKNOWN_TENANT, f"tenant {event.tenantid!r} is not in the tenant reference data", "tenantid"
        )
    data = event.data.model_dump(mode="json")
    doc: Document = {
        "id": document_id(event.tenantid, event.source, event.id),
        "tenantid": event.tenantid,
        "source": event.source,
        "event_id": event.id,
        "type": event.type,
        "family": event.family,
        "specversion": event.specversion,
        "time": event.time,
        "subject": event.subject,
        "datacontenttype": event.datacontenttype,
        "dataschema": event.dataschema,
        "extensions": dict(event.extensions),
        "data": data,
        "tenant": {"name": tenant.name, "region": tenant.region, "tier": tenant.tier},
        "event_date": event.time[:10],
        "window_start": window_start(event.epoch_seconds, window_minutes),
        "window_minutes": window_minutes,
        "ingested_at": ingested_at,
        "processed_at": processed_at,
        "content_key": event.content_key(),
    }
    family_fields = _FAMILY_ENRICHERS[event.family](event, reference)
    if isinstance(family_fields, EnrichmentFailure):
        return family_fields
    doc.update(family_fields)
    return doc


def _order_fields(event: ValidEvent, reference: ReferenceData) -> Document | EnrichmentFailure:
    order = event.data
    assert isinstance(order, OrderPlaced)
    rate = reference.usd_per_unit.get(order.currency)
    if rate is None:
        return EnrichmentFailure(
            Reason.UNKNOWN_CURRENCY, f"no FX rate for currency {order.currency!r}", "data.currency"
        )
    return {
        "amount_usd": decimal_text(round_cents(order.total * rate)),
        "item_count": sum(item.quantity for item in order.items),
    }


def _page_fields(event: ValidEvent, reference: ReferenceData) -> Document:
    page = event.data
    assert isinstance(page, PageViewed)
    parts = urlsplit(page.url)
    return {
        "url_host": (parts.hostname or "").lower(),
        "url_path": parts.path or "/",
        "engaged": page.duration_ms >= 10_000,
    }


def _device_fields(event: ValidEvent, reference: ReferenceData) -> Document:
    reading = event.data
    assert isinstance(reading, DeviceReading)
    celsius = Decimal(str(reading.temperature_c))
    site = reference.device_sites.get((event.tenantid, reading.device_id), "unassigned")
    return {
        "temperature_f": decimal_text(round_cents(celsius * 9 / 5 + 32)),
        "site": site,
    }


_FAMILY_ENRICHERS = {
    "order.placed": _order_fields,
    "page.viewed": _page_fields,
    "device.reading": _device_fields,
}
