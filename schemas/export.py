"""The JSON Schemas that producers use, exported from the wire models.

``python -m schemas.export`` rewrites ``schemas/json/<type>.schema.json``. A JSON Schema says
what each attribute and field may hold; a few rules cannot be said in it and are enforced
by :func:`schemas.validate_event` only: calendar dates and leap seconds, exact decimal
arithmetic (the order total), the accepted time range and the size and depth limits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.envelope import CONTEXT_ATTRIBUTES, EXTENSION_NAME_PATTERN
from schemas.registry import REGISTERED_TYPES

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://schemas.contoso.com/events/"
JSON_DIR = Path(__file__).resolve().parent / "json"

_ALSO_ENFORCED = (
    "Also enforced on ingestion: at most 262,144 bytes and 32 levels of nesting; real calendar "
    "dates; time not before 2000-01-01T00:00:00Z nor more than 5 minutes ahead; numbers taken "
    "exactly as written."
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema (draft 2020-12) per registered type, keyed by file name."""
    out = {}
    for entry in REGISTERED_TYPES:
        body = entry.envelope.model_json_schema()
        schema: dict[str, Any] = {
            "$schema": SCHEMA_DIALECT,
            "$id": f"{SCHEMA_BASE}{entry.name}.schema.json",
            "title": entry.name,
            "description": f"A CloudEvents 1.0 event of family {entry.family} (JSON structured mode). "
            + _ALSO_ENFORCED,
        }
        body.pop("title", None)
        body.pop("description", None)
        schema.update(body)
        schema["propertyNames"] = {"anyOf": [{"enum": sorted(CONTEXT_ATTRIBUTES)}, {"pattern": EXTENSION_NAME_PATTERN}]}
        out[f"{entry.name}.schema.json"] = schema
    return out


def write_json_schemas(directory: Path = JSON_DIR) -> list[Path]:
    """Write every schema under ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_json_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else JSON_DIR):
        print(written_path)
