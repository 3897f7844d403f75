"""Every Bicep file parses, with two independent parsers, and follows the house conventions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tree_sitter_bicep
from pycep import BicepParser
from tree_sitter import Language, Node, Parser

from .bicep_ast import BICEP, MODULES, bicep_files, bicepparam_values, description, refuses

PARSER = Parser(Language(tree_sitter_bicep.language()))


def _problems(node: Node) -> list[str]:
    found = []
    if node.is_error or node.is_missing:
        kind = "missing" if node.is_missing else "error"
        found.append(f"{kind} {node.type!r} at line {node.start_point[0] + 1}, column {node.start_point[1] + 1}")
    for child in node.children:
        found.extend(_problems(child))
    return found


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_bicep_file_parses_with_tree_sitter_without_error_or_missing_nodes(path: Path) -> None:
    tree = PARSER.parse(path.read_bytes())
    assert _problems(tree.root_node) == []


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_bicep_file_parses_with_pycep(path: Path) -> None:
    ast = BicepParser().parse(file_path=path)
    assert ast.get("resources") or ast.get("modules"), "a template with no resource or module"


def test_templates_exist_one_module_per_concern() -> None:
    expected = {
        "identity",
        "storage",
        "eventhubs",
        "cosmos",
        "functionapp",
        "durable-scheduler",
        "monitoring",
        "diagnostics",
        "alerts",
        "rbac",
        "eventgrid",
        "workbook",
    }
    assert {path.stem for path in MODULES.glob("*.bicep")} == expected
    assert (BICEP / "main.bicep").is_file()


def test_main_uses_only_local_modules_and_every_module_file(main_ast: dict[str, Any]) -> None:
    paths = {module["detail"]["path"] for module in main_ast["modules"].values()}
    assert all(module["type"] == "local" for module in main_ast["modules"].values())
    assert paths == {f"modules/{path.name}" for path in MODULES.glob("*.bicep")}


def test_no_registry_modules_spreads_or_extensions_anywhere() -> None:
    for path in bicep_files():
        text = path.read_text(encoding="utf-8")
        for token in ("'br:", "'br/", "'ts:", "...", "\nextension ", "\nimport "):
            assert token not in text, f"{path.name}: {token!r} (offline parsers and checks cannot follow it)"


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_every_param_and_output_has_a_required_or_optional_description(path: Path, asts: dict) -> None:
    ast = asts[path.relative_to(BICEP).as_posix()]
    for kind in ("parameters", "outputs"):
        for name, node in ast.get(kind, {}).items():
            text = description(node)
            assert text is not None, f"{kind[:-1]} {name} has no @description"
            assert text.startswith(("Required. ", "Optional. ")), f"{kind[:-1]} {name}: {text!r}"


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_optional_params_have_defaults_and_required_ones_do_not(path: Path, asts: dict) -> None:
    for name, param in asts[path.relative_to(BICEP).as_posix()].get("parameters", {}).items():
        optional = description(param).startswith("Optional.")
        assert (param["default"] is not None) == optional, f"{path.name}: param {name}"


def _declared_params(main_ast: dict[str, Any]) -> dict[str, Any]:
    return main_ast["parameters"]


def _check_values(main_ast: dict[str, Any], values: dict[str, Any], source: str) -> None:
    params = _declared_params(main_ast)
    unknown = set(values) - set(params)
    assert not unknown, f"{source} sets undeclared params {sorted(unknown)}"
    required = {name for name, param in params.items() if param["default"] is None}
    assert required <= set(values), f"{source} misses required params {sorted(required - set(values))}"
    for name, value in values.items():
        allowed = [d["argument"] for d in params[name]["decorators"] if d["type"] == "allowed"]
        literal = value.strip("'") if isinstance(value, str) else value
        if allowed and isinstance(value, str) and value.startswith("'"):
            assert literal in allowed[0], f"{source}: {name}={value} not in {allowed[0]}"
        if allowed and isinstance(value, int):
            assert value in allowed[0], f"{source}: {name}={value} not in {allowed[0]}"
        if isinstance(value, int):  # @minValue / @maxValue
            assert not refuses(params[name], value), f"{source}: {name}={value} is refused by its decorators"


@pytest.mark.parametrize("name", ["main.dev.bicepparam", "main.prod.bicepparam"])
def test_bicepparam_files_use_main_and_set_only_declared_params(name: str, main_ast: dict[str, Any]) -> None:
    path = BICEP / name
    assert "using './main.bicep'" in path.read_text(encoding="utf-8")
    values: dict[str, Any] = {
        key: int(value) if value.isdigit() else value for key, value in bicepparam_values(path).items()
    }
    _check_values(main_ast, values, name)


def test_azd_parameters_file_sets_only_declared_params(main_ast: dict[str, Any]) -> None:
    data = json.loads((BICEP / "main.parameters.json").read_text(encoding="utf-8"))
    values = {key: entry["value"] for key, entry in data["parameters"].items()}
    _check_values(main_ast, values, "main.parameters.json")
    assert values["environmentName"] == "${AZURE_ENV_NAME}"
    assert values["deployerPrincipalId"] == "${AZURE_PRINCIPAL_ID}"
