"""Compatibility of JSON Schemas across releases, as a schema registry judges it.

Two directions matter:

- **Producers** (the event types, ``schemas/json/*.schema.json``): backward compatibility. Every
  event the published schema accepts must still be accepted, so nothing a producer already sends
  starts being dead-lettered. A field removed or made required, a type narrowed, an enum value
  removed, a length or range tightened, a pattern changed: each is a breaking change. Adding an
  optional field, widening a range or accepting ``null`` is fine.
- **Readers** (the curated document and the aggregate row, ``schemas/json/documents/``): what
  the pipeline writes must still match the published schema, so a reader built against it keeps
  working. A field dropped or made optional, a type widened, a range widened, a pattern changed:
  breaking. A new optional field, a new enum value (a new family or channel) or a new variant
  (a new family's document) is fine: readers ignore members they do not know, and the exported
  document schemas are open (they do not forbid other members).

The comparison works on the subset of JSON Schema that pydantic writes (``type``, ``properties``,
``required``, ``additionalProperties``, ``propertyNames``, ``items``, ``anyOf``/``oneOf``, ``const``,
``enum``, lengths, bounds, ``pattern``, local ``$ref``). A pattern cannot be proved wider than
another, so any change of a pattern is reported; keywords it does not understand are reported
when they differ.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["producers", "readers"]
Schema = Mapping[str, Any]

#: Keywords that only annotate: never a compatibility problem.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "$schema", "$id", "$defs", "deprecated"}
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

#: Change kinds that do not break readers of documents (see the module docstring).
READER_COMPATIBLE_KINDS = frozenset({"value-removed", "variant-removed"})


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

    def message(self, mode: Mode) -> str:
        where = self.path or "(top level)"
        return f"{where}: {_describe(self, mode)}"


def _describe(change: Change, mode: Mode) -> str:
    kind, before, after = change.kind, change.before, change.after
    producers = mode == "producers"
    if kind == "kind-narrowed":
        if producers:
            return f"no longer accepts {before} (now: {after})"
        return f"may now hold {before}, which the published schema does not allow (published: {after})"
    if kind == "value-removed":
        return f"no longer accepts the value {before!r}" if producers else f"may now hold the new value {before!r}"
    if kind == "values-restricted":
        if producers:
            return f"is now restricted to {after}"
        return f"may now hold values other than {after}, which the published schema lists"
    if kind == "property-removed":
        if producers:
            return f"field {before!r} removed (the object does not allow other members)"
        return f"may now hold field {before!r}, which the published schema forbids"
    if kind == "property-required":
        return f"field {before!r} is now required" if producers else f"field {before!r} may now be absent"
    if kind == "property-declared":
        if producers:
            return f"field {before!r} is now declared in an open object: values sent before may not match it"
        return f"field {before!r} is no longer declared"
    if kind == "bound":
        keyword, old, new = before
        if producers:
            return (
                f"{keyword} {_num(new)} added"
                if old is None
                else f"{keyword} tightened from {_num(old)} to {_num(new)}"
            )
        if old is None:
            return f"{keyword} {_num(new)} of the published schema removed"
        return f"{keyword} is now {_num(old)}, outside the published {_num(new)}"
    if kind == "pattern":
        if producers:
            return (
                f"pattern changed from {_short(before)} to {_short(after)}"
                if before
                else f"pattern {_short(after)} added"
            )
        if before:
            return f"pattern changed from the published {_short(after)} to {_short(before)}"
        return f"pattern {_short(after)} of the published schema removed"
    if kind == "format":
        if producers:
            return f"format changed from {before!r} to {after!r}"
        return f"format changed from the published {after!r} to {before!r}"
    if kind == "closed":
        return "no longer allows other members" if producers else "may now hold members the published schema forbids"
    if kind == "unique-items":
        return "items must now be unique" if producers else "items may now repeat"
    if kind == "multiple-of":
        return f"multipleOf changed from {before} to {after}"
    if kind == "variant-removed":
        return f"variant {before!r} removed" if producers else f"new variant {before!r}"
    if kind == "schema-removed":
        if producers:
            return f"published type {before} is no longer registered: register a new version instead"
        return f"published document schema {before} is no longer exported"
    if kind == "not-understood":
        return f"keyword {before!r} changed in a way this check cannot judge ({after})"
    return f"{kind}: {before!r} -> {after!r}"


def _short(pattern: Any, limit: int = 72) -> str:
    text = repr(pattern)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _num(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float) and math.isinf(value):
        return "unbounded"
    return str(value)


# -- walking two schemas ------------------------------------------------------------------------


class _Document:
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


def _normal_pattern(pattern: Any) -> Any:
    """A pattern with case-insensitive literal groups spelt as classes (``(?i:ab)`` -> ``[Aa][Bb]``).

    Two spellings of the same pattern then compare equal; any other difference still counts.
    """
    if not isinstance(pattern, str):
        return pattern

    def spell(match: re.Match[str]) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in match.group(1))

    return _CASELESS_GROUP.sub(spell, pattern)


def _json_kind(value: Any) -> str:
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


def _branches(schema: Any, doc: _Document) -> list[Any]:
    """The alternatives of a schema: ``anyOf``/``oneOf`` members and ``type`` lists split apart."""
    schema = doc.resolve(schema)
    if schema is True or schema == {}:
        return [True]
    if schema is False:
        return []
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            siblings = {
                k: v for k, v in schema.items() if k not in (keyword, "discriminator") and k not in _ANNOTATIONS
            }
            out = []
            for member in schema[keyword]:
                member = doc.resolve(member)
                merged = {**member, **siblings} if siblings and isinstance(member, Mapping) else member
                out.extend(_branches(merged, doc))
            return out
    types = schema.get("type")
    if isinstance(types, list):
        return [{**schema, "type": t} for t in types]
    return [schema]


def _kind(branch: Any) -> str:
    """The JSON type a branch admits (``any`` for no constraint)."""
    if branch is True:
        return "any"
    if "type" in branch:
        return str(branch["type"])
    if "const" in branch:
        return _json_kind(branch["const"])
    if "enum" in branch:
        kinds = {_json_kind(v) for v in branch["enum"]}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in branch or "required" in branch:
        return "object"
    return "any"


def _kind_accepts(wide: str, narrow: str) -> bool:
    return wide == "any" or wide == narrow or (wide == "number" and narrow == "integer")


def _values(branch: Any) -> list[Any] | None:
    if branch is True:
        return None
    if "const" in branch:
        return [branch["const"]]
    if "enum" in branch:
        return list(branch["enum"])
    return None


def _accepts_value(branch: Any, value: Any) -> bool:
    """Whether a simple schema accepts one scalar value (enough for enum and const members)."""
    if branch is True:
        return True
    if not _kind_accepts(_kind(branch), _json_kind(value)):
        return False
    values = _values(branch)
    if values is not None and not any(_json_kind(v) == _json_kind(value) and v == value for v in values):
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


class _Comparison:
    """Walks a first and a second schema and lists where the second accepts less."""

    def __init__(self, first: Schema, second: Schema) -> None:
        self.first = _Document(first)
        self.second = _Document(second)
        self._active: set[tuple[int, int, str]] = set()

    def compare(self, a: Any, b: Any, path: str) -> list[Change]:
        a_branches = _branches(a, self.first)
        b_branches = _branches(b, self.second)
        discriminator = _discriminator(a, self.first) or _discriminator(b, self.second)
        changes: list[Change] = []
        for branch in a_branches:
            changes.extend(self._cover(branch, b_branches, path, discriminator))
        return changes

    def _tag(self, branch: Any, doc: _Document, discriminator: str) -> Any:
        if branch is True:
            return None
        prop = doc.resolve(branch.get("properties", {}).get(discriminator, {}))
        return prop.get("const") if isinstance(prop, Mapping) else None

    def _cover(self, a: Any, b_branches: list[Any], path: str, discriminator: str | None) -> list[Change]:
        """Changes for one alternative of the first schema against all of the second's."""
        if a is not True and _values(a) is not None:
            # enumerated values: each must still be accepted by some alternative
            return [
                Change("value-removed", path, value)
                for value in _values(a) or []
                if not any(_accepts_value(b, value) for b in b_branches)
            ]
        candidates = [b for b in b_branches if _kind_accepts(_kind(b), _kind(a))]
        if discriminator is not None and _kind(a) == "object":
            tag = self._tag(a, self.first, discriminator)
            if tag is not None:
                candidates = [b for b in candidates if self._tag(b, self.second, discriminator) == tag]
                if not candidates:
                    return [Change("variant-removed", path, tag)]
                path = f"{path}[{discriminator}={tag}]"
        if not candidates:
            kinds = sorted({_kind(b) for b in b_branches}) or ["nothing"]
            return [Change("kind-narrowed", path, _kind(a), ", ".join(kinds))]
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
            return [Change("kind-narrowed", path, "any value", _kind(b))]
        key = (id(a), id(b), path)
        if key in self._active:  # a recursive schema: already being compared further up
            return []
        self._active.add(key)
        try:
            return list(self._branch_changes(a, b, path))
        finally:
            self._active.discard(key)

    def _branch_changes(self, a: Schema, b: Schema, path: str) -> Iterator[Change]:
        b_values = _values(b)
        if b_values is not None:
            yield Change("values-restricted", path, None, ", ".join(repr(v) for v in b_values))
            return
        for keyword in _LOWER_BOUNDS:
            if keyword in b and b[keyword] > a.get(keyword, -math.inf if "imum" in keyword else 0):
                yield Change("bound", path, (keyword, a.get(keyword), b[keyword]))
        for keyword in _UPPER_BOUNDS:
            if keyword in b and b[keyword] < a.get(keyword, math.inf):
                yield Change("bound", path, (keyword, a.get(keyword), b[keyword]))
        if "pattern" in b and _normal_pattern(b["pattern"]) != _normal_pattern(a.get("pattern")):
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
        if _kind(a) == "object" or _kind(b) == "object":
            yield from self._objects(a, b, path)
        for keyword in sorted((set(a) | set(b)) - _UNDERSTOOD - _ANNOTATIONS):
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
            elif b_extra is False or not _name_allowed(b, name, self.second):
                yield Change("property-removed", path, name)
            elif b_extra is not True:
                yield from self.compare(schema, b_extra, here)
        for name, schema in b_props.items():
            if name in a_props or a_extra is False or not _name_allowed(a, name, self.first):
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


