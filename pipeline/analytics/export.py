"""Export the `WindowAggregates` table as files for Power BI and Fabric, partitioned by date.

Layout in the Blob container `analytics` (and under `OUT/analytics/` for a local run)::

    WindowAggregates/_manifest.json
    WindowAggregates/date=YYYY-MM-DD/window_aggregates.csv
    WindowAggregates/date=YYYY-MM-DD/window_aggregates.parquet

A row is filed under the UTC date of its window's start. The CSV has the columns of contract §4 and
the values of `aggregates.csv`. The Parquet file has typed columns: strings, `window_start` as a UTC
timestamp (microseconds), 64-bit integers, and the three values as `decimal128(38, 2)` — the exact
stored values rounded half-even to two places, never floats.

The export is idempotent: the same rows give byte-identical files (a fixed row order, no timestamps,
no random ids), a partition whose files are unchanged is not rewritten, and the manifest, written
last, lists each file with its size and SHA-256. Late events change past partitions, so a full export
compares every date; a full export also removes partitions whose dates no longer have rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.aggregates import CSV_COLUMNS, csv_row
from pipeline.analytics.table import (
    COLUMNS,
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    TABLE_NAME,
    partition_date,
    sorted_rows,
    typed_row,
)
from pipeline.settings import CONTAINER_ANALYTICS, COSMOS_AGGREGATES
from pipeline.stores.base import BlobStore, DocumentStore

PREFIX = f"{TABLE_NAME}/"
MANIFEST = f"{PREFIX}_manifest.json"
CSV_NAME = "window_aggregates.csv"
PARQUET_NAME = "window_aggregates.parquet"
MANIFEST_VERSION = 1

_ARROW_TYPES = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "int64": pa.int64(),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
}
SCHEMA = pa.schema(
    [pa.field(c.name, _ARROW_TYPES[c.kind], nullable=False, metadata={"description": c.description}) for c in COLUMNS],
    metadata={"table": TABLE_NAME},
)


@dataclass(frozen=True, slots=True)
class Partition:
    """One date's files, ready to write."""

    date: str
    rows: int
    event_count: int
    csv: bytes
    parquet: bytes

    @property
    def directory(self) -> str:
        return f"{PREFIX}date={self.date}/"

    def files(self) -> dict[str, bytes]:
        return {self.directory + CSV_NAME: self.csv, self.directory + PARQUET_NAME: self.parquet}

    def manifest_entry(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "rows": self.rows,
            "event_count": self.event_count,
            "files": {name: _file_entry(data) for name, data in sorted(self.files().items())},
        }


@dataclass(slots=True)
class ExportSummary:
    """What an export did. `written` and `deleted` hold partition dates."""

    rows: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    manifest: str = MANIFEST


def csv_bytes(docs: list[dict[str, Any]]) -> bytes:
    """Stored rows as the `WindowAggregates` CSV (header first, table order, `\\n` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for doc in sorted_rows(docs):
        writer.writerow(csv_row(doc))
    return buffer.getvalue().encode("utf-8")


def parquet_bytes(docs: list[dict[str, Any]]) -> bytes:
    """Stored rows as a Parquet file with the typed schema `SCHEMA` (table order, Snappy)."""
    rows = [typed_row(doc) for doc in sorted_rows(docs)]
    columns = {c.name: [row[c.name] for row in rows] for c in COLUMNS}
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy", use_dictionary=["tenant_id", "event_type"])
    return sink.getvalue()


def build_partitions(docs: list[dict[str, Any]], dates: set[str] | None = None) -> dict[str, Partition]:
    """Each date's partition from the stored rows (only `dates` when given)."""
    by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        date = partition_date(doc)
        if dates is None or date in dates:
            by_date[date].append(doc)
    return {
        date: Partition(
            date,
            len(rows),
            sum(int(r["event_count"]) for r in rows),
            csv_bytes(rows),
            parquet_bytes(rows),
        )
        for date, rows in sorted(by_date.items())
    }


