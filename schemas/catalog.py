"""The registry as documentation: the tables of ``docs/schemas.md``, generated from the registry.

``python -m pipeline schemas export`` rewrites the part of ``docs/schemas.md`` between the two
markers below; a unit test fails when it is stale, so the page always lists what is registered.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from pydantic import BaseModel

from schemas.export import CURATED_EVENT_FILE, DOCUMENTS_SUBDIR, WINDOW_AGGREGATE_FILE
from schemas.registry import FAMILY_SPECS, REGISTERED_TYPES

BEGIN_MARKER = "<!-- registry tables: written by `python -m pipeline schemas export`, do not edit -->"
END_MARKER = "<!-- end of registry tables -->"
_ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = _ROOT / "docs" / "schemas.md"


def _source(obj: object) -> str:
    path = Path(inspect.getfile(obj)).resolve()  # type: ignore[arg-type]
    try:
        return path.relative_to(_ROOT).as_posix()
    except ValueError:
        return path.name


def _fields(model: type[BaseModel]) -> str:
    return ", ".join(f"`{name}`" for name in model.model_fields)


def registry_tables() -> str:
    """The markdown tables of the registered types and families."""
    lines = [
        "| type | family | version | `data` model | to the stored shape | JSON Schema |",
        "|---|---|---|---|---|---|",
    ]
    for entry in REGISTERED_TYPES:
        lines.append(
            f"| `{entry.name}` | `{entry.family}` | {entry.version} | `{entry.wire_data.__name__}` "
            f"(`{_source(entry.wire_data)}`) | `{entry.normalise.__name__}` | "
            f"[{entry.name}.schema.json](../schemas/json/{entry.name}.schema.json) |"
        )
    lines += [
        "",
        "| family | stored `data` | fields enrichment adds | aggregated value |",
        "|---|---|---|---|",
    ]
    for name, spec in FAMILY_SPECS.items():
        lines.append(
            f"| `{name}` | `{spec.stored.__name__}` ({_fields(spec.stored)}) | {_fields(spec.enrichment)} "
            f"| `{spec.value_field}` |"
        )
    lines += [
        "",
        f"Documents for readers: [{CURATED_EVENT_FILE}](../schemas/json/{DOCUMENTS_SUBDIR}/{CURATED_EVENT_FILE}) "
        f"(`schemas/curated.py`, one variant per family) and "
        f"[{WINDOW_AGGREGATE_FILE}](../schemas/json/{DOCUMENTS_SUBDIR}/{WINDOW_AGGREGATE_FILE}).",
    ]
    return "\n".join(lines)


def with_registry_tables(page: str) -> str:
    """``page`` with the generated part replaced by the current tables.

    Raises:
        ValueError: when the page lacks the markers.
    """
    start = page.find(BEGIN_MARKER)
    end = page.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"the page has no {BEGIN_MARKER!r} ... {END_MARKER!r} section")
    return page[: start + len(BEGIN_MARKER)] + "\n" + registry_tables() + "\n" + page[end:]
