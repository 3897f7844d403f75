"""Money: exact, non-negative amounts.

On the wire an amount is a JSON number (any finite literal, booleans excluded) or a string
matching ``^\\d+(\\.\\d{1,2})?$``. It is held as a ``Decimal`` in one canonical form: at least
two decimal places, no trailing zeros beyond them, no exponent (``10``, ``10.0`` and
``"10.00"`` all become ``Decimal("10.00")``; ``0.125`` stays ``Decimal("0.125")``), and
it is written to JSON as that plain decimal string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from functools import reduce
from operator import attrgetter
from typing import Annotated, Any, Protocol

from pydantic import Field, PlainSerializer, StrictFloat, StringConstraints, WithJsonSchema

from schemas.fast import SlowPath, zeros_are_exact
from schemas.numbers import EXACT, float_text, plain, to_decimal
from schemas.strict import OneOf

#: The decimal-string spelling of an amount (ASCII digits only).
MONEY_STRING_PATTERN = r"^[0-9]+(?:\.[0-9]{1,2})?$"
MONEY_STRING_RE = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
#: How a canonical amount is written on normalised events and curated documents.
CANONICAL_MONEY_PATTERN = r"^[0-9]+\.[0-9]{2,}$"
#: Implementation limits that keep every amount printable and every sum exact.
MAX_INTEGER_DIGITS = 100
MAX_DECIMAL_PLACES = 100

MONEY_MESSAGE = 'must be a non-negative amount: a JSON number, or a string like "12" or "12.50" (at most two decimals)'

#: Money as accepted on the wire (a float or the original string; see :func:`canonical_money`).
WireMoney = Annotated[
    Annotated[str, StringConstraints(strict=True, pattern=MONEY_STRING_PATTERN)]
    | Annotated[StrictFloat, Field(ge=0, allow_inf_nan=False)],
    OneOf("money", MONEY_MESSAGE),
]

#: Money as held on a normalised event: a canonical Decimal written as a plain string.
Money = Annotated[
    Decimal,
    Field(ge=0, allow_inf_nan=False),
    PlainSerializer(plain, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CANONICAL_MONEY_PATTERN,
            "description": "An exact non-negative amount: at least two decimals, no exponent.",
        },
        mode="serialization",
    ),
]

_HUNDREDTH = Decimal("0.01")
_ZERO = Decimal("0.00")
_CACHE_LIMIT = 8192
_add_exactly = EXACT.add


class MoneyError(ValueError):
    """An amount that is negative or beyond the implementation limits."""


def canonical_money(value: Any) -> Decimal:
    """The canonical Decimal of an amount given as float, int, Decimal or decimal string.

    Raises:
        MoneyError: when the amount is negative or outside the implementation limits.
        NeedsExact: for a float that may not be its literal (see :mod:`schemas.numbers`).
    """
    kind = type(value)
    if kind is float or kind is str:
        hit = _CACHE.get(value)
        if hit is not None:
            return hit
        # float_text raises NeedsExact for zero and subnormals, which are never cached
        text = float_text(value) if kind is float else value
        result = _canonical_text(text) if text is not None else None
        if result is None:
            result = _canonical(Decimal(value if kind is str else repr(value)))
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[value] = result
        return result
    return _canonical(to_decimal(value))


def cached_money(value: Any) -> Decimal | None:
    """:func:`canonical_money` of a float or string already worked out, else ``None``."""
    kind = type(value)
    if kind is float or kind is str:
        return _CACHE.get(value)
    return None


class _MoneyLookup(dict[Any, Decimal]):
    """The canonical amounts already worked out, by wire value (float or string).

    Indexing it is the one-pass validator's after-validator for amounts (a C call when the
    value is cached); a value not cached yet is converted by ``__missing__``.
    """

    def __missing__(self, value: Any) -> Decimal:
        # Adding 0.00 exactly gives at least two decimals and keeps every digit: the canonical
        # form, since neither a float's shortest repr nor a money string (at most two decimals)
        # has zeros beyond the second decimal that the canonical form would drop.
        kind = type(value)
        if kind is float and 1e-80 < value < 1e80:  # not zero or subnormal (a literal may underflow)
            amount = _add_exactly(_ZERO, Decimal(repr(value)))
        elif kind is str and len(value) <= 80:
            amount = _add_exactly(_ZERO, Decimal(value))
        elif value is None or (kind is float and value == 0 and zeros_are_exact()):
            return _ZERO  # a discount sent as null, or an exact zero (not cached: it is not exact elsewhere)
        else:  # beyond the common range: the general path applies every limit
            raise SlowPath
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[value] = amount
        return amount


_CACHE = _MoneyLookup()
#: ``MONEY_LOOKUP[value]``: the canonical amount of a wire amount (a float, a money string, or
#: ``None`` for a discount sent as null), for the one-pass validator (:mod:`schemas.fast`); valid
#: when the event's floats are their literals. Raises :class:`schemas.fast.SlowPath` for an amount
#: that the general path must judge (zero, unless :func:`schemas.fast.exact_zeros` is open;
#: subnormal, or far from the common range).
MONEY_LOOKUP = _CACHE


def _canonical_text(text: str) -> Decimal | None:
    """Canonical amount from plain decimal text (``12``, ``12.5``, ``12.500``), or ``None``."""
    whole, _, fraction = text.partition(".")
    if len(whole) > 30 or not whole.isdigit():
        return None
    fraction = fraction.rstrip("0")
    if len(fraction) < 2:
        fraction = fraction.ljust(2, "0")
    return Decimal(whole + "." + fraction)


def _canonical(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise MoneyError(MONEY_MESSAGE)
    if amount < 0:
        raise MoneyError(MONEY_MESSAGE)
    if not amount:
        return _ZERO
    normal = amount.normalize(EXACT)
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)
    if normal.adjusted() >= MAX_INTEGER_DIGITS or exponent < -MAX_DECIMAL_PLACES:
        raise MoneyError(
            f"amount outside the supported range (at most {MAX_INTEGER_DIGITS} digits "
            f"before and {MAX_DECIMAL_PLACES} after the decimal point)"
        )
    if exponent > -2:
        return normal.quantize(_HUNDREDTH, context=EXACT)
    return normal


class _Line(Protocol):
    quantity: int
    unit_price: Decimal


def net_total(items: Sequence[_Line], discount: Decimal) -> Decimal:
    """``sum(quantity * unit_price) - discount``, computed exactly."""
    products = map(_multiply_exactly, map(_unit_price, items), map(_quantity, items))
    return _subtract_exactly(reduce(_add_exactly, products, _ZERO), discount)


_multiply_exactly = EXACT.multiply
_subtract_exactly = EXACT.subtract
_unit_price = attrgetter("unit_price")
_quantity = attrgetter("quantity")
