from datetime import UTC, datetime
from decimal import Decimal

from pipeline.enrich import EnrichmentFailure, analytics_value, document_id, enrich
from pipeline.reference import ReferenceData
from schemas import Reason, ValidEvent, validate_event
from tests import factories as f

NOW = datetime(2026, 11, 3, tzinfo=UTC)
REFERENCE = ReferenceData.parse(*f.reference_files())


def valid(event: dict) -> ValidEvent:
    result = validate_event(f.raw(event), now=NOW)
    assert isinstance(result, ValidEvent), result
    return result


def curate(event: dict, window_minutes: int = 1) -> dict | EnrichmentFailure:
    return enrich(
        valid(event),
        REFERENCE,
        window_minutes=window_minutes,
        ingested_at="2026-11-02T00:00:00.000Z",
        processed_at="2026-11-02T00:00:01.000Z",
    )


def test_order_amount_is_total_times_rate_rounded_half_even():
    # 25.00 EUR x 1.0850 = 27.125 -> 27.12 (half-even), never 27.13
    doc = curate(f.order(total="25.00"))
    assert doc["amount_usd"] == "27.12"
    assert doc["item_count"] == 2
    assert doc["tenant"] == {"name": "Acme Corp", "region": "westeurope", "tier": "gold"}


def test_v1_order_is_stored_in_the_v2_shape():
    doc = curate(f.order(version=1))
    assert doc["data"]["channel"] == "unknown"
    assert Decimal(doc["data"]["discount"]) == 0


def test_time_offsets_normalise_to_utc_date_and_window():
    doc = curate(f.order(time="2026-11-01T23:59:59.999999999-01:00"), window_minutes=15)
    assert doc["time"].startswith("2026-11-02T00:59:59.999999999")
    assert doc["event_date"] == "2026-11-02"
    assert doc["window_start"] == "2026-11-02T00:45:00Z"


def test_page_view_host_path_and_engagement():
    doc = curate(f.page(url="https://Shop.Example.COM:8443/a/b?q=1", duration_ms=10_000))
    assert (doc["url_host"], doc["url_path"], doc["engaged"]) == ("shop.example.com", "/a/b", True)
    assert curate(f.page(duration_ms=9_999))["engaged"] is False


def test_device_reading_fahrenheit_and_site():
    doc = curate(f.reading(temperature_c=21.5))
    assert (doc["temperature_f"], doc["site"]) == ("70.70", "plant-7")
    assert curate(f.reading(device_id="dev-999"))["site"] == "unassigned"
    # the site belongs to the tenant that lists the device
    assert curate(f.reading(tenant="globex"))["site"] == "unassigned"


def test_unknown_tenant_and_currency_are_enrichment_failures():
    assert curate(f.order(tenant="nobody-here")).reason is Reason.UNKNOWN_TENANT
    failure = curate(f.order(currency="CHF"))
    assert failure.reason is Reason.UNKNOWN_CURRENCY and failure.loc == "data.currency"


def test_document_id_depends_on_the_whole_identity_only():
    assert document_id("acme", "/a", "1") != document_id("acme", "/a1", "")
    assert curate(f.order(total="25.00"))["id"] == curate(f.order(total="25.0"))["id"]


def test_analytics_value_per_family_is_exact():
    assert analytics_value(curate(f.order(total="25.00"))) == Decimal("27.12")
    assert analytics_value(curate(f.page(duration_ms=1234))) == Decimal(1234)
    assert analytics_value(curate(f.reading(temperature_c=-12.345))) == Decimal("-12.345")
