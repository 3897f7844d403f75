"""The exported JSON Schemas are current and describe the wire format."""

from __future__ import annotations

import json
import re

from schemas.export import JSON_DIR, json_schemas
from schemas.registry import REGISTRY


def test_the_committed_json_schemas_are_current() -> None:
    for name, schema in json_schemas().items():
        committed = json.loads((JSON_DIR / name).read_text(encoding="utf-8"))
        assert committed == schema, f"regenerate with: python -m schemas.export ({name})"
    assert {p.name for p in JSON_DIR.glob("*.schema.json")} == set(json_schemas())


def test_one_schema_per_registered_type() -> None:
    schemas = json_schemas()
    assert {s["title"] for s in schemas.values()} == set(REGISTRY)
    for schema in schemas.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert set(schema["required"]) == {"specversion", "id", "source", "type", "time", "tenantid", "data"}
        assert schema["properties"]["type"]["const"] == schema["title"]
        assert schema["additionalProperties"] == {
            "anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "null"}]
        }


def test_the_schema_patterns_are_the_validator_patterns() -> None:
    schema = json_schemas()["com.contoso.page.viewed.v1.schema.json"]
    tenant = re.compile(schema["properties"]["tenantid"]["pattern"])
    assert tenant.search("acme") and not tenant.search("Acme")
    names = schema["propertyNames"]["anyOf"]
    assert "data" in names[0]["enum"] and re.fullmatch(names[1]["pattern"][1:-1], "traceparent")
