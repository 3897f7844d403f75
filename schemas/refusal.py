"""Naming the reason for an event from the one-pass schema's refusal itself.

When the one-pass schema (``schemas.registry.EVENT_ADAPTER``) refuses an event, its
``ValidationError`` usually holds everything needed to name the first failing check exactly as the
general path would (:mod:`schemas.classify`), without parsing the event again or validating it
against the wire models: malformed JSON, not an object, an unsupported ``specversion``, missing
fields, invalid fields, a broken business rule.

It cannot where the one-pass schema differs from the wire models or sees less than the parsed
event, and :func:`name_refusal` then answers ``None`` (the general path decides):

- an unknown or absent ``type``: the tagged union stops at the tag, so the envelope's other
  attributes (an absent one outranks the type) are not checked; the parsed event in the error
  is handed to :func:`schemas.classify.classify_structure` instead of being parsed again;
- errors in ``data`` fields that the one-pass schema checks in another order than the wire model
  (a v2 order's ``channel``, which the stored shape puts before the lines);
- converted fields (amounts, measures, ``time``) that the one-pass schema cannot decide exactly,
  and amounts that may not be their literal (only the exact reading can judge them);
- ``NaN`` or ``Infinity`` anywhere: the one-pass parser accepts them, the contract does not.

A ``null`` is named by the field it is in: missing where the field is required, invalid elsewhere.
An extension name the one-pass schema refuses (it checks names as keys, whatever the value) is
judged on the parsed event, since the contract ignores an extension whose value is ``null``.
A ``time`` that the calendar lacks is reported after the other invalid fields, as the general path
reports it.
"""

from __future__ import annotations

import re

from pydantic_core import ErrorDetails, from_json

from schemas.classify import (
    classify_structure,
    is_required,
    malformed_json,
    not_an_object,
    unsupported_specversion,
)
from schemas.envelope import CONTEXT_ATTRIBUTES, REQUIRED_ATTRIBUTES, extension_name_errors
from schemas.errors import describe_details, dotted
from schemas.fast import BrokenRule, SlowPath
from schemas.numbers import floats_may_be_inexact
from schemas.reasons import Reason
from schemas.registry import REGISTERED_TYPES, REGISTRY
from schemas.rejection import Rejection
from schemas.timestamps import TimeFormatError, TimeRange, normalise_matched

_TAG_ERRORS = frozenset({"union_tag_invalid", "union_tag_not_found"})
_EXTENSION_NAME_ERROR = "string_pattern_mismatch"  # of the one-pass schema's extras_keys_schema


def _wire_ranks(wire_fields: list[str], one_pass_fields: list[str]) -> dict[int | str, int] | None:
    """The rank of each ``data`` field in the wire model, when the one-pass schema checks them
    in another order (its errors then come in another order too); ``None`` when the orders agree."""
    checked = [name for name in one_pass_fields if name in wire_fields]
    return None if checked == wire_fields else {name: rank for rank, name in enumerate(wire_fields)}


#: For the types whose ``data`` fields the one-pass schema checks in another order than the wire model.
_WIRE_RANKS = {
    entry.name: ranks
    for entry in REGISTERED_TYPES
    if (ranks := _wire_ranks(list(entry.wire_data.model_fields), list(entry.family_spec.stored.model_fields)))
}


def _in_wire_order(details: list[ErrorDetails], ranks: dict[int | str, int]) -> bool:
    """Whether the errors in ``data`` fields come in the wire model's order of those fields."""
    last = 0
    for detail in details:
        loc = detail["loc"]
        if len(loc) > 2 and loc[1] == "data":
            rank = ranks.get(loc[2], len(ranks))  # members that are not fields come last in both
            if rank < last:
                return False
            last = rank
    return True


def name_refusal(data: bytes, scan: bytes, details: list[ErrorDetails], time_range: TimeRange) -> Rejection | None:
    """The rejection for ``data``, named from the one-pass refusal's error ``details``, or ``None``.

    Args:
        data: The event, known to pass checks 1-3 (size, encoding, depth).
        details: ``errors(include_url=False)`` of the one-pass ``ValidationError``.
        scan: ``data`` through :data:`schemas.numbers.SCAN_TABLE` (to tell whether every number
            literal is its float: see :mod:`schemas.numbers`).
        time_range: The accepted time range (a time out of range outranks a business rule).
    """
    # (a one-byte search is a memchr: the longer ones run only when it finds something)
    if (b"N" in data and b"NaN" in data) or (b"I" in data and b"Infinity" in data):
        return None
    first = details[0]
    if first["loc"]:
        return _inside_a_type(data, scan, details, time_range)
    kind = first["type"]  # an error about the event as a whole
    if kind == "json_invalid":
        return malformed_json(first["ctx"]["error"])
    if kind == "dict_type":
        return not_an_object(first["input"])
    if kind in _TAG_ERRORS and isinstance(first["input"], dict):
        return classify_structure(first["input"])
    return None


