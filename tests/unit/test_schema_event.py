"""The normalised event: its round trip, its identity, and when two deliveries are the same content."""

from __future__ import annotations

import copy
import json
import pickle
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from test_schema_builders import (
    BUILDERS,
    NOW,
    ORDER_V1,
    check,
    dumps,
    order_v1,
    order_v2,
    page,
    raw,
    reading,
    with_,
    without,
)

from schemas import (
    FAMILIES,
    MAX_EVENT_BYTES,
    REGISTRY,
    DeviceReading,
    OrderItem,
    OrderPlaced,
    PageViewed,
    Reason,
    Rejection,
    ValidEvent,
    parse_event_dict,
    plain_model,
)


def valid(event: Any) -> ValidEvent:
    result = check(event)
    assert isinstance(result, ValidEvent), result
    return result


# -- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_normalised_event_round_trips_exactly_through_json(name: str) -> None:
    event = valid(with_(BUILDERS[name](), "traceparent", "00-ab-cd-01"))
    text = event.model_dump_json()
    again = ValidEvent.model_validate_json(text)
    assert again == event
    assert again.model_dump_json() == text
    assert again.content_key() == event.content_key()
    assert repr(again) == repr(event)


def test_the_fast_constructor_builds_what_validation_builds() -> None:
    for name, builder in BUILDERS.items():
        built = valid(builder())
        validated = ValidEvent.model_validate(built.model_dump())
        assert validated == built, name
        assert validated.__dict__ == built.__dict__
        assert validated.model_fields_set == built.model_fields_set
        assert built.__pydantic_extra__ is None and built.__pydantic_private__ is None


def test_the_normalised_event_is_immutable() -> None:
    event = valid(page())
    with pytest.raises(pydantic.ValidationError):
        event.id = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        event.data.url = "https://other.example/"  # type: ignore[union-attr,misc]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_field_of_a_normalised_event_is_set(name: str) -> None:
    event = valid(BUILDERS[name]())
    fields = event.model_fields_set
    assert fields == set(ValidEvent.model_fields) and event.data.model_fields_set == set(type(event.data).model_fields)
    changed = event.model_copy(update={"subject": "s"})  # a shared fields set is copied, not changed
    assert changed.subject == "s" and changed.model_fields_set is not fields
    assert fields == set(ValidEvent.model_fields)
    assert copy.deepcopy(event).model_fields_set == fields
    again = pickle.loads(pickle.dumps(event))
    assert again == event and again.model_fields_set == fields
    assert event.model_dump(exclude_unset=True) == event.model_dump()


def test_the_stored_document_shape() -> None:
    event = valid(with_(with_(order_v1(), "sequence", 3), "subject", None))
    assert json.loads(event.model_dump_json()) == {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "/shop/web",
        "type": ORDER_V1,
        "time": "2026-11-01T10:15:30Z",
        "tenantid": "acme",
        "subject": None,
        "datacontenttype": None,
        "dataschema": None,
        "extensions": {"sequence": 3},
        "family": "order.placed",
        "data": {
            "order_id": "o-1",
            "customer_id": "c-1",
            "currency": "USD",
            "channel": "unknown",
            "items": [{"sku": "A-1", "quantity": 3, "unit_price": "1.25"}],
            "total": "3.75",
            "discount": "0.00",
        },
    }


def test_model_dump_in_json_mode_gives_json_ready_values() -> None:
    event = valid(reading())
    dumped = event.model_dump(mode="json")
    assert dumped["data"]["temperature_c"] == "21.5" and dumped["data"]["humidity_pct"] == "40"
    assert json.loads(json.dumps(dumped)) == json.loads(event.model_dump_json())


# -- normalised shapes ---------------------------------------------------------------------


def test_v1_orders_are_upcast_to_the_v2_shape() -> None:
    event = valid(order_v1())
    assert isinstance(event.data, OrderPlaced)
    assert event.data.channel == "unknown" and event.data.discount == Decimal("0.00")
    assert event.family == "order.placed" and event.type == ORDER_V1
    assert event.data.items == (OrderItem(sku="A-1", quantity=3, unit_price=Decimal("1.25")),)


