"""The orchestrator's answer: `OrchestratorState` JSON parsed into typed actions.

Each invocation returns every action scheduled so far (the list is append-only), plus `isDone`,
`output`, `error` and `customStatus`. Two shapes exist:

* schema V1 (no `schemaVersion`): `actions` is a list of action *sets*, one per `yield`; a `task_all`
  is flattened into one set.
* schema V2/V3 (`schemaVersion` 1 or 2): `actions` is `[[a1, a2, ...]]`, one action per `yield`, and a
  `task_all` / `task_any` is one compound `WhenAll` / `WhenAny` action with `compoundActions`.

An unhandled orchestrator exception arrives as an exception whose message ends with
`$OutOfProcData$:` and the state JSON; `parse_failure_message` splits it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from pipeline.functions_host.history import parse_time

OUT_OF_PROC_DATA_LABEL = "\n\n$OutOfProcData$:"


class ActionType(IntEnum):
    """`azure.durable_functions.models.actions.ActionType`, as the extension reads `actionType`."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    WHEN_ANY = 11
    WHEN_ALL = 12


UNSUPPORTED = {ActionType.CALL_ENTITY, ActionType.CALL_HTTP, ActionType.SIGNAL_ENTITY}


class UnsupportedActionError(NotImplementedError):
    """The orchestrator used an API the local host does not emulate (entities, durable HTTP)."""


@dataclass(frozen=True)
class RetryPolicy:
    """`RetryOptions` as the extension reads them: a fixed interval (backoff coefficient 1)."""

    first_retry_interval_ms: int
    max_number_of_attempts: int


@dataclass(frozen=True)
class Action:
    """One action. Fields that do not apply to its type are None / empty."""

    action_type: ActionType
    function_name: str | None = None
    input_json: str | None = None
    retry: RetryPolicy | None = None
    instance_id: str | None = None
    fire_at: datetime | None = None
    is_canceled: bool = False
    event_name: str | None = None
    children: tuple[Action, ...] = ()


@dataclass(frozen=True)
class OrchestratorResult:
    """One invocation's answer. `actions` is flat in schema V2+; in V1 each set is turned into one
    action (a single action, or a `WhenAll`-like set, see `top_level_actions`)."""

    is_done: bool
    action_sets: tuple[tuple[Action, ...], ...]
    schema_version: int
    output: Any = None
    error: str | None = None
    custom_status: Any = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def top_level_actions(self) -> list[Action]:
        """The actions in the order the extension replays them.

        Schema V2+: the single inner list. Schema V1: the extension invokes every action of a set and waits
        for the first to finish; a set of one is that action, a larger set behaves as a `WhenAny` here.
        """
        if self.schema_version >= 1:
            return [action for action_set in self.action_sets for action in action_set]
        return [
            action_set[0] if len(action_set) == 1 else Action(ActionType.WHEN_ANY, children=action_set)
            for action_set in self.action_sets
            if action_set
        ]

    @property
    def continue_as_new(self) -> Action | None:
        """The `ContinueAsNew` action, when the orchestrator called `context.continue_as_new`."""
        for action in self.top_level_actions:
            if action.action_type is ActionType.CONTINUE_AS_NEW:
                return action
        return None


def parse_state(state_json: str) -> OrchestratorResult:
    """Parse the JSON string the orchestrator function returned."""
    data = json.loads(state_json)
    if not isinstance(data, dict):
        raise ValueError(f"orchestrator state must be a JSON object, got {type(data).__name__}")
    return OrchestratorResult(
        is_done=bool(data.get("isDone", False)),
        action_sets=tuple(tuple(parse_action(a) for a in action_set) for action_set in data.get("actions") or []),
        schema_version=int(data.get("schemaVersion", 0)),
        output=data.get("output"),
        error=data.get("error"),
        custom_status=data.get("customStatus"),
        raw=data,
    )


def parse_failure_message(message: str) -> tuple[str, OrchestratorResult | None]:
    """Split an orchestrator exception message into (message, state) at the `$OutOfProcData$` label."""
    head, label, tail = message.partition(OUT_OF_PROC_DATA_LABEL)
    if not label:
        return message, None
    return head, parse_state(tail)


def parse_action(data: dict[str, Any]) -> Action:
    action_type = ActionType(int(data["actionType"]))
    if action_type in UNSUPPORTED:
        raise UnsupportedActionError(
            f"{action_type.name} actions (entities / durable HTTP) are not emulated by the local host"
        )
    retry = data.get("retryOptions")
    fire_at = data.get("fireAt")
    return Action(
        action_type=action_type,
        function_name=data.get("functionName"),
        input_json=data.get("input"),
        retry=(
            RetryPolicy(int(retry["firstRetryIntervalInMilliseconds"]), int(retry["maxNumberOfAttempts"]))
            if retry
            else None
        ),
        instance_id=data.get("instanceId"),
        fire_at=parse_time(fire_at) if fire_at else None,
        is_canceled=bool(data.get("isCanceled", False)),
        event_name=data.get("externalEventName"),
        children=tuple(parse_action(child) for child in data.get("compoundActions") or []),
    )
