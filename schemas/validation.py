"""Validating one raw event against the contract: ``validate_event`` and ``parse_event_dict``.

The happy path is one pydantic validation from JSON (``schemas.registry.EVENT_ADAPTER``, the
one-pass schema, which also builds the stored shapes, normalises ``time`` and checks the order-total
rule) plus a thin finish in Python: extensions, fields set, the time range. When the one-pass
schema refuses an event, its errors usually name the reason (:mod:`schemas.refusal`). Whatever
they do not, and whatever the one-pass schema cannot decide exactly, takes the general path: the
wire model (``WIRE_ADAPTER``), then each type's ``normalise``; an event that fails is examined
again, check by check, to name the first failing check in the contract's order (see
:mod:`schemas.classify`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from schemas.classify import classify, classify_fields, classify_structure, malformed_json
from schemas.envelope import extension_name_errors
from schemas.event import ValidEvent
from schemas.fast import exact_zeros, zeros_are_exact
from schemas.json_text import to_json_text
from schemas.limits import MAX_DEPTH, MAX_EVENT_BYTES, UTF8_BOM, encoding_error, exceeds_depth
from schemas.numbers import (
    LONG_LITERAL,
    LONG_MANTISSA,
    SCAN_TABLE,
    NeedsExact,
    floats_may_be_inexact,
    load_exact,
    zeros_may_be_inexact,
)
from schemas.reasons import Reason
from schemas.refusal import name_refusal, only_zeros_refused
from schemas.registry import BY_ENVELOPE, EVENT_ADAPTER, REGISTERED_TYPES, WIRE_ADAPTER, RegisteredType
from schemas.rejection import Rejection
from schemas.strict import EveryField, every_field, trusted_builder
from schemas.timestamps import EARLIEST_SECONDS, TimeFormatError, TimeRange, datetime_to_ns, normalise_matched

_log = logging.getLogger(__name__)
_new_event = trusted_builder(ValidEvent)
_range_cache: tuple[datetime | None, TimeRange | None] = (None, None)
_validate_one_pass = EVENT_ADAPTER.validator.validate_json  # what EVENT_ADAPTER.validate_json calls
_setattr = object.__setattr__
_EVENT_FIELDS = every_field(ValidEvent)


def _one_pass_finish(entry: RegisteredType) -> tuple[bool, EveryField | None]:
    """What the thin finish needs to know about a type: ``(has_decimals, data_fields)``, where
    ``data_fields`` is the fields set of the stored ``data`` model when ``normalise`` builds it
    whole (all of them set), ``None`` when the stored model is the wire model itself."""
    stored = entry.family_spec.stored
    return entry.has_decimals, None if stored is entry.wire_data else every_field(stored)


_ONE_PASS_FINISH = {entry.name: _one_pass_finish(entry) for entry in REGISTERED_TYPES if entry.one_pass_data}


def _time_range(now: datetime) -> TimeRange:
    """The accepted time range for ``now`` (cached: a batch shares one processing moment)."""
    global _range_cache
    cached_now, cached = _range_cache
    if cached is None or (cached_now is not now and cached_now != now):
        cached = TimeRange(datetime_to_ns(now))
        _range_cache = (now, cached)
    return cached


def validate_event(raw: bytes | bytearray | memoryview | str, *, now: datetime) -> ValidEvent | Rejection:
    """Validate and normalise one raw event.

    Args:
        raw: The event exactly as received (bytes; a ``str`` is measured as UTF-8).
        now: The moment of processing; an event time more than 5 minutes after it is
            ``time_out_of_range``. A naive ``datetime`` is taken as UTC.

    Returns:
        The normalised :class:`ValidEvent`, or a :class:`Rejection` naming the first
        failing check in the contract's order. Never raises for any input; should a defect
        in validation itself raise, the event is rejected as ``processing_failed``
        (replayable) and the error is logged.
    """
    cached_now, time_range = _range_cache
    if cached_now is not now or time_range is None:
        time_range = _time_range(now)
    if type(raw) is bytes:
        data = raw
    elif isinstance(raw, str):
        data = raw.encode("utf-8", "surrogatepass")
    else:
        data = bytes(raw)
    # The one pass, for UTF-8 without a byte-order mark (ASCII, the common case, needs no decoding)
    # that does not nest too deep (at most 32 brackets, the common case, or a check that skips
    # strings); the scan also maps digits and '.' to '0'.
    if len(data) <= MAX_EVENT_BYTES and (data.isascii() or _utf8_without_bom(data)):
        scan = data.translate(SCAN_TABLE, b"{[")
        if len(data) - len(scan) > MAX_DEPTH and exceeds_depth(data):
            return _too_deep()
        try:
            event = _validate_one_pass(data)
            values = event.__dict__
            has_decimals, data_fields = _ONE_PASS_FINISH[values["type"]]
            # floats are their literals unless some literal may have 16 or more digits
            # (schemas.numbers.floats_may_be_inexact, inlined)
            if not (has_decimals and LONG_MANTISSA in scan and LONG_LITERAL.search(data)):
                extra = event.__pydantic_extra__
                if extra:
                    if len(extra) > 1 or None in extra.values():
                        extra = {name: extra[name] for name in sorted(extra) if extra[name] is not None}
                    values["extensions"] = extra
                _setattr(event, "__pydantic_extra__", None)
                _setattr(event, "__pydantic_fields_set__", _EVENT_FIELDS)
                if data_fields is not None:
                    _setattr(values["data"], "__pydantic_fields_set__", data_fields)
                moment = values["time"]
                if EARLIEST_SECONDS <= moment < time_range.latest_seconds:
                    return event  # type: ignore[no-any-return]
                problem = time_range.problem(moment, None)
                if problem is not None:
                    return Rejection.of(Reason.TIME_OUT_OF_RANGE, "time", problem)
                return event  # type: ignore[no-any-return]
        except Exception as refusal:  # refused, or not decided exactly here (SlowPath, TimeFormatError)
            return _refused(data, scan, refusal, now, time_range)
    return _validate_general(data, time_range)


def _utf8_without_bom(data: bytes) -> bool:
    return not data.startswith(UTF8_BOM) and encoding_error(data) is None


def _too_deep() -> Rejection:
    return Rejection.of(Reason.TOO_DEEP, "", f"JSON nesting is deeper than {MAX_DEPTH} levels")


def _refused(
    data: bytes, scan: bytes, refusal: Exception, now: datetime, time_range: TimeRange
) -> ValidEvent | Rejection:
    """The one-pass schema refused ``data``.

    The reason is named from the refusal when that says enough (:func:`schemas.refusal.name_refusal`).
    Refused only for zeros that cannot stand for an underflowed literal, the event takes the one
    pass again, zeros read as exact zeros. Anything else takes the general path.
    """
    if type(refusal) is ValidationError:
        details = refusal.errors(include_url=False)
        try:
            named = name_refusal(data, scan, details, time_range)
        except Exception:  # never expected: the general path decides
            _log.exception("naming a refusal failed unexpectedly")
            named = None
        if named is not None:
            return named
        if not zeros_are_exact() and only_zeros_refused(details) and not zeros_may_be_inexact(data, scan):
            with exact_zeros():
                return validate_event(data, now=now)
    return _validate_checked(data, time_range)


def _validate_checked(data: bytes, time_range: TimeRange) -> ValidEvent | Rejection:
    """The general path for bytes known to pass checks 1-3 (size, encoding, depth).

    Checks 4-8 are made on the parsed event first: when one of them fails, the wire model
    would refuse the event too, and its validation is not needed to name the reason.
    """
    try:
        try:
            event = from_json(data, allow_inf_nan=False)
        except ValueError as exc:
            return malformed_json(exc)
        early = classify_structure(event)
        if early is not None:
            return early
        try:
            wire = WIRE_ADAPTER.validator.validate_json(data)
        except ValidationError as error:
            return classify_fields(event, data, error)
        return _finish(wire, data, time_range)
    except Exception as exc:  # a defect here must not lose the event: it is dead-lettered, replayable
        _log.exception("validation failed unexpectedly")
        return Rejection.of(Reason.PROCESSING_FAILED, "", f"validation failed unexpectedly: {exc!r}")


def _validate_general(data: bytes, time_range: TimeRange) -> ValidEvent | Rejection:
    """Every check in the contract's order, for any bytes."""
    if len(data) > MAX_EVENT_BYTES:
        return Rejection.of(Reason.TOO_LARGE, "", f"the event is {len(data)} bytes; the limit is {MAX_EVENT_BYTES}")
    if data.startswith(UTF8_BOM):
        data = data[3:]
    if not data.isascii():
        problem = encoding_error(data)
        if problem is not None:
            return Rejection.of(Reason.INVALID_ENCODING, "", problem)
    if data.count(b"{") + data.count(b"[") > MAX_DEPTH and exceeds_depth(data):
        return _too_deep()
    try:
        try:
            wire = WIRE_ADAPTER.validator.validate_json(data)  # what WIRE_ADAPTER.validate_json calls
        except ValidationError as error:
            return classify(data, error)
        return _finish(wire, data, time_range)
    except Exception as exc:  # a defect here must not lose the event: it is dead-lettered, replayable
        _log.exception("validation failed unexpectedly")
        return Rejection.of(Reason.PROCESSING_FAILED, "", f"validation failed unexpectedly: {exc!r}")