def test_each_family_has_its_data_model() -> None:
    assert isinstance(valid(order_v2()).data, OrderPlaced)
    assert isinstance(valid(page()).data, PageViewed)
    assert isinstance(valid(reading()).data, DeviceReading)
    assert {valid(b()).family for b in BUILDERS.values()} == set(FAMILIES)


def test_registry_lists_the_four_types() -> None:
    assert {t: e.family for t, e in REGISTRY.items()} == {
        "com.contoso.order.placed.v1": "order.placed",
        "com.contoso.order.placed.v2": "order.placed",
        "com.contoso.page.viewed.v1": "page.viewed",
        "com.contoso.device.reading.v1": "device.reading",
    }


def test_identity_is_tenant_source_and_id() -> None:
    assert valid(page()).identity == ("acme", "/shop/web", "evt-1")


def test_extensions_are_kept_sorted_without_nulls() -> None:
    event = valid(with_(with_(with_(page(), "zeta", "z"), "alpha", 1), "gone", None))
    assert list(event.extensions.items()) == [("alpha", 1), ("zeta", "z")]


def test_plain_model_validates_the_wire_format() -> None:
    adapter = plain_model()
    for builder in BUILDERS.values():
        assert adapter.validate_json(raw(builder())).id == "evt-1"


# -- content key ---------------------------------------------------------------------------


def reordered(event: dict[str, Any]) -> dict[str, Any]:
    out = {k: event[k] for k in reversed(list(event))}
    if isinstance(out.get("data"), dict):
        out["data"] = {k: out["data"][k] for k in reversed(list(out["data"]))}
    return out


SAME_CONTENT = [
    ("whitespace", lambda e: raw(e, spaced=True)),
    ("pretty printed", lambda e: json.dumps(json.loads(raw(e)), indent=4).encode()),
    ("member order", lambda e: raw(reordered(e))),
    ("byte-order mark", lambda e: b"\xef\xbb\xbf" + raw(e)),
    (
        "escaped characters",
        lambda e: json.dumps(json.loads(raw(e)), ensure_ascii=True).replace("a", "\\u0061").encode(),
    ),
    ("offset instead of Z", lambda e: raw(with_(e, "time", "2026-11-01T11:15:30+01:00"))),
    ("negative offset", lambda e: raw(with_(e, "time", "2026-11-01T04:45:30-05:30"))),
    ("minus zero offset", lambda e: raw(with_(e, "time", "2026-11-01T10:15:30-00:00"))),
    ("zero fraction", lambda e: raw(with_(e, "time", "2026-11-01T10:15:30.000Z"))),
    ("lower-case t and z", lambda e: raw(with_(e, "time", "2026-11-01t10:15:30z"))),
    ("null optional attributes", lambda e: raw({**e, "subject": None, "dataschema": None, "datacontenttype": None})),
    ("null extension", lambda e: raw({**e, "comexampleext": None})),
]


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize(("label", "respell"), SAME_CONTENT, ids=[s[0] for s in SAME_CONTENT])
def test_redeliveries_spelt_differently_have_the_same_content_key(name: str, label: str, respell) -> None:  # type: ignore[no-untyped-def]
    event = BUILDERS[name]()
    first = valid(raw(event))
    again = valid(respell(event))
    assert again == first, label
    assert again.content_key() == first.content_key()
    assert again.identity == first.identity


def test_money_spellings_have_the_same_content_key() -> None:
    keys = set()
    for price, total in [("12.50", "29.50"), (12.5, 29.5), (Decimal("12.500"), Decimal("2.95E+1")), ("0012.5", "29.5")]:
        items = [{"sku": "A-1", "quantity": 2, "unit_price": price}, {"sku": "B-2", "quantity": 1, "unit_price": "5"}]
        keys.add(valid(order_v2(items=items, total=total)).content_key())
    assert len(keys) == 1


def test_a_missing_discount_is_the_same_as_a_zero_discount() -> None:
    a = valid(without(order_v2(total="30.00"), "data.discount"))
    b = valid(order_v2(total="30.00", discount=0))
    c = valid(order_v2(total="30.00", discount=None))
    assert a.content_key() == b.content_key() == c.content_key()