def _inside_a_type(data: bytes, scan: bytes, details: list[ErrorDetails], time_range: TimeRange) -> Rejection | None:
    """:func:`name_refusal` of errors inside one registered type (each location starts with its tag)."""
    first = details[0]
    tag = str(first["loc"][0])
    missing: list[tuple[str, str]] = []
    reported: list[ErrorDetails] = []  # the invalid fields, as the wire model reports them
    time_error = None  # a date-time the calendar lacks, which the general path reports last
    names_refused = False  # some extension's name
    decidable = True
    for detail in details:
        loc = detail["loc"][1:]
        kind = detail["type"]
        value = detail["input"]
        if kind == "missing":
            missing.append((dotted(loc), "is required"))
            continue
        if loc == ("specversion",) and value is not None:
            return unsupported_specversion(value)  # check 6 outranks the rest
        if value is None and kind != "extra_forbidden":
            required = _is_required(tag, loc)
            if required is None:
                return None
            if required:
                missing.append((dotted(loc), "is required"))
                continue
        if loc[0] not in CONTEXT_ATTRIBUTES:  # an extension: its value is checked alike, its name as a key
            if kind == _EXTENSION_NAME_ERROR:
                names_refused = True
                continue
            decidable = decidable and kind == "extension_value"
        elif kind == "value_error":
            cause = detail.get("ctx", {}).get("error")
            if loc == ("time",) and isinstance(cause, TimeFormatError):
                time_error = ("time", str(cause))
                continue
            decidable = False
        reported.append(detail)
    if missing or decidable:
        if tag in _WIRE_RANKS and not _in_wire_order(details, _WIRE_RANKS[tag]):
            return None
        if missing:
            return Rejection.many(Reason.MISSING_FIELD, missing)
        if floats_may_be_inexact(data, scan):  # an amount may be judged otherwise on its exact literal
            return None
        fields = []
        if names_refused:  # reported first, unless the extension is null (then it is absent)
            fields = extension_name_errors({k: v for k, v in from_json(data).items() if k not in CONTEXT_ATTRIBUTES})
            named = {name for name, _ in fields}
            reported = [detail for detail in reported if detail["loc"][1] not in named]
        fields.extend(describe_details(reported, (tag,)))
        if time_error is not None:
            fields.append(time_error)
        return Rejection.many(Reason.INVALID_FIELD, fields) if fields else None
    if len(details) == 1 and not floats_may_be_inexact(data, scan):
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, BrokenRule):
            return _broken_rule(data, cause, time_range)
    return None


def _is_required(tag: str, loc: tuple[int | str, ...]) -> bool | None:
    """Whether ``loc`` names a required member of an event of type ``tag`` (``None``: no member)."""
    if loc[0] == "data" and len(loc) > 1:
        return is_required(REGISTRY[tag].wire_data, loc[1:])
    if len(loc) == 1 and loc[0] in CONTEXT_ATTRIBUTES:
        return loc[0] in REQUIRED_ATTRIBUTES
    return None


def only_zeros_refused(details: list[ErrorDetails]) -> bool:
    """Whether the one-pass schema refused nothing but zero amounts or measures (which it cannot
    tell from an underflowed literal: see :func:`schemas.fast.exact_zeros`)."""
    return all(
        detail["type"] == "value_error"
        and isinstance(detail.get("ctx", {}).get("error"), SlowPath)
        and type(detail["input"]) in (int, float)
        and detail["input"] == 0
        for detail in details
    )


#: The ``time`` member with its value, when written without escapes.
_TIME_MEMBER = re.compile(rb'"time"[ \t\n\r]*:[ \t\n\r]*"([^"\\]*)"')


def _time_of(data: bytes) -> str:
    """The ``time`` of an event whose every member is valid.

    Read from the text when it occurs there once: no other member can be named ``time`` (the
    data models forbid other members, an extension cannot take a context attribute's name), and
    in a string the bytes ``"time"`` cannot be followed by ``:``. Parsed otherwise (a repeated
    or escaped member).
    """
    found = _TIME_MEMBER.findall(data)
    if len(found) == 1:
        return str(found[0].decode())
    return str(from_json(data)["time"])


def _broken_rule(data: bytes, cause: BrokenRule, time_range: TimeRange) -> Rejection | None:
    """A broken business rule as the event's only error: checks 1-9 passed."""
    try:
        problem = time_range.problem(*normalise_matched(_time_of(data)))
    except Exception:  # never expected: the general path decides
        return None
    if problem is not None:  # check 10 (time range) outranks the rule (11)
        return Rejection.of(Reason.TIME_OUT_OF_RANGE, "time", problem)
    return Rejection.many(Reason.BUSINESS_RULE, cause.errors)
