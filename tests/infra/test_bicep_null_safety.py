"""Properties of a conditional resource or module (`= if (...)`) are read with `.?` and `??`.

Such a symbol is null when its condition is false, and the Bicep compiler warns (BCP318) on a plain
`symbol.property`. The safe form is `symbol.?property ?? fallback`.

pycep reads `a.?b` exactly as `a.b` (it drops the `?`), so this test reads tree-sitter-bicep's tree,
which keeps the `.?` token and parses `??` with its real precedence. All three offline parsers
(tree-sitter, pycep 0.7.1 and checkov's pycep 0.5.1) accept both operators.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

from .bicep_ast import BICEP, bicep_files

PARSER = Parser(Language(tree_sitter_bicep.language()))


def _conditional_symbols(ast: dict[str, Any]) -> set[str]:
    return {
        name
        for kind in ("resources", "modules")
        for name, declaration in ast.get(kind, {}).items()
        if declaration["config"].get("condition") is not None
    }


def _nodes(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _nodes(child)


def _accesses(path: Path, symbols: set[str]) -> list[tuple[Node, Node]]:
    """(access, outermost member chain) for every `symbol.x` / `symbol.?x` of a conditional symbol."""
    found = []
    for node in _nodes(PARSER.parse(path.read_bytes()).root_node):
        if node.type != "member_expression":
            continue
        first = node.children[0]
        if first.type == "identifier" and first.text is not None and first.text.decode() in symbols:
            chain = node
            while chain.parent is not None and chain.parent.type == "member_expression":
                chain = chain.parent
            found.append((node, chain))
    return found


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_conditional_resources_and_modules_are_read_with_safe_access_and_a_fallback(
    path: Path, asts: dict[str, dict[str, Any]]
) -> None:
    symbols = _conditional_symbols(asts[path.relative_to(BICEP).as_posix()])
    for access, chain in _accesses(path, symbols):
        where = f"{path.name} line {access.start_point[0] + 1}: {chain.text.decode() if chain.text else ''}"
        assert access.children[1].type == ".?", f"{where}: read the conditional symbol with `.?`"
        parent = chain.parent
        assert parent is not None and parent.type == "binary_expression", f"{where}: add a `??` fallback"
        assert parent.children[0] == chain and parent.children[1].type == "??", f"{where}: add a `??` fallback"


def test_the_conditional_scheduler_endpoint_and_action_group_id_are_covered(asts: dict[str, dict[str, Any]]) -> None:
    # The accesses this guards exist (so the test above has something to check).
    main = _accesses(BICEP / "main.bicep", _conditional_symbols(asts["main.bicep"]))
    assert [chain.text for _, chain in main] == [b"durableTaskScheduler.?outputs.endpoint"]
    alerts = BICEP / "modules" / "alerts.bicep"
    assert [chain.text for _, chain in _accesses(alerts, _conditional_symbols(asts["modules/alerts.bicep"]))] == [
        b"actionGroup.?id",
        b"actionGroup.?id",
    ]
