"""The exported JSON Schemas, used as a producer would: with an independent validator.

Every event the platform accepts must pass its type's schema (checked with the `jsonschema`
package, patterns run by an ECMA-262 engine as in most other languages), and every event it rejects
must fail it wherever JSON Schema can express the rule. The rules it cannot express are listed
here and in docs/schemas.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import regress
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from pipeline.framing import split_file
from pipeline.synthetic import SAMPLE_NOW, generate_labelled
from schemas import Rejection, ValidEvent, validate_event
from schemas.export import JSON_DIR, all_schemas, json_schemas
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
NOW = SAMPLE_NOW

_REGEX_CACHE: dict[str, Any] = {}


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """`pattern` as JSON Schema defines it: an ECMA-262 regular expression, unanchored."""
    if not validator.is_type(instance, "string"):
        return
    compiled = _REGEX_CACHE.get(pattern)
    if compiled is None:
        compiled = _REGEX_CACHE[pattern] = regress.Regex(pattern, "u")
    if compiled.find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaValidator = jsonschema.validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


def _validators() -> dict[str, Any]:
    """The committed event schemas (as a producer downloads them), by type."""
    out = {}
    for path in sorted(JSON_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        out[schema["title"]] = EcmaValidator(schema)
    return out


VALIDATORS = _validators()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(raw: bytes) -> Any:
    """The JSON value of raw bytes, strictly: UTF-8 only, no NaN or Infinity (a BOM is skipped)."""
    text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    return json.loads(text, parse_constant=_reject_constant)


def schema_errors(instance: Any) -> list[str]:
    """Why no exported schema accepts the event (empty: one does)."""
    if isinstance(instance, dict) and instance.get("type") in VALIDATORS:
        validator = VALIDATORS[instance["type"]]
        return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
    if any(v.is_valid(instance) for v in VALIDATORS.values()):
        return []
    return ["no schema of a registered type accepts it"]


# -- the schemas themselves ----------------------------------------------------------------------


def test_every_exported_schema_is_a_valid_draft_2020_12_schema() -> None:
    for name, schema in all_schemas().items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        Draft202012Validator.check_schema(schema)


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_patterns_are_portable_ecma_262_without_inline_flags_or_lookarounds() -> None:
    patterns = {p for schema in all_schemas().values() for p in _patterns(schema)}
    assert len(patterns) > 10
    for pattern in patterns:
        regress.Regex(pattern, "u")  # compiles as ECMA-262 with the u flag, as JSON Schema says
        assert not re.search(r"\(\?[^:]", pattern), pattern
        assert "\\d" not in pattern and "\\w" not in pattern, pattern


def test_each_event_schema_holds_the_envelope_and_one_type() -> None:
    for name, schema in json_schemas().items():
        assert name == f"{schema['title']}.schema.json"
        assert schema["properties"]["type"]["const"] == schema["title"]
        assert {"specversion", "id", "source", "time", "tenantid", "data"} <= set(schema["properties"])
        assert "data_base64" not in schema["properties"]


# -- samples and generated events ----------------------------------------------------------------

#: Reasons whose rule a JSON Schema states: the event must fail the schema.
EXPRESSIBLE = {"not_an_object", "unsupported_specversion", "missing_field", "unknown_type", "invalid_field"}
#: Reasons outside JSON Schema: the event passes (it is well-formed JSON that breaks a rule the
#: schema cannot state), or it is not a JSON value at all.
BEYOND_SCHEMA = {"too_large", "time_out_of_range", "business_rule"}
NOT_JSON = {"invalid_encoding", "malformed_json"}


def _sample_events() -> Iterator[tuple[str, bytes]]:
    for path in sorted((ROOT / "samples" / "events").iterdir()):
        for framed in split_file(path.name, path.read_bytes()):
            yield f"{path.name}:{framed.position}", framed.body
    for index, item in enumerate(generate_labelled(2000, seed=21, now=NOW, bad_ratio=0.3, duplicate_ratio=0.1)):
        yield f"generated #{index} ({item.label})", item.raw


def _integral_float_at_an_integer_field(instance: Any, rejection: Rejection) -> bool:
    """`"quantity": 2.0`: an integer for JSON Schema (by value), not for the contract (by spelling)."""
    if [e["msg"] for e in rejection.errors] != ["Input should be a valid integer"]:
        return False
    value: Any = instance
    for part in rejection.errors[0]["loc"].split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return isinstance(value, float) and value.is_integer()


def test_samples_and_generated_events_meet_the_schemas_exactly_where_json_schema_can_say_so() -> None:
    outcomes: Counter[tuple[str, str]] = Counter()
    for where, raw in _sample_events():
        result = validate_event(raw, now=NOW)
        reason = "valid" if isinstance(result, ValidEvent) else result.reason.value
        try:
            instance = parse(raw)
        except ValueError:
            assert reason in NOT_JSON | {"too_deep"}, (where, reason)
            outcomes[(reason, "not JSON")] += 1
            continue
        errors = schema_errors(instance)
        outcomes[(reason, "fails" if errors else "passes")] += 1
        if reason == "valid":
            assert not errors, (where, errors)
        elif reason in EXPRESSIBLE | {"too_deep"}:
            assert isinstance(result, Rejection)
            if reason == "invalid_field" and _integral_float_at_an_integer_field(instance, result):
                assert not errors
                continue
            assert errors, (where, reason, result.errors)
        else:
            assert reason in BEYOND_SCHEMA | NOT_JSON, (where, reason)
    assert outcomes[("valid", "passes")] > 3000
    for reason in EXPRESSIBLE | {"too_deep"}:
        assert outcomes[(reason, "fails")] > 10, reason
    for reason in BEYOND_SCHEMA:
        assert outcomes[(reason, "passes")] > 10, reason


# -- rule by rule ------------------------------------------------------------------------------


def _with(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``event`` with the member at dotted ``path`` set (``...`` removes it)."""
    copy = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    node: Any = copy
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is ...:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return copy


