"""Building blocks of the one-pass schema: core schemas that check the wire contract and build stored shapes.

The wire models (``schemas/envelope.py``, ``schemas/types/*.py``) say what producers may send;
their JSON Schemas are published and the error messages come from them. The *one-pass* schema
(``schemas.registry.EVENT_ADAPTER``) is derived from them: the same constraints, field for field,
but its models are the stored ones (``ValidEvent``, ``OrderPlaced``, ``DeviceReading``), so that
pydantic-core builds the normalised event while it validates.

It may be stricter than the contract, never more lenient: whatever it cannot decide exactly (a
zero or subnormal float, an amount beyond the limits, a leap second) it refuses by raising
:class:`SlowPath`, and ``schemas.validate_event`` then takes the exact general path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from pydantic import BaseModel
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from schemas.timestamps import normalise_matched


class SlowPath(ValueError):
    """The one-pass schema cannot decide this event exactly: it refuses it (a ``ValueError``
    raised in a validator becomes a ``ValidationError``) and the general path decides."""


def model_schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """An editable copy of ``model``'s core schema (a ``model`` schema, without refs)."""
    schema = _copy(model.__pydantic_core_schema__)
    if schema.get("type") != "model" or schema["schema"].get("type") != "model-fields":
        raise TypeError(f"{model.__name__} has no plain model schema")
    return schema  # type: ignore[no-any-return]


def _copy(schema: Any) -> Any:
    """A copy of the dicts and lists of a core schema (classes and functions are shared)."""
    if isinstance(schema, dict):
        return {key: _copy(value) for key, value in schema.items() if key != "ref"}
    if isinstance(schema, list):
        return [_copy(value) for value in schema]
    return schema


def converted(convert: Callable[[Any], Any], schema: CoreSchema) -> CoreSchema:
    """``schema``, then ``convert`` on its result."""
    return cs.no_info_after_validator_function(convert, schema)


class _Remembered(dict[Any, Any]):
    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        result = self.convert(value)
        if len(self) >= 8192:
            self.clear()
        self[value] = result
        return result


def remembered(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, remembering its results by value (up to 8192 of them; a refusal is not kept).

    Kept because amounts and measures repeat: a remembered value costs pydantic-core one dict
    lookup in C instead of a call to Python, about 2 µs per amount.
    """
    return _Remembered(convert).__getitem__


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
    """The canonical UTC text of a wire ``time`` (the one-pass schema's after-validator for it).

    Raises:
        TimeFormatError: (a ``ValueError``: the event is refused) for a date the month lacks
            or a misplaced leap second.
        SlowPath: for a time that only the instant can decide (a leap second, a year that
            ``datetime`` cannot hold), which the fast path's range check on the text cannot judge.
    """
    canonical, epoch_ns = normalise_matched(text)
    if epoch_ns is not None:
        raise SlowPath
    return canonical
