"""Index a `func.FunctionApp` / `df.DFApp` the way the Functions host does at startup.

The Python worker asks the app for its functions (`app.get_functions()`), reads each function's bindings
as JSON (`function.get_raw_bindings()`) and keeps the callable (`function.get_user_function()`) to invoke
with keyword arguments named after the bindings. Durable functions are registered under the name given
in the trigger's `orchestration` / `activity` property when set, else under the function name.

Each function's parameters then go through the worker's own load-time checks (`worker_checks`): where
the worker would refuse one function, and with it load none of the app, indexing raises too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from pipeline.functions_host.worker_checks import validate_function_params

ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"
ENTITY_TRIGGER = "entityTrigger"
DURABLE_CLIENT = "durableClient"
HTTP_TRIGGER = "httpTrigger"
TIMER_TRIGGER = "timerTrigger"


class FunctionNotFoundError(LookupError):
    """No function of the requested kind is registered under that name."""


@dataclass(frozen=True)
class IndexedFunction:
    """One function as the host sees it.

    Attributes:
        name: The function name (`@app.function_name` or the Python function's name).
        trigger_type: The trigger binding type, e.g. `eventHubTrigger`, `orchestrationTrigger`.
        bindings: Every binding as the host reads it (`get_raw_bindings()`, enums stringified).
        callable: The callable the worker invokes (`get_user_function()`), keyword arguments by binding name.
        durable_name: For orchestrators and activities, the name Durable Functions registers
            (trigger `orchestration` / `activity` property, else `name`); otherwise None.
        retry_policy: The function's retry policy (`@app.retry`), as the worker reports it to the host:
            `strategy`, `max_retry_count`, `delay_interval` or `minimum_interval`/`maximum_interval`.
    """

    name: str
    trigger_type: str
    bindings: tuple[dict[str, Any], ...]
    callable: Callable[..., Any]
    durable_name: str | None = None
    retry_policy: dict[str, Any] | None = None

    @property
    def trigger(self) -> dict[str, Any]:
        """The trigger binding (the host keeps it in the bindings list too)."""
        for binding in self.bindings:
            if binding.get("type") == self.trigger_type:
                return binding
        raise LookupError(f"function {self.name!r} has no {self.trigger_type} binding")

    @property
    def trigger_parameter(self) -> str:
        """The parameter name the trigger value is passed under."""
        return str(self.trigger["name"])

    def bindings_of_type(self, binding_type: str) -> list[dict[str, Any]]:
        """The bindings of one type, e.g. every `durableClient` input of a starter."""
        return [binding for binding in self.bindings if binding.get("type") == binding_type]


@dataclass
class FunctionIndex:
    """Every function of an app, with the lookups the local host needs."""

    functions: dict[str, IndexedFunction] = field(default_factory=dict)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.functions.values())

    def __len__(self) -> int:
        return len(self.functions)

    def get(self, name: str) -> IndexedFunction:
        """The function registered under `name` (any trigger)."""
        try:
            return self.functions[name]
        except KeyError:
            raise FunctionNotFoundError(f"no function named {name!r}") from None

    def by_trigger(self, trigger_type: str) -> list[IndexedFunction]:
        """Every function with the given trigger type, in registration order."""
        return [function for function in self if function.trigger_type == trigger_type]

    def orchestrator(self, name: str) -> IndexedFunction:
        """The orchestrator Durable Functions knows as `name`."""
        return self._durable(name, ORCHESTRATION_TRIGGER, "orchestrator")

    def activity(self, name: str) -> IndexedFunction:
        """The activity Durable Functions knows as `name`."""
        return self._durable(name, ACTIVITY_TRIGGER, "activity")

    def has_orchestrator(self, name: str) -> bool:
        return any(f.durable_name == name for f in self.by_trigger(ORCHESTRATION_TRIGGER))

    def has_activity(self, name: str) -> bool:
        return any(f.durable_name == name for f in self.by_trigger(ACTIVITY_TRIGGER))

    @property
    def starters(self) -> list[IndexedFunction]:
        """Functions with at least one `durableClient` input binding."""
        return [function for function in self if function.bindings_of_type(DURABLE_CLIENT)]

    def _durable(self, name: str, trigger_type: str, kind: str) -> IndexedFunction:
        for function in self.by_trigger(trigger_type):
            if function.durable_name == name:
                return function
        known = sorted(str(f.durable_name) for f in self.by_trigger(trigger_type))
        raise FunctionNotFoundError(f"no {kind} named {name!r}; known: {known}")


def index_app(app: func.FunctionApp) -> FunctionIndex:
    """Index `app` like the host: one entry per function, with its trigger, bindings and callable.

    `FunctionApp.get_functions()` remembers the names it has seen in `app.functions_bindings` and raises
    "does not have a unique function name" when called a second time. The host calls it once per process;
    here every call starts from a clean slate, so indexing the same app twice (two tests, two hosts) works.
    """
    app.functions_bindings = None
    try:
        functions = app.get_functions()
    finally:
        app.functions_bindings = None
    return FunctionIndex({f.name: f for f in _index_functions(functions)})


def _index_functions(functions: Iterable[func.Function]) -> Iterable[IndexedFunction]:
    for function in functions:
        trigger = function.get_trigger()
        if trigger is None:
            raise ValueError(f"function {function.get_function_name()!r} has no trigger")
        bindings = tuple(json.loads(raw) for raw in function.get_raw_bindings())
        trigger_type = trigger.get_binding_name()
        name = str(function.get_function_name())
        validate_function_params(name, function.get_user_function(), bindings)
        yield IndexedFunction(
            name=name,
            trigger_type=trigger_type,
            bindings=bindings,
            callable=function.get_user_function(),
            durable_name=_durable_name(name, trigger_type, bindings),
            retry_policy=function.get_settings_dict("retry_policy"),
        )


def _durable_name(name: str, trigger_type: str, bindings: tuple[dict[str, Any], ...]) -> str | None:
    property_by_trigger = {ORCHESTRATION_TRIGGER: "orchestration", ACTIVITY_TRIGGER: "activity"}
    property_name = property_by_trigger.get(trigger_type)
    if property_name is None:
        return None
    for binding in bindings:
        if binding.get("type") == trigger_type and binding.get(property_name):
            return str(binding[property_name])
    return name
