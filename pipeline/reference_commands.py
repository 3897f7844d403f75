"""`python -m pipeline reference show|diff|upload DIR`: the enrichment's reference data, as an operator
handles it.

- `show` prints what the Blob container `reference` holds: tenants, currencies and their rates, devices.
- `diff DIR` checks the folder's files and prints what uploading them would change.
- `upload DIR` checks the files against their models (`schemas.reference`, the models enrichment reads
  them with) and refuses the folder, writing nothing, when one would break enrichment; otherwise the
  container becomes the folder (a `devices.json` the folder lacks is deleted), and it prints the
  `deadletter replay` commands for the reasons the change may cure.

The store is the one the settings name, as for every other command: the local emulator when nothing is
set, a storage account with `DefaultAzureCredential` when `DataStorage__blobServiceUri` names one.
Exit codes: 0 done; 1 `show` found stored data enrichment cannot load; 2 the folder (or a setting) is
refused; 3 the store cannot be reached or refuses the identity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from pydantic import BaseModel

from pipeline.errors import TransientError
from pipeline.reference import (
    DEVICES_BLOB,
    FILE_MODELS,
    FX_RATES_BLOB,
    REFERENCE_TTL_S,
    REQUIRED_FILES,
    TENANTS_BLOB,
    ReferenceData,
    ReferenceDataError,
    parse_file,
    read_reference_dir,
    read_stored,
    sites_by_device,
    tenants_by_id,
    write_reference,
)
from pipeline.reference_diff import ReferenceDiff, SectionDiff, diff_reference
from pipeline.settings import (
    AZURITE_CONNECTION_STRING,
    CONTAINER_DEADLETTER,
    CONTAINER_REFERENCE,
    BlobSettings,
    Settings,
    SettingsError,
)
from pipeline.stores.base import BlobStore
from schemas import Reason
from schemas.reference import DevicesFile, FxRatesFile, TenantsFile

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_REFUSED = 2
EXIT_UNREACHABLE = 3
#: Rows printed per section by `show`; `--json` has them all.
ROWS_SHOWN = 50


def add_parser(subparsers: Any) -> None:
    """Add `reference show|diff|upload` to the `python -m pipeline` sub-commands."""
    reference = subparsers.add_parser(
        "reference", help="show, compare or upload the reference data (tenants, FX rates, devices)"
    )
    actions = reference.add_subparsers(dest="reference_action", required=True)
    show = actions.add_parser("show", help="what the Blob container 'reference' holds")
    show.add_argument("--json", action="store_true", help="the stored files as JSON")
    show.add_argument(
        "--save", type=Path, metavar="DIR", help="also write the stored files, as they are, into DIR (to edit them)"
    )
    diff = actions.add_parser("diff", help="check a folder's files and show what uploading them would change")
    diff.add_argument(
        "directory", type=Path, metavar="DIR", help="folder with tenants.json, fx_rates.json, devices.json"
    )
    diff.add_argument("--json", action="store_true", help="the changes as JSON")
    upload = actions.add_parser(
        "upload", help="check a folder's files and replace the stored ones with them (nothing written if refused)"
    )
    upload.add_argument(
        "directory", type=Path, metavar="DIR", help="folder with tenants.json, fx_rates.json, devices.json"
    )


def run(args: argparse.Namespace, blobs: BlobStore | None = None) -> int:
    """Run one action against `blobs` (default: the store the settings name); print, return the exit code."""
    action = args.reference_action
    prefix = f"pipeline reference {action}"
    try:
        blob_settings = Settings.from_env().blob if blobs is None else None
    except SettingsError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    where = describe_store(blob_settings) if blob_settings is not None else "the given store"
    # DefaultAzureCredential logs every failed attempt at length; the one-line reason below says it
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    commands: dict[str, Callable[[BlobStore], Awaitable[Outcome]]] = {
        "show": lambda store: show(store, where, as_json=args.json, save=args.save),
        "diff": lambda store: diff(store, args.directory, where, as_json=args.json),
        "upload": lambda store: upload(store, args.directory, where),
    }
    try:
        outcome = asyncio.run(_with_store(blobs, blob_settings, commands[action]))
    except ReferenceDataError as error:
        refusal = "refused, nothing written: " if action == "upload" else ""
        print(f"{prefix}: {refusal}{error}", file=sys.stderr)
        return EXIT_REFUSED
    except TransientError as error:
        hint = " (is it running? `make emulators-up` starts it)" if where == LOCAL_EMULATOR else ""
        print(f"{prefix}: {_first_line(error)}{hint}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ClientAuthenticationError as error:
        print(
            f"{prefix}: no sign-in for {where}: {_first_line(error)} (sign in with `az login`)",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    except HttpResponseError as error:
        print(
            f"{prefix}: {where} refused the request: {_first_line(error)} "
            "(the identity needs Storage Blob Data Contributor on the account)",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    if outcome.text:
        print(outcome.text)
    for problem in outcome.problems:
        print(f"{prefix}: {problem}", file=sys.stderr)
    return outcome.code


@dataclass
class Outcome:
    text: str
    code: int = EXIT_OK
    problems: list[str] = field(default_factory=list)


async def _with_store(
    blobs: BlobStore | None, settings: BlobSettings | None, command: Callable[[BlobStore], Awaitable[Outcome]]
) -> Outcome:
    if blobs is not None:
        return await command(blobs)
    from pipeline.stores.blob import AzureBlobStore

    assert settings is not None
    store = AzureBlobStore(settings)
    try:
        return await command(store)
    finally:
        await store.close()


LOCAL_EMULATOR = "the local emulator (Azurite)"


def describe_store(settings: BlobSettings) -> str:
    """Which storage account the settings name, for the operator to check before a write."""
    if settings.account_url:
        return f"{settings.account_url} (DefaultAzureCredential)"
    if settings.connection_string == AZURITE_CONNECTION_STRING:
        return LOCAL_EMULATOR
    account = re.search(r"AccountName=([^;]+)", settings.connection_string or "")
    return f"storage account {account.group(1)}" if account else "the storage account of DataStorage"


# --- show ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredFiles:
    """The stored reference files, each read through its model on its own: a broken one does not hide the rest."""

    contents: dict[str, bytes | None]  # as stored; None: missing
    docs: dict[str, BaseModel | None]  # None: missing or refused
    missing: frozenset[str]
    problems: list[str]  # why enrichment cannot load them, if it cannot

    @property
    def data(self) -> ReferenceData:
        """What the stored files say, a missing or refused file counting as empty."""
        tenants, fx_rates, devices = (self.docs[name] for name in (TENANTS_BLOB, FX_RATES_BLOB, DEVICES_BLOB))
        return ReferenceData(
            tenants=tenants_by_id(tenants) if isinstance(tenants, TenantsFile) else {},
            usd_per_unit=fx_rates.usd_per_unit() if isinstance(fx_rates, FxRatesFile) else {},
            device_sites=sites_by_device(devices) if isinstance(devices, DevicesFile) else {},
        )


async def read_stored_files(blobs: BlobStore) -> StoredFiles:
    contents = await read_stored(blobs)
    docs: dict[str, BaseModel | None] = {}
    missing: set[str] = set()
    problems: list[str] = []
    for name, content in contents.items():
        docs[name] = None
        if content is None:
            missing.add(name)
            if name in REQUIRED_FILES:
                problems.append(f"{CONTAINER_REFERENCE}/{name} is missing: enrichment cannot run without it")
            continue
        try:
            docs[name] = parse_file(FILE_MODELS[name], content, f"{CONTAINER_REFERENCE}/{name}")
        except ReferenceDataError as error:
            problems.append(str(error))
    return StoredFiles(contents, docs, frozenset(missing), problems)


async def show(blobs: BlobStore, where: str, *, as_json: bool = False, save: Path | None = None) -> Outcome:
    stored = await read_stored_files(blobs)
    code = EXIT_BROKEN if stored.problems else EXIT_OK
    saved = _save(stored, save) if save is not None else []
    if as_json:
        docs = {name: doc.model_dump(mode="json") if doc else None for name, doc in stored.docs.items()}
        return Outcome(json.dumps({"store": where, **docs, "problems": stored.problems}, indent=2), code)
    lines = [f"reference data in the Blob container '{CONTAINER_REFERENCE}' of {where}"]
    tenants, fx_rates, devices = (stored.docs[name] for name in (TENANTS_BLOB, FX_RATES_BLOB, DEVICES_BLOB))
    if isinstance(tenants, TenantsFile):
        lines.append(f"{TENANTS_BLOB}: {_count(len(tenants.tenants), 'tenant')}")
        lines += _table([(t.id, t.name, t.region, t.tier) for t in tenants.tenants], "tenants")
    if isinstance(fx_rates, FxRatesFile):
        lines.append(f"{FX_RATES_BLOB}: {_count(len(fx_rates.rates), 'currency', 'currencies')}, USD per one unit")
        lines += _table(sorted(fx_rates.rates.items()), "currencies")
    if isinstance(devices, DevicesFile):
        lines.append(f"{DEVICES_BLOB}: {_count(len(devices.devices), 'device')}")
        lines += _table([(f"{d.tenant_id}/{d.id}", d.site) for d in devices.devices], "devices")
    elif DEVICES_BLOB in stored.missing:
        lines.append(f'{DEVICES_BLOB}: not stored (every device reading gets the site "unassigned")')
    lines += [f"PROBLEM: {problem}" for problem in stored.problems]
    if save is not None:
        lines.append(f"saved {', '.join(saved) or 'nothing'} to {save}")
    problems = [f"enrichment cannot load the stored reference data: {stored.problems[0]}"] if stored.problems else []
    return Outcome("\n".join(lines), code, problems)


def _save(stored: StoredFiles, directory: Path) -> list[str]:
    """Write the stored files, byte for byte, into `directory` (a file not stored is not written)."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, content in stored.contents.items():
        if content is not None:
            (directory / name).write_bytes(content)
            saved.append(name)
    return saved


