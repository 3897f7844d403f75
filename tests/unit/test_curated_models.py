"""The curated document and the aggregate row are models: real ones from the pipeline must fit them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from pipeline.aggregates import apply_contributions, contributions
from pipeline.enrich import enrich
from pipeline.persist import BatchEvent, store_batch
from pipeline.reference import ReferenceData
from pipeline.runtime import COSMOS_CONTAINERS
from pipeline.settings import COSMOS_AGGREGATES, COSMOS_EVENTS
from pipeline.stores.memory import MemoryDocumentStore
from pipeline.synthetic import generate_labelled, reference_documents
from schemas import ValidEvent, validate_event
from schemas.curated import CURATED_MODELS, WindowAggregate, validate_aggregate, validate_curated
from schemas.export import document_schemas
from schemas.registry import FAMILIES
from tests import factories as f

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
DOCS = document_schemas()
CURATED_SCHEMA = Draft202012Validator(DOCS["curated-event.schema.json"])
AGGREGATE_SCHEMA = Draft202012Validator(DOCS["window-aggregate.schema.json"])
#: The reference data of the generator: every tenant, currency and device it uses.
REFERENCE = ReferenceData.parse(
    *(json.dumps(reference_documents()[name]).encode() for name in ("tenants.json", "fx_rates.json", "devices.json"))
)


def generated_events(count: int = 1500) -> list[ValidEvent]:
    """Valid events of every type, spelt in every way the generator knows, with extensions."""
    out = []
    for item in generate_labelled(count, seed=5, now=NOW, bad_ratio=0.0, duplicate_ratio=0.1):
        result = validate_event(item.raw, now=NOW)
        assert isinstance(result, ValidEvent)
        out.append(result)
    return out


EVENTS = generated_events()


def curate(event: ValidEvent, window_minutes: int = 1) -> dict[str, Any]:
    doc = enrich(
        event,
        REFERENCE,
        window_minutes=window_minutes,
        ingested_at="2026-11-20T08:29:00.123Z",
        processed_at="2026-11-20T08:29:01.456Z",
    )
    assert isinstance(doc, dict), doc
    return doc


def without_system_members(doc: dict[str, Any]) -> dict[str, Any]:
    """A document as the pipeline wrote it, without the members Cosmos DB adds (`_etag`, `_ts`...)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


# -- the curated document -------------------------------------------------------------------------


def test_every_curated_document_is_its_familys_model_exactly() -> None:
    families = set()
    for event in EVENTS:
        doc = curate(event)
        model = validate_curated(doc)
        assert type(model) is CURATED_MODELS[event.family]
        # the model holds every member of the document and nothing else (batch_id comes with storing)
        assert json.loads(model.model_dump_json(exclude={"batch_id", "contribution"})) == doc
        assert CURATED_SCHEMA.is_valid(doc)
        families.add(event.family)
    assert families == set(FAMILIES)


@pytest.mark.parametrize("window_minutes", [1, 15, 1440])
def test_stored_documents_fit_the_model_and_the_exported_schema(window_minutes: int) -> None:
    async def run() -> list[dict[str, Any]]:
        store = MemoryDocumentStore()
        await store.ensure_containers(COSMOS_CONTAINERS)
        batch = [BatchEvent(i, f"test#{i}", "2026-11-20T08:29:00.000Z", e, b"") for i, e in enumerate(EVENTS[:300])]
        await store_batch(
            "batch-1",
            "eventhub",
            batch,
            reference=REFERENCE,
            documents=store,
            window_minutes=window_minutes,
            processed_at="2026-11-20T08:29:01.000Z",
            batch_completed=False,
        )
        return await store.query_all(COSMOS_EVENTS)

    stored = asyncio.run(run())
    assert len(stored) > 250
    for doc in stored:
        assert CURATED_SCHEMA.is_valid(doc), list(CURATED_SCHEMA.iter_errors(doc))  # open: _etag is fine
        model = validate_curated(without_system_members(doc))
        assert model.batch_id == "batch-1"  # type: ignore[attr-defined]


def test_a_member_the_model_does_not_know_or_misses_is_drift() -> None:
    doc = curate(EVENTS[0])
    with pytest.raises(ValidationError, match="Extra inputs"):
        validate_curated({**doc, "surprise": 1})
    for member in ("tenant", "content_key", "data", "window_start", "subject"):
        incomplete = {k: v for k, v in doc.items() if k != member}
        with pytest.raises(ValidationError):
            validate_curated(incomplete)