def _finish(wire: Any, raw: bytes, time_range: TimeRange) -> ValidEvent | Rejection:
    """Checks that pydantic does not make, in the contract's order, then the normalised event."""
    entry = BY_ENVELOPE[type(wire)]
    extra = wire.__pydantic_extra__
    if extra:
        errors = extension_name_errors(extra)
        extensions = {name: extra[name] for name in sorted(extra) if extra[name] is not None}
    else:
        errors = []
        extensions = {}
    time_text: str | None
    epoch_ns: int | None
    try:
        time_text, epoch_ns = normalise_matched(wire.time)
    except TimeFormatError as exc:
        errors.append(("time", str(exc)))
        time_text = epoch_ns = None
    if entry.has_decimals:
        # floats keep their literal unless some literal may have 16 or more digits (schemas.numbers)
        exact = load_exact(raw)["data"] if floats_may_be_inexact(raw) else None
        try:
            data = entry.normalise(wire.data, exact)
        except NeedsExact:
            data = entry.normalise(wire.data, load_exact(raw)["data"])
        if type(data) is list:
            errors.extend(data)
    else:
        data = entry.normalise(wire.data, None)
    if errors or time_text is None:
        return Rejection.many(Reason.INVALID_FIELD, errors)
    problem = time_range.problem(time_text, epoch_ns)
    if problem is not None:
        return Rejection.of(Reason.TIME_OUT_OF_RANGE, "time", problem)
    if entry.business_rules is not None:
        broken = entry.business_rules(data)
        if broken:
            return Rejection.many(Reason.BUSINESS_RULE, broken)
    return _new_event(
        {
            "specversion": wire.specversion,
            "id": wire.id,
            "source": wire.source,
            "type": entry.name,
            "time": time_text,
            "tenantid": wire.tenantid,
            "subject": wire.subject,
            "datacontenttype": wire.datacontenttype,
            "dataschema": wire.dataschema,
            "extensions": extensions,
            "family": entry.family,
            "data": data,
        }
    )


def parse_event_dict(obj: Any, *, now: datetime) -> ValidEvent | Rejection:
    """Validate an event that was already parsed from JSON (e.g. one element of a batch).

    The object is written back to compact JSON and validated like raw bytes, so every
    check applies, the size limit to that compact form. For exact amounts, parse with
    ``json.loads(..., parse_float=Decimal)``; floats are taken at their shortest ``repr``.
    When each element's original bytes are at hand (a batch split by a scanner), prefer
    :func:`validate_event` on them: sizes and literals are then exactly those received.
    """
    try:
        text = to_json_text(obj)
    except RecursionError:
        return _too_deep()
    except (TypeError, ValueError) as exc:
        return Rejection.of(Reason.MALFORMED_JSON, "", f"not a JSON value: {exc}")
    return validate_event(text, now=now)
