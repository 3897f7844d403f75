"""The reference data files of enrichment (contract section 3): ``tenants.json``, ``fx_rates.json``,
``devices.json``.

One set of models serves both readers: ``python -m pipeline reference upload`` refuses a file they
refuse, and enrichment reads the stored files through them, so a file that was accepted for upload is
a file enrichment can use. Strict, like the other edge models: no coercion (a rate written as a JSON
number is refused), no unknown members (a misspelt field is an error, not a silent default).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from schemas.envelope import TENANT_PATTERN
from schemas.strict import text
from schemas.types.order_placed import CURRENCY_PATTERN

#: Configuration of the reference file models: nothing coerced, nothing extra.
REFERENCE_CONFIG = ConfigDict(strict=True, extra="forbid", frozen=True)

#: A rate as the contract writes it: a plain decimal string ("1", "1.0850", "0.006710").
RATE_PATTERN = r"^[0-9]{1,20}(?:\.[0-9]{1,20})?$"
_RATE_RE = re.compile(RATE_PATTERN)
#: The currency every rate converts to, and whose own rate (when listed) is therefore 1.
BASE_CURRENCY = "USD"


def _rate_text(value: Any) -> Any:
    if not isinstance(value, str) or not _RATE_RE.fullmatch(value) or Decimal(value) <= 0:
        raise PydanticCustomError(
            "fx_rate",
            'a rate must be a positive decimal string such as "1.0850" (USD per one unit), not {value}',
            {"value": repr(value)},
        )
    return value


TenantId = Annotated[str, text(pattern=TENANT_PATTERN)]
CurrencyCode = Annotated[str, text(3, 3, CURRENCY_PATTERN)]
RateText = Annotated[str, BeforeValidator(_rate_text)]
DeviceId = Annotated[str, text(1, 64)]  # as `device_id` in a device reading
Label = Annotated[str, text(1)]


class Tenant(BaseModel):
    """One tenant: what enrichment copies into every stored event's ``tenant``."""

    model_config = REFERENCE_CONFIG

    id: TenantId
    name: Label
    region: Label
    tier: Label


class TenantsFile(BaseModel):
    """``tenants.json``: ``{"tenants": [{"id", "name", "region", "tier"}]}``, each id once."""

    model_config = REFERENCE_CONFIG

    tenants: list[Tenant] = Field(min_length=1)

    @field_validator("tenants")
    @classmethod
    def _ids_once(cls, tenants: list[Tenant]) -> list[Tenant]:
        _refuse_repeats("tenants", "tenant id", [t.id for t in tenants])
        return tenants


class FxRatesFile(BaseModel):
    """``fx_rates.json``: ``{"base": "USD", "rates": {"EUR": "1.0850"}}``, USD per one unit of each currency."""

    model_config = REFERENCE_CONFIG

    base: Literal["USD"] = "USD"
    rates: dict[CurrencyCode, RateText] = Field(min_length=1)

    @field_validator("rates")
    @classmethod
    def _base_is_one(cls, rates: dict[str, str]) -> dict[str, str]:
        base = rates.get(BASE_CURRENCY)
        if base is not None and Decimal(base) != 1:
            raise PydanticCustomError(
                "fx_base_rate", "the base currency USD converts at 1, not {value}", {"value": repr(base)}
            )
        return rates

    def usd_per_unit(self) -> dict[str, Decimal]:
        return {code: Decimal(rate) for code, rate in self.rates.items()}


class Device(BaseModel):
    """One device of one tenant, and the site it is at."""

    model_config = REFERENCE_CONFIG

    id: DeviceId
    tenant_id: TenantId
    site: Label


class DevicesFile(BaseModel):
    """``devices.json``: ``{"devices": [{"id", "tenant_id", "site"}]}``, each (tenant, device) once."""

    model_config = REFERENCE_CONFIG

    devices: list[Device]

    @field_validator("devices")
    @classmethod
    def _devices_once(cls, devices: list[Device]) -> list[Device]:
        _refuse_repeats("devices", "device", [f"{d.tenant_id}/{d.id}" for d in devices])
        return devices


def _refuse_repeats(member: str, what: str, keys: Sequence[str]) -> None:
    first: dict[str, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            raise PydanticCustomError(
                "duplicate_reference",
                "{what} {key} is listed twice: {member}[{first}] and {member}[{index}]",
                {"what": what, "key": repr(key), "member": member, "first": first[key], "index": index},
            )
        first[key] = index
