"""Every reason code of validation, and which one wins when an event breaks several rules."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from test_schema_builders import (
    NOW,
    ORDER_V1,
    ORDER_V2,
    PAGE,
    READING,
    check,
    locs,
    order_v1,
    order_v2,
    page,
    raw,
    reading,
    reason_of,
    with_,
    without,
)

from schemas import MAX_DEPTH, MAX_EVENT_BYTES, Reason, Rejection, ValidEvent

BOM = b"\xef\xbb\xbf"


def padded_to(size: int, *, prefix: bytes = b"") -> bytes:
    """A valid page view padded (with an extension attribute) to exactly ``size`` bytes."""
    base = raw(with_(page(), "pad", ""))
    body = base.replace(b'"pad":""', b'"pad":"' + b"x" * (size - len(base) - len(prefix)) + b'"')
    assert len(prefix + body) == size
    return prefix + body


def nested(levels: int) -> bytes:
    """A page view with an extension holding arrays nested so the event is ``levels`` deep."""
    inner = b"[" * (levels - 1) + b"1" + b"]" * (levels - 1)
    return raw(page())[:-1] + b',"deep":' + inner + b"}"


# -- 1 too_large --------------------------------------------------------------------------


def test_an_event_of_exactly_256_kib_is_not_too_large() -> None:
    assert reason_of(padded_to(MAX_EVENT_BYTES)) == "valid"


def test_one_byte_over_256_kib_is_too_large() -> None:
    result = check(padded_to(MAX_EVENT_BYTES + 1))
    assert isinstance(result, Rejection) and result.reason is Reason.TOO_LARGE
    assert result.errors[0]["loc"] == ""


def test_the_byte_order_mark_counts_towards_the_size() -> None:
    assert reason_of(padded_to(MAX_EVENT_BYTES, prefix=BOM)) == "valid"
    assert reason_of(padded_to(MAX_EVENT_BYTES + 1, prefix=BOM)) == "too_large"


@pytest.mark.parametrize(
    "junk",
    [b"\xff" * 300_000, b"[" * 300_000, b"{" + b"x" * 300_000, b'"' + b"a" * 300_000 + b'"'],
    ids=["invalid-utf8", "too-deep", "malformed", "not-an-object"],
)
def test_size_is_checked_before_anything_else(junk: bytes) -> None:
    assert reason_of(junk) == "too_large"


def test_text_input_is_measured_in_utf8_bytes() -> None:
    text = raw(page()).decode()[:-1] + ',"pad":"' + "é" * 140_000 + '"}'
    assert len(text) < MAX_EVENT_BYTES < len(text.encode())
    assert reason_of(text) == "too_large"


# -- 2 invalid_encoding -------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [b"\xff", b"caf\xe9", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80", b"\xf4\x90\x80\x80"],
    ids=["ff", "latin1", "overlong", "surrogate", "truncated", "five-byte", "above-10ffff"],
)
def test_bytes_that_are_not_utf8_are_invalid_encoding(bad: bytes) -> None:
    event = raw(with_(page(), "subject", "MARK")).replace(b"MARK", bad)
    assert reason_of(event) == "invalid_encoding"


def test_invalid_utf8_outside_any_string_is_still_invalid_encoding() -> None:
    assert reason_of(b"\xff{}") == "invalid_encoding"


def test_invalid_encoding_is_checked_before_depth_and_syntax() -> None:
    assert reason_of(b"\xff" + b"[" * 100) == "invalid_encoding"
    assert reason_of(nested(40)[:-1] + b"\xfe") == "invalid_encoding"
    assert reason_of(b"{'not': json} \xff") == "invalid_encoding"


def test_utf16_is_invalid_encoding() -> None:
    assert reason_of(b"\xff\xfe" + raw(page()).decode().encode("utf-16-le")) == "invalid_encoding"


def test_text_with_a_lone_surrogate_is_invalid_encoding() -> None:
    text = raw(page()).decode().replace("Mozilla/5.0", "Mozilla\ud800")
    assert reason_of(text) == "invalid_encoding"


def test_utf8_bom_is_accepted_and_stripped() -> None:
    plain = check(raw(page()))
    with_bom = check(BOM + raw(page()))
    assert isinstance(with_bom, ValidEvent)
    assert with_bom == plain and with_bom.content_key() == plain.content_key()


def test_utf8_bom_on_text_input_is_accepted() -> None:
    assert reason_of("\ufeff" + raw(page()).decode()) == "valid"


def test_only_one_bom_is_stripped() -> None:
    assert reason_of(BOM + BOM + raw(page())) == "malformed_json"


def test_non_ascii_text_is_fine() -> None:
    event = with_(page(), "subject", "Café – 東京 – 😀")
    result = check(event)
    assert isinstance(result, ValidEvent) and result.subject == "Café – 東京 – 😀"


# -- 3 too_deep ---------------------------------------------------------------------------


def test_nesting_of_exactly_32_levels_is_allowed() -> None:
    # The arrays make an invalid extension value, but the depth itself is fine.
    assert reason_of(nested(MAX_DEPTH)) == "invalid_field"


def test_nesting_of_33_levels_is_too_deep() -> None:
    assert reason_of(nested(MAX_DEPTH + 1)) == "too_deep"


def test_a_bare_deep_array_is_too_deep_not_malformed_or_not_an_object() -> None:
    assert reason_of(b"[" * 33) == "too_deep"
    assert reason_of(b"[" * 33 + b"]" * 33) == "too_deep"
    assert reason_of(b"[" * 32 + b"]" * 32) == "not_an_object"


def test_deep_and_malformed_is_too_deep() -> None:
    assert reason_of(raw(page())[:-1] + b',"x":' + b"{" * 40) == "too_deep"
    assert reason_of(b'{"a":' * 40 + b"NaN") == "too_deep"


def test_brackets_inside_strings_do_not_count() -> None:
    event = with_(page(), "subject", "[" * 100 + "{" * 100)
    assert reason_of(event) == "valid"


def test_escaped_quotes_do_not_end_a_string_for_the_depth_scan() -> None:
    event = with_(page(), "subject", '\\"' + "[" * 50 + '"\\' + "{" * 50)
    assert reason_of(event) == "valid"


def test_many_brackets_that_are_not_nested_are_not_too_deep() -> None:
    items = [{"sku": f"S{i}", "quantity": 1, "unit_price": 1} for i in range(60)]
    event = order_v2(items=items, discount=0, total=60)
    assert reason_of(event) == "valid"


def test_depth_counts_from_the_top_level_object() -> None:
    data_depth: dict[str, object] = {"a": 1}
    for _ in range(30):
        data_depth = {"a": data_depth}
    # the event (level 1) holds 31 nested objects: 32 levels
    assert reason_of(with_(page(), "data", data_depth)) == "missing_field"
    assert reason_of(with_(page(), "data", {"a": data_depth})) == "too_deep"


# -- 4 malformed_json ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"   ",
        b"\n",
        BOM,
        b"{",
        b"{}}",
        b"{} {}",
        b"{} trailing",
        b"{'a': 1}",
        b'{"a": 1,}',
        b"{a: 1}",
        b'{"a": 01}',
        b'{"a": .5}',
        b'{"a": 1.}',
        b'{"a": +1}',
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": nan}',
        b'{"a": "\\x41"}',
        b'{"a": "\\ud800"}',
        b'{"a": "\\udc00x"}',
        b'{"a": "tab\there"}',
        b'{"a": "line\nbreak"}',
        b'{"a": 1} // comment',
        b"\x0c{}",
        b'{"a": tru}',
        b"[1,]",
        b"nul",
    ],
)
def test_text_that_is_not_json_is_malformed(text: bytes) -> None:
    assert reason_of(text) == "malformed_json"


def test_truncated_events_are_malformed() -> None:
    whole = raw(order_v2())
    for cut in (1, 10, len(whole) // 2, len(whole) - 1):
        assert reason_of(whole[:cut]) == "malformed_json"


def test_nan_in_a_valid_looking_event_is_malformed_not_invalid() -> None:
    event = raw(reading()).replace(b"21.5", b"NaN")
    assert reason_of(event) == "malformed_json"
    event = raw(without(reading(), "id")).replace(b"21.5", b"Infinity")
    assert reason_of(event) == "malformed_json"


def test_a_lone_surrogate_escape_is_malformed_json() -> None:
    event = raw(page()).replace(b"Mozilla/5.0", b"Mozilla\\ud800")
    assert reason_of(event) == "malformed_json"


def test_an_escaped_surrogate_pair_is_fine() -> None:
    event = raw(page()).replace(b"Mozilla/5.0", b"Mozilla\\ud83d\\ude00")
    result = check(event)
    assert isinstance(result, ValidEvent) and result.data.user_agent == "Mozilla😀"  # type: ignore[union-attr]


def test_whitespace_around_the_event_is_fine() -> None:
    assert reason_of(b" \t\r\n" + raw(page()) + b" \r\n\t") == "valid"


def test_duplicate_member_names_keep_the_last_value() -> None:
    text = raw(page())[:-1] + b',"id":"evt-2"}'
    result = check(text)
    assert isinstance(result, ValidEvent) and result.id == "evt-2"


# -- 5 not_an_object ----------------------------------------------------------------------


@pytest.mark.parametrize("text", [b"[]", b"[{}]", b'"event"', b"42", b"-1.5", b"null", b"true", b"false"])
def test_json_that_is_not_an_object_is_rejected(text: bytes) -> None:
    assert reason_of(text) == "not_an_object"


def test_an_array_holding_a_valid_event_is_not_an_object() -> None:
    assert reason_of(b"[" + raw(page()) + b"]") == "not_an_object"
    assert reason_of(BOM + b"[" + raw(page()) + b"]") == "not_an_object"


# -- 6 unsupported_specversion ------------------------------------------------------------


@pytest.mark.parametrize("version", ["0.3", "1.1", "2.0", "", "1.0 ", " 1.0", "1", "1.0.0", "V1.0"])
def test_a_specversion_other_than_1_0_is_unsupported(version: str) -> None:
    assert reason_of(with_(page(), "specversion", version)) == "unsupported_specversion"


@pytest.mark.parametrize("version", [1.0, 1, True, ["1.0"], {"v": "1.0"}], ids=repr)
def test_a_specversion_that_is_not_the_string_1_0_is_unsupported(version: object) -> None:
    assert reason_of(with_(page(), "specversion", version)) == "unsupported_specversion"


def test_unsupported_specversion_outranks_missing_unknown_and_invalid() -> None:
    event = without(with_(page(), "specversion", "0.3"), "id")
    event = with_(event, "type", "com.example.unknown")
    event = with_(event, "tenantid", "NOT VALID")
    assert reason_of(event) == "unsupported_specversion"


def test_a_null_or_absent_specversion_is_missing() -> None:
    assert reason_of(with_(page(), "specversion", None)) == "missing_field"
    assert reason_of(without(page(), "specversion")) == "missing_field"


# -- 7 missing_field ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["specversion", "id", "source", "type", "time", "tenantid", "data"])
def test_each_required_attribute_absent_is_missing(name: str) -> None:
    assert locs(without(page(), name)) == [name]
    assert reason_of(without(page(), name)) == "missing_field"


@pytest.mark.parametrize("name", ["id", "source", "type", "time", "tenantid", "data"])
def test_each_required_attribute_null_is_missing(name: str) -> None:
    assert reason_of(with_(page(), name, None)) == "missing_field"


@pytest.mark.parametrize(
    ("builder", "path"),
    [
        (order_v1, "data.order_id"),
        (order_v1, "data.customer_id"),
        (order_v1, "data.currency"),
        (order_v1, "data.items"),
        (order_v1, "data.total"),
        (order_v2, "data.channel"),
        (order_v2, "data.items.0.sku"),
        (order_v2, "data.items.1.quantity"),
        (order_v2, "data.items.0.unit_price"),
        (page, "data.session_id"),
        (page, "data.url"),
        (page, "data.duration_ms"),
        (reading, "data.device_id"),
        (reading, "data.temperature_c"),
    ],
)
def test_each_required_data_field_absent_is_missing(builder, path: str) -> None:  # type: ignore[no-untyped-def]
    result = check(without(builder(), path))
    assert isinstance(result, Rejection)
    assert result.reason is Reason.MISSING_FIELD
    assert [e["loc"] for e in result.errors] == [path]


@pytest.mark.parametrize(
    ("builder", "path"),
    [
        (order_v2, "data.total"),
        (order_v2, "data.items.0.quantity"),
        (page, "data.url"),
        (reading, "data.temperature_c"),
    ],
)
def test_a_required_data_field_that_is_null_is_missing(builder, path: str) -> None:  # type: ignore[no-untyped-def]
    assert reason_of(with_(builder(), path, None)) == "missing_field"


def order_without_discount() -> dict[str, object]:
    return order_v2(discount="0", total="30.00")


@pytest.mark.parametrize(
    ("builder", "path"),
    [
        (order_without_discount, "data.discount"),
        (page, "data.referrer"),
        (page, "data.user_agent"),
        (reading, "data.humidity_pct"),
        (reading, "data.battery_pct"),
    ],
)
def test_optional_data_fields_may_be_absent_or_null(builder, path: str) -> None:  # type: ignore[no-untyped-def]
    absent = check(without(builder(), path))
    null = check(with_(builder(), path, None))
    assert isinstance(absent, ValidEvent) and isinstance(null, ValidEvent)
    assert absent == null and absent.content_key() == null.content_key()


def test_all_missing_fields_are_reported() -> None:
    event = without(without(without(order_v2(), "id"), "data.currency"), "data.items.1.sku")
    assert locs(event) == ["id", "data.currency", "data.items.1.sku"]


def test_missing_outranks_unknown_type() -> None:
    event = with_(without(page(), "id"), "type", "com.contoso.unknown.v1")
    assert reason_of(event) == "missing_field"


def test_missing_outranks_invalid_fields_anywhere() -> None:
    event = with_(without(order_v2(), "data.items.0.sku"), "tenantid", "Not Valid")
    event = with_(event, "data.items.1.quantity", "two")
    assert reason_of(event) == "missing_field"
    assert locs(event) == ["data.items.0.sku"]


def test_missing_data_fields_are_not_looked_for_when_the_type_is_unknown() -> None:
    event = with_(page(), "type", "com.contoso.page.viewed.v9")
    event = with_(event, "data", {})
    assert reason_of(event) == "unknown_type"


def test_missing_data_fields_are_not_looked_for_when_type_is_not_a_string() -> None:
    assert reason_of(with_(with_(page(), "type", 7), "data", {})) == "invalid_field"


def test_data_that_is_not_an_object_has_no_missing_fields() -> None:
    assert reason_of(with_(page(), "data", [])) == "invalid_field"


def test_items_that_are_not_objects_have_no_missing_fields() -> None:
    assert reason_of(with_(order_v2(), "data.items", ["A-1"])) == "invalid_field"


def test_data_base64_instead_of_data_is_missing_data() -> None:
    event = with_(without(page(), "data"), "data_base64", "eyJhIjoxfQ==")
    assert reason_of(event) == "missing_field"


def test_v2_order_without_channel_is_missing_but_v1_has_none() -> None:
    assert reason_of(without(order_v2(), "data.channel")) == "missing_field"
    assert reason_of(order_v1()) == "valid"


# -- 8 unknown_type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_",
    [
        "com.contoso.order.cancelled.v1",
        "com.contoso.order.placed.v3",
        "com.contoso.order.placed",
        "COM.CONTOSO.PAGE.VIEWED.V1",
        "com.contoso.page.viewed.v1 ",
        " ",
        "order.placed",
    ],
)
def test_an_unregistered_type_is_unknown(type_: str) -> None:
    assert reason_of(with_(page(), "type", type_)) == "unknown_type"


def test_unknown_type_outranks_invalid_fields() -> None:
    event = with_(with_(page(), "type", "com.example.other"), "tenantid", "BAD")
    event = with_(event, "time", "yesterday")
    event = with_(event, "Bad_Extension", 1.5)
    assert reason_of(event) == "unknown_type"


@pytest.mark.parametrize("type_", ["", 7, True, ["com.contoso.page.viewed.v1"], {"t": 1}], ids=repr)
def test_a_type_that_is_empty_or_not_a_string_is_invalid(type_: object) -> None:
    result = check(with_(page(), "type", type_))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_FIELD
    assert "type" in [e["loc"] for e in result.errors]


def test_an_invalid_type_reports_the_other_invalid_attributes_too() -> None:
    event = with_(with_(page(), "type", 7), "tenantid", "BAD")
    assert set(locs(event)) >= {"type", "tenantid"}


# -- 9 invalid_field ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("id", 12345),
        ("id", ""),
        ("id", "x" * 129),
        ("id", ["a"]),
        ("source", ""),
        ("source", "has space"),
        ("source", {"uri": "/x"}),
        ("source", "http://[::1"),
        ("source", "/path/" + "a" * 507),
        ("source", "1abc:path"),
        ("source", "/caf\u00e9"),
        ("source", "/a%zz"),
        ("source", "a#b#c"),
        ("tenantid", "Acme"),
        ("tenantid", "ab"),
        ("tenantid", "a" * 41),
        ("tenantid", "-acme"),
        ("tenantid", "acme-"),
        ("tenantid", "ac_me"),
        ("tenantid", "acme\n"),
        ("tenantid", 42),
        ("subject", ""),
        ("subject", "s" * 257),
        ("subject", 7),
        ("datacontenttype", "text/plain"),
        ("datacontenttype", ""),
        ("datacontenttype", "application/json;"),
        ("datacontenttype", "application/cloudevents+json"),
        ("datacontenttype", "application/jsonx"),
        ("datacontenttype", 1),
        ("dataschema", ""),
        ("dataschema", "schema.json"),
        ("dataschema", "/schemas/order"),
        ("dataschema", "https://schemas.contoso.com/order#v2"),
        ("dataschema", "not a uri"),
    ],
)
def test_invalid_envelope_attributes(name: str, value: object) -> None:
    result = check(with_(page(), name, value))
    assert isinstance(result, Rejection), result
    assert result.reason is Reason.INVALID_FIELD
    assert [e["loc"] for e in result.errors] == [name]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("id", "x" * 128),
        ("id", "é" * 128),
        ("id", " "),
        ("source", "#fragment"),
        ("source", "mySource"),
        ("source", "urn:contoso:orders"),
        ("source", "//pos.contoso.com/store/12"),
        ("source", "https://user@shop.contoso.com:8443/a/b?c=d&e#f"),
        ("source", "http://[::1]:8080/x"),
        ("source", "/a%20b"),
        ("source", "/" + "a" * 511),
        ("source", "."),
        ("tenantid", "abc"),
        ("tenantid", "a-b"),
        ("tenantid", "0ab"),
        ("tenantid", "a" * 40),
        ("tenantid", "a--b"),
        ("subject", "s"),
        ("subject", "s" * 256),
        ("subject", None),
        ("datacontenttype", "application/json"),
        ("datacontenttype", "application/json; charset=utf-8"),
        ("datacontenttype", "Application/JSON;Charset=UTF-8"),
        ("datacontenttype", 'application/json; profile="a b"'),
        ("datacontenttype", None),
        ("dataschema", "https://schemas.contoso.com/order/v2.json"),
        ("dataschema", "urn:contoso:schema:order:2"),
        ("dataschema", "https://schemas.contoso.com/o?v=2"),
        ("dataschema", None),
    ],
)
def test_valid_envelope_attributes(name: str, value: object) -> None:
    assert reason_of(with_(page(), name, value)) == "valid"


@pytest.mark.parametrize(
    "time",
    [
        "2026-11-01T10:00:00",
        "2026-11-01T10:00Z",
        "2026-11-01 10:00:00Z",
        "2026-11-01T10:00:00.Z",
        "2026-11-01T10:00:00.1234567890Z",
        "2026-11-01T10:00:00+24:00",
        "2026-11-01T10:00:00+05:60",
        "2026-11-01T10:00:00+0530",
        "2026-11-01T10:00:00+05",
        "2026-11-01T10:00:00UTC",
        "2026-11-01T10:00:00ZZ",
        "2026-11-01T24:00:00Z",
        "2026-11-01T10:60:00Z",
        "2026-11-01T10:00:61Z",
        "2026-13-01T10:00:00Z",
        "2026-00-01T10:00:00Z",
        "2026-11-00T10:00:00Z",
        "2026-11-31T10:00:00Z",
        "2026-02-29T10:00:00Z",
        "2100-02-29T10:00:00Z",
        "2026-04-31T10:00:00Z",
        "26-11-01T10:00:00Z",
        "2026-1-01T10:00:00Z",
        "2026-11-01T10:00:00Z\n",
        " 2026-11-01T10:00:00Z",
        "2026-11-0\u0661T10:00:00Z",
        "2026-W44-7T10:00:00Z",
        "1793527200",
        "2026-11-01T10:00:60Z",
        "2026-11-01T23:59:60+01:00",
    ],
)
def test_invalid_times(time: str) -> None:
    result = check(with_(page(), "time", time))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_FIELD, result
    assert [e["loc"] for e in result.errors] == ["time"]


@pytest.mark.parametrize("time", [1793527200, None, True, ["2026-11-01T10:00:00Z"]], ids=repr)
def test_a_time_that_is_not_a_string(time: object) -> None:
    expected = "missing_field" if time is None else "invalid_field"
    assert reason_of(with_(page(), "time", time)) == expected


@pytest.mark.parametrize(
    ("time", "utc"),
    [
        ("2026-11-01T10:00:00Z", "2026-11-01T10:00:00Z"),
        ("2026-11-01t10:00:00z", "2026-11-01T10:00:00Z"),
        ("2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00Z"),
        ("2026-11-01T10:00:00-00:00", "2026-11-01T10:00:00Z"),
        ("2026-11-01T15:30:00+05:30", "2026-11-01T10:00:00Z"),
        ("2026-11-01T06:30:00-03:30", "2026-11-01T10:00:00Z"),
        ("2026-11-02T09:59:00+23:59", "2026-11-01T10:00:00Z"),
        ("2026-10-31T10:01:00-23:59", "2026-11-01T10:00:00Z"),
        ("2026-11-01T00:30:00+01:00", "2026-10-31T23:30:00Z"),
        ("2026-11-01T10:00:00.5Z", "2026-11-01T10:00:00.5Z"),
        ("2026-11-01T10:00:00.500Z", "2026-11-01T10:00:00.5Z"),
        ("2026-11-01T10:00:00.000000000Z", "2026-11-01T10:00:00Z"),
        ("2026-11-01T10:00:00.123456789Z", "2026-11-01T10:00:00.123456789Z"),
        ("2026-11-01T11:00:00.123456780+01:00", "2026-11-01T10:00:00.12345678Z"),
        ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"),
        ("2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"),
        ("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"),
        ("2025-01-01T00:30:00+01:00", "2024-12-31T23:30:00Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999999Z"),
        ("2016-12-31T18:59:60.5-05:00", "2016-12-31T23:59:59.999999999Z"),
    ],
)
def test_times_are_normalised_to_utc(time: str, utc: str) -> None:
    result = check(with_(page(), "time", time))
    assert isinstance(result, ValidEvent), result
    assert result.time == utc


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Bad", "x"),
        ("a_b", "x"),
        ("a-b", "x"),
        ("x" * 21, "x"),
        ("ümlaut", "x"),
        ("", "x"),
        ("data_base64", "eyJhIjoxfQ=="),
        ("priority", 1.5),
        ("priority", 1.0),
        ("priority", 1e2),
        ("priority", []),
        ("priority", {"level": 1}),
    ],
)
def test_invalid_extension_attributes(name: str, value: object) -> None:
    result = check(with_(page(), name, value))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_FIELD
    assert [e["loc"] for e in result.errors] == [name]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ("x" * 20, "x"),
        ("a1", ""),
        ("sequence", 42),
        ("sequence", -7),
        ("sequence", 2**70),
        ("replayed", True),
        ("replayed", False),
        ("whatever", None),
        ("Bad_Name", None),
        ("data_base64", None),
    ],
)
def test_valid_extension_attributes(name: str, value: object) -> None:
    result = check(with_(page(), name, value))
    assert isinstance(result, ValidEvent), result
    if value is None:
        assert name not in result.extensions
    else:
        assert result.extensions[name] == value and type(result.extensions[name]) is type(value)


def test_data_base64_with_data_is_invalid() -> None:
    result = check(with_(page(), "data_base64", "eyJhIjoxfQ=="))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_FIELD
    assert "data_base64" in result.errors[0]["msg"]


@pytest.mark.parametrize("data", [[], [1, 2], "text", 5, True], ids=repr)
def test_data_that_is_not_an_object_is_invalid(data: object) -> None:
    assert locs(with_(page(), "data", data)) == ["data"]


@pytest.mark.parametrize("builder", [order_v1, order_v2, page, reading])
def test_unknown_data_fields_are_invalid(builder) -> None:  # type: ignore[no-untyped-def]
    assert locs(with_(builder(), "data.note", "hi")) == ["data.note"]


def test_unknown_fields_in_order_items_are_invalid() -> None:
    assert locs(with_(order_v2(), "data.items.0.colour", "red")) == ["data.items.0.colour"]


def test_a_v1_order_with_v2_fields_is_invalid() -> None:
    assert set(locs(with_(with_(order_v1(), "data.channel", "web"), "data.discount", 0))) == {
        "data.channel",
        "data.discount",
    }


@pytest.mark.parametrize(
    ("builder", "path", "value"),
    [
        (order_v2, "data.order_id", ""),
        (order_v2, "data.order_id", "o" * 65),
        (order_v2, "data.order_id", 17),
        (order_v2, "data.customer_id", ""),
        (order_v2, "data.currency", "eur"),
        (order_v2, "data.currency", "EURO"),
        (order_v2, "data.currency", "E1R"),
        (order_v2, "data.currency", "ÉUR"),
        (order_v2, "data.channel", "phone"),
        (order_v2, "data.channel", "unknown"),
        (order_v2, "data.channel", "WEB"),
        (order_v2, "data.items", []),
        (order_v2, "data.items", "A-1"),
        (order_v2, "data.items", {"sku": "A-1"}),
        (order_v2, "data.items.0.sku", ""),
        (order_v2, "data.items.0.sku", "s" * 33),
        (order_v2, "data.items.0.quantity", "2"),
        (order_v2, "data.items.0.quantity", Decimal("2.0")),
        (order_v2, "data.items.0.quantity", Decimal("2E+1")),
        (order_v2, "data.items.0.quantity", True),
        (order_v2, "data.items.0.quantity", 0),
        (order_v2, "data.items.0.quantity", 10001),
        (order_v2, "data.items.0.quantity", -1),
        (order_v2, "data.items.0", "A-1"),
        (page, "data.session_id", ""),
        (page, "data.session_id", "s" * 65),
        (page, "data.url", "ftp://files.contoso.com/a"),
        (page, "data.url", "/relative/page"),
        (page, "data.url", "https://"),
        (page, "data.url", "https:///path"),
        (page, "data.url", "https://exa mple.com/"),
        (page, "data.url", "https://shop.contoso.com/caf\u00e9"),
        (page, "data.url", "mailto:someone@contoso.com"),
        (page, "data.url", "https://shop.contoso.com/" + "a" * 2024),
        (page, "data.url", 42),
        (page, "data.referrer", "javascript:alert(1)"),
        (page, "data.referrer", ""),
        (page, "data.duration_ms", -1),
        (page, "data.duration_ms", 86_400_001),
        (page, "data.duration_ms", Decimal("1.5")),
        (page, "data.duration_ms", Decimal("1000.0")),
        (page, "data.duration_ms", "1000"),
        (page, "data.duration_ms", False),
        (page, "data.user_agent", "u" * 513),
        (page, "data.user_agent", 5),
        (reading, "data.device_id", ""),
        (reading, "data.temperature_c", Decimal("-90.01")),
        (reading, "data.temperature_c", Decimal("150.0000001")),
        (reading, "data.temperature_c", Decimal("1e3")),
        (reading, "data.temperature_c", "21.5"),
        (reading, "data.temperature_c", True),
        (reading, "data.humidity_pct", Decimal("100.5")),
        (reading, "data.humidity_pct", -1),
        (reading, "data.humidity_pct", "50"),
        (reading, "data.humidity_pct", False),
        (reading, "data.battery_pct", 101),
        (reading, "data.battery_pct", -1),
        (reading, "data.battery_pct", Decimal("50.0")),
        (reading, "data.battery_pct", "80"),
        (reading, "data.battery_pct", True),
    ],
)
def test_invalid_data_fields(builder, path: str, value: object) -> None:  # type: ignore[no-untyped-def]
    result = check(with_(builder(), path, value))
    assert isinstance(result, Rejection), result
    assert result.reason is Reason.INVALID_FIELD
    assert path in [e["loc"] for e in result.errors], result.errors


@pytest.mark.parametrize(
    ("builder", "path", "value"),
    [
        (page, "data.url", "https://shop.contoso.com"),
        (page, "data.url", "HTTP://SHOP.CONTOSO.COM/A"),
        (page, "data.url", "http://10.0.0.1:8080/a?b=c#d"),
        (page, "data.url", "https://[2001:db8::1]/x"),
        (page, "data.url", "https://shop.contoso.com/search?q=caf%C3%A9"),
        (page, "data.url", "https://shop.contoso.com/" + "a" * 2023),
        (page, "data.duration_ms", 0),
        (page, "data.duration_ms", 86_400_000),
        (page, "data.user_agent", ""),
        (page, "data.user_agent", "u" * 512),
        (reading, "data.temperature_c", -90),
        (reading, "data.temperature_c", 150),
        (reading, "data.temperature_c", Decimal("-90.0")),
        (reading, "data.temperature_c", Decimal("150.000")),
        (reading, "data.temperature_c", Decimal("1.5e1")),
        (reading, "data.temperature_c", Decimal("-0.0")),
        (reading, "data.temperature_c", 0),
        (reading, "data.humidity_pct", 0),
        (reading, "data.humidity_pct", Decimal("100.0")),
        (reading, "data.battery_pct", 0),
        (reading, "data.battery_pct", 100),
        (order_v2, "data.items.0.quantity", 10000),
        (order_v2, "data.items.0.sku", "s" * 32),
        (order_v2, "data.order_id", "o" * 64),
    ],
)
def test_valid_data_fields(builder, path: str, value: object) -> None:  # type: ignore[no-untyped-def]
    event = with_(builder(), path, value)
    if builder is order_v2 and path == "data.items.0.quantity":
        event = with_(event, "data.total", str(Decimal("12.50") * value + 5 - Decimal("0.50")))  # type: ignore[operator]
    assert reason_of(event) == "valid"


def test_an_order_with_100_items_is_valid_and_101_is_not() -> None:
    items = [{"sku": f"S{i}", "quantity": 1, "unit_price": "1.00"} for i in range(101)]
    assert reason_of(order_v2(items=items[:100], discount=0, total=100)) == "valid"
    assert locs(order_v2(items=items, discount=0, total=101)) == ["data.items"]


def test_every_invalid_field_is_reported() -> None:
    event = with_(with_(order_v2(), "tenantid", "BAD"), "data.items.0.quantity", "2")
    event = with_(event, "time", "2026-02-30T00:00:00Z")
    event = with_(event, "Bad_Name", 1)
    assert set(locs(event)) == {"tenantid", "data.items.0.quantity", "time", "Bad_Name"}


def test_error_messages_read_well() -> None:
    result = check(with_(page(), "tenantid", "Acme"))
    assert isinstance(result, Rejection)
    assert result.errors == ({"loc": "tenantid", "msg": result.errors[0]["msg"]},)
    assert "pattern" not in result.errors[0]["msg"] and "a-z" in result.errors[0]["msg"]


def test_invalid_field_outranks_time_out_of_range_and_business_rule() -> None:
    event = with_(order_v2(total="1.00"), "time", "1999-01-01T00:00:00Z")
    assert reason_of(event) == "time_out_of_range"
    assert reason_of(with_(event, "subject", "")) == "invalid_field"


def test_calendar_errors_outrank_time_out_of_range() -> None:
    assert reason_of(with_(page(), "time", "1999-02-29T00:00:00Z")) == "invalid_field"


# -- 10 time_out_of_range -----------------------------------------------------------------


@pytest.mark.parametrize(
    "time",
    [
        "1999-12-31T23:59:59.999999999Z",
        "1970-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "2000-01-01T00:59:59+01:00",
        "2026-11-01T12:05:00.000000001Z",
        "2026-11-01T13:05:01+01:00",
        "2999-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999-23:59",
        "1998-12-31T23:59:60Z",
    ],
)
def test_times_outside_the_range_are_out_of_range(time: str) -> None:
    result = check(with_(page(), "time", time))
    assert isinstance(result, Rejection) and result.reason is Reason.TIME_OUT_OF_RANGE, result
    assert result.errors[0]["loc"] == "time"


@pytest.mark.parametrize(
    "time",
    [
        "2000-01-01T00:00:00Z",
        "2000-01-01T01:00:00+01:00",
        "1999-12-31T23:00:00-01:00",
        "2026-11-01T12:05:00Z",
        "2026-11-01T12:05:00.000000000Z",
        "2026-11-01T13:05:00+01:00",
        "2026-11-01T12:04:59.999999999Z",
    ],
)
def test_times_at_the_edges_of_the_range_are_accepted(time: str) -> None:
    assert reason_of(with_(page(), "time", time)) == "valid"


def test_the_upper_bound_follows_now_to_the_nanosecond() -> None:
    now = NOW + timedelta(microseconds=250)
    event = with_(page(), "time", "2026-11-01T12:05:00.000250Z")
    assert reason_of(event, now) == "valid"
    assert reason_of(with_(event, "time", "2026-11-01T12:05:00.000250001Z"), now) == "time_out_of_range"


def test_a_naive_now_is_taken_as_utc() -> None:
    event = with_(page(), "time", "2026-11-01T12:05:00Z")
    assert reason_of(event, NOW.replace(tzinfo=None)) == "valid"
    assert reason_of(event, NOW.replace(tzinfo=None) - timedelta(seconds=1)) == "time_out_of_range"


def test_time_out_of_range_outranks_business_rule() -> None:
    assert reason_of(with_(order_v2(total="1.00"), "time", "2999-01-01T00:00:00Z")) == "time_out_of_range"


# -- 11 business_rule ---------------------------------------------------------------------


@pytest.mark.parametrize("total", ["29.49", "29.51", "30.00", "0", 29.5001, Decimal("29.500000000000000001")])
def test_a_total_that_does_not_add_up_breaks_the_business_rule(total: object) -> None:
    result = check(order_v2(total=total))
    assert isinstance(result, Rejection) and result.reason is Reason.BUSINESS_RULE
    assert result.errors[0]["loc"] == "data.total" and "29.50" in result.errors[0]["msg"]


@pytest.mark.parametrize("total", ["29.50", "29.5", 29.5, Decimal("29.50000"), Decimal("2.95e1"), "0029.50"])
def test_a_total_that_adds_up_in_any_spelling_is_fine(total: object) -> None:
    assert reason_of(order_v2(total=total)) == "valid"


def test_v1_orders_have_no_discount() -> None:
    assert reason_of(order_v1(total=3.75)) == "valid"
    assert reason_of(order_v1(total=3.70)) == "business_rule"


def test_a_discount_of_the_whole_amount_gives_a_zero_total() -> None:
    assert reason_of(order_v2(discount="30.00", total=0)) == "valid"


def test_a_discount_larger_than_the_amount_cannot_add_up() -> None:
    assert reason_of(order_v2(discount="31.00", total=0)) == "business_rule"


def test_tenths_add_up_exactly() -> None:
    items = [
        {"sku": "A", "quantity": 1, "unit_price": Decimal("0.1")},
        {"sku": "B", "quantity": 1, "unit_price": Decimal("0.2")},
    ]
    assert reason_of(order_v2(items=items, discount=0, total=Decimal("0.3"))) == "valid"
    assert reason_of(order_v2(items=items, discount=0, total=Decimal("0.30000000000000004"))) == "business_rule"
    items = [{"sku": "A", "quantity": 3, "unit_price": Decimal("0.1")}]
    assert reason_of(order_v2(items=items, discount=Decimal("0.1"), total=Decimal("0.2"))) == "valid"


def test_amounts_are_read_from_their_literal_not_through_a_float() -> None:
    exact_binary_tenth = Decimal("0.1000000000000000055511151231257827021181583404541015625")
    items = [{"sku": "A", "quantity": 1, "unit_price": exact_binary_tenth}]
    assert reason_of(order_v2(items=items, discount=0, total=Decimal("0.1"))) == "business_rule"
    assert reason_of(order_v2(items=items, discount=0, total=exact_binary_tenth)) == "valid"


def test_large_quantities_and_amounts_stay_exact() -> None:
    items = [{"sku": "A", "quantity": 10000, "unit_price": Decimal("99999999999999.99")}] * 100
    total = Decimal("99999999999999.99") * 10000 * 100
    assert reason_of(order_v2(items=items, discount=0, total=total)) == "valid"
    assert reason_of(order_v2(items=items, discount=0, total=str(total + Decimal("0.01")))) == "business_rule"


def test_yen_orders_in_whole_units() -> None:
    items = [{"sku": "A", "quantity": 3, "unit_price": 1500}]
    event = with_(order_v2(items=items, discount=500, total=4000), "data.currency", "JPY")
    assert reason_of(event) == "valid"


# -- reasons after validation -------------------------------------------------------------


def test_enrichment_reasons_are_not_decided_by_validation() -> None:
    # Unknown tenants and currencies are well-formed: enrichment rejects them later.
    assert reason_of(with_(page(), "tenantid", "wayne-enterprises")) == "valid"
    assert reason_of(with_(order_v2(), "data.currency", "XTS")) == "valid"


def test_reason_codes_are_in_the_contract_order() -> None:
    assert [r.value for r in Reason] == [
        "too_large", "invalid_encoding", "too_deep", "malformed_json", "not_an_object",
        "unsupported_specversion", "missing_field", "unknown_type", "invalid_field",
        "time_out_of_range", "business_rule", "conflicting_duplicate", "unknown_tenant",
        "unknown_currency", "processing_failed",
    ]  # fmt: skip
    assert [r.order for r in Reason] == list(range(1, 16))
    assert Reason("invalid_field") is Reason.INVALID_FIELD and str(Reason.TOO_DEEP) == "too_deep"


def test_every_rejection_has_at_least_one_error() -> None:
    with pytest.raises(ValueError):
        Rejection(Reason.INVALID_FIELD, ())
    for text in (b"", b"[]", raw(without(page(), "id")), raw(with_(page(), "time", "x"))):
        result = check(text)
        assert isinstance(result, Rejection) and result.errors
        assert all(set(e) == {"loc", "msg"} and e["msg"] for e in result.errors)


def test_rejections_serialise_to_json() -> None:
    result = check(without(page(), "id"))
    assert isinstance(result, Rejection)
    assert json.loads(json.dumps(result.as_dict())) == {
        "reason": "missing_field",
        "errors": [{"loc": "id", "msg": "is required"}],
    }


def test_all_registered_types_validate() -> None:
    for builder, type_ in ((order_v1, ORDER_V1), (order_v2, ORDER_V2), (page, PAGE), (reading, READING)):
        result = check(builder())
        assert isinstance(result, ValidEvent) and result.type == type_