# --- diff and upload ----------------------------------------------------------------------------


async def diff(blobs: BlobStore, directory: Path, where: str, *, as_json: bool = False) -> Outcome:
    folder = read_reference_dir(directory)
    stored = await read_stored_files(blobs)
    change = diff_reference(stored.data, folder.data)
    if as_json:
        doc = {
            "store": where,
            "changes": change.to_json(),
            "cures": [reason.value for reason in change.cured_reasons()],
            "stored_problems": stored.problems,
        }
        return Outcome(json.dumps(doc, indent=2))
    lines = [f"{directory} against the Blob container '{CONTAINER_REFERENCE}' of {where}:"]
    lines += _stored_notes(stored)
    lines += describe_diff(change)
    return Outcome("\n".join(lines))


async def upload(blobs: BlobStore, directory: Path, where: str) -> Outcome:
    folder = read_reference_dir(directory)  # refuses before anything is read or written
    stored = await read_stored_files(blobs)
    change = diff_reference(stored.data, folder.data)
    await write_reference(blobs, folder)
    lines = [f"uploaded {directory} to the Blob container '{CONTAINER_REFERENCE}' of {where}:"]
    lines += _stored_notes(stored)
    lines += describe_diff(change)
    lines.append(f"a running Functions app uses it within {REFERENCE_TTL_S:.0f} s.")
    lines += await replay_advice(blobs, change, stored_loaded=not stored.problems)
    return Outcome("\n".join(lines))


