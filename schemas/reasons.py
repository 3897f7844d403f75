"""Dead-letter reason codes, in the order the contract checks them.

The first check that fails names the reason, so the order of the members is part of
the contract: ``list(Reason)`` is that order and :attr:`Reason.order` is the 1-based
position from the contract's table.
"""

from __future__ import annotations

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