def manifest_bytes(entries: dict[str, dict[str, Any]]) -> bytes:
    """The manifest: the table's schema and every partition's files. No timestamps, sorted keys."""
    partitions = [entries[date] for date in sorted(entries)]
    manifest = {
        "table": TABLE_NAME,
        "version": MANIFEST_VERSION,
        "layout": f"{PREFIX}date=YYYY-MM-DD/{{{CSV_NAME},{PARQUET_NAME}}}",
        "columns": [
            {"name": c.name, "parquet_type": str(_ARROW_TYPES[c.kind]), "description": c.description} for c in COLUMNS
        ],
        "rows": sum(p["rows"] for p in partitions),
        "event_count": sum(p["event_count"] for p in partitions),
        "partitions": partitions,
    }
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


async def export_window_aggregates(
    documents: DocumentStore,
    blobs: BlobStore,
    *,
    dates: set[str] | None = None,
    container: str = CONTAINER_ANALYTICS,
) -> ExportSummary:
    """Export the table from the Cosmos DB container `aggregates` to the Blob container `analytics`.

    Args:
        documents: the document store holding `aggregates`.
        blobs: the Blob store holding `analytics`.
        dates: export only these dates (`YYYY-MM-DD`); None exports every date and removes
            partitions of dates that have no rows any more.
        container: the Blob container (the contract's `analytics` unless a test says otherwise).

    Returns:
        The partitions written, left unchanged and deleted.
    """
    docs = await documents.query_all(COSMOS_AGGREGATES)
    partitions = build_partitions(docs, dates)
    existing = set(await blobs.list_names(container, PREFIX))
    previous = await _read_manifest(blobs, container)
    summary = ExportSummary(rows=sum(p.rows for p in partitions.values()))

    entries = dict(previous)
    for date, partition in partitions.items():
        entry = partition.manifest_entry()
        if previous.get(date) == entry and all(name in existing for name in partition.files()):
            summary.unchanged.append(date)
            continue
        for name, data in partition.files().items():
            await blobs.put(container, name, data)
        entries[date] = entry
        summary.written.append(date)

    existing_dates = {date for date in map(_date_of, existing) if date is not None}
    stale = sorted(
        date for date in existing_dates | set(previous) if date not in partitions and (dates is None or date in dates)
    )
    for date in stale:
        for name in sorted(n for n in existing if _date_of(n) == date):
            await blobs.delete(container, name)
        entries.pop(date, None)
        summary.deleted.append(date)

    if summary.written or summary.deleted or MANIFEST not in existing:
        await blobs.put(container, MANIFEST, manifest_bytes(entries))
    return summary


def write_local_files(out: Path, docs: list[dict[str, Any]]) -> list[Path]:
    """Write the table under `OUT/analytics/`: `aggregates.parquet` beside the runner's
    `aggregates.csv`, and the date partitions with their manifest as in the Blob container.

    Partitions of dates that no longer have rows are removed. Returns the files written.
    """
    directory = out / "analytics"
    directory.mkdir(parents=True, exist_ok=True)
    whole = directory / "aggregates.parquet"
    whole.write_bytes(parquet_bytes(docs))
    written = [whole]

    partitions = build_partitions(docs)
    root = directory / TABLE_NAME
    if root.exists():
        for stale in root.glob("date=*"):
            if stale.is_dir() and stale.name.removeprefix("date=") not in partitions:
                shutil.rmtree(stale)
    for partition in partitions.values():
        for name, data in partition.files().items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            written.append(path)
    manifest = directory / MANIFEST
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_bytes(manifest_bytes({date: p.manifest_entry() for date, p in partitions.items()}))
    written.append(manifest)
    return written


def _file_entry(data: bytes) -> dict[str, Any]:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _date_of(name: str) -> str | None:
    """`2026-11-01` for `WindowAggregates/date=2026-11-01/...`, else None."""
    rest = name.removeprefix(PREFIX)
    if rest == name or not rest.startswith("date="):
        return None
    return rest[len("date=") :].split("/", 1)[0]


async def _read_manifest(blobs: BlobStore, container: str) -> dict[str, dict[str, Any]]:
    """The previous export's partition entries by date; empty when there is none or it is unreadable."""
    content = await blobs.get(container, MANIFEST)
    if content is None:
        return {}
    try:
        manifest = json.loads(content)
        return {p["date"]: p for p in manifest["partitions"]}
    except (ValueError, KeyError, TypeError):
        return {}
