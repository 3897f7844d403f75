"""Why an event is refused: the dead-letter reason codes, in the order the contract checks them, and the Rejection.

The first check that fails names the reason, so the order of the members is part of
the contract: ``list(Reason)`` is that order and :attr:`Reason.order` is the 1-based
position from the contract's table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Stable reason codes written on every dead-letter record."""

    TOO_LARGE = "too_large"
    INVALID_ENCODING = "invalid_encoding"
    TOO_DEEP = "too_deep"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    UNSUPPORTED_SPECVERSION = "unsupported_specversion"
    MISSING_FIELD = "missing_field"
    UNKNOWN_TYPE = "unknown_type"
    INVALID_FIELD = "invalid_field"
    TIME_OUT_OF_RANGE = "time_out_of_range"
    BUSINESS_RULE = "business_rule"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    UNKNOWN_TENANT = "unknown_tenant"
    UNKNOWN_CURRENCY = "unknown_currency"
    PROCESSING_FAILED = "processing_failed"

    @property
    def order(self) -> int:
        """Position of the check in the contract's table (1 = checked first)."""
        return _ORDER[self]

    @property
    def replayable(self) -> bool:
        """True for operational failures that a replay may cure (only ``processing_failed``)."""
        return self is Reason.PROCESSING_FAILED


_ORDER = {reason: position for position, reason in enumerate(Reason, start=1)}

#: The reasons decided by :func:`schemas.validate_event` from the event alone (codes 1-11).
VALIDATION_REASONS: tuple[Reason, ...] = tuple(r for r in Reason if r.order <= 11)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an event is dead-lettered.

    Attributes:
        reason: The first failing check in the contract's order.
        errors: At least one ``{"loc": ..., "msg": ...}`` entry. ``loc`` is a dotted path
            into the event (``"data.items.0.quantity"``, ``"time"``) or ``""`` when the
            problem concerns the raw event as a whole.
    """

    reason: Reason
    errors: tuple[dict[str, str], ...]

    def __post_init__(self) -> None:
        if not self.errors:
            raise ValueError("a Rejection needs at least one error")

    @classmethod
    def of(cls, reason: Reason, loc: str, msg: str) -> Rejection:
        """A rejection with a single error."""
        return cls(reason, ({"loc": loc, "msg": msg},))

    @classmethod
    def many(cls, reason: Reason, errors: Iterable[tuple[str, str]]) -> Rejection:
        """A rejection from ``(loc, msg)`` pairs, keeping their order and dropping repeats."""
        seen: set[tuple[str, str]] = set()
        out: list[dict[str, str]] = []
        for loc, msg in errors:
            if (loc, msg) not in seen:
                seen.add((loc, msg))
                out.append({"loc": loc, "msg": msg})
        return cls(reason, tuple(out))

    def as_dict(self) -> dict[str, object]:
        """The JSON-ready form used on dead-letter records."""
        return {"reason": self.reason.value, "errors": [dict(e) for e in self.errors]}
