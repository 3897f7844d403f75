"""Where a second JSON Schema accepts less than a first: the walk behind the compatibility check."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.json_schema import (
    ANNOTATIONS,
    Document,
    Schema,
    accepts_value,
    branches,
    discriminator_of,
    enumerated,
    kind,
    kind_accepts,
    name_allowed,
    normal_pattern,
)

#: Keywords compared below; any other keyword that differs is reported as not understood.
_UNDERSTOOD = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "items",
        "anyOf",
        "oneOf",
        "const",
        "enum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "discriminator",
        "$ref",
        "readOnly",
        "writeOnly",
    }
)
_LOWER_BOUNDS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")


@dataclass(frozen=True, slots=True)
class Change:
    """One place where the second schema accepts less than the first.

    ``before`` is the first schema's side, ``after`` the second's. For producers the first schema
    is the published one; for readers it is the current one (what is written now must fit the
    published schema).
    """

    kind: str
    path: str
    before: Any = None
    after: Any = None


class _Comparison:
    """Walks a first and a second schema and lists where the second accepts less."""

    def __init__(self, first: Schema, second: Schema) -> None:
        self.first = Document(first)
        self.second = Document(second)
        self._active: set[tuple[int, int, str]] = set()

    def compare(self, a: Any, b: Any, path: str) -> list[Change]:
        a_branches = branches(a, self.first)
        b_branches = branches(b, self.second)
        discriminator = discriminator_of(a, self.first) or discriminator_of(b, self.second)
        changes: list[Change] = []
        for branch in a_branches:
            changes.extend(self._cover(branch, b_branches, path, discriminator))
        return changes

    def _tag(self, branch: Any, doc: Document, discriminator: str) -> Any:
        if branch is True:
            return None
        prop = doc.resolve(branch.get("properties", {}).get(discriminator, {}))
        return prop.get("const") if isinstance(prop, Mapping) else None

    def _cover(self, a: Any, b_branches: list[Any], path: str, discriminator: str | None) -> list[Change]:
        """Changes for one alternative of the first schema against all of the second's."""
        if a is not True and enumerated(a) is not None:
            # enumerated values: each must still be accepted by some alternative
            return [
                Change("value-removed", path, value)
                for value in enumerated(a) or []
                if not any(accepts_value(b, value) for b in b_branches)
            ]
        candidates = [b for b in b_branches if kind_accepts(kind(b), kind(a))]
        if discriminator is not None and kind(a) == "object":
            tag = self._tag(a, self.first, discriminator)
            if tag is not None:
                candidates = [b for b in candidates if self._tag(b, self.second, discriminator) == tag]
                if not candidates:
                    return [Change("variant-removed", path, tag)]
                path = f"{path}[{discriminator}={tag}]"
        if not candidates:
            kinds = sorted({kind(b) for b in b_branches}) or ["nothing"]
            return [Change("kind-narrowed", path, kind(a), ", ".join(kinds))]
        best: list[Change] | None = None
        for b in candidates:
            found = self._branch(a, b, path)
            if best is None or len(found) < len(best):
                best = found
            if not found:
                break
        return best or []

    def _branch(self, a: Any, b: Any, path: str) -> list[Change]:
        if b is True:
            return []
        if a is True:
            return [Change("kind-narrowed", path, "any value", kind(b))]
        key = (id(a), id(b), path)
        if key in self._active:  # a recursive schema: already being compared further up
            return []
        self._active.add(key)
        try:
            return list(self._branch_changes(a, b, path))
        finally:
            self._active.discard(key)

    def _branch_changes(self, a: Schema, b: Schema, path: str) -> Iterator[Change]:
        b_values = enumerated(b)
        if b_values is not None:
            yield Change("values-restricted", path, None, ", ".join(repr(v) for v in b_values))
            return
        for keyword in _LOWER_BOUNDS:
            if keyword in b and b[keyword] > a.get(keyword, -math.inf if "imum" in keyword else 0):
                yield Change("bound", path, (keyword, a.get(keyword), b[keyword]))
        for keyword in _UPPER_BOUNDS:
            if keyword in b and b[keyword] < a.get(keyword, math.inf):
                yield Change("bound", path, (keyword, a.get(keyword), b[keyword]))
        if "pattern" in b and normal_pattern(b["pattern"]) != normal_pattern(a.get("pattern")):
            yield Change("pattern", path, a.get("pattern"), b["pattern"])
        if "format" in b and b["format"] != a.get("format"):
            yield Change("format", path, a.get("format"), b["format"])
        if "multipleOf" in b and (
            "multipleOf" not in a or (a["multipleOf"] / b["multipleOf"]) != int(a["multipleOf"] / b["multipleOf"])
        ):
            yield Change("multiple-of", path, a.get("multipleOf"), b["multipleOf"])
        if b.get("uniqueItems") and not a.get("uniqueItems"):
            yield Change("unique-items", path)
        if "items" in a or "items" in b:
            yield from self.compare(a.get("items", True), b.get("items", True), f"{path}[]")
        if kind(a) == "object" or kind(b) == "object":
            yield from self._objects(a, b, path)
        for keyword in sorted((set(a) | set(b)) - _UNDERSTOOD - ANNOTATIONS):
            if a.get(keyword) != b.get(keyword):
                yield Change("not-understood", path, keyword, "it differs")

    def _objects(self, a: Schema, b: Schema, path: str) -> Iterator[Change]:
        a_props: Mapping[str, Any] = a.get("properties", {})
        b_props: Mapping[str, Any] = b.get("properties", {})
        a_extra = a.get("additionalProperties", True)
        b_extra = b.get("additionalProperties", True)
        for name, schema in a_props.items():
            here = _join(path, name)
            if name in b_props:
                yield from self.compare(schema, b_props[name], here)
            elif b_extra is False or not name_allowed(b, name, self.second):
                yield Change("property-removed", path, name)
            elif b_extra is not True:
                yield from self.compare(schema, b_extra, here)
        for name, schema in b_props.items():
            if name in a_props or a_extra is False or not name_allowed(a, name, self.first):
                continue
            if a_extra is True:
                yield Change("property-declared", path, name)
            else:
                yield from self.compare(a_extra, schema, _join(path, name))
        a_required = set(a.get("required", ()))
        for name in b.get("required", ()):
            if name not in a_required:
                yield Change("property-required", path, name)
        if b_extra is False and a_extra is not False:
            yield Change("closed", path)
        elif isinstance(b_extra, Mapping) and a_extra is not False:
            yield from self.compare(a_extra, b_extra, _join(path, "<other members>"))
        if "propertyNames" in b:
            yield from self.compare(a.get("propertyNames", True), b["propertyNames"], _join(path, "<member names>"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def narrowings(first: Schema, second: Schema) -> list[Change]:
    """Every place where ``second`` accepts less than ``first`` (as far as can be told)."""
    return _Comparison(first, second).compare(first, second, "")
