"""Naming the reason for an event that the wire model refused: the general path's check-by-check search.

The event is examined again, check by check in the contract's order, so that the *first*
failing check names the reason across the whole event (a missing field outranks an invalid
one anywhere else, an unknown type outranks every invalid field, and so on); pydantic's errors
become the contract's ``(loc, msg)`` entries.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.envelope import (
    CONTEXT_ATTRIBUTES,
    REQUIRED_ATTRIBUTES,
    SPECVERSION,
    AnyTypeEnvelope,
    extension_name_errors,
)
from schemas.numbers import load_exact
from schemas.reasons import Reason, Rejection
from schemas.registry import REGISTRY, RegisteredType
from schemas.timestamps import TIME_RE, TimeFormatError, parse_rfc3339

_JSON_KINDS = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def classify_fields(event: dict[str, Any], raw: bytes, error: ValidationError) -> Rejection:
    """Check 9 of the contract, for a parsed event that passed checks 5-8 (see :func:`classify_structure`)."""
    return Rejection.many(Reason.INVALID_FIELD, invalid_fields(event, raw, error, _entry_of(event)))


_REGISTERED = ", ".join(REGISTRY)
#: ``json.dumps(value, ensure_ascii=False)`` without building an encoder for each call.
_show_json = json.JSONEncoder(ensure_ascii=False).encode


def _entry_of(event: dict[str, Any]) -> RegisteredType | None:
    type_name = event.get("type")
    return REGISTRY.get(type_name) if type(type_name) is str else None


def classify_structure(event: Any) -> Rejection | None:
    """Checks 5-8 of the contract on the parsed event, or ``None`` when they pass.

    Each of them also makes the wire model refuse the event, so a rejection found here needs
    no validation at all.
    """
    if not isinstance(event, dict):
        return not_an_object(event)

    version = event.get("specversion")
    if version is not None and not (type(version) is str and version == SPECVERSION):
        return unsupported_specversion(version)

    type_name = event.get("type")
    entry = _entry_of(event)
    data = event.get("data")

    missing = [(name, "is required") for name in REQUIRED_ATTRIBUTES if event.get(name) is None]
    if entry is not None and isinstance(data, dict):
        missing.extend(missing_fields(entry.wire_data, data, "data"))
    if missing:
        return Rejection.many(Reason.MISSING_FIELD, missing)

    if type(type_name) is str and type_name and entry is None:
        shown = repr(type_name if len(type_name) <= 80 else type_name[:77] + "...")
        return Rejection.of(
            Reason.UNKNOWN_TYPE,
            "type",
            f"{shown} is not a registered event type (registered: {_REGISTERED})",
        )
    return None


def malformed_json(problem: object) -> Rejection:
    """Check 4 failed: the JSON parser's ``problem`` (its error or message)."""
    return Rejection.of(Reason.MALFORMED_JSON, "", f"not valid JSON: {problem}")


def not_an_object(value: Any) -> Rejection:
    """Check 5 failed: the parsed JSON ``value`` is not an object."""
    kind = _JSON_KINDS.get(type(value), "not an object")
    return Rejection.of(Reason.NOT_AN_OBJECT, "", f"an event must be a JSON object, not {kind}")


def unsupported_specversion(version: Any) -> Rejection:
    """Check 6 failed: ``specversion`` holds the parsed JSON ``version``, not ``"1.0"``."""
    shown = _show_json(version)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return Rejection.of(Reason.UNSUPPORTED_SPECVERSION, "specversion", f'must be "1.0", not {shown}')


def missing_fields(model: type[BaseModel], value: dict[str, Any], loc: str) -> list[tuple[str, str]]:
    """Required fields of ``model`` that are absent or ``null`` in ``value``, recursively.

    Nested objects are checked only where they are objects, and list elements only where
    the list is a list: a value of the wrong shape is an invalid field, not a missing one.
    """
    found: list[tuple[str, str]] = []
    for name, required, nested in _field_shapes(model):
        member = value.get(name)
        if member is None:
            if required:
                found.append((f"{loc}.{name}", "is required"))
            continue
        if nested is None:
            continue
        model_of_items, is_list = nested
        here = f"{loc}.{name}"
        if is_list and isinstance(member, list):
            for index, element in enumerate(member):
                if isinstance(element, dict):
                    found.extend(missing_fields(model_of_items, element, f"{here}.{index}"))
        elif not is_list and isinstance(member, dict):
            found.extend(missing_fields(model_of_items, member, here))
    return found


