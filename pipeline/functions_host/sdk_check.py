"""Checks against the Python SDK itself: its open-task table and the determinism of its replay.

The orchestrator entry `Orchestrator.create(fn)` builds a `DurableOrchestrationContext` from the context
JSON, replays the history through `TaskOrchestrationExecutor` and throws the context away. Repeating those
three lines here keeps the context, whose `open_tasks` maps every task id the SDK is waiting for to its
task. If the ids the host allocated (`shim.ShimOutcome.outstanding`) do not match that table, completion
events would be delivered to the wrong tasks: that is raised loudly instead of producing silently wrong
results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.durable_functions.models.actions.CallActivityAction import CallActivityAction
from azure.durable_functions.models.actions.CallActivityWithRetryAction import CallActivityWithRetryAction
from azure.durable_functions.models.actions.CallSubOrchestratorAction import CallSubOrchestratorAction
from azure.durable_functions.models.actions.CallSubOrchestratorWithRetryAction import (
    CallSubOrchestratorWithRetryAction,
)
from azure.durable_functions.models.actions.CreateTimerAction import CreateTimerAction
from azure.durable_functions.models.actions.NoOpAction import NoOpAction
from azure.durable_functions.models.DurableOrchestrationContext import DurableOrchestrationContext
from azure.durable_functions.models.Task import TaskBase
from azure.durable_functions.orchestrator import Orchestrator

from pipeline.functions_host.shim import ShimOutcome, WorkKind


class TaskIdMismatchError(AssertionError):
    """The host allocated task ids that differ from the ones the SDK expects."""


class ReplayDivergenceError(AssertionError):
    """Replaying the same history twice gave different answers: the orchestrator is not deterministic."""


@dataclass(frozen=True)
class SdkReplay:
    """The SDK's view after replaying one history.

    Attributes:
        state_json: The state the orchestrator returned (or the `$OutOfProcData$` part of its error).
        error: The exception message when the orchestrator raised, else None.
        open_tasks: Task id -> kind for every integer-keyed open task (external events are keyed by name).
    """

    state_json: str | None
    error: str | None
    open_tasks: dict[int, WorkKind]


def replay_with_sdk(entry: Callable[..., Any], context_json: str) -> SdkReplay:
    """Replay `context_json` through the orchestrator exactly as its `handle` does, keeping the context."""
    function = getattr(entry, "orchestrator_function", None)
    if function is None:
        raise TypeError(f"{entry!r} is not an orchestrator entry built by Orchestrator.create")
    context = DurableOrchestrationContext.from_json(context_json)
    context._input_expected_type = getattr(entry, "_df_input_type", None)
    state_json: str | None
    error: str | None = None
    try:
        state_json = Orchestrator(function).handle(context)
    except Exception as exc:
        state_json, error = None, str(exc)
    return SdkReplay(state_json=state_json, error=error, open_tasks=_open_task_kinds(context))


def check_task_ids(instance_id: str, outcome: ShimOutcome, sdk: SdkReplay) -> None:
    """Raise `TaskIdMismatchError` unless the host's allocations agree with the SDK's open-task table.

    For every id the host has allocated, the SDK must hold it open exactly when the host is still waiting
    for it, with the same kind of work. The SDK may also hold ids the host has not allocated yet: the
    extension invokes a top-level action only after the previous one completed, so those are
    allocated later, in the same order.
    """
    problems: list[str] = []
    for task_id in range(outcome.next_id):
        host = outcome.outstanding.get(task_id)
        sdk_kind = sdk.open_tasks.get(task_id)
        if host is None and sdk_kind is not None:
            problems.append(f"id {task_id}: SDK waits for a {sdk_kind.value}, host has completed it")
        elif host is not None and sdk_kind is None:
            problems.append(f"id {task_id}: host waits for {host.kind.value} {host.name or ''}, SDK does not")
        elif host is not None and sdk_kind is not host.kind:
            problems.append(f"id {task_id}: host has a {host.kind.value}, SDK a {sdk_kind.value}")  # type: ignore[union-attr]
    ahead = sorted(task_id for task_id in sdk.open_tasks if task_id >= outcome.next_id)
    if ahead and outcome.pending_actions == 0:
        problems.append(f"SDK waits for ids {ahead}, which the host will never schedule")
    if problems:
        raise TaskIdMismatchError(
            f"instance {instance_id}: task ids diverge from the SDK's open-task table: " + "; ".join(problems)
        )


def check_same_replay(instance_id: str, first: str, second: str) -> None:
    if first != second:
        raise ReplayDivergenceError(
            f"instance {instance_id}: the same history replayed to different results:\n{first}\n{second}"
        )


def _open_task_kinds(context: DurableOrchestrationContext) -> dict[int, WorkKind]:
    kinds: dict[int, WorkKind] = {}
    for task_id, entry in context.open_tasks.items():
        if not isinstance(task_id, int):
            continue
        tasks = entry if isinstance(entry, list) else [entry]
        for task in tasks:
            kinds[task_id] = _task_kind(task)
    return kinds


def _task_kind(task: TaskBase) -> WorkKind:
    action = task.action_repr[0] if isinstance(task.action_repr, list) else task.action_repr
    if isinstance(action, CreateTimerAction):
        return WorkKind.TIMER
    if isinstance(action, (CallActivityAction, CallActivityWithRetryAction)):
        return WorkKind.ACTIVITY
    if isinstance(action, (CallSubOrchestratorAction, CallSubOrchestratorWithRetryAction)):
        return WorkKind.SUB_ORCHESTRATION
    if isinstance(action, NoOpAction):
        if action.metadata == "-WithRetry timer":
            return WorkKind.TIMER
        parent_actions = getattr(task.parent, "actions", None)
        parent_action = parent_actions[0] if isinstance(parent_actions, list) else parent_actions
        if isinstance(parent_action, CallSubOrchestratorWithRetryAction):
            return WorkKind.SUB_ORCHESTRATION
        return WorkKind.ACTIVITY
    raise TypeError(f"unexpected open task with action {action!r}")