def _discriminator(schema: Any, doc: _Document) -> str | None:
    """The ``discriminator.propertyName`` of a union (as pydantic writes it), if any."""
    resolved = doc.resolve(schema)
    found = resolved.get("discriminator") if isinstance(resolved, Mapping) else None
    if isinstance(found, Mapping) and isinstance(found.get("propertyName"), str):
        return str(found["propertyName"])
    return None


def _name_allowed(schema: Schema, name: str, doc: _Document) -> bool:
    names = schema.get("propertyNames")
    if names is None:
        return True
    return any(_accepts_value(branch, name) for branch in _branches(names, doc))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def narrowings(first: Schema, second: Schema) -> list[Change]:
    """Every place where ``second`` accepts less than ``first`` (as far as can be told)."""
    return _Comparison(first, second).compare(first, second, "")


# -- whole releases -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A breaking change in one schema file."""

    file: str
    mode: Mode
    change: Change

    def __str__(self) -> str:
        return f"{self.file}: {self.change.message(self.mode)}"


def mode_of(file: str) -> Mode:
    """Documents the pipeline writes are judged for their readers; event types for producers."""
    return "readers" if file.startswith("documents/") else "producers"


def breaking_changes(published: Mapping[str, Schema], current: Mapping[str, Schema]) -> list[Problem]:
    """The breaking changes from the ``published`` schemas to the ``current`` ones.

    Both map a file name relative to ``schemas/json`` to its schema. A file that is new in
    ``current`` is a new type or document: nothing to compare.
    """
    problems: list[Problem] = []
    for file in sorted(published):
        mode = mode_of(file)
        if file not in current:
            problems.append(Problem(file, mode, Change("schema-removed", "", file.rsplit("/", 1)[-1])))
            continue
        if mode == "producers":
            changes = narrowings(published[file], current[file])
        else:
            changes = [c for c in narrowings(current[file], published[file]) if c.kind not in READER_COMPATIBLE_KINDS]
        problems.extend(Problem(file, mode, change) for change in _unique(changes))
    return problems


def _unique(changes: list[Change]) -> list[Change]:
    seen: set[str] = set()
    out = []
    for change in changes:
        key = repr(change)
        if key not in seen:
            seen.add(key)
            out.append(change)
    return out
