"""Tumbling windows on event time (UTC, aligned to the epoch) and the exact decimal rounding rule."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def window_start(epoch_seconds: int, window_minutes: int) -> str:
    """`YYYY-MM-DDTHH:MM:00Z` of the window holding `epoch_seconds`."""
    width = window_minutes * 60
    start = epoch_seconds - epoch_seconds % width
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def round_cents(value: Decimal) -> Decimal:
    """Round half-even to two decimals, exactly."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def decimal_text(value: Decimal) -> str:
    """An exact decimal as plain text (no exponent), e.g. Decimal('1E+2') -> '100'."""
    text = format(value, "f")
    return text
