"""The host side of one orchestration episode: what the Durable extension and DTFx do with the actions.

After the Python orchestrator answers, the extension's `OutOfProcOrchestrationShim` replays the action list
through the Durable Task Framework (DTFx) context, from the start, against the whole history:

* top-level actions are invoked one after another, each only once the previous task has *completed*
  (`foreach action: try { await InvokeAPIFromAction(action) } catch { }`), so a `WhenAll` holds back the
  next action until all its children finished, even after one of them failed;
* `WhenAll` / `WhenAny` invoke their children in order (`Task.WhenAll` / `Task.WhenAny` semantics);
* every `ScheduleTask`, `CreateTimer` and `CreateSubOrchestrationInstance` call takes the next task id
  (`idCounter++`); external events take none;
* a `...WithRetry` call runs DTFx's `RetryInterceptor`: a task per attempt, and after *every* failure a
  timer (`FireAt = CurrentUtcDateTime + interval`), including one after the last failure;
* a past decision in the history (`TaskScheduled`, `TimerCreated`, `SubOrchestrationInstanceCreated`) must
  match the id and name the replay produces, otherwise DTFx raises a non-determinism error;
* decisions the replay makes that the history does not yet hold are the episode's new work.

`OrchestrationShim.replay` does exactly this, deterministically, so the ids it allocates can be compared
with the ones the Python SDK expects (see `sdk_check`).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pipeline.functions_host import history as h
from pipeline.functions_host.actions import Action, ActionType, RetryPolicy
from pipeline.functions_host.history import EventType, HistoryEvent, parse_time


class NonDeterminismError(RuntimeError):
    """The history holds a decision the replay did not make (DTFx's NonDeterministicOrchestrationException)."""


class ShimError(RuntimeError):
    """The extension would reject this action list (e.g. `task_any` of nothing)."""


class WorkKind(StrEnum):
    ACTIVITY = "activity"
    TIMER = "timer"
    SUB_ORCHESTRATION = "suborchestration"


class ShimTask:
    """A DTFx-side task: completes once, runs its continuations synchronously (like `await` in DTFx)."""

    def __init__(self) -> None:
        self.done = False
        self.failed = False
        self._continuations: list[Callable[[ShimTask], None]] = []

    def then(self, continuation: Callable[[ShimTask], None]) -> None:
        if self.done:
            continuation(self)
        else:
            self._continuations.append(continuation)

    def finish(self, *, failed: bool = False) -> None:
        if self.done:
            return
        self.done, self.failed = True, failed
        continuations, self._continuations = self._continuations, []
        for continuation in continuations:
            continuation(self)


@dataclass
class ScheduledWork:
    """One decision: a task id and what it stands for."""

    task_id: int
    kind: WorkKind
    task: ShimTask
    name: str | None = None
    input_json: str | None = None
    fire_at: datetime | None = None
    instance_id: str | None = None
    recorded: bool = False
    canceled: bool = False

    def decision_event(self, moment: datetime) -> HistoryEvent:
        """The history event recording this decision."""
        if self.kind is WorkKind.ACTIVITY:
            return h.task_scheduled(moment, self.task_id, str(self.name), self.input_json)
        if self.kind is WorkKind.TIMER:
            assert self.fire_at is not None
            return h.timer_created(moment, self.task_id, self.fire_at)
        return h.sub_orchestration_created(moment, self.task_id, str(self.name), str(self.instance_id), self.input_json)


@dataclass
class ShimOutcome:
    """What one replay produced.

    Attributes:
        new_work: Decisions the history does not hold yet, in id order: the episode's new work.
        outstanding: Every allocated id still waiting for its completion event (what the SDK keeps open).
        next_id: The next id DTFx would allocate.
        pending_actions: Top-level actions not invoked yet (held back behind an incomplete task).
    """

    new_work: list[ScheduledWork]
    outstanding: dict[int, ScheduledWork]
    next_id: int
    pending_actions: int
    continue_as_new: Action | None = None
    all_work: dict[int, ScheduledWork] = field(default_factory=dict)


class OrchestrationShim:
    """Replays one action list against one history; create a new shim for every episode."""

    def __init__(self, instance_id: str, actions: Sequence[Action]) -> None:
        self.instance_id = instance_id
        self.actions = list(actions)
        self.current_time: datetime | None = None
        self._next_id = 0
        self._work: dict[int, ScheduledWork] = {}
        self._outstanding: dict[int, ScheduledWork] = {}
        self._cursor = 0
        self._waiters: dict[str, deque[ShimTask]] = {}
        self._buffered: dict[str, deque[str | None]] = {}
        self._continue_as_new: Action | None = None

    def replay(self, history: Sequence[HistoryEvent]) -> ShimOutcome:
        for event in history:
            self._process(event)
        new_work = [work for work in self._work.values() if not work.recorded]
        return ShimOutcome(
            new_work=sorted(new_work, key=lambda work: work.task_id),
            outstanding=dict(self._outstanding),
            next_id=self._next_id,
            pending_actions=len(self.actions) - self._cursor,
            continue_as_new=self._continue_as_new,
            all_work=dict(self._work),
        )

    # -- history events -------------------------------------------------------------------------

    def _process(self, event: HistoryEvent) -> None:
        event_type = EventType(event["EventType"])
        if event_type is EventType.ORCHESTRATOR_STARTED:
            moment = parse_time(event["Timestamp"])
            if self.current_time is None or moment > self.current_time:
                self.current_time = moment
        elif event_type is EventType.EXECUTION_STARTED:
            self._advance()
        elif event_type is EventType.TASK_SCHEDULED:
            self._match_decision(event, WorkKind.ACTIVITY, event.get("Name"))
        elif event_type is EventType.TIMER_CREATED:
            self._match_decision(event, WorkKind.TIMER, None)
        elif event_type is EventType.SUB_ORCHESTRATION_INSTANCE_CREATED:
            self._match_decision(event, WorkKind.SUB_ORCHESTRATION, event.get("Name"))
        elif event_type in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED):
            self._complete(int(event["TaskScheduledId"]), failed=False, event=event)
        elif event_type in (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED):
            self._complete(int(event["TaskScheduledId"]), failed=True, event=event)
        elif event_type is EventType.TIMER_FIRED:
            self._complete(int(event["TimerId"]), failed=False, event=event)
        elif event_type is EventType.EVENT_RAISED:
            self._raise_event(str(event["Name"]), event.get("Input"))

    def _match_decision(self, event: HistoryEvent, kind: WorkKind, name: str | None) -> None:
        task_id = int(event["EventId"])
        work = self._work.get(task_id)
        if work is None or work.kind is not kind or (name is not None and work.name != name):
            made = f"{work.kind.value} {work.name!r}" if work else "nothing"
            raise NonDeterminismError(
                f"instance {self.instance_id}: history holds {EventType(event['EventType']).name} with id "
                f"{task_id} ({name!r}) but the replay made {made} for that id"
            )
        work.recorded = True

    def _complete(self, task_id: int, *, failed: bool, event: HistoryEvent) -> None:
        work = self._outstanding.pop(task_id, None)
        if work is None:
            if task_id in self._work:
                return  # a second completion (e.g. a cancelled timer): DTFx ignores it
            raise NonDeterminismError(
                f"instance {self.instance_id}: {EventType(event['EventType']).name} for task id {task_id}, "
                "which the replay never scheduled"
            )
        work.task.finish(failed=failed)

    def _raise_event(self, name: str, input_json: str | None) -> None:
        waiters = self._waiters.get(name)
        if waiters:
            waiters.popleft().finish()
        else:
            self._buffered.setdefault(name, deque()).append(input_json)

    # -- actions ----------------------------------------------------------------------------------

    def _advance(self, _: ShimTask | None = None) -> None:
        """Invoke top-level actions in order, each once the previous one's task has completed."""
        while self._cursor < len(self.actions):
            task = self._invoke(self.actions[self._cursor])
            self._cursor += 1
            if not task.done:
                task.then(self._advance)
                return

    def _invoke(self, action: Action) -> ShimTask:
        kind = action.action_type
        if kind is ActionType.CALL_ACTIVITY:
            return self._schedule(WorkKind.ACTIVITY, name=action.function_name, input_json=action.input_json)
        if kind is ActionType.CALL_SUB_ORCHESTRATOR:
            return self._schedule_sub_orchestration(action)
        if kind in (ActionType.CALL_ACTIVITY_WITH_RETRY, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            return self._with_retry(action)
        if kind is ActionType.CREATE_TIMER:
            return self._create_timer(action)
        if kind is ActionType.WAIT_FOR_EXTERNAL_EVENT:
            return self._wait_for_event(str(action.event_name))
        if kind is ActionType.CONTINUE_AS_NEW:
            self._continue_as_new = action
            return _completed()
        if kind is ActionType.WHEN_ALL:
            return _when_all([self._invoke(child) for child in action.children])
        if kind is ActionType.WHEN_ANY:
            if not action.children:
                raise ShimError("task_any of no tasks: the extension's Task.WhenAny rejects an empty list")
            return _when_any([self._invoke(child) for child in action.children])
        raise ShimError(f"unexpected action type {kind!r}")

    def _schedule(self, kind: WorkKind, **fields: object) -> ShimTask:
        task = ShimTask()
        work = ScheduledWork(task_id=self._next_id, kind=kind, task=task, **fields)  # type: ignore[arg-type]
        self._next_id += 1
        self._work[work.task_id] = work
        self._outstanding[work.task_id] = work
        return task

    def _schedule_sub_orchestration(self, action: Action) -> ShimTask:
        instance_id = action.instance_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.instance_id}:{self._next_id}"))
        return self._schedule(
            WorkKind.SUB_ORCHESTRATION, name=action.function_name, input_json=action.input_json, instance_id=instance_id
        )

    def _create_timer(self, action: Action) -> ShimTask:
        task = self._schedule(WorkKind.TIMER, fire_at=action.fire_at)
        if action.is_canceled:
            # DTFx completes the awaited task (cancelled) but the timer stays scheduled and later fires;
            # the SDK keeps the timer open until then, so it stays outstanding here too.
            self._work[self._next_id - 1].canceled = True
            task.finish()
        return task

    def _wait_for_event(self, name: str) -> ShimTask:
        task = ShimTask()
        buffered = self._buffered.get(name)
        if buffered:
            buffered.popleft()
            task.finish()
        else:
            self._waiters.setdefault(name, deque()).append(task)
        return task

    def _with_retry(self, action: Action) -> ShimTask:
        policy = action.retry
        if policy is None or policy.max_number_of_attempts < 1:
            raise ShimError(f"{action.action_type.name} needs max_number_of_attempts >= 1")
        result = ShimTask()
        _RetryLoop(self, action, policy, result).attempt()
        return result

    def _retry_attempt(self, action: Action) -> ShimTask:
        if action.action_type is ActionType.CALL_ACTIVITY_WITH_RETRY:
            return self._schedule(WorkKind.ACTIVITY, name=action.function_name, input_json=action.input_json)
        return self._schedule_sub_orchestration(action)

    def _retry_timer(self, interval_ms: int) -> ShimTask:
        if self.current_time is None:
            raise ShimError("a retry timer before any OrchestratorStarted event")
        return self._schedule(WorkKind.TIMER, fire_at=self.current_time + timedelta(milliseconds=interval_ms))


