"""Properties of validation over generated inputs.

- It never raises, whatever the bytes, and always answers ValidEvent or Rejection.
- On events broken in random ways, the reason equals the one a plain, independent
  reading of the contract gives (:func:`contract_reason` below, written without the
  schemas' models), so the fast path and the re-examination of failures agree.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_schema_builders import BUILDERS, NOW, dumps

from schemas import Reason, Rejection, ValidEvent, parse_event_dict, validate_event
from schemas.uris import ABSOLUTE_URI_PATTERN, HTTP_URL_PATTERN, JSON_MEDIA_TYPE_PATTERN, URI_REFERENCE_PATTERN

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(result: ValidEvent | Rejection) -> str:
    assert isinstance(result, ValidEvent | Rejection)
    if isinstance(result, Rejection):
        assert result.reason is not Reason.PROCESSING_FAILED, result
        assert result.errors
        for error in result.errors:
            assert set(error) == {"loc", "msg"}
            assert isinstance(error["loc"], str) and isinstance(error["msg"], str) and error["msg"]
        return result.reason.value
    again = ValidEvent.model_validate_json(result.model_dump_json())
    assert again == result and again.content_key() == result.content_key()
    return "valid"


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    outcome(validate_event(data, now=NOW))


@SETTINGS
@given(st.text(max_size=500))
def test_arbitrary_text_never_raises(text: str) -> None:
    outcome(validate_event(text, now=NOW))


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@SETTINGS
@given(JSON_VALUES)
def test_arbitrary_parsed_values_never_raise(value: Any) -> None:
    outcome(parse_event_dict(value, now=NOW))


# -- an independent reading of the contract ---------------------------------------------

REGISTERED = {
    "com.contoso.order.placed.v1": "order1",
    "com.contoso.order.placed.v2": "order2",
    "com.contoso.page.viewed.v1": "page",
    "com.contoso.device.reading.v1": "reading",
}
# field -> (required, check); checks take an exact value (numbers as Decimal or int)
Check = Any


def is_str(v: Any, lo: int = 0, hi: int = 10**9, pattern: str | None = None) -> bool:
    return isinstance(v, str) and lo <= len(v) <= hi and (pattern is None or re.fullmatch(pattern[1:-1], v) is not None)


def is_int(v: Any, lo: int, hi: int) -> bool:
    return type(v) is int and lo <= v <= hi


def is_number(v: Any, lo: Decimal, hi: Decimal) -> bool:
    return type(v) in (int, Decimal) and lo <= v <= hi


def is_money(v: Any) -> bool:
    if type(v) is str:
        if re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", v) is None:
            return False
        v = Decimal(v)
    if type(v) not in (int, Decimal) or v < 0:
        return False
    d = Decimal(v)
    return d == 0 or (d.normalize().adjusted() < 100 and d.normalize().as_tuple().exponent >= -100)


URL = HTTP_URL_PATTERN
FIELDS: dict[str, dict[str, tuple[bool, Check]]] = {
    "item": {
        "sku": (True, lambda v: is_str(v, 1, 32)),
        "quantity": (True, lambda v: is_int(v, 1, 10000)),
        "unit_price": (True, is_money),
    },
    "order1": {
        "order_id": (True, lambda v: is_str(v, 1, 64)),
        "customer_id": (True, lambda v: is_str(v, 1, 64)),
        "currency": (True, lambda v: is_str(v, 3, 3, "^[A-Z]{3}$")),
        "items": (True, lambda v: isinstance(v, list) and 1 <= len(v) <= 100),
        "total": (True, is_money),
    },
    "page": {
        "session_id": (True, lambda v: is_str(v, 1, 64)),
        "url": (True, lambda v: is_str(v, 1, 2048, URL)),
        "referrer": (False, lambda v: is_str(v, 1, 2048, URL)),
        "duration_ms": (True, lambda v: is_int(v, 0, 86_400_000)),
        "user_agent": (False, lambda v: is_str(v, 0, 512)),
    },
    "reading": {
        "device_id": (True, lambda v: is_str(v, 1, 64)),
        "temperature_c": (True, lambda v: is_number(v, Decimal(-90), Decimal(150))),
        "humidity_pct": (False, lambda v: is_number(v, Decimal(0), Decimal(100))),
        "battery_pct": (False, lambda v: is_int(v, 0, 100)),
    },
}
FIELDS["order2"] = {
    **FIELDS["order1"],
    "channel": (True, lambda v: v in ("web", "store", "mobile")),
    "discount": (False, is_money),
}
TIME = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"([Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
ENVELOPE: dict[str, Check] = {
    "id": lambda v: is_str(v, 1, 128),
    "source": lambda v: is_str(v, 1, 512, URI_REFERENCE_PATTERN),
    "type": lambda v: isinstance(v, str) and v in REGISTERED,
    "tenantid": lambda v: is_str(v, pattern="^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"),
    "subject": lambda v: is_str(v, 1, 256),
    "datacontenttype": lambda v: isinstance(v, str) and re.fullmatch(JSON_MEDIA_TYPE_PATTERN[1:-1], v) is not None,
    "dataschema": lambda v: is_str(v, 1, pattern=ABSOLUTE_URI_PATTERN),
    "data": lambda v: isinstance(v, dict),
}


def time_instant(v: Any) -> int | None:
    """Seconds since the epoch of an accepted time (leap seconds count as :59), else None."""
    m = re.fullmatch(TIME, v) if isinstance(v, str) else None
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days_in = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= month <= 12 and 1 <= day <= days_in[month - 1] and hour <= 23 and minute <= 59 and second <= 60):
        return None
    offset = 0
    if m.group(9):
        if int(m.group(10)) > 23 or int(m.group(11)) > 59:
            return None
        offset = (int(m.group(10)) * 60 + int(m.group(11))) * 60 * (1 if m.group(9) == "+" else -1)
    y, mo = (year - 1, month + 12) if month <= 2 else (year, month)
    days = 365 * y + y // 4 - y // 100 + y // 400 + (153 * (mo - 3) + 2) // 5 + day - 719469
    instant = days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offset
    if second == 60 and instant % 86400 != 86399:
        return None
    return instant


def contract_reason(event: Any, now: datetime) -> str:
    """The reason the contract gives for a parsed event (numbers exact), or ``"valid"``."""
    if not isinstance(event, dict):
        return "not_an_object"
    if (event.get("specversion") is not None and event["specversion"] != "1.0") or type(
        event.get("specversion")
    ) not in (str, type(None)):
        return "unsupported_specversion"
    kind = REGISTERED.get(event.get("type")) if isinstance(event.get("type"), str) else None
    data = event.get("data")
    if any(event.get(name) is None for name in ("specversion", "id", "source", "type", "time", "tenantid", "data")):
        return "missing_field"
    if kind and isinstance(data, dict):
        if any(req and data.get(name) is None for name, (req, _) in FIELDS[kind].items()):
            return "missing_field"
        items = data.get("items")
        if kind.startswith("order") and isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and any(item.get(n) is None for n in FIELDS["item"]):
                    return "missing_field"
    if isinstance(event.get("type"), str) and event["type"] and kind is None:
        return "unknown_type"
    invalid = False
    for name, value in event.items():
        if name == "specversion" or value is None:
            continue
        if name in ENVELOPE:
            invalid |= not ENVELOPE[name](value)
        elif name != "time":
            invalid |= not (re.fullmatch("[a-z0-9]{1,20}", name) and type(value) in (str, int, bool))
    instant = time_instant(event["time"])
    invalid |= instant is None
    if kind and isinstance(data, dict):
        for name, value in data.items():
            if name not in FIELDS[kind]:
                invalid = True
            elif value is not None:
                invalid |= not FIELDS[kind][name][1](value)
        for item in data.get("items") or [] if kind.startswith("order") and isinstance(data.get("items"), list) else []:
            if not isinstance(item, dict) or set(item) - set(FIELDS["item"]):
                invalid = True
            else:
                invalid |= not all(FIELDS["item"][n][1](v) for n, v in item.items())
    if invalid:
        return "invalid_field"
    assert instant is not None
    if instant < 946684800 or instant * 10**9 > int(now.timestamp()) * 10**9 + 300 * 10**9:
        return "time_out_of_range"
    if kind and kind.startswith("order"):
        gross = sum(Decimal(i["quantity"]) * Decimal(i["unit_price"]) for i in data["items"])
        discount = Decimal(data.get("discount") or 0)
        if Decimal(data["total"]) != gross - discount:
            return "business_rule"
    return "valid"


INTERESTING = [
    None, "", " ", "x", "1.0", "1", 0, 1, -1, 7, 100, 10001, 86_400_001, Decimal("1.0"), Decimal("1.5"),
    Decimal("-0.5"), Decimal("150.5"), Decimal("1E+2"), Decimal("0.125"), True, False, [], [1], {}, {"a": 1},
    "Acme", "acme", "globex", "a-b", "2026-11-01T10:00:00Z", "2026-11-01T11:00:00+01:00", "1999-01-01T00:00:00Z",
    "2999-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-01T10:00:00", "2016-12-31T23:59:60Z",
    "com.contoso.page.viewed.v1", "com.contoso.order.placed.v1", "com.contoso.order.placed.v2",
    "com.contoso.device.reading.v1", "com.contoso.unknown.v1", "https://shop.contoso.com/x", "ftp://x/y",
    "/relative", "#frag", "has space", "12.50", "12.505", "1e2", "web", "phone", "EUR", "eur", "application/json",
    "text/plain", "urn:x:y", "0.00", "29.50", "s" * 300,
]  # fmt: skip
NAMES = ["specversion", "id", "source", "type", "time", "tenantid", "subject", "datacontenttype", "dataschema", "data",
         "ext", "Bad", "data_base64", "a_b"]  # fmt: skip
DATA_NAMES = ["order_id", "customer_id", "currency", "items", "total", "channel", "discount", "session_id", "url",
              "referrer", "duration_ms", "user_agent", "device_id", "temperature_c", "humidity_pct", "battery_pct",
              "note"]  # fmt: skip
ITEM_NAMES = ["sku", "quantity", "unit_price", "colour"]


@st.composite
def broken_events(draw: st.DrawFn) -> Any:
    event = BUILDERS[draw(st.sampled_from(sorted(BUILDERS)))]()
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "data", "item"]))
        target: Any = event
        if where == "data" and isinstance(event.get("data"), dict):
            target, names = event["data"], DATA_NAMES
        elif (
            where == "item"
            and isinstance(event.get("data"), dict)
            and isinstance(event["data"].get("items"), list)
            and event["data"]["items"]
            and isinstance(event["data"]["items"][0], dict)
        ):
            target, names = event["data"]["items"][0], ITEM_NAMES
        else:
            names = NAMES
        name = draw(st.sampled_from(names))
        if draw(st.booleans()) and name in target:
            del target[name]
        else:
            target[name] = copy.deepcopy(draw(st.sampled_from(INTERESTING)))
    return event


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_events())
def test_the_reason_is_the_first_failing_check_of_the_contract(event: Any) -> None:
    text = dumps(event)
    expected = contract_reason(json.loads(text, parse_float=Decimal), NOW)
    assert outcome(validate_event(text.encode(), now=NOW)) == expected, text


@SETTINGS
@given(broken_events(), st.randoms(use_true_random=False))
def test_reformatting_never_changes_the_outcome_or_the_content(event: Any, rnd: Any) -> None:
    first = validate_event(dumps(event).encode(), now=NOW)
    parsed = json.loads(dumps(event), parse_float=Decimal)
    keys = list(parsed) if isinstance(parsed, dict) else []
    rnd.shuffle(keys)
    shuffled = {k: parsed[k] for k in keys} if isinstance(parsed, dict) else parsed
    second = validate_event(("\n " + dumps(shuffled, spaced=True) + " \t").encode(), now=NOW)
    assert outcome(first) == outcome(second)
    if isinstance(first, ValidEvent):
        assert isinstance(second, ValidEvent) and first.content_key() == second.content_key()


@SETTINGS
@given(broken_events())
def test_parse_event_dict_agrees_with_validate_event(event: Any) -> None:
    text = dumps(event)
    parsed = json.loads(text, parse_float=Decimal)
    assert outcome(parse_event_dict(parsed, now=NOW)) == outcome(validate_event(text, now=NOW))


def test_the_independent_reading_accepts_the_builders() -> None:
    for builder in BUILDERS.values():
        assert (
            contract_reason(json.loads(dumps(builder()), parse_float=Decimal), datetime(2026, 11, 1, 12, tzinfo=UTC))
            == "valid"
        )