ORDER = f.order(version=2)
PAGE = f.page()
READING = f.reading()

#: (event, the platform's reason): JSON Schema rejects each of them too.
SCHEMA_REJECTS = {
    "an extension name with an upper-case letter": (_with(PAGE, "Trace", "x"), "invalid_field"),
    "an extension holding an object": (_with(PAGE, "trace", {"a": 1}), "invalid_field"),
    "an extension holding a number with a fraction": (_with(PAGE, "ratio", 1.5), "invalid_field"),
    "data_base64 beside data": (_with(PAGE, "data_base64", "e30="), "invalid_field"),
    "data_base64 instead of data": (_with(_with(PAGE, "data", ...), "data_base64", "e30="), "missing_field"),
    "specversion 1.1": (_with(PAGE, "specversion", "1.1"), "unsupported_specversion"),
    "a numeric id": (_with(PAGE, "id", 7), "invalid_field"),
    "an id of 129 characters": (_with(PAGE, "id", "x" * 129), "invalid_field"),
    "a source with a space": (_with(PAGE, "source", "/shop web"), "invalid_field"),
    "a source with two fragments": (_with(PAGE, "source", "#a#b"), "invalid_field"),
    "a time without an offset": (_with(PAGE, "time", "2026-11-01T10:00:00"), "invalid_field"),
    "a time with ten fractional digits": (_with(PAGE, "time", "2026-11-01T10:00:00.1234567890Z"), "invalid_field"),
    "a time with offset hours 24": (_with(PAGE, "time", "2026-11-01T10:00:00+24:00"), "invalid_field"),
    "an upper-case tenant": (_with(PAGE, "tenantid", "Acme"), "invalid_field"),
    "a tenant with a trailing newline": (_with(PAGE, "tenantid", "acme\n"), "invalid_field"),
    "an empty subject": (_with(PAGE, "subject", ""), "invalid_field"),
    "datacontenttype text/plain": (_with(PAGE, "datacontenttype", "text/plain"), "invalid_field"),
    "datacontenttype with an empty parameter list": (
        _with(PAGE, "datacontenttype", "application/json;"),
        "invalid_field",
    ),
    "a relative dataschema": (_with(PAGE, "dataschema", "/schemas/x"), "invalid_field"),
    "data that is an array": (_with(PAGE, "data", []), "invalid_field"),
    "an unknown data field": (_with(PAGE, "data.colour", "red"), "invalid_field"),
    "a required data field null": (_with(PAGE, "data.session_id", None), "missing_field"),
    "an unregistered type": (_with(PAGE, "type", "com.contoso.page.viewed.v9"), "unknown_type"),
    "a relative url": (_with(PAGE, "data.url", "/cart"), "invalid_field"),
    "an ftp referrer": (_with(PAGE, "data.referrer", "ftp://shop.example.com/"), "invalid_field"),
    "a negative duration": (_with(PAGE, "data.duration_ms", -1), "invalid_field"),
    "a duration as a string": (_with(PAGE, "data.duration_ms", "100"), "invalid_field"),
    "a boolean duration": (_with(PAGE, "data.duration_ms", True), "invalid_field"),
    "a user agent of 513 characters": (_with(PAGE, "data.user_agent", "u" * 513), "invalid_field"),
    "a lower-case currency": (_with(ORDER, "data.currency", "eur"), "invalid_field"),
    "no order lines": (_with(ORDER, "data.items", []), "invalid_field"),
    "101 order lines": (_with(ORDER, "data.items", [ORDER["data"]["items"][0]] * 101), "invalid_field"),
    "a quantity of 0": (_with(ORDER, "data.items.0.quantity", 0), "invalid_field"),
    "a sku of 33 characters": (_with(ORDER, "data.items.0.sku", "s" * 33), "invalid_field"),
    "a price with three decimals as a string": (_with(ORDER, "data.items.0.unit_price", "12.505"), "invalid_field"),
    "a negative price": (_with(ORDER, "data.items.0.unit_price", -1), "invalid_field"),
    "a price in exponent notation as a string": (_with(ORDER, "data.items.0.unit_price", "1e2"), "invalid_field"),
    "an unknown channel": (_with(ORDER, "data.channel", "fax"), "invalid_field"),
    "a v1 order with a channel": (_with(f.order(), "data.channel", "web"), "invalid_field"),
    "a temperature of 150.5": (_with(READING, "data.temperature_c", 150.5), "invalid_field"),
    "a humidity of -1": (_with(READING, "data.humidity_pct", -1), "invalid_field"),
    "a battery of 101": (_with(READING, "data.battery_pct", 101), "invalid_field"),
    "a battery of 50.5": (_with(READING, "data.battery_pct", 50.5), "invalid_field"),
}