class _RetryLoop:
    """DTFx `RetryInterceptor.Invoke`: try; on failure wait a timer; give up after the timer that follows
    the last allowed attempt (backoff coefficient 1: every delay is the first retry interval)."""

    def __init__(self, shim: OrchestrationShim, action: Action, policy: RetryPolicy, result: ShimTask) -> None:
        self.shim, self.action, self.policy, self.result = shim, action, policy, result
        self.attempts = 0

    def attempt(self) -> None:
        self.attempts += 1
        self.shim._retry_attempt(self.action).then(self._attempt_done)

    def _attempt_done(self, task: ShimTask) -> None:
        if not task.failed:
            self.result.finish()
            return
        self.shim._retry_timer(self.policy.first_retry_interval_ms).then(self._timer_fired)

    def _timer_fired(self, _: ShimTask) -> None:
        if self.attempts >= self.policy.max_number_of_attempts:
            self.result.finish(failed=True)
        else:
            self.attempt()


def _completed() -> ShimTask:
    task = ShimTask()
    task.finish()
    return task


def _when_all(children: list[ShimTask]) -> ShimTask:
    """`Task.WhenAll`: completes once every child completed, failed or not."""
    result = ShimTask()
    remaining = [len(children)]
    if not children:
        result.finish()
        return result

    def child_done(child: ShimTask) -> None:
        remaining[0] -= 1
        if remaining[0] == 0:
            result.finish(failed=any(c.failed for c in children))

    for child in children:
        child.then(child_done)
    return result


def _when_any(children: list[ShimTask]) -> ShimTask:
    """`Task.WhenAny`: completes with the first child to complete."""
    result = ShimTask()
    for child in children:
        child.then(lambda _: result.finish())
    return result
