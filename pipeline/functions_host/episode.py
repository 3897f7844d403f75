"""One episode: build the context JSON, call the orchestrator entry, replay its actions on the host side.

The context JSON is what the extension's `OrchestrationTriggerAttributeBindingProvider` sends:
`history`, `input` (the stored input parsed once: a client's double-encoded input arrives as a JSON
string, which `get_input()` decodes), `instanceId`, `isReplaying`, `parentInstanceId`,
`upperSchemaVersion: 1` (V2) and `upperSchemaVersionNew: 2` (V3), and the Azure Storage backend's timer
limits. The entry is called as the worker calls it: keyword argument named after the trigger binding,
value an `azure.functions.OrchestrationContext`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from azure.functions import OrchestrationContext

from pipeline.functions_host.actions import OrchestratorResult, parse_failure_message, parse_state
from pipeline.functions_host.history import EventType, HistoryEvent
from pipeline.functions_host.sdk_check import (
    check_same_replay,
    check_task_ids,
    replay_with_sdk,
)
from pipeline.functions_host.shim import NonDeterminismError, OrchestrationShim, ShimError, ShimOutcome

UPPER_SCHEMA_VERSION = 1
UPPER_SCHEMA_VERSION_NEW = 2
MAXIMUM_SHORT_TIMER_DURATION = "6.00:00:00"
LONG_RUNNING_TIMER_INTERVAL_DURATION = "3.00:00:00"
DEFAULT_HTTP_ASYNC_REQUEST_SLEEP_MS = 30000


@dataclass(frozen=True)
class EpisodeResult:
    """What one episode decided.

    Attributes:
        result: The parsed orchestrator state (also present when the orchestrator raised).
        failure: Set when the orchestration fails in this episode: the orchestrator raised (its message,
            as `OrchestratorState.error`), or the extension would reject the actions (non-determinism).
        outcome: The host-side replay: new work to dispatch and the outstanding task ids.
    """

    context_json: str
    result: OrchestratorResult | None
    failure: str | None
    outcome: ShimOutcome | None


def build_context(
    history: Sequence[HistoryEvent], *, instance_id: str, is_replaying: bool, parent_instance_id: str | None
) -> str:
    """The orchestration trigger's context JSON for `history` (whose first events are the execution start)."""
    started = next(e for e in history if e["EventType"] == EventType.EXECUTION_STARTED)
    stored_input = started.get("Input")
    return json.dumps(
        {
            "history": list(history),
            "input": json.loads(stored_input) if stored_input is not None else None,
            "instanceId": instance_id,
            "isReplaying": is_replaying,
            "parentInstanceId": parent_instance_id,
            "upperSchemaVersion": UPPER_SCHEMA_VERSION,
            "upperSchemaVersionNew": UPPER_SCHEMA_VERSION_NEW,
            "longRunningTimerIntervalDuration": LONG_RUNNING_TIMER_INTERVAL_DURATION,
            "maximumShortTimerDuration": MAXIMUM_SHORT_TIMER_DURATION,
            "defaultHttpAsyncRequestSleepTimeMillseconds": DEFAULT_HTTP_ASYNC_REQUEST_SLEEP_MS,
        }
    )


def invoke_entry(entry: Callable[..., Any], trigger_parameter: str, context_json: str) -> tuple[str | None, str | None]:
    """Call the orchestrator entry like the worker: returns (state JSON, None) or (None, error message)."""
    try:
        returned = entry(**{trigger_parameter: OrchestrationContext(context_json)})
    except Exception as exc:
        return None, str(exc)
    return (returned if isinstance(returned, str) else json.dumps(returned)), None


def run_episode(
    entry: Callable[..., Any],
    trigger_parameter: str,
    history: Sequence[HistoryEvent],
    *,
    instance_id: str,
    is_replaying: bool,
    parent_instance_id: str | None,
    verify: bool = True,
) -> EpisodeResult:
    """Run the orchestrator over `history` and replay its actions like the extension.

    With `verify`, the history is replayed a second time through the SDK with an inspectable context: the
    two answers must be identical (determinism) and the host's task ids must match the SDK's open tasks.

    Raises:
        TaskIdMismatchError / ReplayDivergenceError: only with `verify`, when the checks fail.
    """
    context_json = build_context(
        history, instance_id=instance_id, is_replaying=is_replaying, parent_instance_id=parent_instance_id
    )
    state_json, error = invoke_entry(entry, trigger_parameter, context_json)
    sdk = replay_with_sdk(entry, context_json) if verify else None
    if sdk is not None:
        check_same_replay(instance_id, state_json or str(error), sdk.state_json or str(sdk.error))

    if error is not None:
        message, result = parse_failure_message(error)
        failure = result.error if result is not None and result.error else message
        return EpisodeResult(context_json, result, failure, None)

    result = parse_state(str(state_json))
    try:
        outcome = OrchestrationShim(instance_id, result.top_level_actions).replay(history)
    except (NonDeterminismError, ShimError) as exc:
        return EpisodeResult(context_json, result, str(exc), None)
    if sdk is not None:
        check_task_ids(instance_id, outcome, sdk)
    return EpisodeResult(context_json, result, None, outcome)
