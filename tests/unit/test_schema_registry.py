"""The registry is the one place that lists event types: everything else is derived from it."""

from __future__ import annotations

import json
import re
import sys
import types
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Union, get_args

import pytest
from pydantic import BaseModel, Field, TypeAdapter

import schemas.classify
import schemas.validation
from pipeline.aggregates import contributions
from pipeline.enrich import _FAMILY_ENRICHERS, analytics_value, enrich
from pipeline.reference import ReferenceData
from schemas import Rejection, ValidEvent, validate_event
from schemas.catalog import DOCS_PAGE, with_registry_tables
from schemas.compat import breaking_changes
from schemas.curated import curated_adapter
from schemas.event import EventData, Family
from schemas.export import all_schemas, json_schemas
from schemas.registration import EventFamily, RegisteredType
from schemas.registry import (
    FAMILIES,
    FAMILY_SPECS,
    FAMILY_VALUE_FIELD,
    REGISTERED_TYPES,
    REGISTRY,
    families_of,
    family_value,
)
from schemas.types import order_placed, page_viewed
from tests import factories as f

NOW = datetime(2026, 11, 3, tzinfo=UTC)
REFERENCE = ReferenceData.parse(*f.reference_files())


def valid(event: dict[str, Any]) -> ValidEvent:
    result = validate_event(f.raw(event), now=NOW)
    assert isinstance(result, ValidEvent), result
    return result


def curate(event: ValidEvent) -> dict[str, Any]:
    doc = enrich(
        event,
        REFERENCE,
        window_minutes=5,
        ingested_at="2026-11-02T00:00:00.000Z",
        processed_at="2026-11-02T00:00:01.000Z",
    )
    assert isinstance(doc, dict), doc
    return doc


# -- what the registry says ------------------------------------------------------------------------


def test_each_type_names_its_family_and_version() -> None:
    assert [(e.name, e.family, e.version) for e in REGISTERED_TYPES] == [
        ("com.contoso.order.placed.v1", "order.placed", 1),
        ("com.contoso.order.placed.v2", "order.placed", 2),
        ("com.contoso.page.viewed.v1", "page.viewed", 1),
        ("com.contoso.device.reading.v1", "device.reading", 1),
    ]
    assert REGISTRY["com.contoso.order.placed.v2"].stem == "com.contoso.order.placed"
    assert FAMILIES == ("order.placed", "page.viewed", "device.reading")


def test_the_registry_carries_each_familys_aggregated_value() -> None:
    assert FAMILY_VALUE_FIELD == {
        "order.placed": "amount_usd",
        "page.viewed": "data.duration_ms",
        "device.reading": "data.temperature_c",
    }


def test_family_value_is_the_value_the_aggregates_sum() -> None:
    events = [
        f.order(total="25.00"),
        f.order(version=2, total="0.00", items=[{"sku": "A", "quantity": 1, "unit_price": 0}]),
        f.page(duration_ms=0),
        f.page(duration_ms=86_400_000),
        f.reading(temperature_c=-12.345),
        f.reading(temperature_c=0.0000001),
        f.reading(temperature_c=150),
    ]
    for event in events:
        doc = curate(valid(event))
        assert Decimal(str(family_value(doc))) == analytics_value(doc), event


def test_the_normalised_event_union_holds_every_familys_stored_shape() -> None:
    # schemas/event.py spells the union out for type checkers: it must match the registry.
    assert set(get_args(Family)) == set(FAMILIES)
    assert set(get_args(EventData)) == {spec.stored for spec in FAMILY_SPECS.values()}


def test_every_family_has_an_enricher() -> None:
    assert set(_FAMILY_ENRICHERS) == set(FAMILIES)


def test_the_docs_tables_are_the_registry() -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    assert with_registry_tables(page) == page, "regenerate with: python -m pipeline schemas export"
    for entry in REGISTERED_TYPES:
        assert f"`{entry.name}`" in page


# -- what the registry refuses ---------------------------------------------------------------------


class _Stored(BaseModel):
    x: int


def test_a_type_name_must_end_in_its_version() -> None:
    with pytest.raises(ValueError, match=r"\.v<N>"):
        RegisteredType(
            "com.contoso.order.placed",
            order_placed.FAMILY_SPEC,
            order_placed.OrderPlacedV2Data,
            order_placed.normalise_v2,
            True,
        )


def test_a_family_needs_a_dotted_name_and_value_path() -> None:
    with pytest.raises(ValueError, match="family name"):
        EventFamily("Orders", _Stored, _Stored, "x")
    with pytest.raises(ValueError, match="value_field"):
        EventFamily("x.y", _Stored, _Stored, "data..x")


def test_a_type_or_a_version_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        families_of((*REGISTERED_TYPES, order_placed.V2))
    again = RegisteredType(
        "com.contoso.order.placed.v2",
        order_placed.FAMILY_SPEC,
        order_placed.OrderPlacedV2Data,
        order_placed.normalise_v2,
        True,
    )
    with pytest.raises(ValueError, match="registered twice"):
        families_of((*REGISTERED_TYPES, again))


def test_a_family_has_one_definition() -> None:
    other = EventFamily("page.viewed", _Stored, _Stored, "data.x")
    rogue = RegisteredType("com.contoso.page.viewed.v2", other, page_viewed.PageViewed, page_viewed.normalise, False)
    with pytest.raises(ValueError, match="two definitions"):
        families_of((*REGISTERED_TYPES, rogue))


