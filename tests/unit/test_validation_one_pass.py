"""The fast path gives exactly what the general path gives.

``schemas.validate_event`` first runs one pydantic validation (``plain_model()``, the one-pass
schema that builds the stored shapes) and a thin finish; whatever it refuses goes to the general
path (the wire model, each type's ``normalise``, the re-examination of failures). Here every
input is judged both ways, the second by the general path alone (``validate_exactly``), and the
answers must be identical: the same ``ValidEvent`` (fields, ``__dict__``, fields set, exact
decimals, canonical JSON) or the same ``Rejection`` (reason and errors, in order).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_schema_builders import BUILDERS, NOW, dumps, order_v1, order_v2, page, reading, with_, without

import schemas.validation as validation
from schemas import Rejection, ValidEvent, plain_model, validate_event
from schemas.fast import SlowPath, utc_time
from schemas.money import AMOUNT_LOOKUP, canonical_money, one_pass_amount
from schemas.numbers import canonical_number
from schemas.timestamps import TIME_RE, TimeFormatError, TimeRange, normalise_matched
from schemas.types.device_reading import MEASURE_LOOKUP

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def general(raw: bytes, now: datetime = NOW) -> ValidEvent | Rejection:
    """The general path alone (every check in the contract's order, no one-pass schema)."""
    return validation.validate_exactly(raw, now=now)


def same(raw: bytes | str, now: datetime = NOW) -> ValidEvent | Rejection:
    """Judge ``raw`` both ways; fail unless the two answers are identical in every respect."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    slow = general(data, now)
    fast = validate_event(raw, now=now)
    assert type(fast) is type(slow), (fast, slow)
    if isinstance(slow, Rejection):
        assert fast == slow
        return fast
    assert isinstance(fast, ValidEvent)
    assert fast == slow
    assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__pydantic_extra__ is None and fast.__pydantic_private__ is None
    assert type(fast.data) is type(slow.data)
    assert fast.data.__dict__ == slow.data.__dict__ and list(fast.data.__dict__) == list(slow.data.__dict__)
    assert fast.data.model_fields_set == slow.data.model_fields_set
    assert type(fast.time) is str and type(fast.extensions) is dict
    assert fast.model_dump_json() == slow.model_dump_json()
    assert repr(fast) == repr(slow)  # Decimal('12.50') and Decimal('12.5') are equal but not the same
    return fast


def raw(event: Any) -> bytes:
    return dumps(event).encode()


def test_plain_model_is_the_validation_the_platform_runs() -> None:
    assert validation.EVENT_ADAPTER is plain_model()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_gives_the_same_event(name: str) -> None:
    assert isinstance(same(raw(BUILDERS[name]())), ValidEvent)


TIMES = [
    "2026-11-01T10:15:30Z",
    "2026-11-01t10:15:30z",
    "2026-11-01T10:15:30.5Z",
    "2026-11-01T10:15:30.500Z",
    "2026-11-01T10:15:30.000000000Z",
    "2026-11-01T10:15:30.123456789Z",
    "2026-11-01T10:15:30.1234567890Z",  # ten digits: invalid
    "2026-11-01T10:15:30+00:00",
    "2026-11-01T10:15:30-00:00",
    "2026-11-01T11:15:30.250+01:00",
    "2026-11-01T04:45:30.000-05:30",
    "2026-11-01T23:59:30+23:59",
    "2026-11-01T00:00:30-23:59",
    "2026-10-31T23:59:60Z",  # leap second at the end of a UTC day
    "2026-11-01T00:59:60+01:00",
    "2026-11-01T10:15:60Z",  # misplaced leap second
    "2024-02-29T10:15:30Z",
    "2026-02-29T10:15:30Z",
    "2026-02-29T10:15:30+01:00",
    "2026-04-31T10:15:30Z",
    "2026-01-31T10:15:30Z",
    "2026-12-31T23:59:59.999999999Z",
    "1999-12-31T23:59:59.999999999Z",
    "2000-01-01T00:00:00Z",
    "2000-01-01T01:00:00+01:00",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:59:59-23:59",
    "2026-11-01T12:05:00Z",  # now + 5 minutes: the last accepted instant
    "2026-11-01T12:05:00.000000001Z",
    "2026-11-01T13:05:00.000000001+01:00",
    "2026-11-01 10:15:30Z",
    "2026-11-01T10:15:30",
    "２０２６-11-01T10:15:30Z",
]


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("time", TIMES)
def test_times_are_judged_alike(name: str, time: str) -> None:
    same(raw(with_(BUILDERS[name](), "time", time)))


MONEY = [
    0,
    0.0,
    -0.0,
    "0",
    "0.00",
    1,
    "12",
    "12.5",
    "12.50",
    "0012.5",
    12.5,
    12.50,
    0.125,
    1e-7,
    "1e2",
    "-1",
    " 5",
    "12.505",
    True,
    None,
    "1" * 80,
    "1" * 81,
    "9" * 100,
    "9" * 101,
]
MONEY_LITERALS = [
    "1E+1",
    "1e16",
    "1.5e-05",
    "12345678901234567",
    "0.1000000000000000055511151231257827",
    "1e-400",
    "1e-85",
    "1e79",
    "1e81",
    "1e150",
    "2.5e-100",
    "123.450",
    "-0",
]


def _with_money_literal(event: dict[str, Any], path: str, literal: str) -> bytes:
    marker = "__MONEY__"
    return dumps(with_(event, path, marker)).replace(f'"{marker}"', literal).encode()


@pytest.mark.parametrize("value", MONEY, ids=repr)
@pytest.mark.parametrize("path", ["data.total", "data.discount", "data.items.0.unit_price"])
def test_amounts_are_judged_alike(value: Any, path: str) -> None:
    same(raw(with_(order_v2(), path, value)))
    if path != "data.discount":
        same(raw(with_(order_v1(), path, value)))


@pytest.mark.parametrize("literal", MONEY_LITERALS)
@pytest.mark.parametrize("path", ["data.total", "data.discount", "data.items.1.unit_price"])
def test_amount_literals_are_judged_alike(literal: str, path: str) -> None:
    same(_with_money_literal(order_v2(), path, literal))


def test_totals_that_add_up_only_exactly() -> None:
    items = [{"sku": "A", "quantity": 1, "unit_price": 0.1}, {"sku": "B", "quantity": 2, "unit_price": 0.1}]
    assert isinstance(same(raw(order_v2(items=items, total=0.3, discount=None))), ValidEvent)
    assert isinstance(same(raw(order_v2(items=items, total=0.31, discount=None))), Rejection)
    event = order_v2(items=items, discount=None)
    same(_with_money_literal(event, "data.total", "0.3000000000000000000000001"))
    # out of range and not adding up: the time is reported, not the rule
    same(raw(with_(order_v2(total="1.00"), "time", "2030-01-01T00:00:00Z")))


def _general_path_taken(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The events that reach the general path from now on (``validation._general_path``)."""
    taken: list[bytes] = []
    general_path = validation._general_path

    def counted(data: bytes, time_range: TimeRange) -> ValidEvent | Rejection:
        taken.append(data)
        return general_path(data, time_range)

    monkeypatch.setattr(validation, "_general_path", counted)
    return taken


LINE_TOO_MANY = ["x"] * 101
#: Refusals of every kind, and events the one-pass schema cannot decide: (event, reason or "valid").
REFUSALS: list[tuple[bytes, str]] = [
    (raw(page())[:-1], "malformed_json"),
    (b"[" + raw(page()) + b"]", "not_an_object"),
    (raw(with_(page(), "specversion", "0.3")), "unsupported_specversion"),
    (raw(with_(with_(page(), "specversion", 1.0), "id", None)), "unsupported_specversion"),
    (raw(without(order_v2(), "data.items.0.sku")), "missing_field"),
    (raw(without(with_(reading(), "tenantid", "Bad"), "source")), "missing_field"),
    (raw(with_(page(), "tenantid", "Acme")), "invalid_field"),
    (raw(with_(with_(order_v2(), "data.currency", "eur"), "data.items.0.quantity", 0)), "invalid_field"),
    (raw(with_(page(), "data", [1])), "invalid_field"),
    (raw(with_(reading(), "data.unexpected", 1)), "invalid_field"),
    (raw(with_(page(), "type", "com.contoso.page.viewed.v9")), "unknown_type"),
    (raw(with_(page(), "id", None)), "missing_field"),  # a null: missing where the field is required
    (raw(with_(with_(order_v2(), "data.items.0.sku", None), "data.discount", None)), "missing_field"),
    (raw(with_(order_v1(), "data.discount", None)), "invalid_field"),  # invalid elsewhere
    (raw(with_(page(), "priority", 1.5)), "invalid_field"),  # an extension's value
    (raw(with_(order_v2(), "data.items", "none")), "invalid_field"),  # the lines as a whole
    (raw(with_(order_v2(), "data.items", LINE_TOO_MANY)), "invalid_field"),
    (raw(with_(order_v2(), "data.items", [])), "invalid_field"),
    (raw(with_(order_v2(), "data.items", [None])), "invalid_field"),
    (raw(with_(order_v2(), "data.items", [{"sku": "A", "quantity": 0, "unit_price": "x"}])), "invalid_field"),
    (raw(with_(order_v2(), "data.items", [{"sku": "A"}])), "missing_field"),
    (raw(with_(with_(page(), "Bad_Name", [1]), "data_base64", "AAAA")), "invalid_field"),  # names
    (raw(with_(with_(page(), "Bad_Name", None), "tenantid", "Acme")), "invalid_field"),
    (raw(with_(with_(page(), "time", "2026-02-30T10:00:00Z"), "subject", "")), "invalid_field"),
    (raw(without(with_(page(), "type", "com.contoso.page.viewed.v9"), "id")), "missing_field"),
    (raw(order_v2(total="1.00")), "business_rule"),
    (raw(with_(order_v2(total="1.00"), "time", "2030-01-01T00:00:00Z")), "time_out_of_range"),
    (raw(with_(page(), "subject", 7)).replace(b"7", b"NaN"), "malformed_json"),
    (raw(with_(page(), "Bad_Name", None)), "valid"),  # a null extension is absent, whatever its name
    (raw(with_(page(), "time", "2026-11-01T23:59:60Z")), "time_out_of_range"),  # a leap second
    (raw(with_(with_(order_v2(), "data.channel", "phone"), "data.total", "abc")), "invalid_field"),  # order
    (_with_money_literal(order_v2(discount=None), "data.total", "1.000000000000000000001"), "business_rule"),
    (raw(with_(order_v2(total="1.00"), "tenantid", "")), "invalid_field"),  # the rule and another error
    (raw(with_(page(), "type", "")), "invalid_field"),
]


@pytest.mark.parametrize(("data", "reason"), REFUSALS, ids=range(len(REFUSALS)))
def test_refusals_are_named_alike(data: bytes, reason: str) -> None:
    result = same(data)
    assert (result.reason if isinstance(result, Rejection) else "valid") == reason


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_valid_events_take_the_fast_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = raw(BUILDERS[name]())
    taken = _general_path_taken(monkeypatch)
    assert isinstance(validate_event(data, now=NOW), ValidEvent)
    assert taken == []


def _mutated(event: Any, rng: random.Random) -> Any:
    """``event`` with one to three members, anywhere in it, removed, replaced or added."""
    for _ in range(rng.choice((1, 1, 2, 3))):
        places = list(_containers(event))
        place = rng.choice(places)
        keys = list(place) if isinstance(place, dict) else list(range(len(place)))
        draw = rng.random()
        if keys and draw < 0.3:
            del place[rng.choice(keys)]
        elif keys and draw < 0.8:
            place[rng.choice(keys)] = json.loads(json.dumps(rng.choice(ODD_VALUES)))
        elif isinstance(place, dict):
            place[rng.choice(MEMBER_NAMES)] = json.loads(json.dumps(rng.choice(ODD_VALUES)))
        else:
            place.append(json.loads(json.dumps(rng.choice(ODD_VALUES))))
    return event


def _containers(value: Any) -> Any:
    if isinstance(value, dict | list):
        yield value
        for inner in value.values() if isinstance(value, dict) else value:
            yield from _containers(inner)


ODD_VALUES: list[Any] = [None, 0, 1, -1, 1.5, 0.1, 1e300, 2**70, "", "x", "X" * 300, True, [], [1], {}, {"a": 1}]
ODD_VALUES += ["2026-02-30T10:00:00Z", "2026-11-01T10:00:60+01:00", "2026-11-01T23:59:60Z", "2030-01-01T00:00:00Z"]
ODD_VALUES += ["1.0", "2026-11-01T10:00:00Z", "12.50", "12.505", "-1", "web", "phone", "EUR", "eur", "/rel"]
ODD_VALUES += ["https://x.com/a", "com.contoso.order.placed.v1", "com.contoso.page.viewed.v1", "com.nope.v1", 100.1]
ODD_VALUES += [{"sku": "A", "quantity": 1, "unit_price": "1.00"}, "café", "ü" * 40, "\u2028", "😀" * 65]
MEMBER_NAMES = ["specversion", "id", "source", "type", "time", "tenantid", "subject", "data", "channel", "discount"]
MEMBER_NAMES += ["items", "total", "currency", "sku", "quantity", "unit_price", "url", "temperature_c", "extra"]
MEMBER_NAMES += ["Bad_Name", "traceparent", "data_base64", "family"]


@given(st.sampled_from(sorted(BUILDERS)), st.randoms(use_true_random=False))
@SETTINGS
def test_mutated_events_are_judged_alike(name: str, rng: random.Random) -> None:
    same(raw(_mutated(BUILDERS[name](), rng)))


ZEROS = ["0", "0.0", "-0.0", "0e5", "0.00", "1e-400"]


@pytest.mark.parametrize("literal", ZEROS)
@pytest.mark.parametrize(
    ("name", "path"),
    [("reading", "data.temperature_c"), ("reading", "data.humidity_pct"), ("order_v2", "data.discount")],
)
def test_zeros_are_judged_on_their_literals(name: str, path: str, literal: str) -> None:
    # a zero float may be a literal that underflowed (1e-400): the general path reads the literal
    same(_with_money_literal(BUILDERS[name](), path, literal))
    with pytest.raises(SlowPath):
        AMOUNT_LOOKUP(0.0)
    with pytest.raises(SlowPath):
        MEASURE_LOOKUP(0.0)


IN_RANGE, TOO_LATE = "2026-11-01T10:15:30Z", "2030-01-01T00:00:00Z"


@pytest.mark.parametrize("times", [(IN_RANGE, TOO_LATE), (TOO_LATE, IN_RANGE)])
def test_a_broken_total_with_a_repeated_time_member_is_judged_alike(times: tuple[str, str]) -> None:
    body = json.dumps(order_v2(total="1.00"))
    assert body.endswith("}")
    first, last = times
    same(body[:-1] + f', "time": "{first}", "time": "{last}"}}')


@pytest.mark.parametrize("when", [IN_RANGE, TOO_LATE])
@pytest.mark.parametrize(
    "spelling", ['"time" : "{}"', '"time":\n"{}"', '"\\u0074ime": "{}"', '"time": "{}", "subject": "\\"time\\": x"']
)
def test_a_broken_total_is_judged_at_its_time_however_it_is_written(spelling: str, when: str) -> None:
    body = json.dumps(without(order_v2(total="1.00"), "time"))
    result = same(body[:-1] + ", " + spelling.format(when) + "}")
    assert result.reason == ("business_rule" if when == IN_RANGE else "time_out_of_range")


MEASURES = ["21.5", "21.50", "150", "150.0", "150.00000000000000001", "-90", "-90.5", "0", "0.0", "-0.0"]
MEASURES += ["1e-7", "1.5e1", "2.1e+1", "1e-400", "99.99999999999999", "true", '"21.5"', "null"]


@pytest.mark.parametrize("literal", MEASURES)
@pytest.mark.parametrize("path", ["data.temperature_c", "data.humidity_pct", "data.battery_pct"])
def test_measures_are_judged_alike(literal: str, path: str) -> None:
    same(_with_money_literal(reading(), path, literal))


EXTENSIONS: list[tuple[str, Any]] = [
    ("traceparent", "00-ab-cd-01"),
    ("sequence", 2**80),
    ("replayed", False),
    ("gone", None),
    ("Bad", 1),
    ("Bad", None),
    ("data_base64", "AAAA"),
    ("data_base64", None),
    ("x" * 21, 1),
    ("family", "spoofed"),
    ("extensions", "spoofed"),
    ("\u0000family", "spoofed"),
    ("\u0000extensions", "x"),
    ("ümlaut", 1),
    ("float", 1.5),
    ("object", {"a": 1}),
    ("list", [1]),
]


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize(("key", "value"), EXTENSIONS, ids=[repr(k) for k, _ in EXTENSIONS])
def test_extensions_are_judged_alike(name: str, key: str, value: Any) -> None:
    same(raw(with_(BUILDERS[name](), key, value)))


def test_several_extensions_are_sorted_alike() -> None:
    event = page()
    for key, value in (("zeta", "z"), ("alpha", 1), ("gone", None), ("mid", True)):
        event = with_(event, key, value)
    result = same(raw(event))
    assert isinstance(result, ValidEvent) and list(result.extensions) == ["alpha", "mid", "zeta"]


def test_v1_orders_cannot_smuggle_v2_fields() -> None:
    for key, value in (("channel", "web"), ("discount", "1.00"), ("\u0000channel", "web"), ("\u0000discount", 1)):
        result = same(raw(with_(order_v1(), f"data.{key}", value)))
        assert isinstance(result, Rejection)


ODD_BYTES = [
    b"\xef\xbb\xbf" + raw(page()),
    raw(page()).replace(b"s-1", "sé".encode()),
    raw(page()).replace(b"s-1", b"s\xff"),
    raw(page()).replace(b'"data"', b'"data":' + b"[" * 40 + b"]" * 40 + b',"data"', 1),
    raw(page()).replace(b'"data"', b'"pad":' + b"[" * 20 + b"]" * 20 + b',"data"', 1),
    raw(page()).replace(b"s-1", b"[[[[" * 10),
    raw(page()) + b" ",
    raw(page()) + b"x",
    b"[" + raw(page()) + b"]",
    b"",
    b"null",
    raw(page()).replace(b"s-1", b"s\\u00e9"),
    raw(page()).replace(b"s-1", b"\\ud800"),
    raw(page()).replace(b'"1.0"', b"1.0"),
    raw(page()).replace(b'"com.contoso.page.viewed.v1"', b'"com.contoso.page.viewed.v9"'),
    raw(page()).replace(b'"com.contoso.page.viewed.v1"', b'""'),
    raw(order_v2()).replace(b'"data":{', b'"data":{"order_id":null,'),
    raw(page()).replace(b"12000", b"1" * 5000),
    b" " * 300_000,
]


@pytest.mark.parametrize("data", ODD_BYTES, ids=range(len(ODD_BYTES)))
def test_odd_bytes_are_judged_alike(data: bytes) -> None:
    same(data)


def test_text_and_buffers_are_judged_like_bytes() -> None:
    data = raw(order_v2())
    assert validate_event(data.decode(), now=NOW) == general(data)
    assert validate_event(bytearray(data), now=NOW) == general(data)
    assert validate_event(memoryview(data), now=NOW) == general(data)


def test_the_synthetic_stream_is_judged_alike() -> None:
    from pipeline.synthetic import generate_events

    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    corpus = generate_events(3000, seed=11, now=now, bad_ratio=0.2, duplicate_ratio=0.05, max_oversized=1)
    outcomes = {"valid": 0, "rejected": 0}
    for data in corpus:
        outcomes["valid" if isinstance(same(data, now), ValidEvent) else "rejected"] += 1
    assert outcomes["valid"] > 1000 and outcomes["rejected"] > 300


# -- the pieces, against the functions they stand for -----------------------------------------


@given(st.sampled_from(TIMES + [t.replace("Z", "+05:45") for t in TIMES]))
@SETTINGS
def test_utc_time_is_normalise_matched(text: str) -> None:
    if TIME_RE.fullmatch(text) is None:
        return
    try:
        expected = normalise_matched(text)
    except TimeFormatError:
        with pytest.raises(TimeFormatError):
            utc_time(text)
        return
    if expected[1] is not None:
        with pytest.raises(SlowPath):
            utc_time(text)
    else:
        assert utc_time(text) == expected[0]
        assert utc_time(text) == expected[0]  # again, now that the minute is cached


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S")
    if draw(st.booleans()):
        text += "." + draw(st.from_regex(r"[0-9]{1,9}", fullmatch=True))
    zone = draw(st.sampled_from(["Z", "z", "+00:00", "-00:00", "+05:30", "-03:30", "+23:59", "-23:59", "+01:00"]))
    if draw(st.booleans()):
        text = text.replace("T", "t")
    return text + zone


@given(rfc3339())
@SETTINGS
def test_utc_time_is_normalise_matched_on_any_date_time(text: str) -> None:
    canonical, epoch_ns = normalise_matched(text)
    assert epoch_ns is None
    assert utc_time(text) == canonical and utc_time(text) == canonical


@given(
    st.one_of(
        st.floats(min_value=0, max_value=1e100, allow_nan=False, allow_infinity=False),
        st.from_regex(r"[0-9]{1,90}(\.[0-9]{1,2})?", fullmatch=True),
        st.decimals(min_value=0, max_value=10**12, places=2).map(str),
        st.integers(min_value=0, max_value=10**20).map(float),
    )
)
@SETTINGS
def test_the_amount_lookup_is_canonical_money(value: float | str) -> None:
    try:
        amount = one_pass_amount(value)
    except SlowPath:
        return
    expected = canonical_money(value)
    assert amount == expected and str(amount) == str(expected) and amount.as_tuple() == expected.as_tuple()
    assert AMOUNT_LOOKUP(value).as_tuple() == expected.as_tuple()


def test_the_amount_lookup_refuses_what_needs_an_exact_reading() -> None:
    for value in (0.0, -0.0, 5e-324, 1e100, "1" * 101):
        with pytest.raises(SlowPath):
            AMOUNT_LOOKUP(value)
    assert AMOUNT_LOOKUP(None) == Decimal("0.00")


@given(st.floats(min_value=-90, max_value=150, allow_nan=False, allow_infinity=False))
@SETTINGS
def test_the_measure_lookup_is_the_measures_literal(value: float) -> None:
    if abs(value) < 2.2250738585072014e-308:
        with pytest.raises(SlowPath):
            MEASURE_LOOKUP(value)
        return
    assert MEASURE_LOOKUP(value).as_tuple() == canonical_number(Decimal(repr(value))).as_tuple()


@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.decimals(min_value=0, max_value=10**6, places=2)), min_size=1, max_size=5
    ),
    st.sampled_from(["total", "total+0.01", "total-0.01"]),
    st.decimals(min_value=0, max_value=10, places=2),
)
@SETTINGS
def test_generated_orders_are_judged_alike(lines: list[tuple[int, Decimal]], total: str, discount: Decimal) -> None:
    items = [{"sku": f"S{i}", "quantity": q, "unit_price": float(p)} for i, (q, p) in enumerate(lines)]
    exact = sum((Decimal(repr(float(p))) * q for q, p in lines), Decimal(0)) - discount
    amount = {"total": exact, "total+0.01": exact + Decimal("0.01"), "total-0.01": exact - Decimal("0.01")}[total]
    event = order_v2(items=items, discount=str(discount), total=json.loads(str(amount)) if amount >= 0 else 0)
    same(raw(event))


