"""Reference data for enrichment: tenants, FX rates and devices, kept in the Blob container `reference`.

The files are read through their models in `schemas.reference`, both when they are uploaded (a file
they refuse is never written) and when enrichment loads them, so the two cannot disagree.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.settings import CONTAINER_REFERENCE
from pipeline.stores.base import BlobStore
from schemas.reference import DevicesFile, FxRatesFile, Tenant, TenantsFile

TENANTS_BLOB = "tenants.json"
FX_RATES_BLOB = "fx_rates.json"
DEVICES_BLOB = "devices.json"
REQUIRED_FILES = (TENANTS_BLOB, FX_RATES_BLOB)
OPTIONAL_FILES = (DEVICES_BLOB,)
REFERENCE_FILES = REQUIRED_FILES + OPTIONAL_FILES
#: The model each file is read through.
FILE_MODELS: dict[str, type[BaseModel]] = {
    TENANTS_BLOB: TenantsFile,
    FX_RATES_BLOB: FxRatesFile,
    DEVICES_BLOB: DevicesFile,
}
#: How long a worker reuses the reference data it read: a change is seen within this many seconds.
REFERENCE_TTL_S = 30.0
_ERRORS_SHOWN = 3

_File = TypeVar("_File", bound=BaseModel)

__all__ = [
    "DEVICES_BLOB",
    "FX_RATES_BLOB",
    "TENANTS_BLOB",
    "ReferenceCache",
    "ReferenceData",
    "ReferenceDataError",
    "Tenant",
    "load_reference",
    "upload_reference",
]


class ReferenceDataError(ValueError):
    """Reference data is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class ReferenceData:
    tenants: dict[str, Tenant]
    usd_per_unit: dict[str, Decimal]  # currency -> USD per one unit of it
    device_sites: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant, device) -> site

    @classmethod
    def parse(cls, tenants: bytes, fx_rates: bytes, devices: bytes | None, *, where: str = "") -> ReferenceData:
        """The three files' contents; an error names the file as `where` + its name."""
        return cls(
            tenants=tenants_by_id(parse_file(TenantsFile, tenants, where + TENANTS_BLOB)),
            usd_per_unit=parse_file(FxRatesFile, fx_rates, where + FX_RATES_BLOB).usd_per_unit(),
            device_sites=sites_by_device(parse_file(DevicesFile, devices, where + DEVICES_BLOB))
            if devices is not None
            else {},
        )


def tenants_by_id(doc: TenantsFile) -> dict[str, Tenant]:
    return {tenant.id: tenant for tenant in doc.tenants}


def sites_by_device(doc: DevicesFile) -> dict[tuple[str, str], str]:
    return {(device.tenant_id, device.id): device.site for device in doc.devices}


def parse_file(model: type[_File], content: bytes, source: str) -> _File:
    """One reference file read through its model; ReferenceDataError names `source` and the problem."""
    try:
        doc = json.loads(content.removeprefix(b"\xef\xbb\xbf"), object_pairs_hook=_without_repeated_keys)
    except _RepeatedKey as repeated:
        raise ReferenceDataError(f"{source}: the key {repeated.args[0]!r} appears twice in one object") from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise ReferenceDataError(f"{source} is not valid JSON: {error}") from None
    if not isinstance(doc, dict):
        raise ReferenceDataError(f"{source}: the file must hold one JSON object, not {_short(doc)}")
    try:
        return model.model_validate(doc)
    except ValidationError as error:
        raise ReferenceDataError(f"{source}: {describe(error)}") from None


def describe(error: ValidationError) -> str:
    """The first few errors of a reference file, each as `where: what (got …)`, on one line."""
    parts = []
    for item in error.errors()[:_ERRORS_SHOWN]:
        where = _location(item["loc"])
        got = "" if item["type"] in ("missing", "duplicate_reference", "fx_rate") else f" (got {_short(item['input'])})"
        parts.append(f"{where}: {item['msg']}{got}" if where else f"{item['msg']}{got}")
    more = error.error_count() - _ERRORS_SHOWN
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":
            text += " (the key)"
        elif isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _short(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, int, float, bool, type(None))) else None
    if shown is None:
        shown = "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "…"


class _RepeatedKey(ValueError):
    pass


def _without_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _RepeatedKey(key)
        doc[key] = value
    return doc


@dataclass(frozen=True, slots=True)
class ReferenceFolder:
    """A folder's reference files, read and checked: the bytes to upload, and what they say."""

    contents: dict[str, bytes | None]  # None: the optional file is not in the folder
    data: ReferenceData


def read_reference_dir(directory: Path) -> ReferenceFolder:
    """Read and check the reference files in `directory`; ReferenceDataError names the first bad file."""
    if not directory.is_dir():
        raise ReferenceDataError(f"{directory} is not a folder")
    contents: dict[str, bytes | None] = {}
    for name in REFERENCE_FILES:
        path = directory / name
        if path.is_file():
            contents[name] = path.read_bytes()
        elif name in REQUIRED_FILES:
            raise ReferenceDataError(f"{path} is missing: the folder must hold {' and '.join(REQUIRED_FILES)}")
        else:
            contents[name] = None
    tenants, fx_rates, devices = (contents[name] for name in REFERENCE_FILES)
    assert tenants is not None and fx_rates is not None
    return ReferenceFolder(contents, ReferenceData.parse(tenants, fx_rates, devices, where=f"{directory}/"))


async def write_reference(blobs: BlobStore, folder: ReferenceFolder) -> None:
    """Make the `reference` container hold exactly the folder's files (a file it lacks is deleted)."""
    await blobs.ensure_containers([CONTAINER_REFERENCE])
    for name, content in folder.contents.items():
        if content is None:
            await blobs.delete(CONTAINER_REFERENCE, name)
        else:
            await blobs.put(CONTAINER_REFERENCE, name, content)


async def upload_reference(blobs: BlobStore, directory: Path) -> ReferenceData:
    """Check the files in `directory`, then upload them to the `reference` container."""
    folder = read_reference_dir(directory)
    await write_reference(blobs, folder)
    return folder.data


async def read_stored(blobs: BlobStore) -> dict[str, bytes | None]:
    """The reference files as stored (None: not there)."""
    return {name: await blobs.get(CONTAINER_REFERENCE, name) for name in REFERENCE_FILES}


async def load_reference(blobs: BlobStore) -> ReferenceData:
    stored = await read_stored(blobs)
    tenants, fx_rates, devices = (stored[name] for name in REFERENCE_FILES)
    if tenants is None or fx_rates is None:
        raise ReferenceDataError(f"the Blob container '{CONTAINER_REFERENCE}' needs {TENANTS_BLOB} and {FX_RATES_BLOB}")
    return ReferenceData.parse(tenants, fx_rates, devices, where=f"{CONTAINER_REFERENCE}/")


class ReferenceCache:
    """Reference data reused across activity calls of one worker for `ttl_s` seconds.

    Enrichment runs once per batch; re-reading three blobs each time would double the batch's Blob
    round trips. A change to the reference data is seen within `ttl_s`.
    """

    def __init__(self, ttl_s: float = REFERENCE_TTL_S) -> None:
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