# -- adding a version: the walk-through of docs/schemas.md, run ---------------------------------------

EXAMPLE_MARKER = "<!-- example: schemas/types/order_placed_v3.py -->"


def _example_module() -> str:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    after = page.split(EXAMPLE_MARKER, 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.fixture
def with_v3(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The registry with the documented v3 module and its one registry line, as validation sees it."""
    module = types.ModuleType("schemas.types.order_placed_v3")
    module.__file__ = str(Path(order_placed.__file__).with_name("order_placed_v3.py"))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(_example_module(), module.__file__, "exec"), module.__dict__)
    entries = (*REGISTERED_TYPES, module.V3)
    envelopes = tuple(e.envelope for e in entries)
    wire_event: Any = Annotated[Union[envelopes], Field(discriminator="type")]  # noqa: UP007
    adapter: TypeAdapter[Any] = TypeAdapter(wire_event)
    monkeypatch.setattr(schemas.validation, "WIRE_ADAPTER", adapter)
    monkeypatch.setattr(schemas.validation, "BY_ENVELOPE", {e.envelope: e for e in entries})
    monkeypatch.setattr(schemas.classify, "REGISTRY", {e.name: e for e in entries})
    return types.SimpleNamespace(module=module, entries=entries)


def _v3_order(**data: Any) -> dict[str, Any]:
    body = {
        "order_id": "o-3",
        "customer_ref": "crm:4711/" + "x" * 100,
        "currency": "EUR",
        "items": [{"sku": "A", "quantity": 2, "unit_price": "12.50"}],
        "total": "20.00",
        "channel": "mobile",
        "discount": 5,
        **data,
    }
    return f.envelope("com.contoso.order.placed.v3", "o-3", "acme", f.TIME, body)


def test_a_new_version_is_validated_stored_in_the_familys_shape_and_aggregated(with_v3: Any) -> None:
    event = valid(_v3_order())
    assert (event.type, event.family) == ("com.contoso.order.placed.v3", "order.placed")
    assert isinstance(event.data, order_placed.OrderPlaced)
    assert event.data.customer_id.startswith("crm:4711/") and event.data.discount == Decimal("5.00")
    doc = curate(event)
    assert (doc["amount_usd"], doc["item_count"]) == ("21.70", 2)  # 20.00 EUR x 1.0850
    [(key, stats)] = contributions([doc]).items()
    assert (key.event_type, stats.total) == ("order.placed", Decimal("21.70"))
    curated_adapter(with_v3.entries).validate_json(json.dumps(doc))


def test_a_new_version_has_its_own_rules_and_reasons(with_v3: Any) -> None:
    missing = _v3_order()
    del missing["data"]["discount"]
    result = validate_event(f.raw(missing), now=NOW)
    assert isinstance(result, Rejection) and result.reason.value == "missing_field"
    assert [e["loc"] for e in result.errors] == ["data.discount"]
    old_field = validate_event(f.raw(_v3_order(customer_id="c-1")), now=NOW)
    assert isinstance(old_field, Rejection) and old_field.reason.value == "invalid_field"
    wrong_total = validate_event(f.raw(_v3_order(total="25.00")), now=NOW)
    assert isinstance(wrong_total, Rejection) and wrong_total.reason.value == "business_rule"
    assert isinstance(validate_event(f.raw(f.order(version=2)), now=NOW), ValidEvent)  # v2 unchanged


def test_a_new_version_is_exported_and_breaks_no_published_schema(with_v3: Any) -> None:
    exported = json_schemas(with_v3.entries)
    schema = exported["com.contoso.order.placed.v3.schema.json"]
    assert schema["properties"]["type"]["const"] == "com.contoso.order.placed.v3"
    assert "customer_ref" in schema["$defs"]["OrderPlacedV3Data"]["required"]
    assert breaking_changes(all_schemas(), all_schemas(with_v3.entries)) == []


# -- the canonical form does not move -----------------------------------------------------------------

#: SHA-256 content keys of fixed events. A change here means every stored event's key changed, so
#: every redelivery of an event stored before would become a conflicting duplicate.
GOLDEN_CONTENT_KEYS = {
    "order v1": (f.order(), "bfe9d0e8b5893fdaef201582a08b786c99970a48160ad206deb0a875b427cac7"),
    "order v2": (
        f.order(version=2, discount="1.00", total="24.00"),
        "8728af17ecb0b6680a20729fe936ce4c7be1bbee416a9840980eb918212acabe",
    ),
    "page view": (
        f.page(referrer="https://a.example/"),
        "8bd24f4807318c841438c39bad3538b1b6c8a2e55fea8f806a961093a7040e67",
    ),
    "reading": (
        f.reading(humidity_pct=40.5, battery_pct=7),
        "cd5a9e7eed34e6ab0334ed6e3ac8f82f2e47b05888423ec49079a146bfd37bc8",
    ),
    "extensions": (
        {**f.page(), "traceid": "abc", "seq": 3},
        "b4eeea71d7f7df5b9463db1b62bf6c1217a3c18e4543c4a7460b404054feb456",
    ),
}


@pytest.mark.parametrize("case", sorted(GOLDEN_CONTENT_KEYS))
def test_content_keys_of_stored_events_stay_the_same(case: str) -> None:
    event, key = GOLDEN_CONTENT_KEYS[case]
    assert valid(event).content_key() == key
