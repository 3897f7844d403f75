"""Fixtures for the offline checks of the Bicep templates: one pycep AST per file, parsed once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycep import BicepParser

from .bicep_ast import BICEP, bicep_files


@pytest.fixture(scope="session")
def asts() -> dict[str, dict[str, Any]]:
    """pycep ASTs of every .bicep file, keyed by path relative to bicep/ (e.g. `modules/cosmos.bicep`)."""
    parser = BicepParser()
    return {path.relative_to(BICEP).as_posix(): parser.parse(file_path=path) for path in bicep_files()}


@pytest.fixture(scope="session")
def main_ast(asts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return asts["main.bicep"]


@pytest.fixture(scope="session")
def module_ast(asts: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    def get(name: str) -> dict[str, Any]:
        return asts[f"modules/{name}.bicep"]

    return get
