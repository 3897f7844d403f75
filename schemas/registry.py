"""The one place that lists the registered event types.

Each entry says which family a type belongs to, how its ``data`` is validated on the wire,
and how it becomes the stored shape (for ``order.placed.v1`` that is the upcaster).
Adding a type version means adding an entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, TypeAdapter

from schemas.envelope import WireEnvelope, envelope_for
from schemas.types import device_reading, order_placed, page_viewed

#: Turns validated wire data (and, when needed, its exact-decimal parse) into the stored
#: shape, or returns ``(loc, msg)`` errors found while doing so.
Normaliser = Callable[[Any, "dict[str, Any] | None"], Any]


@dataclass(frozen=True, slots=True)
class RegisteredType:
    """One registered CloudEvents ``type``."""

    name: str
    family: str
    wire_data: type[BaseModel]
    normalise: Normaliser
    #: Whether the data holds decimals (money or measures) read from JSON numbers.
    has_decimals: bool
    #: Errors that only exact decimals reveal, for events rejected anyway.
    exact_errors: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    #: Business rules on the stored shape.
    business_rules: Callable[[Any], list[tuple[str, str]]] | None = None
    envelope: type[WireEnvelope] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "envelope", envelope_for(self.name, self.wire_data))


REGISTERED_TYPES: tuple[RegisteredType, ...] = (
    RegisteredType(
        name=order_placed.TYPE_V1,
        family=order_placed.FAMILY,
        wire_data=order_placed.OrderPlacedV1Data,
        normalise=order_placed.upcast_v1,
        has_decimals=True,
        exact_errors=order_placed.exact_errors,
        business_rules=order_placed.business_rule_errors,
    ),
    RegisteredType(
        name=order_placed.TYPE_V2,
        family=order_placed.FAMILY,
        wire_data=order_placed.OrderPlacedV2Data,
        normalise=order_placed.normalise_v2,
        has_decimals=True,
        exact_errors=order_placed.exact_errors,
        business_rules=order_placed.business_rule_errors,
    ),
    RegisteredType(
        name=page_viewed.TYPE_V1,
        family=page_viewed.FAMILY,
        wire_data=page_viewed.PageViewed,
        normalise=page_viewed.normalise,
        has_decimals=False,
    ),
    RegisteredType(
        name=device_reading.TYPE_V1,
        family=device_reading.FAMILY,
        wire_data=device_reading.DeviceReadingWire,
        normalise=device_reading.normalise,
        has_decimals=True,
        exact_errors=device_reading.exact_errors,
    ),
)

REGISTRY: dict[str, RegisteredType] = {entry.name: entry for entry in REGISTERED_TYPES}
BY_ENVELOPE: dict[type[BaseModel], RegisteredType] = {e.envelope: e for e in REGISTERED_TYPES}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(entry.family for entry in REGISTERED_TYPES))

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
