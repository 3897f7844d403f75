"""The one place that lists the registered event types.

Each type module under ``schemas/types/`` builds its :class:`RegisteredType` values (the wire
model of ``data``, the family, the normaliser or upcaster); this tuple lists them, one line per
type version. Everything else is derived from it: validation (:data:`EVENT_ADAPTER`,
:data:`WIRE_ADAPTER`), the exported JSON Schemas, the curated-document models, the aggregates' value field per family
(:data:`FAMILY_VALUE_FIELD`) and the registry table in ``docs/schemas.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, GetCoreSchemaHandler, TypeAdapter
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from schemas.envelope import EXTENSION_NAME_PATTERN, WireEnvelope
from schemas.event import ValidEvent
from schemas.fast import building, constant_field, converted, model_schema_of, utc_time
from schemas.registration import EventFamily, Normaliser, RegisteredType
from schemas.types import device_reading, order_placed, page_viewed

__all__ = [
    "BY_ENVELOPE",
    "EVENT_ADAPTER",
    "FAMILIES",
    "FAMILY_SPECS",
    "FAMILY_VALUE_FIELD",
    "REGISTERED_TYPES",
    "REGISTRY",
    "WIRE_ADAPTER",
    "EventFamily",
    "Normaliser",
    "RegisteredType",
    "event_schema",
    "families_of",
    "family_value",
    "plain_model",
]

REGISTERED_TYPES: tuple[RegisteredType, ...] = (
    order_placed.V1,
    order_placed.V2,
    page_viewed.V1,
    device_reading.V1,
)


def families_of(entries: tuple[RegisteredType, ...]) -> dict[str, EventFamily]:
    """The families of ``entries`` in order of first appearance; each name must have one definition."""
    families: dict[str, EventFamily] = {}
    versions: set[tuple[str, int]] = set()
    names: set[str] = set()
    for entry in entries:
        if entry.name in names:
            raise ValueError(f"type {entry.name} is registered twice")
        names.add(entry.name)
        known = families.setdefault(entry.family, entry.family_spec)
        if known is not entry.family_spec:
            raise ValueError(f"family {entry.family} has two definitions (see {entry.name})")
        if (entry.stem, entry.version) in versions:
            raise ValueError(f"{entry.stem} version {entry.version} is registered twice")
        versions.add((entry.stem, entry.version))
    return families


FAMILY_SPECS: dict[str, EventFamily] = families_of(REGISTERED_TYPES)
REGISTRY: dict[str, RegisteredType] = {entry.name: entry for entry in REGISTERED_TYPES}
BY_ENVELOPE: dict[type[BaseModel], RegisteredType] = {e.envelope: e for e in REGISTERED_TYPES}
FAMILIES: tuple[str, ...] = tuple(FAMILY_SPECS)
#: Where each family's curated document holds the value the aggregates sum (a dotted path).
FAMILY_VALUE_FIELD: dict[str, str] = {name: spec.value_field for name, spec in FAMILY_SPECS.items()}

#: Every registered event on the wire, told apart by ``type``.
_ENVELOPES = tuple(entry.envelope for entry in REGISTERED_TYPES)
WireEvent: Any = Annotated[Union[_ENVELOPES], Field(discriminator="type")]  # noqa: UP007
WIRE_ADAPTER: TypeAdapter[WireEnvelope] = TypeAdapter(WireEvent)


_ENVELOPE_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "tenantid")
_OPTIONAL_ATTRIBUTES = ("subject", "datacontenttype", "dataschema")


def event_schema(entry: RegisteredType) -> CoreSchema | None:
    """The one-pass schema of a whole event of type ``entry`` (see :mod:`schemas.fast`).

    The envelope's checks are those of ``entry.envelope`` (the wire model), and extension
    names are checked too; ``time`` is normalised to UTC (:func:`schemas.fast.utc_time`). What it
    builds is a :class:`ValidEvent` whose extensions are still in ``__pydantic_extra__``:
    :func:`schemas.validate_event` finishes it. ``None`` for a type without ``one_pass_data``.
    """
    if entry.one_pass_data is None:
        return None
    schema = model_schema_of(entry.envelope)
    wire = schema["schema"]["fields"]
    fields = {name: wire[name] for name in (*_ENVELOPE_ATTRIBUTES, *_OPTIONAL_ATTRIBUTES)}
    fields["time"] = {**wire["time"], "schema": converted(utc_time, wire["time"]["schema"])}
    fields["extensions"] = constant_field(name="extensions", factory=dict)
    fields["family"] = constant_field(entry.family, name="family")
    fields["data"] = {**wire["data"], "schema": entry.one_pass_data()}
    if set(wire) - set(fields) or list(fields) != list(ValidEvent.model_fields):
        raise TypeError("the wire envelope and ValidEvent no longer match")
    schema["schema"]["fields"] = fields
    schema["schema"]["extras_keys_schema"] = cs.str_schema(pattern=EXTENSION_NAME_PATTERN, strict=True)
    schema["cls"] = ValidEvent
    return schema


class _OnePassEvent:
    """The one-pass schema of every registered type that has one, told apart by ``type``."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        choices = {entry.name: event_schema(entry) for entry in REGISTERED_TYPES}
        return cs.tagged_union_schema(
            {name: schema for name, schema in choices.items() if schema is not None}, discriminator="type"
        )


def _one_pass_adapter() -> TypeAdapter[ValidEvent]:
    schema = _OnePassEvent.__get_pydantic_core_schema__(_OnePassEvent, None)  # type: ignore[arg-type]
    with building(schema):
        return TypeAdapter(_OnePassEvent)  # type: ignore[arg-type]


#: The one-pass schema: the pydantic validation that :func:`schemas.validate_event` runs first on every event.
EVENT_ADAPTER: TypeAdapter[ValidEvent] = _one_pass_adapter()


def plain_model() -> TypeAdapter[ValidEvent]:
    """The pydantic model that :func:`schemas.validate_event` validates every event with.

    ``plain_model().validate_json(raw)`` is the honest baseline for the cost of
    :func:`schemas.validate_event`: on the fast path the platform runs exactly this
    validation (the whole wire contract's schema, building the stored shapes, amounts as
    canonical decimals, ``time`` in UTC) and then finishes the event in Python: extensions,
    fields set, the time range, the business rules. Its result alone is not a finished event.
    """
    return EVENT_ADAPTER


def family_value(document: Mapping[str, Any]) -> Any:
    """The value a curated document contributes to its family's aggregates, as stored.

    It is found at the family's ``value_field`` (``amount_usd``, ``data.duration_ms``,
    ``data.temperature_c``): decimal text or an integer, exact; the caller makes it a ``Decimal``
    (``Decimal(str(value))``).
    """
    value: Any = document
    for part in FAMILY_VALUE_FIELD[document["family"]].split("."):
        value = value[part]
    return value
