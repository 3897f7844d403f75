"""Exact decimal numbers from JSON number literals, and how to tell when a float is not its literal.

pydantic parses JSON numbers through binary floats, which keep a literal exactly only when it has
at most 15 significant digits (DBL_DIG) and neither overflows nor underflows: the shortest ``repr``
of the float is then the literal's own value. The one-pass schema relies on that, so an event
where :func:`floats_may_be_inexact` holds takes the general path, which reads every number of
``data`` from its literal (:func:`load_exact`).
"""

from __future__ import annotations

import json
import re
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation, Rounded
from typing import Any

#: A context in which the operations used here are exact; rounding would raise.
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact, Rounded])
#: The smallest positive normal double: a zero or a float below it may be a literal that underflowed.
MIN_NORMAL = 2.2250738585072014e-308

# Byte classes for the literal scan: digits and '.' -> '0', everything else -> ' '.
SCAN_TABLE = bytes(ord("0") if chr(b) in "0123456789." else ord(" ") for b in range(256))
_LONG_RUN = b"0" * 16
# A number literal (a member's value or an array element) that begins with 16 digits/dots.
_LONG_LITERAL = re.compile(rb"[:\[,][ \t\n\r]*-?[0-9.]{16}")


def floats_may_be_inexact(raw: bytes, scan: bytes | None = None) -> bool:
    """Whether some number literal in ``raw`` may have more than 15 significant digits.

    True when a number literal begins with 16 or more digits/dots (its mantissa, before any
    exponent). The text is first scanned for 16 digits/dots in a row anywhere (``scan``, which
    is ``raw.translate(SCAN_TABLE)``, brackets possibly deleted; then one search: the usual
    answer is no). Such runs are mostly inside strings, so only then are the literals themselves
    looked at, which may still match a string such as ``"urn:1234567890123456"``: a harmless ``True``.
    """
    if scan is None:
        scan = raw.translate(SCAN_TABLE)
    return _LONG_RUN in scan and _LONG_LITERAL.search(raw) is not None


def load_exact(text: str | bytes) -> Any:
    """Parse JSON keeping every number as the exact ``Decimal`` of its literal."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


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
