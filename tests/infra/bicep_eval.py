"""Evaluate the few Bicep expressions that derive resource names, from their pycep AST.

No Bicep compiler runs here, so a derivation such as "keep only letters and digits of workloadName"
would otherwise be checked by reading its shape alone. This evaluator runs the real expressions of
`main.bicep` for chosen parameter values: string interpolation, `toLower`, `take`, `length`,
`range`, `substring`, `join`, `filter` with a one-argument lambda, `contains`, `uniqueString`
(a stand-in with the real output alphabet and length), `resourceGroup().id`, `for` expressions, and
the integer arithmetic of the retention settings (`*`, `==`, `? :`, a negative literal).

pycep writes a reference and a string literal alike (both are plain strings): a string that names a
parameter, variable or lambda variable in scope is read as a reference, anything else as a literal.
An unsupported node raises, so a changed derivation is noticed rather than mis-evaluated.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

_INTERPOLATION = re.compile(r"\$\{(\w+)\}")


def unique_string(*parts: str) -> str:
    """A stand-in for Bicep's uniqueString(): 13 lowercase letters and digits, stable per input."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[byte % len(alphabet)] for byte in digest[:13])


class Evaluator:
    def __init__(self, ast: dict[str, Any], params: Mapping[str, Any]) -> None:
        self.variables = ast.get("variables", {})
        self.params = {name: p["default"] for name, p in ast.get("parameters", {}).items()} | dict(params)

    def variable(self, name: str) -> Any:
        return self.value(self.variables[name]["value"], {})

    def value(self, node: Any, scope: Mapping[str, Any]) -> Any:
        if isinstance(node, bool | int) or node is None:
            return node
        if isinstance(node, str):
            return self._name_or_literal(node, scope)
        if isinstance(node, list):
            return [self.value(item, scope) for item in node]
        if isinstance(node, dict) and "loop_type" in node:
            detail = node["loop_type"]["detail"]
            items = self.value(detail["array_name"], scope)
            return [self.value(node["config"], {**scope, detail["item_name"]: item}) for item in items]
        if isinstance(node, dict) and "function" in node:
            return self._call(node["function"]["type"], node["function"]["parameters"], scope)
        if isinstance(node, dict) and "operator" in node:
            return self._operator(node["operator"]["type"], node["operator"]["operands"], scope)
        raise NotImplementedError(f"bicep_eval: unsupported node {str(node)[:120]}")

    def _operator(self, kind: str, operands: dict[str, Any], scope: Mapping[str, Any]) -> Any:
        match kind:
            case "property_accessor":
                return self.value(operands["operand_1"], scope)[operands["operand_2"]]
            case "minus" if set(operands) == {"integer_value"}:  # a negative literal
                return -self.value(operands["integer_value"], scope)
            case "multiply":
                return self.value(operands["operand_1"], scope) * self.value(operands["operand_2"], scope)
            case "equals":
                return self.value(operands["operand_1"], scope) == self.value(operands["operand_2"], scope)
            case "conditional":
                chosen = "true_value" if self.value(operands["condition"], scope) else "false_value"
                return self.value(operands[chosen], scope)
        raise NotImplementedError(f"bicep_eval: unsupported operator {kind} {str(operands)[:120]}")

    def _name_or_literal(self, text: str, scope: Mapping[str, Any]) -> Any:
        if text in scope:
            return scope[text]
        if text in self.params:
            return self.params[text]
        if text in self.variables:
            return self.variable(text)
        return _INTERPOLATION.sub(lambda m: str(self._name_or_literal(m.group(1), scope)), text)

    def _lambda(self, node: dict[str, Any], scope: Mapping[str, Any]) -> Callable[[Any], Any]:
        assert node["type"] == "lambda_expression", node
        detail = node["detail"]
        return lambda item: self.value(detail["expression"], {**scope, detail["var_1"]: item})

    def _call(self, name: str, parameters: dict[str, Any], scope: Mapping[str, Any]) -> Any:
        if name == "filter":
            keep = self._lambda(parameters["expression"], scope)
            return [item for item in self.value(parameters["input_array"], scope) if keep(item)]
        args = {key: self.value(value, scope) for key, value in parameters.items()}
        match name:
            case "to_lower":
                return args["string_to_change"].lower()
            case "take":
                return args["original_value"][: args["number_to_take"]]
            case "length":
                return len(args["arg_1"])
            case "range":
                return list(range(args["start_index"], args["start_index"] + args["count"]))
            case "substring":
                start = args["start_index"]
                return args["string_to_parse"][start : start + args["length"]]
            case "join":
                return args["delimiter"].join(args["input_array"])
            case "contains":
                return args["item_to_find"] in args["container"]
            case "unique_string":
                return unique_string(*(str(value) for value in args.values()))
            case "resource_group":
                return {"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-test"}
        raise NotImplementedError(f"bicep_eval: unsupported function {name}")
