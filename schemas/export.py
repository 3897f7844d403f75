"""The JSON Schemas (draft 2020-12) that producers and readers use, exported from the models.

- ``schemas/json/<type>.schema.json``: one per registered event type, the whole CloudEvent
  (envelope, ``type`` and ``data``) in JSON structured mode, as producers send it.
- ``schemas/json/documents/curated-event.schema.json`` and ``window-aggregate.schema.json``: what
  the pipeline writes to Cosmos DB, for readers (Power BI, downstream consumers). These are open
  content models: readers ignore members they do not know, so new optional fields can be added.

The files are committed; ``python -m pipeline schemas export`` (or ``python -m schemas.export``)
rewrites them, and a unit test fails when they are stale. Patterns are plain ECMA-262 (no inline
flags, no look-arounds, ASCII classes) so that validators in any language read them alike.

A JSON Schema says what each attribute and field may hold; a few rules cannot be said in it and
are enforced by :func:`schemas.validate_event` only (``docs/schemas.md`` lists them).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.curated import WindowAggregate, curated_adapter
from schemas.envelope import CONTEXT_ATTRIBUTES, EXTENSION_NAME_PATTERN
from schemas.registration import RegisteredType
from schemas.registry import REGISTERED_TYPES

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://schemas.contoso.com/events/"
DOCUMENT_SCHEMA_BASE = "https://schemas.contoso.com/documents/"
JSON_DIR = Path(__file__).resolve().parent / "json"
#: Where the reader-side schemas go, relative to :data:`JSON_DIR`.
DOCUMENTS_SUBDIR = "documents"
CURATED_EVENT_FILE = "curated-event.schema.json"
WINDOW_AGGREGATE_FILE = "window-aggregate.schema.json"

_ALSO_ENFORCED = (
    "Also enforced on ingestion, beyond this schema: at most 262,144 bytes as sent; real calendar dates "
    "and leap seconds only at 23:59:60 UTC; time not before 2000-01-01T00:00:00Z nor more than 5 minutes "
    "ahead of the platform's clock; integers written without a fraction or exponent; numbers compared "
    "exactly as written; business rules such as an order's total. See docs/schemas.md."
)


def event_schema(entry: RegisteredType) -> dict[str, Any]:
    """The JSON Schema of one registered type: the whole event in JSON structured mode."""
    body = entry.envelope.model_json_schema()
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}{entry.name}.schema.json",
        "title": entry.name,
        "description": f"A CloudEvents 1.0 event of family {entry.family}, version {entry.version} "
        "(JSON structured mode; batch mode is a JSON array of these). " + _ALSO_ENFORCED,
    }
    body.pop("title", None)
    body.pop("description", None)
    schema.update(body)
    schema["propertyNames"] = {"anyOf": [{"enum": sorted(CONTEXT_ATTRIBUTES)}, {"pattern": EXTENSION_NAME_PATTERN}]}
    return schema


def json_schemas(entries: tuple[RegisteredType, ...] = REGISTERED_TYPES) -> dict[str, dict[str, Any]]:
    """One JSON Schema (draft 2020-12) per registered type, keyed by file name."""
    return {f"{entry.name}.schema.json": event_schema(entry) for entry in entries}


def _open(schema: Any) -> Any:
    """The schema without ``additionalProperties: false`` anywhere: an open content model."""
    if isinstance(schema, dict):
        return {k: _open(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_open(v) for v in schema]
    return schema


def _document_schema(body: dict[str, Any], file: str, title: str, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{DOCUMENT_SCHEMA_BASE}{file}",
        "title": title,
        "description": description,
    }
    body = _open(body)
    body.pop("title", None)
    body.pop("description", None)
    schema.update(body)
    return schema


def document_schemas(entries: tuple[RegisteredType, ...] = REGISTERED_TYPES) -> dict[str, dict[str, Any]]:
    """The schemas of the curated event document and the aggregate row, keyed by file name."""
    return {
        CURATED_EVENT_FILE: _document_schema(
            curated_adapter(entries).json_schema(mode="serialization"),
            CURATED_EVENT_FILE,
            "Curated event",
            "An event as stored in the Cosmos DB container 'events': the validated CloudEvent, normalised "
            "(orders in the latest shape, amounts as exact decimal text, time in UTC) and enriched, one "
            "variant per family (told apart by 'family'). Readers should ignore members they do not know "
            "(Cosmos DB adds its own, such as _etag and _ts).",
        ),
        WINDOW_AGGREGATE_FILE: _document_schema(
            WindowAggregate.model_json_schema(mode="serialization"),
            WINDOW_AGGREGATE_FILE,
            "Window aggregate",
            "A row of the Cosmos DB container 'aggregates' (the Power BI table WindowAggregates): exact "
            "statistics of one family's value per tenant and tumbling window. Readers should ignore "
            "members they do not know.",
        ),
    }


def all_schemas(entries: tuple[RegisteredType, ...] = REGISTERED_TYPES) -> dict[str, dict[str, Any]]:
    """Every exported schema, keyed by its path relative to :data:`JSON_DIR`."""
    out = dict(json_schemas(entries))
    out.update({f"{DOCUMENTS_SUBDIR}/{name}": schema for name, schema in document_schemas(entries).items()})
    return out


def render(schema: Mapping[str, Any]) -> str:
    """The committed text of a schema: deterministic, two-space indented, UTF-8."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def read_schemas(directory: Path = JSON_DIR) -> dict[str, dict[str, Any]]:
    """The schema files under ``directory`` (event types and documents), keyed like :func:`all_schemas`."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.schema.json")) + sorted((directory / DOCUMENTS_SUBDIR).glob("*.schema.json")):
        found[path.relative_to(directory).as_posix()] = json.loads(path.read_text(encoding="utf-8"))
    return found


def stale_files(directory: Path = JSON_DIR) -> list[str]:
    """Files under ``directory`` that differ from the export, are missing, or are left over."""
    expected = all_schemas()
    present = {name: schema for name, schema in read_schemas(directory).items()}
    stale = [name for name, schema in expected.items() if present.get(name) != schema]
    stale.extend(name for name in present if name not in expected)
    return sorted(stale)


def write_json_schemas(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema under ``directory``; return the paths whose content changed.

    A file whose content is already current is left untouched. Files of types that are no longer
    registered are not deleted: a published type must stay (``schemas check`` reports it).
    """
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        text = render(schema)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_json_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else JSON_DIR):
        print(written_path)
