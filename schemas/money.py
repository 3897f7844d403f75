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
from typing import Annotated, Protocol

from pydantic import Field, PlainSerializer, StrictFloat, StringConstraints, WithJsonSchema

from schemas.fast import SlowPath, remembered
from schemas.numbers import EXACT, MIN_NORMAL, plain
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


class MoneyError(ValueError):
    """An amount that is negative or beyond the implementation limits."""


def canonical_money(value: Decimal | float | int | str) -> Decimal:
    """The canonical Decimal of an amount: a literal's ``Decimal``, an int, a money string, or a
    float taken as its shortest literal (``repr``).

    Raises:
        MoneyError: when the amount is negative or outside the implementation limits.
    """
    if isinstance(value, float):
        value = repr(value)
    amount = value if isinstance(value, Decimal) else Decimal(value)
    if not amount.is_finite() or amount < 0:
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


def one_pass_amount(value: float | str | None) -> Decimal:
    """:func:`canonical_money` of a wire amount as the one-pass schema sees it: a float whose
    literal had at most 15 significant digits, a money string, or ``None`` (a discount sent as null).

    Raises:
        SlowPath: for a zero or subnormal float (its literal may have underflowed) and for an
            amount beyond the limits: the general path judges them on their literals.
    """
    if value is None:
        return _ZERO
    if type(value) is float and -MIN_NORMAL < value < MIN_NORMAL:
        raise SlowPath
    try:
        return canonical_money(value)
    except MoneyError:
        raise SlowPath from None


#: :func:`one_pass_amount`, remembered: the one-pass schema's after-validator for amounts.
AMOUNT_LOOKUP = remembered(one_pass_amount)


class _Line(Protocol):
    quantity: int
    unit_price: Decimal


def net_total(items: Sequence[_Line], discount: Decimal) -> Decimal:
    """``sum(quantity * unit_price) - discount``, computed exactly."""
    gross = _ZERO
    for item in items:
        gross = EXACT.add(gross, EXACT.multiply(item.unit_price, item.quantity))
    return EXACT.subtract(gross, discount)
