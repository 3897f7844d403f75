"""Validating one raw event: a fast path for what the one-pass schema accepts, an exact general path for the rest.

After the checks on the raw bytes (size, encoding, depth), the *fast path* runs one pydantic
validation, the one-pass schema (``schemas.registry.EVENT_ADAPTER``), which checks the wire
contract and builds the stored event; left to do are the extensions, the time range and the
business rules. Whatever the one-pass schema refuses or cannot decide exactly takes the *general
path*: the wire models (``WIRE_ADAPTER``), each type's ``normalise`` on the numbers read from their
literals, and for an event that fails, the check-by-check search for the first failing check in
the contract's order (:mod:`schemas.classify`). The two paths agree on every event
(``tests/unit/test_validation_one_pass.py``), so the fast path is only ever a shortcut.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from schemas.classify import classify_fields, classify_structure, malformed_json
from schemas.envelope import extension_name_errors
from schemas.event import ValidEvent
from schemas.json_text import to_json_text
from schemas.limits import MAX_DEPTH, MAX_EVENT_BYTES, UTF8_BOM, encoding_error, exceeds_depth
from schemas.numbers import SCAN_TABLE, floats_may_be_inexact, load_exact
from schemas.reasons import Reason, Rejection
from schemas.registry import BY_ENVELOPE, EVENT_ADAPTER, REGISTERED_TYPES, WIRE_ADAPTER
from schemas.timestamps import EARLIEST_SECONDS, TimeFormatError, TimeRange, datetime_to_ns, normalise_matched

_log = logging.getLogger(__name__)
#: The fields set of every event the fast path finishes, and of its stored ``data`` where the one-pass
#: schema builds another model than the wire one: all fields, as on the general path. Shared (~0.1 of
#: the bench ratio against a copy each): pydantic copies a fields set before it changes one.
_EVENT_FIELDS = set(ValidEvent.model_fields)
#: Per type name: whether its data holds decimals, and the fields set of its stored data (``None``
#: where the one-pass schema builds the wire model, whose fields set is already right).
_FINISH = {
    entry.name: (
        entry.has_decimals,
        None if entry.family_spec.stored is entry.wire_data else set(entry.family_spec.stored.model_fields),
    )
    for entry in REGISTERED_TYPES
}
_set = object.__setattr__
_range_cache: tuple[datetime | None, TimeRange | None] = (None, None)
#: What ``EVENT_ADAPTER.validate_json`` calls, without its Python wrapper (~0.5 µs an event).
_one_pass = EVENT_ADAPTER.validator.validate_json


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
    data = raw if type(raw) is bytes else raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    # One pass over the bytes serves two checks (~0.2 of the bench ratio): the brackets it deletes
    # are counted for the depth, and the runs of digits it leaves are where floats may be inexact.
    scan = data.translate(SCAN_TABLE, b"{[")
    brackets = len(data) - len(scan)
    # the usual event passes checks 1-3 at a glance (and ASCII text has no byte-order mark)
    if len(data) > MAX_EVENT_BYTES or brackets > MAX_DEPTH or not data.isascii():
        rejection = _raw_problem(data, brackets)
        if rejection is not None:
            return rejection
        data = data.removeprefix(UTF8_BOM)
    cached_now, time_range = _range_cache
    if cached_now is not now or time_range is None:
        time_range = _time_range(now)
    try:
        try:
            event = _one_pass(data)  # the fast path
        except ValidationError:  # refused, or not decided exactly: the general path decides
            return _general_path(data, time_range)
        has_decimals, stored_fields = _FINISH[event.type]
        if has_decimals and floats_may_be_inexact(data, scan):  # a float may not be its literal
            return _general_path(data, time_range)
        extra = event.__pydantic_extra__
        if extra:
            event.__dict__["extensions"] = {name: extra[name] for name in sorted(extra) if extra[name] is not None}
        # as the general path builds them: no extra members, every field set
        _set(event, "__pydantic_extra__", None)
        _set(event, "__pydantic_fields_set__", _EVENT_FIELDS)
        if stored_fields is not None:
            _set(event.data, "__pydantic_fields_set__", stored_fields)
        # the one-pass schema checked the business rules; left is the time range. A canonical time
        # sorts as its seconds do, so the usual one is judged here without TimeRange.problem's call
        if EARLIEST_SECONDS <= event.time < time_range.latest_seconds:
            return event
        late_or_early = time_range.problem(event.time, None)
        return event if late_or_early is None else Rejection.of(Reason.TIME_OUT_OF_RANGE, "time", late_or_early)
    except Exception as exc:  # a defect here must not lose the event: it is dead-lettered, replayable
        _log.exception("validation failed unexpectedly")
        return Rejection.of(Reason.PROCESSING_FAILED, "", f"validation failed unexpectedly: {exc!r}")


def validate_exactly(raw: bytes, *, now: datetime) -> ValidEvent | Rejection:
    """:func:`validate_event` on the general path alone: what the fast path must agree with."""
    brackets = raw.count(b"{") + raw.count(b"[")
    return _raw_problem(raw, brackets) or _general_path(raw.removeprefix(UTF8_BOM), _time_range(now))


def _raw_problem(data: bytes, brackets: int) -> Rejection | None:
    """Checks 1-3 of the contract, on the bytes as received: size, encoding, nesting depth
    (``brackets`` is the number of ``{`` and ``[`` in ``data``)."""
    if len(data) > MAX_EVENT_BYTES:
        return Rejection.of(Reason.TOO_LARGE, "", f"the event is {len(data)} bytes; the limit is {MAX_EVENT_BYTES}")
    problem = None if data.isascii() else encoding_error(data.removeprefix(UTF8_BOM))
    if problem is not None:
        return Rejection.of(Reason.INVALID_ENCODING, "", problem)
    if brackets > MAX_DEPTH and exceeds_depth(data):
        return Rejection.of(Reason.TOO_DEEP, "", f"JSON nesting is deeper than {MAX_DEPTH} levels")
    return None


def _time_range(now: datetime) -> TimeRange:
    """The accepted time range for ``now`` (cached: a batch shares one processing moment)."""
    global _range_cache
    cached_now, cached = _range_cache
    if cached is None or (cached_now is not now and cached_now != now):
        cached = TimeRange(datetime_to_ns(now))
        _range_cache = (now, cached)
    return cached


def _general_path(data: bytes, time_range: TimeRange) -> ValidEvent | Rejection:
    """Checks 4-11 of the contract, in order, on bytes that passed checks 1-3 (no byte-order mark)."""
    try:
        parsed = from_json(data, allow_inf_nan=False)
    except ValueError as exc:
        return malformed_json(exc)
    rejection = classify_structure(parsed)  # checks 5-8
    if rejection is not None:
        return rejection
    try:
        wire: Any = WIRE_ADAPTER.validate_json(data)
    except ValidationError as error:
        return classify_fields(parsed, data, error)  # check 9
    entry = BY_ENVELOPE[type(wire)]
    extra = wire.__pydantic_extra__ or {}
    errors = extension_name_errors(extra)
    try:
        time_text, epoch_ns = normalise_matched(wire.time)
    except TimeFormatError as exc:
        errors.append(("time", str(exc)))
    stored = entry.normalise(wire.data, load_exact(data)["data"] if entry.has_decimals else None)
    if type(stored) is list:
        errors.extend(stored)
    if errors:
        return Rejection.many(Reason.INVALID_FIELD, errors)
    problem = time_range.problem(time_text, epoch_ns)
    if problem is not None:
        return Rejection.of(Reason.TIME_OUT_OF_RANGE, "time", problem)
    broken = entry.business_rules(stored) if entry.business_rules is not None else None
    if broken:
        return Rejection.many(Reason.BUSINESS_RULE, broken)
    return ValidEvent.model_construct(
        specversion=wire.specversion,
        id=wire.id,
        source=wire.source,
        type=entry.name,
        time=time_text,
        tenantid=wire.tenantid,
        subject=wire.subject,
        datacontenttype=wire.datacontenttype,
        dataschema=wire.dataschema,
        extensions={name: extra[name] for name in sorted(extra) if extra[name] is not None},
        family=entry.family,
        data=stored,
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
        return Rejection.of(Reason.TOO_DEEP, "", f"JSON nesting is deeper than {MAX_DEPTH} levels")
    except (TypeError, ValueError) as exc:
        return Rejection.of(Reason.MALFORMED_JSON, "", f"not a JSON value: {exc}")
    return validate_event(text, now=now)
