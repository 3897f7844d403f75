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
when they differ. The walk over two schemas is in ``narrowing``, the reading of one schema in
``json_schema``; this module judges whole releases and words each change for its mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from schemas.json_schema import Schema
from schemas.narrowing import Change, narrowings

Mode = Literal["producers", "readers"]

#: Change kinds that do not break readers of documents (see the module docstring).
READER_COMPATIBLE_KINDS = frozenset({"value-removed", "variant-removed"})


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


@dataclass(frozen=True, slots=True)
class Problem:
    """A breaking change in one schema file."""

    file: str
    mode: Mode
    change: Change

    def __str__(self) -> str:
        return f"{self.file}: {self.change.path or '(top level)'}: {_describe(self.change, self.mode)}"


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
