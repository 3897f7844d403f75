"""Turning pydantic's validation errors into the contract's ``{loc, msg}`` entries."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

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


def dotted(loc: Iterable[int | str]) -> str:
    """``("data", "items", 0, "sku")`` -> ``"data.items.0.sku"``."""
    return ".".join(map(str, loc))


def describe(error: ValidationError, tags: Collection[str] = ()) -> list[tuple[str, str]]:
    """``(loc, msg)`` pairs for a pydantic error, in pydantic's order.

    Args:
        error: The validation error.
        tags: Discriminator values that pydantic puts first in the location of errors
            inside a tagged union; they are dropped.
    """
    return describe_details(error.errors(include_url=False, include_input=False, include_context=False), tags)


def describe_details(details: Iterable[Mapping[str, Any]], tags: Collection[str] = ()) -> list[tuple[str, str]]:
    """:func:`describe` of the error details already taken from a ``ValidationError``."""
    out = []
    for detail in details:
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
        out.append((dotted(loc), msg))
    return out
