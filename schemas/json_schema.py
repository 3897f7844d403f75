"""Reading one JSON Schema as pydantic writes it, for the compatibility check.

Local ``$ref``s resolved, a schema split into its alternatives, and what one alternative admits:
its JSON kind, its enumerated values, whether it accepts a given scalar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]

#: Keywords that only annotate: never a compatibility problem.
ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "$schema", "$id", "$defs", "deprecated"}
)


class Document:
    """A schema document, for resolving its local ``$ref``s."""

    def __init__(self, root: Schema) -> None:
        self.root = root

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, Mapping) and "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"only local references are supported, not {ref!r}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings} if siblings else target
            seen += 1
            if seen > 64:
                raise ValueError(f"reference loop at {ref!r}")
        return schema


_CASELESS_GROUP = re.compile(r"\(\?i:([A-Za-z0-9/+._-]*)\)")


def normal_pattern(pattern: Any) -> Any:
    """A pattern with case-insensitive literal groups spelt as classes (``(?i:ab)`` -> ``[Aa][Bb]``).

    Two spellings of the same pattern then compare equal; any other difference still counts.
    """
    if not isinstance(pattern, str):
        return pattern

    def spell(match: re.Match[str]) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in match.group(1))

    return _CASELESS_GROUP.sub(spell, pattern)


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def branches(schema: Any, doc: Document) -> list[Any]:
    """The alternatives of a schema: ``anyOf``/``oneOf`` members and ``type`` lists split apart."""
    schema = doc.resolve(schema)
    if schema is True or schema == {}:
        return [True]
    if schema is False:
        return []
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            siblings = {k: v for k, v in schema.items() if k not in (keyword, "discriminator") and k not in ANNOTATIONS}
            out = []
            for member in schema[keyword]:
                member = doc.resolve(member)
                merged = {**member, **siblings} if siblings and isinstance(member, Mapping) else member
                out.extend(branches(merged, doc))
            return out
    types = schema.get("type")
    if isinstance(types, list):
        return [{**schema, "type": t} for t in types]
    return [schema]


def kind(branch: Any) -> str:
    """The JSON type a branch admits (``any`` for no constraint)."""
    if branch is True:
        return "any"
    if "type" in branch:
        return str(branch["type"])
    if "const" in branch:
        return json_kind(branch["const"])
    if "enum" in branch:
        kinds = {json_kind(v) for v in branch["enum"]}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in branch or "required" in branch:
        return "object"
    return "any"


def kind_accepts(wide: str, narrow: str) -> bool:
    return wide == "any" or wide == narrow or (wide == "number" and narrow == "integer")


def enumerated(branch: Any) -> list[Any] | None:
    if branch is True:
        return None
    if "const" in branch:
        return [branch["const"]]
    if "enum" in branch:
        return list(branch["enum"])
    return None


def accepts_value(branch: Any, value: Any) -> bool:
    """Whether a simple schema accepts one scalar value (enough for enum and const members)."""
    if branch is True:
        return True
    if not kind_accepts(kind(branch), json_kind(value)):
        return False
    values = enumerated(branch)
    if values is not None and not any(json_kind(v) == json_kind(value) and v == value for v in values):
        return False
    if isinstance(value, str):
        if len(value) < branch.get("minLength", 0) or len(value) > branch.get("maxLength", math.inf):
            return False
        pattern = branch.get("pattern")
        if pattern is not None and re.search(pattern, value) is None:
            return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < branch.get("minimum", -math.inf) or value > branch.get("maximum", math.inf):
            return False
        if value <= branch.get("exclusiveMinimum", -math.inf) or value >= branch.get("exclusiveMaximum", math.inf):
            return False
    return True


def discriminator_of(schema: Any, doc: Document) -> str | None:
    """The ``discriminator.propertyName`` of a union (as pydantic writes it), if any."""
    resolved = doc.resolve(schema)
    found = resolved.get("discriminator") if isinstance(resolved, Mapping) else None
    if isinstance(found, Mapping) and isinstance(found.get("propertyName"), str):
        return str(found["propertyName"])
    return None


def name_allowed(schema: Schema, name: str, doc: Document) -> bool:
    names = schema.get("propertyNames")
    if names is None:
        return True
    return any(accepts_value(branch, name) for branch in branches(names, doc))
