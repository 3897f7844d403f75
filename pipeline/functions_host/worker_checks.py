"""The Python worker's load-time checks of a function's parameters, re-done on every indexed function.

On Azure the worker (`azure-functions-python-worker`, `FunctionRegistry.validate_function_params`)
refuses a function whose parameters do not match its bindings, and then loads no function of the app
at all. Its checks, in its order:

1. every binding has a parameter of that name and every parameter a binding (`context` aside);
2. a parameter's annotation is a class or a `typing` generic, as the worker's bundled
   `typing_inspect` sees it. That copy predates PEP 585: `list[X]` and `dict[K, V]` are neither, so
   `events: list[func.EventHubEvent]` fails with "binding events has invalid non-type annotation";
   `typing.List[...]`, a bare `dict` or no annotation pass;
3. an `in` binding's converter accepts the annotation (`check_input_type_annotation`), e.g. an
   Event Hubs trigger takes `func.EventHubEvent` or an iterable `typing` generic of it.

`azure-functions` ships the same `typing_inspect` copy and the converters, so the checks run here on
exactly the objects the worker would judge.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from azure.functions import meta
from azure.functions._thirdparty import typing_inspect


class FunctionLoadError(RuntimeError):
    """The worker would refuse to load this function (and with it, the app)."""

    def __init__(self, function_name: str, message: str) -> None:
        super().__init__(f"cannot load function {function_name}: {message}")
        self.function_name = function_name


def validate_function_params(name: str, callable_: Any, bindings: tuple[dict[str, Any], ...]) -> None:
    """Raise `FunctionLoadError` where the worker would refuse `callable_` for these bindings."""
    params = dict(inspect.signature(callable_).parameters)
    annotations = typing.get_type_hints(callable_)
    bound = {str(b["name"]): b for b in bindings if b.get("name") != "$return"}

    if "context" in params and "context" not in bound:
        params.pop("context")
    if extra := set(params) - set(bound):
        raise FunctionLoadError(name, f"the following parameters are declared in Python but not in bindings: {extra}")
    if missing := set(bound) - set(params):
        raise FunctionLoadError(name, f"the following parameters are declared in bindings but not in Python: {missing}")

    for param in params.values():
        if param.name not in annotations:
            continue
        annotation = annotations[param.name]
        if not isinstance(annotation, type) and not typing_inspect.is_generic_type(annotation):
            raise FunctionLoadError(name, f"binding {param.name} has invalid non-type annotation {annotation!r}")
        binding = bound[param.name]
        if str(binding.get("direction", "IN")).upper() != "IN":
            continue
        converter = meta.get_binding_registry().get(str(binding["type"]))
        if converter is not None and not converter.check_input_type_annotation(annotation):
            raise FunctionLoadError(
                name, f'type of {param.name} binding "{binding["type"]}" does not match its annotation {annotation!r}'
            )
