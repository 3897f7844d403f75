"""The orchestration engine: runs many instances to completion on one event loop, as the backend would.

Each instance has an inbox of messages (task results, timer firings, raised events, termination). An
episode takes the messages that are waiting, appends `OrchestratorStarted` + those messages to the history,
calls the orchestrator (`episode.run_episode`), records the new decisions (`TaskScheduled`,
`TimerCreated`, `SubOrchestrationInstanceCreated`) or the completion, checkpoints to the `HistoryStore`
and dispatches the new work: activities as asyncio tasks (every attempt counts), timers as scaled
`call_later`s, sub-orchestrations as child instances.

Clock: timestamps are real UTC time, except that an episode that delivers a timer never starts before the
timer's `FireAt`: with `timer_scale` < 1 a timer fires early in real time and the instance's clock jumps
forward, so `context.current_utc_datetime` behaves as it would in Azure.

Concurrency: at most `max_concurrent_orchestrations` top-level instances run at once (the others stay
Pending in start order); sub-orchestrations run under their parent's slot, so a parent waiting for its
children can never starve them. At most `max_concurrent_activities` activity attempts run at once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pipeline.functions_host import history as h
from pipeline.functions_host.activities import ActivityFailure, missing_activity_failure, run_activity
from pipeline.functions_host.episode import run_episode
from pipeline.functions_host.history_store import HistoryStore, InMemoryHistoryStore, InstanceRecord, RuntimeStatus
from pipeline.functions_host.indexing import FunctionIndex, FunctionNotFoundError
from pipeline.functions_host.instance_runtime import (
    EngineStats,
    InstanceExistsError,
    InstanceGoneError,
    InstanceNotFoundError,
    InstanceNotTerminalError,
    LiveInstance,
    OrchestratorNotFoundError,
    OverridableStates,
    ParentRef,
)
from pipeline.functions_host.ownership import owner_alive, this_process
from pipeline.functions_host.shim import ScheduledWork, WorkKind
from pipeline.functions_host.workers import ActivityWorkers


class OrchestrationEngine:
    """Runs the orchestrations of an indexed app. Use from one running event loop."""

    def __init__(
        self,
        index: FunctionIndex,
        *,
        store: HistoryStore | None = None,
        max_concurrent_orchestrations: int = 8,
        max_concurrent_activities: int | None = None,
        timer_scale: float = 1.0,
        verify: bool = True,
        overridable_existing_instance_states: OverridableStates = "NonRunningStates",
        workers: ActivityWorkers | None = None,
    ) -> None:
        self.index = index
        self.workers = workers
        self.store: HistoryStore = store if store is not None else InMemoryHistoryStore()
        self.timer_scale = timer_scale
        self.verify = verify
        self.overridable_existing_instance_states = overridable_existing_instance_states
        self.stats = EngineStats()
        self.host_errors: list[BaseException] = []
        self._admission = asyncio.Semaphore(max_concurrent_orchestrations)
        self._activity_slots = asyncio.Semaphore(max_concurrent_activities or 1_000_000)
        self._live: dict[str, LiveInstance] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # -- client operations -------------------------------------------------------------------------

    async def start_new(
        self, name: str, instance_id: str | None = None, input_json: str | None = None, *, version: str = ""
    ) -> str:
        """Create an instance (status Pending) and schedule it. `input_json` is the stored input text."""
        return await self._start(name, instance_id or uuid.uuid4().hex, input_json, version=version, parent=None)

    async def raise_event(self, instance_id: str, event_name: str, input_json: str | None) -> None:
        live = await self._require_running(instance_id)
        self._deliver(live, live.record.execution_id, h.event_raised(live.now(), event_name, input_json))

    async def terminate(self, instance_id: str, reason: str | None) -> None:
        live = await self._require_running(instance_id)
        if not live.started and live.runner is not None:
            live.runner.cancel()
            moment = live.now()
            started = self._execution_started(live)
            await self._finish_terminated(live, [h.orchestrator_started(moment), started], moment, reason)
            live.finished.set()
            return
        self._deliver(live, live.record.execution_id, h.execution_terminated(live.now(), reason))

    async def purge(self, instance_id: str) -> None:
        live = self._live.get(instance_id)
        if live is not None and live.finished.is_set():  # its last state is checkpointed: no read
            record: InstanceRecord | None = live.record
        else:
            record = await self.store.record(instance_id)
        if record is None:
            raise InstanceNotFoundError(instance_id)
        if not record.runtime_status.is_terminal:
            raise InstanceNotTerminalError(
                f"Only orchestrations in a terminal state can be purged, but the orchestration with instance ID "
                f"{instance_id} has status {record.runtime_status.value}"
            )
        await self.store.purge(instance_id)
        self._live.pop(instance_id, None)

    async def get_record(self, instance_id: str, *, stored: bool = True) -> InstanceRecord | None:
        """The instance's record as stored (what the status API answers); `stored=False` gives the
        engine's own copy without a read when the engine drives the instance (its input, say)."""
        live = self._live.get(instance_id)
        if not stored and live is not None:
            return live.record.copy()
        return await self.store.record(instance_id)

    async def list_records(self) -> list[InstanceRecord]:
        return await self.store.records()

    async def history(self, instance_id: str) -> list[h.HistoryEvent]:
        return await self.store.history(instance_id)

    @property
    def records(self) -> dict[str, InstanceRecord]:
        """A snapshot of every instance the engine drove (not purged), by id."""
        return {instance_id: live.record.copy() for instance_id, live in self._live.items()}

    async def wait_for(self, instance_id: str, timeout: float | None = None) -> InstanceRecord:
        """Wait until the instance is Completed, Failed or Terminated; re-raise a host error it hit."""
        live = self._live.get(instance_id)
        if live is None:
            record = await self.store.record(instance_id)
            if record is None:
                raise InstanceNotFoundError(instance_id)
            return record
        await asyncio.wait_for(live.finished.wait(), timeout)
        if live.host_error is not None:
            raise live.host_error
        return live.record.copy()

    async def wait_all(self, timeout: float | None = None) -> list[InstanceRecord]:
        """Wait until no instance is Pending or Running (including ones started meanwhile)."""
        async with asyncio.timeout(timeout):
            while pending := [live for live in self._live.values() if not live.finished.is_set()]:
                await asyncio.gather(*(live.finished.wait() for live in pending))
        if self.host_errors:
            raise self.host_errors[0]
        return [live.record.copy() for live in self._live.values()]

    async def close(self) -> None:
        """Stop every runner, timer and activity still in flight."""
        tasks = [live.runner for live in self._live.values() if live.runner is not None] + list(self._background)
        for live in self._live.values():
            self._cancel_timers(live)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- instance lifecycle ------------------------------------------------------------------------

    async def _start(
        self, name: str, instance_id: str, input_json: str | None, *, version: str, parent: ParentRef | None
    ) -> str:
        if not self.index.has_orchestrator(name):
            raise OrchestratorNotFoundError(
                f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function."
            )
        moment = datetime.now(UTC)
        record = InstanceRecord(
            owner=this_process(),
            instance_id=instance_id,
            name=name,
            runtime_status=RuntimeStatus.PENDING,
            created_time=moment,
            last_updated_time=moment,
            execution_id=uuid.uuid4().hex,
            input_json=input_json,
            parent_instance_id=parent.instance_id if parent else None,
            version=version,
        )
        existing = await self.store.create(record)  # one write when the id is new, as it nearly always is
        if existing is not None:
            if not existing.runtime_status.is_terminal:
                if self.overridable_existing_instance_states == "NonRunningStates":
                    raise InstanceExistsError(instance_id, existing.runtime_status)
                old = self._live.get(instance_id)
                if old is not None and old.runner is not None:
                    old.runner.cancel()
                    self._cancel_timers(old)
            await self.store.checkpoint(record, [], new_execution=True)
        live = LiveInstance(record=record, parent=parent)
        self._live[instance_id] = live
        self.stats.orchestrations_started += 1
        live.runner = asyncio.create_task(self._run(live), name=f"orchestration {instance_id}")
        return instance_id

    async def _run(self, live: LiveInstance) -> None:
        try:
            if live.parent is None:
                async with self._admission:
                    await self._drive(live)
            else:
                await self._drive(live)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            live.host_error = exc
            self.host_errors.append(exc)
            live.record.runtime_status = RuntimeStatus.FAILED
            live.record.output = f"Local host error: {type(exc).__name__}: {exc}"
            await self.store.checkpoint(live.record, [])
        finally:
            self._cancel_timers(live)
            live.finished.set()

    async def resume(self) -> list[str]:
        """Take over every unfinished instance of the store whose process is gone, and drive it on from
        its persisted history, as a Durable host that restarts does; returns their ids.

        Work the history shows outstanding (a task scheduled without its completion, a timer not
        fired, a child not started) is dispatched again; activity results that had not been
        checkpointed are lost with the process, so those activities run again (they are idempotent).
        """
        resumed = []
        for record in await self.store.records():
            if record.runtime_status.is_terminal or record.instance_id in self._live or owner_alive(record.owner):
                continue
            history = await self.store.history(record.instance_id)
            record.owner = this_process()
            live = LiveInstance(record=record, parent=_parent_of(history))
            live.history = history
            live.fresh_execution = not history
            if history:
                h.mark_played(history)
                live.last_time = max(h.parse_time(e["Timestamp"]) for e in history)
                live.execution_started_at = h.parse_time(history[0]["Timestamp"])
            await self.store.checkpoint(record, [])
            self._live[record.instance_id] = live
            self.stats.orchestrations_resumed += 1
            live.runner = asyncio.create_task(self._run(live), name=f"orchestration {record.instance_id}")
            resumed.append(record.instance_id)
        return resumed

    async def _drive(self, live: LiveInstance) -> None:
        live.started = True
        if live.history:  # resumed after a crash: the work it was waiting for, then its messages
            for work in outstanding_work(live.history, await self._started_children(live.history)):
                self._dispatch(live, work)
            new_events = await self._receive(live)
        else:
            new_events = [self._execution_started(live)]
        while True:
            new_events += self._drain(live)
            done, next_input = await self._episode(live, new_events)
            if done:
                return
            if next_input is not None:
                self._begin_new_execution(live, next_input)
                new_events = [self._execution_started(live)]
                continue
            new_events = await self._receive(live)

    def _begin_new_execution(self, live: LiveInstance, input_json: str) -> None:
        """`continue_as_new`: a fresh history; the .NET side re-serializes the input (JSON text of a string)."""
        live.history = []
        live.fresh_execution = True
        live.execution_started_at = live.now()
        live.record.execution_id = uuid.uuid4().hex
        live.record.input_json = json.dumps(input_json)
        live.record.runtime_status = RuntimeStatus.RUNNING

    def _execution_started(self, live: LiveInstance) -> h.HistoryEvent:
        record, parent = live.record, live.parent
        return h.execution_started(
            live.execution_started_at or record.created_time,
            name=record.name,
            instance_id=record.instance_id,
            execution_id=record.execution_id,
            input_json=record.input_json,
            version=record.version,
            parent=(
                {
                    "Name": parent.name,
                    "Version": "",
                    "TaskScheduleId": parent.task_id,
                    "OrchestrationInstance": {"InstanceId": parent.instance_id, "ExecutionId": parent.execution_id},
                }
                if parent
                else None
            ),
        )

    async def _receive(self, live: LiveInstance) -> list[h.HistoryEvent]:
        """Wait for at least one message for the current execution, then take every one already waiting."""
        while True:
            execution_id, event = await live.inbox.get()
            events = [event] if execution_id == live.record.execution_id else []
            await asyncio.sleep(0)
            events += self._drain(live)
            if events:
                return events

    def _drain(self, live: LiveInstance) -> list[h.HistoryEvent]:
        events = []
        while not live.inbox.empty():
            execution_id, event = live.inbox.get_nowait()
            if execution_id == live.record.execution_id:
                events.append(event)
        return events

    # -- one episode -------------------------------------------------------------------------------

    async def _episode(self, live: LiveInstance, new_events: list[h.HistoryEvent]) -> tuple[bool, str | None]:
        """Run one episode. Returns (finished, input of a continue-as-new or None)."""
        record = live.record
        fired = [h.parse_time(e["FireAt"]) for e in new_events if e["EventType"] == h.EventType.TIMER_FIRED]
        moment = live.now(at_least=max(fired) if fired else None)
        episode = [h.orchestrator_started(moment), *new_events]
        terminated = next((e for e in new_events if e["EventType"] == h.EventType.EXECUTION_TERMINATED), None)
        if terminated is not None:
            await self._finish_terminated(live, episode, moment, terminated.get("Input"))
            return True, None

        orchestrator = self.index.orchestrator(record.name)
        result = run_episode(
            orchestrator.callable,
            orchestrator.trigger_parameter,
            live.history + episode,
            instance_id=record.instance_id,
            is_replaying=bool(live.history),
            parent_instance_id=record.parent_instance_id,
            verify=self.verify,
        )
        self.stats.episodes += 1
        record.episodes += 1
        if result.result is not None and "customStatus" in result.result.raw:
            record.custom_status = result.result.custom_status

        if result.failure is not None:
            reason = f"Orchestrator function '{record.name}' failed: {result.failure}"
            failure = {"ErrorType": "OrchestrationFailureException", "ErrorMessage": result.failure}
            tail = [h.execution_completed(moment, h.OrchestrationStatus.FAILED, reason, failure)]
            await self._finish(live, episode + tail, moment, RuntimeStatus.FAILED, reason)
            self.stats.orchestrations_failed += 1
            self._notify_parent(live, failed=True, result=reason, details=result.failure)
            return True, None

        assert result.result is not None and result.outcome is not None
        continue_as_new = result.outcome.continue_as_new or result.result.continue_as_new
        if result.result.is_done and continue_as_new is not None:
            tail = [h.execution_completed(moment, h.OrchestrationStatus.CONTINUED_AS_NEW, continue_as_new.input_json)]
            record.runtime_status = RuntimeStatus.CONTINUED_AS_NEW
            await self._commit(live, episode + tail + [h.orchestrator_completed(moment)], moment)
            return False, continue_as_new.input_json or "null"
        if result.result.is_done:
            output = result.result.output
            tail = [h.execution_completed(moment, h.OrchestrationStatus.COMPLETED, json.dumps(output))]
            await self._finish(live, episode + tail, moment, RuntimeStatus.COMPLETED, output)
            self.stats.orchestrations_completed += 1
            self._notify_parent(live, failed=False, result=json.dumps(output))
            return True, None

        new_work = result.outcome.new_work
        record.runtime_status = RuntimeStatus.RUNNING
        decisions = [work.decision_event(moment) for work in new_work]
        await self._commit(live, episode + decisions + [h.orchestrator_completed(moment)], moment)
        for work in new_work:
            self._dispatch(live, work)
        return False, None

    async def _finish(
        self, live: LiveInstance, events: list[h.HistoryEvent], moment: datetime, status: RuntimeStatus, output: Any
    ) -> None:
        live.record.runtime_status = status
        live.record.output = output
        await self._commit(live, [*events, h.orchestrator_completed(moment)], moment)
        self._cancel_timers(live)

    async def _finish_terminated(
        self, live: LiveInstance, episode: list[h.HistoryEvent], moment: datetime, reason: str | None
    ) -> None:
        tail = [h.execution_completed(moment, h.OrchestrationStatus.TERMINATED, reason)]
        terminated = [e for e in episode if e["EventType"] == h.EventType.EXECUTION_TERMINATED]
        if not terminated:
            tail.insert(0, h.execution_terminated(moment, reason))
        await self._finish(live, episode + tail, moment, RuntimeStatus.TERMINATED, reason)
        self.stats.orchestrations_terminated += 1
        message = f"Orchestration '{live.record.instance_id}' was terminated: {reason}"
        self._notify_parent(live, failed=True, result=message)

    async def _commit(self, live: LiveInstance, events: list[h.HistoryEvent], moment: datetime) -> None:
        live.history.extend(events)
        live.record.history_length = len(live.history)
        live.record.last_updated_time = moment
        self.stats.history_events += len(events)
        await self.store.checkpoint(live.record, events, new_execution=live.fresh_execution)
        live.fresh_execution = False
        h.mark_played(events)

    # -- work --------------------------------------------------------------------------------------

    def _dispatch(self, live: LiveInstance, work: ScheduledWork) -> None:
        execution_id = live.record.execution_id
        if work.kind is WorkKind.TIMER:
            assert work.fire_at is not None
            real_now = datetime.now(UTC) + live.clock_offset
            delay = max(0.0, (work.fire_at - real_now).total_seconds() * self.timer_scale)
            handle = asyncio.get_running_loop().call_later(delay, self._fire_timer, live, execution_id, work)
            live.timers.append(handle)
        elif work.kind is WorkKind.ACTIVITY:
            self._spawn(self._run_activity(live, execution_id, work))
        else:
            self._spawn(self._start_child(live, execution_id, work))

    def _fire_timer(self, live: LiveInstance, execution_id: str, work: ScheduledWork) -> None:
        assert work.fire_at is not None
        self.stats.timers_fired += 1
        self._deliver(live, execution_id, h.timer_fired(live.now(), work.task_id, work.fire_at))

    async def _run_activity(self, live: LiveInstance, execution_id: str, work: ScheduledWork) -> None:
        name = str(work.name)
        async with self._activity_slots:
            self.stats.activity_executions += 1
            try:
                function = self.index.activity(name)
                if self.workers is not None:
                    result = await self.workers.run(name, work.input_json)
                else:
                    result = await run_activity(function, work.input_json)
                event = h.task_completed(live.now(), work.task_id, result)
            except (ActivityFailure, FunctionNotFoundError) as exc:
                failure = exc if isinstance(exc, ActivityFailure) else missing_activity_failure(name)
                self.stats.activity_failures += 1
                event = h.task_failed(live.now(), work.task_id, failure.reason, failure.details)
        self._deliver(live, execution_id, event)

    async def _start_child(self, live: LiveInstance, execution_id: str, work: ScheduledWork) -> None:
        parent = ParentRef(live.record.instance_id, execution_id, live.record.name, work.task_id)
        # The extension hands the SDK's input JSON to DTFx as a .NET string, which serializes it again.
        input_json = json.dumps(work.input_json) if work.input_json is not None else None
        try:
            await self._start(str(work.name), str(work.instance_id), input_json, version="", parent=parent)
        except (OrchestratorNotFoundError, InstanceExistsError) as exc:
            reason = str(exc)
            event = h.sub_orchestration_failed(live.now(), work.task_id, reason, json.dumps({"Message": reason}))
            self._deliver(live, execution_id, event)

    def _notify_parent(
        self, live: LiveInstance, *, failed: bool, result: str | None, details: str | None = None
    ) -> None:
        parent = live.parent
        parent_live = self._live.get(parent.instance_id) if parent else None
        if parent is None or parent_live is None:
            return
        moment = parent_live.now()
        if failed:
            event = h.sub_orchestration_failed(moment, parent.task_id, str(result), details)
        else:
            event = h.sub_orchestration_completed(moment, parent.task_id, result)
        self._deliver(parent_live, parent.execution_id, event)

    def _deliver(self, live: LiveInstance, execution_id: str, event: h.HistoryEvent) -> None:
        """Queue a message; messages for a finished instance are dropped, as the backend discards them."""
        if live.finished.is_set() or live.record.runtime_status.is_terminal:
            return
        live.inbox.put_nowait((execution_id, event))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.host_errors.append(task.exception())  # type: ignore[arg-type]

    @staticmethod
    def _cancel_timers(live: LiveInstance) -> None:
        for handle in live.timers:
            handle.cancel()
        live.timers.clear()

    async def _started_children(self, history: list[h.HistoryEvent]) -> set[str]:
        created = [e["InstanceId"] for e in history if e["EventType"] == h.EventType.SUB_ORCHESTRATION_INSTANCE_CREATED]
        return {child for child in created if await self.store.record(child) is not None}

    async def _require_running(self, instance_id: str) -> LiveInstance:
        record = await self.store.record(instance_id)
        live = self._live.get(instance_id)
        if record is None or live is None:
            raise InstanceNotFoundError(instance_id)
        if record.runtime_status.is_terminal:
            raise InstanceGoneError(f"Instance with ID {instance_id} is gone: either completed or failed")
        return live