def test_each_family_declares_its_enrichment_fields() -> None:
    by_family = {event.family: curate(event) for event in EVENTS}
    assert {"amount_usd", "item_count"} <= set(by_family["order.placed"])
    assert {"url_host", "url_path", "engaged"} <= set(by_family["page.viewed"])
    assert {"temperature_f", "site"} <= set(by_family["device.reading"])
    schema = DOCS["curated-event.schema.json"]
    for family, model in CURATED_MODELS.items():
        assert set(model.model_fields) <= set(schema["$defs"][model.__name__]["properties"]), family


def test_edge_values_fit_the_model() -> None:
    edge_events = [
        f.reading(temperature_c=0.0000001, humidity_pct=0),  # measures in exponent form: "1E-7"
        f.reading(temperature_c=-90, device_id="dev-999"),  # an unassigned device
        f.page(url="https://shop.example.com", duration_ms=0),  # no path: "/"
        {**f.page(), "subject": None, "dataschema": None, "flag": False, "seq": 0},
        f.order(total="0.00", items=[{"sku": "A", "quantity": 1, "unit_price": 0}]),
        f.order(time="2026-11-01T23:59:60.5+00:00", total="25.00"),  # a leap second
    ]
    for event in edge_events:
        result = validate_event(f.raw(event), now=NOW)
        assert isinstance(result, ValidEvent), result
        doc = enrich(
            result,
            ReferenceData.parse(*f.reference_files()),
            window_minutes=60,
            ingested_at="2026-11-20T08:29:00Z",
            processed_at="2026-11-20T08:29:01.000000001Z",
        )
        assert isinstance(doc, dict)
        validate_curated(doc)
        assert CURATED_SCHEMA.is_valid(doc), list(CURATED_SCHEMA.iter_errors(doc))


# -- the aggregate row ----------------------------------------------------------------------------


def test_aggregate_rows_fit_the_model_and_the_exported_schema() -> None:
    async def run() -> list[dict[str, Any]]:
        store = MemoryDocumentStore()
        await store.ensure_containers(COSMOS_CONTAINERS)
        docs = [curate(event, window_minutes=5) for event in EVENTS]
        await apply_contributions(store, "batch-1", contributions(docs[:700]))
        await apply_contributions(store, "batch-2", contributions(docs[700:]))
        return await store.query_all(COSMOS_AGGREGATES)

    rows = asyncio.run(run())
    assert len(rows) > 100
    merged = 0
    for row in rows:
        assert AGGREGATE_SCHEMA.is_valid(row), list(AGGREGATE_SCHEMA.iter_errors(row))
        model = validate_aggregate(without_system_members(row))
        assert model.event_count >= 1 and model.event_type in FAMILIES
        merged += model.applied == ["batch-1", "batch-2"]
    assert merged > 0


def test_an_aggregate_row_with_a_value_in_exponent_form_fits() -> None:
    docs = [curate(validate_event(f.raw(f.reading(temperature_c=0.0000001)), now=NOW))]  # type: ignore[arg-type]
    [(key, stats)] = contributions(docs).items()
    row = {
        "id": key.row_id,
        "tenant_id": key.tenant_id,
        "event_type": key.event_type,
        "window_start": key.window_start,
        "window_minutes": key.window_minutes,
        "event_count": stats.count,
        "value_sum": str(stats.total),
        "value_min": str(stats.minimum),
        "value_max": str(stats.maximum),
        "applied": ["b"],
    }
    assert row["value_sum"] == "1E-7"
    assert validate_aggregate(row).value_sum == "1E-7"
    with pytest.raises(ValidationError):
        WindowAggregate.model_validate_json(json.dumps({**row, "event_type": "parcel.shipped"}))


def test_window_start_and_event_date_follow_the_event_time() -> None:
    event = EVENTS[0]
    doc = curate(event, window_minutes=15)
    model = validate_curated(doc)
    start = datetime.strptime(model.window_start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)  # type: ignore[attr-defined]
    assert start <= event.timestamp < start + timedelta(minutes=15)
    assert model.event_date == event.time[:10]  # type: ignore[attr-defined]
