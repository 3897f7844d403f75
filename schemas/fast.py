"""Building blocks of the one-pass validator: pydantic core schemas that build the stored shapes.

The wire models (``schemas/envelope.py``, ``schemas/types/*.py``) say what producers may send;
their JSON Schemas are published and the error messages come from them. The *one-pass* schema
(``schemas.registry.EVENT_ADAPTER``) is derived from them: the same constraints, field for
field, but its models are the stored ones (``ValidEvent``, ``OrderPlaced``, ``DeviceReading``),
so that pydantic-core builds the normalised event while it validates. Amounts and measures
become canonical ``Decimal`` values through a cache lookup that is a C call when the value is
cached (a ``dict`` whose ``__missing__`` converts, in Python, on a miss).

A one-pass schema may be *stricter* than the contract, never more lenient: whatever it cannot
decide exactly (a zero or subnormal float, an amount far from the common range, a leap second)
makes it refuse the event (:class:`SlowPath`), and ``schemas.validate_event`` then takes the
general path, which decides every event exactly as the contract says.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from pydantic import BaseModel
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from schemas.timestamps import normalise_matched

__all__ = [
    "BrokenRule",
    "SlowPath",
    "building",
    "constant_field",
    "converted",
    "exact_zeros",
    "model_schema_of",
    "utc_time",
    "zeros_are_exact",
]


class SlowPath(ValueError):
    """The one-pass schema cannot decide this event exactly: it refuses it (a ``ValueError``
    raised in a validator becomes a ``ValidationError``) and the general path decides."""


class BrokenRule(ValueError):
    """A business rule of the stored ``data`` does not hold: the one-pass schema refuses the event.

    It carries the rule's ``(loc, msg)`` errors, so that when it is the event's only error
    (every field valid) :func:`schemas.validate_event` names the reason without the general path.
    """

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("a business rule does not hold")
        self.errors = errors


_ZEROS = threading.local()


@contextmanager
def exact_zeros() -> Iterator[None]:
    """Within it (in this thread) the one-pass lookups take a float zero for an exact zero.

    A zero float may come from a literal that underflowed (``1e-400``), so the lookups refuse it
    (:class:`SlowPath`); an event refused only for that, whose text holds no literal that could
    underflow, is validated again inside this context (``schemas.validation``).
    """
    _ZEROS.exact = True
    try:
        yield
    finally:
        _ZEROS.exact = False


def zeros_are_exact() -> bool:
    """Whether :func:`exact_zeros` is open in this thread (read only when a lookup misses)."""
    return getattr(_ZEROS, "exact", False)


def _copy(schema: Any) -> Any:
    """A copy of the dicts and lists of a core schema (classes and functions are shared)."""
    if isinstance(schema, dict):
        return {key: _copy(value) for key, value in schema.items() if key != "ref"}
    if isinstance(schema, list):
        return [_copy(value) for value in schema]
    return schema


def model_schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """An editable copy of ``model``'s core schema (a ``model`` schema, without refs)."""
    schema = _copy(model.__pydantic_core_schema__)
    if schema.get("type") != "model" or schema["schema"].get("type") != "model-fields":
        raise TypeError(f"{model.__name__} has no plain model schema")
    return schema  # type: ignore[no-any-return]


def converted(convert: Callable[[Any], Any], schema: CoreSchema) -> CoreSchema:
    """``schema``, then ``convert`` on its result (a C callable keeps this in pydantic-core)."""
    return cs.no_info_after_validator_function(convert, schema)


def _refuse(value: Any) -> NoReturn:
    raise ValueError("not a member of the wire format")


def constant_field(default: Any = None, *, name: str, factory: Callable[[], Any] | None = None) -> cs.ModelField:
    """A model field that is never read from the input: it always holds ``default``.

    Its lookup key cannot be sent by mistake, and a value sent under it anyway is refused (so
    such an event takes the general path, where that key is an ordinary member).
    """
    if factory is not None:
        schema = cs.with_default_schema(cs.no_info_plain_validator_function(_refuse), default_factory=factory)
    else:
        schema = cs.with_default_schema(cs.no_info_plain_validator_function(_refuse), default=default)
    return cs.model_field(schema, validation_alias="\x00" + name)


def _models_in(schema: Any, found: dict[type, None]) -> dict[type, None]:
    if isinstance(schema, dict):
        if schema.get("type") == "model":
            found[schema["cls"]] = None
        for value in schema.values():
            _models_in(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _models_in(value, found)
    return found


@contextmanager
def building(schema: CoreSchema) -> Iterator[None]:
    """Build validators of ``schema`` in which every model gets the schema given, not its own.

    pydantic-core reuses a complete model's own validator wherever a ``model`` schema names
    that class; while this context is open the models that ``schema`` builds are marked
    incomplete, so that the schema is used as written.
    """
    models = list(_models_in(schema, {}))
    saved = [(model, model.__dict__.get("__pydantic_complete__")) for model in models]
    try:
        for model in models:
            type.__setattr__(model, "__pydantic_complete__", False)
        yield
    finally:
        for model, value in saved:
            type.__setattr__(model, "__pydantic_complete__", value)


def utc_time(text: str) -> str:
    """The canonical UTC text of a wire ``time``: the one-pass schema's after-validator for it.

    That of :func:`schemas.timestamps.normalise_matched` (which answers the common spellings
    first: already canonical, or an offset whose UTC minute is cached), refusing a time that it
    can only decide as an instant.

    Raises:
        TimeFormatError: (a ``ValueError``: the event is refused) for a date the month lacks
            or a misplaced leap second.
        SlowPath: for a leap second or a year that ``datetime`` cannot hold.
    """
    canonical, epoch_ns = normalise_matched(text)
    if epoch_ns is not None:
        raise SlowPath
    return canonical