DIFFERENT_CONTENT = [
    ("subject", lambda e: with_(e, "subject", "other")),
    ("an extension", lambda e: with_(e, "ext", "x")),
    ("an extension's type", lambda e: with_(with_(e, "ext", 1), "ext", "1")),
    ("a nanosecond", lambda e: with_(e, "time", "2026-11-01T10:15:30.000000001Z")),
    ("datacontenttype", lambda e: with_(e, "datacontenttype", "application/json")),
    ("dataschema", lambda e: with_(e, "dataschema", "https://schemas.contoso.com/x")),
    ("id", lambda e: with_(e, "id", "evt-2")),
    ("source", lambda e: with_(e, "source", "/other")),
    ("tenant", lambda e: with_(e, "tenantid", "globex")),
]


@pytest.mark.parametrize(("label", "change"), DIFFERENT_CONTENT, ids=[d[0] for d in DIFFERENT_CONTENT])
def test_different_content_has_a_different_content_key(label: str, change) -> None:  # type: ignore[no-untyped-def]
    base = page()
    assert valid(base).content_key() != valid(change(base)).content_key(), label


def test_different_data_has_a_different_content_key() -> None:
    assert valid(page()).content_key() != valid(page(duration_ms=12001)).content_key()
    assert valid(reading()).content_key() != valid(reading(temperature_c=21.51)).content_key()
    items = [{"sku": "A-1", "quantity": 1, "unit_price": "25.00"}, {"sku": "B-2", "quantity": 1, "unit_price": 5}]
    assert valid(order_v2()).content_key() != valid(order_v2(items=items)).content_key()


def test_an_extension_and_an_absent_one_differ_but_false_is_kept() -> None:
    assert valid(with_(page(), "flag", False)).content_key() != valid(page()).content_key()


def test_v1_and_v2_orders_never_share_content() -> None:
    v2 = order_v2(items=[{"sku": "A-1", "quantity": 3, "unit_price": 1.25}], currency="USD", total=3.75, discount=0)
    assert valid(order_v1()).content_key() != valid(v2).content_key()


def test_the_content_key_is_a_sha256_of_the_canonical_json() -> None:
    import hashlib

    event = valid(page())
    assert event.content_key() == hashlib.sha256(event.canonical_json().encode()).hexdigest()
    assert len(event.content_key()) == 64


# -- parse_event_dict ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_parsed_event_validates_like_its_text(name: str) -> None:
    event = BUILDERS[name]()
    parsed = json.loads(raw(event), parse_float=Decimal)
    assert parse_event_dict(parsed, now=NOW) == check(event)


def test_a_parsed_event_with_floats_is_accepted() -> None:
    result = parse_event_dict(json.loads(raw(order_v1())), now=NOW)
    assert isinstance(result, ValidEvent) and result.data.total == Decimal("3.75")  # type: ignore[union-attr]


def test_parsed_amounts_stay_exact_with_decimals() -> None:
    text = dumps(
        order_v2(items=[{"sku": "A", "quantity": 3, "unit_price": Decimal("0.1")}], discount=0, total=Decimal("0.3"))
    )
    assert isinstance(parse_event_dict(json.loads(text, parse_float=Decimal), now=NOW), ValidEvent)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ([page()], "not_an_object"),
        ("text", "not_an_object"),
        (None, "not_an_object"),
        ({"specversion": "1.0"}, "missing_field"),
        (with_(reading(), "data.temperature_c", float("nan")), "malformed_json"),
        (with_(reading(), "data.temperature_c", Decimal("Infinity")), "malformed_json"),
        (with_(page(), "subject", "bad\ud800"), "malformed_json"),
        (with_(page(), "subject", {1: "x"}), "malformed_json"),
        (with_(page(), "subject", object()), "malformed_json"),
        (with_(page(), "pad", "x" * MAX_EVENT_BYTES), "too_large"),
        (with_(page(), "deep", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]), "too_deep"),
        (with_(page(), "subject", ""), "invalid_field"),
        (with_(page(), "items", (1, 2)), "invalid_field"),
    ],
)
def test_parsed_values_get_the_same_reasons(value: object, reason: str) -> None:
    result = parse_event_dict(value, now=NOW)
    assert isinstance(result, Rejection) and result.reason is Reason(reason), result


def test_a_recursive_value_is_too_deep() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    result = parse_event_dict(loop, now=NOW)
    assert isinstance(result, Rejection) and result.reason is Reason.TOO_DEEP
