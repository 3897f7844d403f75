"""The one place that lists the registered event types.

Each type module under ``schemas/types/`` builds its :class:`RegisteredType` values (the wire
model of ``data``, the family, the normaliser or upcaster); this tuple lists them, one line per
type version. Everything else is derived from it: validation (:data:`WIRE_ADAPTER`), the exported
JSON Schemas, the curated-document models, the aggregates' value field per family
(:data:`FAMILY_VALUE_FIELD`) and the registry table in ``docs/schemas.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, TypeAdapter

from schemas.envelope import WireEnvelope
from schemas.registration import EventFamily, Normaliser, RegisteredType
from schemas.types import device_reading, order_placed, page_viewed

__all__ = [
    "BY_ENVELOPE",
    "FAMILIES",
    "FAMILY_SPECS",
    "FAMILY_VALUE_FIELD",
    "REGISTERED_TYPES",
    "REGISTRY",
    "WIRE_ADAPTER",
    "EventFamily",
    "Normaliser",
    "RegisteredType",
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


def plain_model() -> TypeAdapter[WireEnvelope]:
    """The pydantic model of the wire contract alone, with no post-processing.

    ``plain_model().validate_json(raw)`` is the honest baseline for the cost of
    :func:`schemas.validate_event`, which runs exactly this validation on the happy path.
    """
    return WIRE_ADAPTER


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
