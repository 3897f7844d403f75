"""The dated price table: every unit price with its unit, its sources and how sure it is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

#: The newest table shipped with the code (a new table is a new dated file beside it).
DEFAULT_TABLE = Path(__file__).with_name("prices-2026-11-25.json")
BASES = ("fact", "derived", "assumption")


class PriceError(ValueError):
    """The table or an override is unusable; the message says which."""


@dataclass(frozen=True, slots=True)
class Price:
    key: str
    price: float | None
    unit: str
    basis: str
    sources: tuple[str, ...]
    note: str = ""

    @property
    def known(self) -> bool:
        return self.price is not None


@dataclass(frozen=True, slots=True)
class PriceTable:
    as_of: str
    currency: str
    region: str
    hours_per_month: float
    prices: Mapping[str, Price]
    path: str = ""

    def __getitem__(self, key: str) -> Price:
        try:
            return self.prices[key]
        except KeyError:
            raise PriceError(f"the price table has no {key!r}") from None

    def value(self, key: str) -> float | None:
        return self[key].price

    def with_overrides(self, overrides: Mapping[str, float]) -> PriceTable:
        """A copy with some prices replaced (their basis becomes `override`)."""
        prices = dict(self.prices)
        for key, value in overrides.items():
            prices[key] = replace(self[key], price=value, basis="override", note="given on the command line")
        return replace(self, prices=prices)

    @property
    def seconds_per_month(self) -> float:
        return self.hours_per_month * 3600


def load_prices(path: Path | str | None = None) -> PriceTable:
    source = Path(path) if path else DEFAULT_TABLE
    try:
        data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PriceError(f"cannot read the price table {source}: {error}") from None
    prices = {}
    for key, entry in data.get("prices", {}).items():
        basis = entry.get("basis")
        if basis not in BASES:
            raise PriceError(f"{source}: {key} has basis {basis!r}, not one of {', '.join(BASES)}")
        if not entry.get("sources"):
            raise PriceError(f"{source}: {key} names no source")
        price = entry.get("price")
        if price is not None and not isinstance(price, int | float):
            raise PriceError(f"{source}: {key} has a price that is not a number")
        prices[key] = Price(key, price, entry["unit"], basis, tuple(entry["sources"]), entry.get("note", ""))
    for field_name in ("as_of", "currency", "region", "hours_per_month"):
        if field_name not in data:
            raise PriceError(f"{source}: missing {field_name!r}")
    return PriceTable(
        as_of=data["as_of"],
        currency=data["currency"],
        region=data["region"],
        hours_per_month=float(data["hours_per_month"]),
        prices=prices,
        path=str(source),
    )


def parse_override(text: str) -> tuple[str, float]:
    """`KEY=VALUE` from the command line."""
    key, sep, value = text.partition("=")
    if not sep:
        raise PriceError(f"--price takes KEY=VALUE, not {text!r}")
    try:
        return key.strip(), float(value)
    except ValueError:
        raise PriceError(f"--price {key}: {value!r} is not a number") from None
