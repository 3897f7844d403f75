"""Reference data for enrichment: tenants, FX rates and devices, kept in the Blob container `reference`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pipeline.settings import CONTAINER_REFERENCE
from pipeline.stores.base import BlobStore

TENANTS_BLOB = "tenants.json"
FX_RATES_BLOB = "fx_rates.json"
DEVICES_BLOB = "devices.json"
REQUIRED_FILES = (TENANTS_BLOB, FX_RATES_BLOB)
OPTIONAL_FILES = (DEVICES_BLOB,)


class ReferenceDataError(ValueError):
    """Reference data is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    region: str
    tier: str


@dataclass(frozen=True, slots=True)
class ReferenceData:
    tenants: dict[str, Tenant]
    usd_per_unit: dict[str, Decimal]  # currency -> USD per one unit of it
    device_sites: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant, device) -> site

    @classmethod
    def parse(cls, tenants: bytes, fx_rates: bytes, devices: bytes | None) -> ReferenceData:
        return cls(
            tenants=_parse_tenants(_load(TENANTS_BLOB, tenants)),
            usd_per_unit=_parse_rates(_load(FX_RATES_BLOB, fx_rates)),
            device_sites=_parse_devices(_load(DEVICES_BLOB, devices)) if devices is not None else {},
        )


def _load(name: str, content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError as error:
        raise ReferenceDataError(f"{name} is not valid JSON: {error}") from None


def _parse_tenants(doc: Any) -> dict[str, Tenant]:
    try:
        return {t["id"]: Tenant(id=t["id"], name=t["name"], region=t["region"], tier=t["tier"]) for t in doc["tenants"]}
    except (KeyError, TypeError) as error:
        raise ReferenceDataError(
            f'{TENANTS_BLOB} must look like {{"tenants": [{{"id", "name", "region", "tier"}}]}}: {error!r}'
        ) from None


def _parse_rates(doc: Any) -> dict[str, Decimal]:
    try:
        rates = {code: Decimal(str(rate)) for code, rate in doc["rates"].items()}
    except (KeyError, TypeError, AttributeError, InvalidOperation) as error:
        raise ReferenceDataError(
            f'{FX_RATES_BLOB} must look like {{"base": "USD", "rates": {{"EUR": "1.0850"}}}}: {error!r}'
        ) from None
    if doc.get("base", "USD") != "USD":
        raise ReferenceDataError(f"{FX_RATES_BLOB}: base must be USD, not {doc.get('base')!r}")
    return rates


def _parse_devices(doc: Any) -> dict[tuple[str, str], str]:
    try:
        return {(d["tenant_id"], d["id"]): d["site"] for d in doc["devices"]}
    except (KeyError, TypeError) as error:
        raise ReferenceDataError(
            f'{DEVICES_BLOB} must look like {{"devices": [{{"id", "tenant_id", "site"}}]}}: {error!r}'
        ) from None


async def upload_reference(blobs: BlobStore, directory: Path) -> ReferenceData:
    """Check the files in `directory`, then upload them to the `reference` container."""
    contents: dict[str, bytes | None] = {}
    for name in REQUIRED_FILES + OPTIONAL_FILES:
        path = directory / name
        if not path.is_file():
            if name in REQUIRED_FILES:
                raise ReferenceDataError(
                    f"{path} is missing: --reference must name a folder with {', '.join(REQUIRED_FILES)}"
                )
            contents[name] = None
            continue
        contents[name] = path.read_bytes()
    reference = ReferenceData.parse(contents[TENANTS_BLOB], contents[FX_RATES_BLOB], contents[DEVICES_BLOB])  # type: ignore[arg-type]
    for name, content in contents.items():
        if content is None:
            await blobs.delete(CONTAINER_REFERENCE, name)
        else:
            await blobs.put(CONTAINER_REFERENCE, name, content)
    return reference


async def load_reference(blobs: BlobStore) -> ReferenceData:
    tenants = await blobs.get(CONTAINER_REFERENCE, TENANTS_BLOB)
    fx_rates = await blobs.get(CONTAINER_REFERENCE, FX_RATES_BLOB)
    if tenants is None or fx_rates is None:
        raise ReferenceDataError(f"the Blob container '{CONTAINER_REFERENCE}' needs {TENANTS_BLOB} and {FX_RATES_BLOB}")
    return ReferenceData.parse(tenants, fx_rates, await blobs.get(CONTAINER_REFERENCE, DEVICES_BLOB))


class ReferenceCache:
    """Reference data reused across activity calls of one worker for `ttl_s` seconds.

    Enrichment runs once per batch; re-reading three blobs each time would double the batch's Blob
    round trips. A change to the reference data is seen within `ttl_s`.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self._ttl_s = ttl_s
        self._value: ReferenceData | None = None
        self._loaded_at = 0.0

    async def get(self, blobs: BlobStore) -> ReferenceData:
        if self._value is None or time.monotonic() - self._loaded_at > self._ttl_s:
            self._value = await load_reference(blobs)
            self._loaded_at = time.monotonic()
        return self._value

    def clear(self) -> None:
        self._value = None
