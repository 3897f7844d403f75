"""Money and measured values stay exact; times normalise to one UTC spelling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_schema_builders import NOW, check, order_v2, raw, reading, reason_of, with_

from schemas import Reason, Rejection, ValidEvent
from schemas.fast import SlowPath
from schemas.money import MoneyError, canonical_money, net_total, one_pass_amount
from schemas.numbers import canonical_number, floats_may_be_inexact
from schemas.timestamps import (
    EARLIEST_NS,
    TimeFormatError,
    TimeRange,
    civil_from_days,
    datetime_to_ns,
    days_from_civil,
    format_utc,
    parse_rfc3339,
)
from schemas.types.device_reading import one_pass_measure

# -- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (10.0, "10.00"),
        ("10", "10.00"),
        ("10.0", "10.00"),
        ("10.00", "10.00"),
        ("0010.5", "10.50"),
        (Decimal("1E+1"), "10.00"),
        (12.5, "12.50"),
        (0.125, "0.125"),
        (Decimal("0.1250"), "0.125"),
        (Decimal("0"), "0.00"),
        (Decimal("-0.0"), "0.00"),
        ("0", "0.00"),
        (1e20, "100000000000000000000.00"),
        (Decimal("1e-100"), "0." + "0" * 99 + "1"),
        (7, "7.00"),
    ],
)
def test_amounts_have_one_canonical_form(value: object, canonical: str) -> None:
    amount = canonical_money(value)
    assert str(amount) == canonical or format(amount, "f") == canonical
    assert amount == Decimal(canonical)


@pytest.mark.parametrize("value", [Decimal("-0.01"), -1, Decimal("1e100"), Decimal("1e-101"), Decimal("NaN")])
def test_amounts_out_of_bounds_are_refused(value: object) -> None:
    with pytest.raises(MoneyError):
        canonical_money(value)


def test_a_zero_float_is_left_to_its_literal() -> None:
    # a zero or subnormal float may be a literal that underflowed: the one-pass schema refuses it
    for lookup in (one_pass_amount, one_pass_measure):
        for value in (0.0, -0.0, 5e-324):
            with pytest.raises(SlowPath):
                lookup(value)


@pytest.mark.parametrize(
    "spelling",
    ["10.00", "10.0", "10", Decimal("10"), Decimal("10.0"), Decimal("10.000"), Decimal("1E+1"), Decimal("1.0e1")],
    ids=repr,
)
def test_every_money_spelling_gives_the_same_event(spelling: object) -> None:
    items = [{"sku": "A", "quantity": 1, "unit_price": spelling}]
    base = check(order_v2(items=items, discount=0, total="10.00"))
    other = check(order_v2(items=items, discount="0.00", total=spelling))
    assert isinstance(base, ValidEvent) and isinstance(other, ValidEvent)
    assert base == other and base.content_key() == other.content_key()
    assert '"total":"10.00"' in other.model_dump_json()


@pytest.mark.parametrize(
    "value",
    [
        "12.505",
        "1e2",
        "-1",
        "+1",
        ".5",
        "5.",
        " 5",
        "5 ",
        "1,50",
        "１２",
        "0x10",
        "",
        True,
        False,
        [],
        {},
        Decimal("-0.01"),
    ],
    ids=repr,
)
def test_money_that_is_not_an_amount_is_invalid(value: object) -> None:
    result = check(with_(order_v2(), "data.total", value))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_FIELD
    assert [e["loc"] for e in result.errors] == ["data.total"]


@pytest.mark.parametrize("literal", [Decimal("1e100"), Decimal("1e400"), Decimal("1e-101"), Decimal("1e-400")], ids=str)
def test_money_beyond_the_implementation_limits_is_invalid(literal: Decimal) -> None:
    items = [{"sku": "A", "quantity": 1, "unit_price": literal}]
    result = check(order_v2(items=items, discount=0, total=literal))
    assert isinstance(result, Rejection) and result.reason is Reason.INVALID_FIELD
    assert "data.total" in [e["loc"] for e in result.errors]


def test_money_numbers_may_have_more_than_two_decimals() -> None:
    items = [{"sku": "A", "quantity": 8, "unit_price": Decimal("0.125")}]
    result = check(order_v2(items=items, discount=0, total=1))
    assert isinstance(result, ValidEvent)
    assert '"unit_price":"0.125"' in result.model_dump_json()


def test_a_zero_amount_given_as_a_number_is_fine() -> None:
    items = [{"sku": "A", "quantity": 1, "unit_price": 0}]
    result = check(order_v2(items=items, discount=Decimal("0.0"), total=Decimal("-0")))
    assert isinstance(result, ValidEvent)
    assert result.data.total == 0 and str(result.data.total) == "0.00"  # type: ignore[union-attr]


def test_money_with_many_digits_is_exact() -> None:
    price = Decimal("1234567890123.4567891")
    items = [{"sku": "A", "quantity": 3, "unit_price": price}]
    result = check(order_v2(items=items, discount=0, total=price * 3))
    assert isinstance(result, ValidEvent)
    assert result.data.items[0].unit_price == price  # type: ignore[union-attr]


def test_net_total_is_exact() -> None:
    class Line:
        def __init__(self, quantity: int, unit_price: str) -> None:
            self.quantity, self.unit_price = quantity, Decimal(unit_price)

    assert net_total([Line(1, "0.1"), Line(2, "0.1")], Decimal("0.3")) == 0
    exact = Context(prec=100).multiply(Decimal("9" * 40 + ".99"), 10_000)
    assert net_total([Line(10_000, "9" * 40 + ".99")], Decimal(0)) == exact
    assert exact != Decimal("9" * 40 + ".99") * 10_000  # the default context would round


# -- measured values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        (Decimal("21.50"), "21.5"),
        (Decimal("21"), "21"),
        (Decimal("21.0"), "21"),
        (Decimal("-0.0"), "0"),
        (Decimal("1.5e1"), "15"),
        (Decimal("1e-5"), "0.00001"),
        (Decimal("-89.999999999999999999"), "-89.999999999999999999"),
        (Decimal("149.99999999999999999999"), "149.99999999999999999999"),
        (Decimal("0.1"), "0.1"),
    ],
    ids=str,
)
def test_temperatures_keep_their_literal_value(literal: Decimal, stored: str) -> None:
    result = check(reading(temperature_c=literal))
    assert isinstance(result, ValidEvent), result
    assert result.data.temperature_c == Decimal(stored)  # type: ignore[union-attr]
    assert f'"temperature_c":"{stored}"' in result.model_dump_json()


def test_measures_with_different_spellings_are_the_same_content() -> None:
    a = check(reading(temperature_c=Decimal("21.50"), humidity_pct=40))
    b = check(reading(temperature_c=Decimal("2.15e1"), humidity_pct=Decimal("40.0")))
    assert isinstance(a, ValidEvent) and isinstance(b, ValidEvent)
    assert a.content_key() == b.content_key()


def test_a_temperature_just_past_the_limit_is_caught_on_its_literal() -> None:
    # As a float this is exactly 150.0; its literal is above the limit.
    assert reason_of(reading(temperature_c=Decimal("150.00000000000000001"))) == "invalid_field"
    assert reason_of(reading(temperature_c=Decimal("-90.00000000000000001"))) == "invalid_field"
    assert reason_of(reading(humidity_pct=Decimal("100.00000000000000001"))) == "invalid_field"


def test_a_tiny_temperature_is_not_mistaken_for_zero() -> None:
    result = check(reading(temperature_c=Decimal("1e-400")))
    assert isinstance(result, ValidEvent)
    assert result.data.temperature_c == Decimal("1e-400")  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [21.5, 0.1, 1e-5, 150.0, -90.0, 123456789012345.0, 2.5e-300])
def test_a_measure_read_through_a_float_is_its_shortest_literal(value: float) -> None:
    assert one_pass_measure(value).as_tuple() == canonical_number(Decimal(repr(value))).as_tuple()


def test_the_inexact_literal_scan() -> None:
    assert not floats_may_be_inexact(raw(order_v2()))
    assert floats_may_be_inexact(b'{"a": 0.30000000000000001}')
    assert floats_may_be_inexact(b'{"a": 1234567890123456}')
    assert not floats_may_be_inexact(b'{"a": 123456789012345}')
    # wherever a literal begins: after a colon or in an array, after whitespace, negative
    for text in (b'{"a":-1234567890123456}', b'{"a":[1,\n 0.000000000000001]}', b'{"a":[1234567890123456.5]}'):
        assert floats_may_be_inexact(text), text
    # digits in strings, or in an exponent, are not a literal's mantissa
    trace = b'{"traceparent":"00-dd2b97a170486767150178842b04f47b-d65867a9fd2976af-01","a":1.5}'
    for text in (trace, b'{"id":"order-12345678901234567","a":1}', b'{"a":1e0000000000000000005}'):
        assert not floats_may_be_inexact(text), text


LITERALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(0, 20).flatmap(lambda places: st.decimals(allow_nan=False, allow_infinity=False, places=places)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda value: Decimal(repr(value))),
)


@given(st.lists(LITERALS, max_size=4))
def test_a_literal_the_scan_lets_through_is_its_float(values: list[Decimal]) -> None:
    text = '{"id": "x1234567890123456789", "values": [' + ", ".join(map(str, values)) + "]}"
    parsed = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    if not floats_may_be_inexact(text.encode()):
        for literal, exact in zip(values, parsed["values"], strict=True):
            value = float(literal)
            if value == 0 or not 1e-300 < abs(value) < 1e300:
                continue  # zero, subnormal or overflowing: refused or read exactly elsewhere
            assert Decimal(repr(value)) == exact, literal


# -- time ----------------------------------------------------------------------------------


@given(st.integers(min_value=-800_000, max_value=3_000_000))
def test_civil_dates_round_trip(days: int) -> None:
    year, month, day = civil_from_days(days)
    assert days_from_civil(year, month, day) == days


@given(st.integers(min_value=-719_162, max_value=2_932_896))
def test_civil_dates_agree_with_the_standard_library(days: int) -> None:
    date = (datetime(1970, 1, 1) + timedelta(days=days)).date()
    assert civil_from_days(days) == (date.year, date.month, date.day)


def _seconds(moment: datetime) -> str:
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S")


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=0, max_value=999_999_999),
)
def test_parsing_agrees_with_the_standard_library(moment: datetime, offset_min: int, digits: int, nanos: int) -> None:
    moment = moment.replace(microsecond=0)
    sign = "+" if offset_min >= 0 else "-"
    offset = f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    fraction = f"{nanos:09d}"[:digits]
    text = _seconds(moment) + (f".{fraction}" if digits else "") + offset
    parsed = parse_rfc3339(text)
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_min)))
    utc = aware.astimezone(UTC) if 1 < aware.astimezone(UTC).year < 9999 else None
    if utc is not None:
        kept = fraction.rstrip("0")
        assert parsed.text == _seconds(utc) + (f".{kept}" if kept else "") + "Z"
    seconds = int((aware - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    assert parsed.epoch_ns == seconds * 1_000_000_000 + (int(fraction.ljust(9, "0")) if digits else 0)
    assert parse_rfc3339(parsed.text) == parsed if utc is not None else True


@given(st.integers(min_value=EARLIEST_NS - 10**18, max_value=EARLIEST_NS + 10**19))
def test_format_and_parse_round_trip(epoch_ns: int) -> None:
    assert parse_rfc3339(format_utc(epoch_ns)).epoch_ns == epoch_ns


@given(st.integers(min_value=EARLIEST_NS - 10**12, max_value=EARLIEST_NS + 2 * 10**18), st.integers(0, 10**10))
def test_the_range_check_on_text_agrees_with_the_numbers(epoch_ns: int, ahead: int) -> None:
    now_ns = epoch_ns - 300 * 10**9 - 5_000_000_000 + ahead
    window = TimeRange(now_ns)
    text = format_utc(epoch_ns)
    assert (window.problem(text, None) is None) == (window.problem(text, epoch_ns) is None)


@pytest.mark.parametrize(
    "text",
    ["2026-02-29T00:00:00Z", "2026-11-01T10:00:00", "2016-12-31T23:58:60Z", "2026-11-01T10:00:00Z\n", ""],
)
def test_parse_rfc3339_refuses_what_the_contract_refuses(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_rfc3339(text)


def test_datetime_to_ns_keeps_microseconds() -> None:
    assert datetime_to_ns(datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC)) == EARLIEST_NS + 1000
    assert datetime_to_ns(datetime(2000, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == EARLIEST_NS


@pytest.mark.parametrize(
    ("time", "epoch_seconds"),
    [
        ("2026-11-01T10:00:00Z", 1793527200),
        ("2026-11-01T10:00:00.999999999Z", 1793527200),
        ("2026-11-01T11:00:00.5+01:00", 1793527200),
        ("2000-01-01T00:00:00Z", 946684800),
    ],
)
def test_epoch_seconds_are_rounded_down(time: str, epoch_seconds: int) -> None:
    result = check(with_(reading(), "time", time))
    assert isinstance(result, ValidEvent)
    assert result.epoch_seconds == epoch_seconds
    assert result.timestamp == datetime.fromtimestamp(epoch_seconds, UTC) + timedelta(
        microseconds=(result.epoch_ns % 10**9) // 1000
    )


def test_now_is_honoured_to_the_microsecond() -> None:
    now = NOW + timedelta(microseconds=1)
    assert reason_of(with_(reading(), "time", "2026-11-01T12:05:00.000001Z"), now) == "valid"
    assert reason_of(with_(reading(), "time", "2026-11-01T12:05:00.000001001Z"), now) == "time_out_of_range"