async def replay_advice(blobs: BlobStore, change: ReferenceDiff, *, stored_loaded: bool = True) -> list[str]:
    """The `deadletter replay` command for each reason the change may cure, with its dead letters now.

    A tenant added may cure `unknown_tenant`, a currency added `unknown_currency`; when the stored data
    did not load at all, batches failed whole, so `processing_failed` too (listed if there are some).
    """
    waiting: dict[Reason, int] = {}
    for reason in change.cured_reasons():
        waiting[reason] = await _dead_letters(blobs, reason)
    if not stored_loaded:
        failed = await _dead_letters(blobs, Reason.PROCESSING_FAILED)
        if failed:
            waiting[Reason.PROCESSING_FAILED] = failed
    if not waiting:
        return ["no tenant or currency was added: no dead-letter reason for it to cure."]
    rows = [
        (f"python -m pipeline deadletter replay --reason {reason.value}", f"# {_count(count, 'dead letter')} now")
        for reason, count in waiting.items()
    ]
    return ["replay the dead letters it may cure:", *_table(rows, "reasons", limit=None)]


async def _dead_letters(blobs: BlobStore, reason: Reason) -> int:
    return len(await blobs.list_names(CONTAINER_DEADLETTER, f"{reason.value}/"))


def describe_diff(change: ReferenceDiff) -> list[str]:
    if change.empty:
        return ["no change to tenants, currencies or devices"]
    lines: list[str] = []
    for title, section in (("tenants", change.tenants), ("currencies", change.currencies), ("devices", change.devices)):
        lines += _describe_section(title, section)
    if change.tenants.removed:
        lines.append("warning: events of a removed tenant will be dead-lettered unknown_tenant")
    if change.currencies.removed:
        lines.append("warning: orders in a removed currency will be dead-lettered unknown_currency")
    return lines


def _describe_section(title: str, section: SectionDiff) -> list[str]:
    if section.empty:
        return [f"{title}: no change"]
    counts = ", ".join(
        f"{len(entries)} {verb}"
        for verb, entries in (("added", section.added), ("removed", section.removed), ("changed", section.changed))
        if entries
    )
    rows = [("+", key, ", ".join(fields.values())) for key, fields in section.added.items()]
    rows += [("-", key, ", ".join(fields.values())) for key, fields in section.removed.items()]
    rows += [
        ("~", key, ", ".join(f"{name} {before} -> {after}" for name, (before, after) in fields.items()))
        for key, fields in section.changed.items()
    ]
    return [f"{title}: {counts}", *_table(rows, title, limit=None)]


def _stored_notes(stored: StoredFiles) -> list[str]:
    """Say which stored files do not load: their entries count as absent in the comparison."""
    if all(doc is None for doc in stored.docs.values()) and stored.missing == set(stored.docs):
        return ["nothing is stored yet: everything counts as added"]
    return [f"note: {problem} (counted as empty below)" for problem in stored.problems]


def _table(rows: Sequence[tuple[str, ...]], what: str, limit: int | None = ROWS_SHOWN) -> list[str]:
    shown = rows[:limit]
    widths = [max(len(row[i]) for row in shown) for i in range(len(shown[0]))] if shown else []
    lines = [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in shown
    ]
    if len(rows) > len(shown):
        lines.append(f"  … and {len(rows) - len(shown):,} more {what} (--json for all)")
    return lines


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
