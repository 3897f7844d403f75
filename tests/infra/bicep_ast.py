"""Helpers for reading the Bicep templates offline.

No Bicep compiler runs here, so the templates are read with two parsers: tree-sitter-bicep for
syntax and pycep-parser for an AST to assert on. pycep gives each file a dict with `parameters`,
`variables`, `resources`, `modules` and `outputs`; expressions are nested dicts such as
`{"function": {"type": "guid", "parameters": {...}}}` and references are plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BICEP = REPO / "bicep"
MODULES = BICEP / "modules"


def bicep_files() -> list[Path]:
    return sorted(BICEP.rglob("*.bicep"))


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """The property block of a resource or module, unwrapping `if (...)` and `[for ...]`."""
    config = resource["config"]
    while "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config


def resources_of_type(ast: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Declared (not `existing`) resources of one type, by symbolic name."""
    return {
        name: resource
        for name, resource in ast.get("resources", {}).items()
        if resource["type"] == resource_type and not resource["existing"]
    }


def one_resource(ast: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = resources_of_type(ast, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def description(node: dict[str, Any]) -> str | None:
    for decorator in node.get("decorators", []):
        if decorator["type"] == "description":
            return decorator["argument"]
    return None


def refuses(param: dict[str, Any], value: Any) -> bool:
    """Whether the parameter's decorators refuse `value` (as ARM does when it validates parameters)."""
    for decorator in param["decorators"]:
        kind, argument = decorator["type"], decorator.get("argument")
        if kind == "allowed" and value not in argument:
            return True
        if (kind == "min_value" and value < argument) or (kind == "max_value" and value > argument):
            return True
        if (kind == "min_length" and len(value) < argument) or (kind == "max_length" and len(value) > argument):
            return True
    return False


def walk(node: Any) -> Iterator[Any]:
    """Every dict, list and scalar inside an AST node."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def accessor(node: Any) -> str | None:
    """`a.b.c` for a property-access expression, None for anything else."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "operator" in node and node["operator"]["type"] == "property_accessor":
        operands = node["operator"]["operands"]
        left, right = accessor(operands["operand_1"]), accessor(operands["operand_2"])
        if left is not None and right is not None:
            return f"{left}.{right}"
    return None


def function(node: Any, name: str) -> dict[str, Any] | None:
    """The parameters of a call to function `name` (pycep's snake_case name), else None."""
    if isinstance(node, dict) and "function" in node and node["function"]["type"] == name:
        return node["function"]["parameters"]
    return None


def strip_comments(text: str) -> str:
    """Bicep source without `//` and `/* */` comments (strings keep their content)."""
    out: list[str] = []
    i, quoted = 0, False
    while i < len(text):
        if quoted:
            if text.startswith("\\'", i):
                out.append(text[i : i + 2])
                i += 2
                continue
            if text[i] == "'":
                quoted = False
            out.append(text[i])
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i)
            i = len(text) if end == -1 else end + 2
        else:
            if text[i] == "'":
                quoted = True
            out.append(text[i])
            i += 1
    return "".join(out)


def bicepparam_values(path: Path) -> dict[str, str]:
    """`param name = value` lines of a .bicepparam file (values as source text)."""
    values: dict[str, str] = {}
    for line in strip_comments(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^param\s+(\w+)\s*=\s*(.+?)\s*$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values
