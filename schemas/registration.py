"""What it takes to register an event type: its family and the type version itself.

A *family* (``order.placed``) is what the rest of the pipeline works with: one stored shape of
``data``, the fields enrichment adds to the curated document, and the field whose value the
aggregates sum. A *type* (``com.contoso.order.placed.v2``) is one published version of a family on
the wire: its ``data`` model and the function that turns it into the family's stored shape (for an
older version, the upcaster).

Each type module under ``schemas/types/`` builds its :class:`RegisteredType` values;
``schemas/registry.py`` lists them, one line each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_core import CoreSchema

from schemas.envelope import WireEnvelope, envelope_for

#: Turns validated wire data and, for a type with decimals, the same ``data`` parsed with every
#: number as the exact ``Decimal`` of its literal (else ``None``) into the stored shape, or
#: returns the ``(loc, msg)`` errors found while doing so.
Normaliser = Callable[[Any, Any], Any]

#: ``<reverse-DNS name>.v<version>``: the version is part of the type name, as CloudEvents advises.
TYPE_NAME_PATTERN = r"^[a-z0-9]+(?:\.[a-z0-9_]+)+\.v([1-9][0-9]*)$"
_TYPE_NAME_RE = re.compile(TYPE_NAME_PATTERN)
_FAMILY_NAME_RE = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
_VALUE_FIELD_RE = re.compile(r"^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*$")


@dataclass(frozen=True, slots=True)
class EventFamily:
    """One event family: what every version of it becomes once validated and enriched.

    Attributes:
        name: The family, e.g. ``order.placed`` (the aggregates' ``event_type``).
        stored: The model of ``data`` once normalised: every version of the family ends up in
            this one shape (what :class:`schemas.ValidEvent` holds and Cosmos DB stores).
        enrichment: The model of the top-level fields enrichment adds to the curated
            document for this family (``amount_usd``, ``url_host``, …).
        value_field: Where the curated document holds the value the aggregates sum, as a
            dotted path (``amount_usd``, ``data.duration_ms``).
    """

    name: str
    stored: type[BaseModel]
    enrichment: type[BaseModel]
    value_field: str

    def __post_init__(self) -> None:
        if not _FAMILY_NAME_RE.fullmatch(self.name):
            raise ValueError(f"family name {self.name!r} must be dotted lower-case words, e.g. 'order.placed'")
        if not _VALUE_FIELD_RE.fullmatch(self.value_field):
            raise ValueError(f"value_field {self.value_field!r} of {self.name} must be a dotted field path")


@dataclass(frozen=True, slots=True)
class RegisteredType:
    """One registered CloudEvents ``type``: a published version of a family.

    Attributes:
        name: The CloudEvents ``type``, ending in ``.v<N>``.
        family_spec: The family this version belongs to.
        wire_data: The model of ``data`` as producers send it (strict, no extra fields).
        normalise: Wire data (and its exact-decimal parse, for a type with decimals) to the
            family's stored shape, or ``(loc, msg)`` errors; for an older version this is the upcaster.
        has_decimals: Whether the data holds decimals (money or measures) read from JSON numbers:
            the general path then reads them from their literals.
        exact_errors: Errors that only exact decimals reveal, for events rejected anyway.
        business_rules: Business rules on the stored shape.
        one_pass_data: Optional: builds a pydantic core schema that checks the wire ``data``
            exactly as ``wire_data`` does and builds the stored shape as ``normalise`` would,
            for the fast path (:mod:`schemas.fast`). Without it, events of this type take
            the general path: ``wire_data``, then ``normalise``.
        family: The family's name (``family_spec.name``).
        version: The version number in ``name``.
        envelope: The wire model of a whole event of this type (envelope + ``type`` + ``data``).
    """

    name: str
    family_spec: EventFamily
    wire_data: type[BaseModel]
    normalise: Normaliser
    has_decimals: bool
    exact_errors: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    business_rules: Callable[[Any], list[tuple[str, str]]] | None = None
    one_pass_data: Callable[[], CoreSchema] | None = None
    family: str = field(init=False)
    version: int = field(init=False)
    envelope: type[WireEnvelope] = field(init=False)

    def __post_init__(self) -> None:
        match = _TYPE_NAME_RE.fullmatch(self.name)
        if match is None:
            raise ValueError(f"type name {self.name!r} must be dotted lower-case words ending in '.v<N>'")
        object.__setattr__(self, "family", self.family_spec.name)
        object.__setattr__(self, "version", int(match.group(1)))
        object.__setattr__(self, "envelope", envelope_for(self.name, self.wire_data))

    @property
    def stem(self) -> str:
        """The type name without its version: ``com.contoso.order.placed``."""
        return self.name.rsplit(".v", 1)[0]
