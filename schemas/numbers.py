"""Exact decimal numbers taken from JSON number literals.

pydantic parses JSON numbers through binary floats, which keeps a literal exactly only when
it has at most 15 significant digits and a modest exponent (DBL_DIG is 15: the shortest
``repr`` of the float is then the literal's own value). :func:`floats_may_be_inexact` spots,
cheaply and conservatively, raw events where that might not hold; for those the numbers are
re-read from the literal text with ``json.loads(parse_float=Decimal)``.
"""

from __future__ import annotations

import json
import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation, Rounded
from typing import Any

#: A context in which the operations used here are exact; rounding would raise.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact, Rounded])

# Byte classes for the literal scan: digits and '.' -> '0', everything else -> ' '.
SCAN_TABLE = bytes(ord("0") if chr(b) in "0123456789." else ord(" ") for b in range(256))
LONG_MANTISSA = b"0" * 16
#: A number literal (a member's value or an array element) that begins with 16 digits/dots.
LONG_LITERAL = re.compile(rb"[:\[,][ \t\n\r]*-?[0-9.]{16}")
#: The smallest positive normal double: below it a float keeps fewer than 15 digits.
_MIN_NORMAL = 2.2250738585072014e-308


class NeedsExact(Exception):
    """A float that may not be its literal (zero or subnormal: the literal may have underflowed)."""


def floats_may_be_inexact(raw: bytes, scan: bytes | None = None) -> bool:
    """Whether some number literal in ``raw`` may have more than 15 significant digits.

    True when a number literal begins with 16 or more digits/dots (its mantissa, before any
    exponent). The text is first scanned for 16 digits/dots in a row anywhere: that is one
    ``translate`` and one search, and the usual answer is no. Such runs are mostly inside
    strings (identifiers, trace contexts), so only then are the literals themselves looked at
    (:data:`LONG_LITERAL`, which may still match a string such as ``"urn:1234567890123456"``:
    a harmless ``True``). A literal with at most 15 significant digits is the ``repr`` of its
    float unless it overflows (then the float is infinite and refused) or underflows (then the
    float is zero or subnormal, which :func:`float_to_decimal` refuses to convert).

    Args:
        raw: The JSON text.
        scan: ``raw.translate(SCAN_TABLE, ...)`` when already made (deleting brackets is fine).
    """
    if scan is None:
        scan = raw.translate(SCAN_TABLE)
    return LONG_MANTISSA in scan and LONG_LITERAL.search(raw) is not None


#: A negative exponent of three digits or more: a literal that may underflow to zero (``1e-400``).
_TINY_EXPONENT = re.compile(rb"[eE]-[0-9]{3}")


def zeros_may_be_inexact(raw: bytes, scan: bytes | None = None) -> bool:
    """Whether a float zero read from ``raw`` may stand for a non-zero literal that underflowed.

    Only a literal with many digits (see :func:`floats_may_be_inexact`) or a negative exponent
    of three digits or more can underflow: ``0``, ``0.0`` and ``-0e5`` are exact zeros. Strings
    are not skipped, so this may answer a harmless ``True``.
    """
    return _TINY_EXPONENT.search(raw) is not None or floats_may_be_inexact(raw, scan)


def load_exact(text: str | bytes) -> Any:
    """Parse JSON keeping every number as the exact ``Decimal`` of its literal."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def float_to_decimal(value: float) -> Decimal:
    """The decimal a float was read from, valid when :func:`floats_may_be_inexact` is False.

    Raises:
        NeedsExact: for zero or a subnormal, whose literal may have been a tiny non-zero
            number (``1e-400``); the caller then re-reads the literal text.
    """
    if -_MIN_NORMAL < value < _MIN_NORMAL:
        raise NeedsExact
    return Decimal(repr(value))


def float_text(value: float) -> str | None:
    """The literal a float was read from, as plain decimal text, or ``None`` for exponent forms.

    Valid when :func:`floats_may_be_inexact` is False.

    Raises:
        NeedsExact: as :func:`float_to_decimal`.
    """
    if -_MIN_NORMAL < value < _MIN_NORMAL:
        raise NeedsExact
    text = repr(value)
    return None if "e" in text else text


def canonical_measure(value: float) -> Decimal:
    """:func:`canonical_number` of a float read from a literal of up to 15 significant digits."""
    text = float_text(value)
    if text is None:
        return canonical_number(Decimal(repr(value)))
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if whole == "-0" and not fraction:
        return _ZERO
    return Decimal(whole + "." + fraction if fraction else whole)


def to_decimal(value: object) -> Decimal:
    """Exact ``Decimal`` of a JSON number or decimal string already checked by the schema."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return float_to_decimal(value)
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"not a number: {value!r}")


def plain(value: Decimal) -> str:
    """Decimal notation without an exponent (``1E+2`` -> ``100``)."""
    return format(value, "f")


def canonical_number(value: Decimal) -> Decimal:
    """The one representation kept for a measured value: trailing zeros dropped, no positive
    exponent, ``-0`` as ``0``. Exact: no digit is ever rounded away."""
    if not value:
        return _ZERO
    normal = value.normalize(EXACT)
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return normal.quantize(_ONE, context=EXACT)
    return normal


_ZERO = Decimal(0)
_ONE = Decimal(1)