@pytest.mark.parametrize("case", sorted(SCHEMA_REJECTS))
def test_json_schema_rejects_what_the_platform_rejects(case: str) -> None:
    event, reason = SCHEMA_REJECTS[case]
    result = validate_event(f.raw(event), now=NOW)
    assert isinstance(result, Rejection) and result.reason.value == reason, result
    assert schema_errors(event), case


#: (event, the platform's reason): JSON Schema cannot state the rule, so the schema accepts them.
#: docs/schemas.md lists each of these.
BEYOND_JSON_SCHEMA = {
    "an order total that does not add up": (_with(ORDER, "data.total", "26.00"), "business_rule"),
    "a time before 2000": (_with(PAGE, "time", "1999-12-31T23:59:59Z"), "time_out_of_range"),
    "a time more than 5 minutes ahead": (_with(PAGE, "time", "2999-01-01T00:00:00Z"), "time_out_of_range"),
    "February 30": (_with(PAGE, "time", "2026-02-30T10:00:00Z"), "invalid_field"),
    "a leap second that is not at 23:59:60 UTC": (_with(PAGE, "time", "2026-06-30T12:00:60Z"), "invalid_field"),
    "an integer written with a fraction": (_with(ORDER, "data.items.0.quantity", 2.0), "invalid_field"),
    "a temperature just above 150 (beyond a double)": (
        _with(READING, "data.temperature_c", "__150.00000000000000001__"),
        "invalid_field",
    ),
    "an amount with 101 integer digits": (_with(ORDER, "data.discount", "__1" + "0" * 100 + "__"), "invalid_field"),
    "an event over 256 KiB": (_with(PAGE, "padding", "x" * 262_144), "too_large"),
}


def _raw(event: dict[str, Any]) -> bytes:
    """JSON text in which ``"__<literal>__"`` strings become bare number literals."""
    return re.sub(rb'"__([0-9.eE+-]+)__"', rb"\1", f.raw(event))


@pytest.mark.parametrize("case", sorted(BEYOND_JSON_SCHEMA))
def test_rules_beyond_json_schema_are_enforced_by_the_platform_only(case: str) -> None:
    event, reason = BEYOND_JSON_SCHEMA[case]
    raw = _raw(event)
    result = validate_event(raw, now=NOW)
    assert isinstance(result, Rejection) and result.reason.value == reason, result
    assert schema_errors(parse(raw)) == [], case


def test_the_schema_is_stricter_for_a_null_extension_with_a_bad_name() -> None:
    # The platform drops a null extension without looking at its name; JSON Schema cannot look at a
    # member's value when judging its name, so the schema refuses the name whatever the value.
    event = _with(PAGE, "Bad_Name", None)
    assert isinstance(validate_event(f.raw(event), now=NOW), ValidEvent)
    assert schema_errors(event)


def test_the_docs_list_what_json_schema_cannot_express() -> None:
    page = (ROOT / "docs" / "schemas.md").read_text(encoding="utf-8")
    section = page.split("## What JSON Schema cannot say", 1)[1].split("\n## ", 1)[0]
    for keyword in ("total", "2000-01-01", "5 minutes", "262,144", "32 levels", "calendar", "leap second", "2.0"):
        assert keyword in section, keyword