LINES = st.sampled_from([{"sku": "A", "quantity": 1, "unit_price": "1.00"}, {"sku": "A"}, None, "x", {"quantity": 0}])


@given(st.lists(LINES, max_size=102), st.sampled_from([order_v1, order_v2]))
@example([{"sku": "A", "quantity": 1, "unit_price": "1.00"}] * 101, order_v2)
@example([{"sku": "A", "quantity": 1, "unit_price": "1.00"}] * 100 + ["x"], order_v2)
@example(["x"] * 100, order_v1)
@SETTINGS
def test_order_lines_are_judged_alike(lines: list[Any], builder: Any) -> None:
    same(raw(with_(builder(), "data.items", lines)))


UTF8_EVENTS = [
    with_(page(), "subject", "café ☕"),
    with_(page(), "subject", "😀" * 256),  # lengths are counted in code points
    with_(page(), "subject", "😀" * 257),
    with_(with_(order_v2(), "data.customer_id", "Zoë"), "data.items.0.sku", None),
    with_(reading(), "data.device_id", "\u2028"),
]


@pytest.mark.parametrize("event", UTF8_EVENTS, ids=range(len(UTF8_EVENTS)))
def test_utf8_events_take_the_fast_path(event: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.dumps(event, ensure_ascii=False).encode()
    assert not data.isascii()
    expected = same(data)
    taken = _general_path_taken(monkeypatch)
    assert validate_event(data, now=NOW) == expected
    assert taken == ([] if isinstance(expected, ValidEvent) else [data])