@cache
def _field_shapes(model: type[BaseModel]) -> tuple[tuple[str, bool, tuple[type[BaseModel], bool] | None], ...]:
    """``(name, required, nested model)`` of each field of ``model`` (models do not change)."""
    return tuple(
        (name, field.is_required(), _nested_model(field.annotation)) for name, field in model.model_fields.items()
    )


def _nested_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model inside ``Model`` or ``list[Model]`` annotations, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if origin in (list, tuple) and args:
        inner = args[0]
        inner = getattr(inner, "__origin__", inner) if hasattr(inner, "__metadata__") else inner
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, True
    return None


def invalid_fields(
    event: dict[str, Any], raw: bytes, error: ValidationError, entry: RegisteredType | None
) -> list[tuple[str, str]]:
    """Every invalid attribute or field that can be seen, extension names first."""
    extensions = {k: v for k, v in event.items() if k not in CONTEXT_ATTRIBUTES}
    errors = extension_name_errors(extensions)
    bad_names = {loc for loc, _ in errors}

    if entry is not None:
        reported = describe(error, REGISTRY.keys())
    else:
        reported = [("type", "must be a non-empty string naming a registered event type")]
        try:
            AnyTypeEnvelope.model_validate_json(raw)
        except ValidationError as envelope_error:
            reported.extend(describe(envelope_error))
        if not isinstance(event.get("data"), dict):
            reported.append(("data", "must be a JSON object"))
    errors.extend(item for item in reported if item[0] not in bad_names)

    seen = {loc for loc, _ in errors}
    time_value = event.get("time")
    if type(time_value) is str and TIME_RE.fullmatch(time_value) and "time" not in seen:
        try:
            parse_rfc3339(time_value)
        except TimeFormatError as exc:
            errors.append(("time", str(exc)))

    if entry is not None and entry.exact_errors is not None and isinstance(event.get("data"), dict):
        try:
            exact = load_exact(raw).get("data")
        except (ValueError, RecursionError):
            exact = None
        if isinstance(exact, dict):
            errors.extend(item for item in entry.exact_errors(exact) if item[0] not in seen)

    if not errors:
        errors = [(loc, msg) for loc, msg in describe(error, REGISTRY.keys())] or [
            ("", "the event does not match its schema")
        ]
    return errors


#: Messages for fields whose pattern means nothing to a producer when printed.
_PATTERN_MESSAGES = {
    "source": "must be a URI-reference (RFC 3986) such as /shop/orders or https://shop.contoso.com/orders",
    "time": "must be an RFC 3339 date-time with seconds and an explicit offset, "
    "like 2026-11-01T12:30:00Z or 2026-11-01T13:30:00.250+01:00",
    "tenantid": "must be 3-40 characters of a-z, 0-9 and '-', starting and ending with a letter or a digit",
    "datacontenttype": "must be application/json, optionally with parameters such as charset=utf-8",
    "dataschema": "must be an absolute URI (RFC 3986) such as https://schemas.contoso.com/order/v2",
    "currency": "must be three upper-case letters (ISO 4217) such as EUR",
    "url": "must be an absolute http or https URL with a host",
    "referrer": "must be an absolute http or https URL with a host",
}

_OBJECT_EXPECTED = frozenset({"model_type", "dict_type", "model_attributes_type"})


def describe(error: ValidationError, tags: Collection[str] = ()) -> list[tuple[str, str]]:
    """``(loc, msg)`` pairs for a pydantic error, in pydantic's order.

    Args:
        error: The validation error.
        tags: Discriminator values that pydantic puts first in the location of errors
            inside a tagged union; they are dropped.
    """
    out = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        loc = detail["loc"]
        if loc and loc[0] in tags:
            loc = loc[1:]
        kind = detail["type"]
        field = next((p for p in reversed(loc) if isinstance(p, str)), "")
        if kind.startswith("union_tag"):
            out.append(("type", "must be a non-empty string naming a registered event type"))
            continue
        if kind == "string_pattern_mismatch":
            msg = _PATTERN_MESSAGES.get(field, "does not have the required format")
        elif kind == "extra_forbidden":
            msg = "is not a field of this event type (new fields need a new registered type version)"
        elif kind in _OBJECT_EXPECTED:
            msg = "must be a JSON object"
        elif kind == "missing":
            msg = "is required"
        else:
            msg = detail["msg"]
        out.append((".".join(map(str, loc)), msg))
    return out