def outstanding_work(history: list[h.HistoryEvent], started_children: set[str]) -> list[ScheduledWork]:
    """What an instance's history shows it waiting for: tasks scheduled without a result, timers not
    fired, and children whose instances were never created."""
    finished_types = {
        h.EventType.TASK_COMPLETED,
        h.EventType.TASK_FAILED,
        h.EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED,
        h.EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
    }
    finished = {e["TaskScheduledId"] for e in history if e["EventType"] in finished_types}
    fired = {e["TimerId"] for e in history if e["EventType"] == h.EventType.TIMER_FIRED}
    work = []
    for event in history:
        kind, task_id = event["EventType"], event["EventId"]
        if kind == h.EventType.TASK_SCHEDULED and task_id not in finished:
            work.append(_work(task_id, WorkKind.ACTIVITY, name=event["Name"], input_json=event.get("Input")))
        elif kind == h.EventType.TIMER_CREATED and task_id not in fired:
            work.append(_work(task_id, WorkKind.TIMER, fire_at=h.parse_time(event["FireAt"])))
        elif (
            kind == h.EventType.SUB_ORCHESTRATION_INSTANCE_CREATED
            and task_id not in finished
            and event["InstanceId"] not in started_children
        ):
            work.append(
                _work(
                    task_id,
                    WorkKind.SUB_ORCHESTRATION,
                    name=event["Name"],
                    instance_id=event["InstanceId"],
                    input_json=event.get("Input"),
                )
            )
    return work


def _work(task_id: int, kind: WorkKind, **fields: Any) -> ScheduledWork:
    return ScheduledWork(task_id=task_id, kind=kind, task=None, recorded=True, **fields)  # type: ignore[arg-type]


def _parent_of(history: list[h.HistoryEvent]) -> ParentRef | None:
    """The parent a child instance reports to, from its `ExecutionStarted`."""
    started = next((e for e in history if e["EventType"] == h.EventType.EXECUTION_STARTED), None)
    parent = started.get("ParentInstance") if started else None
    if not parent:
        return None
    instance = parent["OrchestrationInstance"]
    return ParentRef(instance["InstanceId"], instance["ExecutionId"], parent["Name"], parent["TaskScheduleId"])
