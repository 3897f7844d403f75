"""The orchestration engine against the SDK: history shapes, task ids, determinism, failure paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.durable_functions.models.DurableOrchestrationContext import DurableOrchestrationContext
from azure.durable_functions.models.ReplaySchema import ReplaySchema

from pipeline.functions_host import history as h
from pipeline.functions_host.actions import ActionType, parse_state
from pipeline.functions_host.episode import build_context, invoke_entry, run_episode
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus
from pipeline.functions_host.indexing import index_app
from pipeline.functions_host.replay import OrchestrationEngine
from pipeline.functions_host.sdk_check import (
    ReplayDivergenceError,
    TaskIdMismatchError,
    check_task_ids,
    replay_with_sdk,
)
from pipeline.functions_host.shim import OrchestrationShim, ScheduledWork, ShimTask, WorkKind
from tests.unit import toy_durable_app as toy

INDEX = index_app(toy.app)
DECISIONS = {h.EventType.TASK_SCHEDULED, h.EventType.TIMER_CREATED, h.EventType.SUB_ORCHESTRATION_INSTANCE_CREATED}
EPISODE_END = DECISIONS | {h.EventType.EXECUTION_COMPLETED, h.EventType.ORCHESTRATOR_COMPLETED}


@pytest.fixture(autouse=True)
def _fresh_toy() -> None:
    toy.reset()


def client_input(value: Any) -> str:
    """The start body `DurableOrchestrationClient.start_new` sends: df_dumps, then aiohttp's json=."""
    return json.dumps(json.dumps(value))


async def run_to_end(name: str, value: Any = None) -> tuple[InstanceRecord, list[h.HistoryEvent]]:
    engine = OrchestrationEngine(INDEX, timer_scale=0.0)
    try:
        instance_id = await engine.start_new(name, None, client_input(value))
        record = await engine.wait_for(instance_id, timeout=10)
        return record, await engine.history(instance_id)
    finally:
        await engine.close()


def episodes(history: list[h.HistoryEvent]) -> list[tuple[list[h.HistoryEvent], list[h.HistoryEvent]]]:
    """Per episode: (the history the orchestrator saw, the decisions the host recorded)."""
    starts = [i for i, e in enumerate(history) if e["EventType"] == h.EventType.ORCHESTRATOR_STARTED]
    result = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(history)
        first_output = next(i for i in range(start + 1, end) if history[i]["EventType"] in EPISODE_END)
        seen = [dict(e, IsPlayed=i < start) for i, e in enumerate(history[:first_output])]
        decisions = [e for e in history[first_output:end] if e["EventType"] in DECISIONS]
        result.append((seen, decisions))
    return result


def replay_shim(name: str, seen: list[h.HistoryEvent]):  # type: ignore[no-untyped-def]
    state_json, error = invoke_entry(INDEX.orchestrator(name).callable, "context", _context(seen))
    assert error is None, error
    return OrchestrationShim("test", parse_state(str(state_json)).top_level_actions).replay(seen)


def _context(seen: list[h.HistoryEvent]) -> str:
    return build_context(seen, instance_id="test", is_replaying=len(seen) > 2, parent_instance_id=None)


def _decision_key(event: h.HistoryEvent) -> tuple[str, int, str | None]:
    return (h.event_type_name(event), event["EventId"], event.get("Name"))


def _work_key(work: ScheduledWork) -> tuple[str, int, str | None]:
    names = {WorkKind.ACTIVITY: "TaskScheduled", WorkKind.TIMER: "TimerCreated"}
    return (names.get(work.kind, "SubOrchestrationInstanceCreated"), work.task_id, work.name)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("name", "value", "flaky"),
    [("sequence", ["a", "b"], {}), ("fan_out", 4, {}), ("retries", None, {"key-1": 2})],
)
async def test_replaying_any_episode_again_gives_the_same_actions_and_decisions(
    name: str, value: Any, flaky: dict[str, int]
) -> None:
    toy.FLAKY_FAILURES_BEFORE_SUCCESS.update(flaky)
    record, history = await run_to_end(name, value)
    assert record.runtime_status is RuntimeStatus.COMPLETED

    for seen, recorded in episodes(history):
        entry = INDEX.orchestrator(name).callable
        first = invoke_entry(entry, "context", _context(seen))
        second = invoke_entry(entry, "context", _context(seen))
        assert first == second
        outcome = replay_shim(name, seen)
        assert [_work_key(w) for w in outcome.new_work] == [_decision_key(e) for e in recorded]


@pytest.mark.asyncio
async def test_retry_ids_follow_dtfx_a_timer_after_every_failure_and_one_after_the_last() -> None:
    toy.FLAKY_FAILURES_BEFORE_SUCCESS["key-1"] = 2
    record, history = await run_to_end("retries")

    decisions = [_decision_key(e) for e in history if e["EventType"] in DECISIONS]

    assert decisions == [
        ("TaskScheduled", 0, "flaky"),
        ("TimerCreated", 1, None),
        ("TaskScheduled", 2, "flaky"),
        ("TimerCreated", 3, None),
        ("TaskScheduled", 4, "flaky"),
        ("TaskScheduled", 5, "always_fails"),
        ("TimerCreated", 6, None),
        ("TaskScheduled", 7, "always_fails"),
        ("TimerCreated", 8, None),
        ("TaskScheduled", 9, "always_fails"),
        ("TimerCreated", 10, None),
    ]
    assert record.output["flaky"] == "ok key-1"
    assert toy.CALLS["flaky"] == 3 and toy.CALLS["always_fails"] == 3


@pytest.mark.asyncio
@pytest.mark.parametrize(("name", "value"), [("retries", None), ("fan_out_retries", ["a", "b", "c"])])
async def test_host_ids_equal_the_sdk_open_task_table_after_every_episode(name: str, value: Any) -> None:
    toy.FLAKY_FAILURES_BEFORE_SUCCESS.update({"key-1": 1, "a": 2, "b": 0, "c": 1})
    _, history = await run_to_end(name, value)

    tables = []
    for seen, _ in episodes(history):
        sdk = replay_with_sdk(INDEX.orchestrator(name).callable, _context(seen))
        outcome = replay_shim(name, seen)
        host_table = {task_id: work.kind for task_id, work in outcome.outstanding.items()}
        assert host_table == sdk.open_tasks
        tables.append(sdk.open_tasks)

    if name == "retries":  # the extra timer after the third always_fails failure is the last thing awaited
        assert tables[-2] == {8: WorkKind.TIMER}
    else:  # three first attempts at once, then retries interleave in history order
        assert tables[0] == {0: WorkKind.ACTIVITY, 1: WorkKind.ACTIVITY, 2: WorkKind.ACTIVITY}


@pytest.mark.asyncio
async def test_a_misallocated_retry_id_is_caught_instead_of_misread() -> None:
    toy.FLAKY_FAILURES_BEFORE_SUCCESS["key-1"] = 1
    _, history = await run_to_end("retries")
    _, (ep2, _) = episodes(history)[:2]
    moment = h.parse_time(ep2[-1]["Timestamp"])
    # A host that forgets the retry timer schedules the second attempt under id 1 instead of 2.
    wrong = [
        *ep2,
        h.task_scheduled(moment, 1, "flaky", '"key-1"'),
        h.orchestrator_completed(moment),
        h.orchestrator_started(moment),
        h.task_completed(moment, 1, '"ok key-1"'),
    ]
    entry = INDEX.orchestrator("retries").callable

    sdk_alone = replay_with_sdk(entry, _context(wrong))
    episode = run_episode(entry, "context", wrong, instance_id="test", is_replaying=True, parent_instance_id=None)

    # The SDK takes the result for its retry timer and retries again: silently wrong ...
    assert json.loads(str(sdk_alone.state_json))["isDone"] is False
    # ... the host refuses the history, as DTFx's non-determinism check does.
    assert episode.failure is not None and "replay made timer" in episode.failure


def test_check_task_ids_raises_when_the_host_table_differs_from_the_sdk() -> None:
    toy_history = [
        h.orchestrator_started(h.parse_time("2030-01-01T00:00:00.000000Z")),
        h.execution_started(
            h.parse_time("2030-01-01T00:00:00.000000Z"),
            name="fan_out",
            instance_id="test",
            execution_id="e",
            input_json=client_input(2),
        ),
    ]
    sdk = replay_with_sdk(INDEX.orchestrator("fan_out").callable, _context(toy_history))
    assert sdk.open_tasks == {0: WorkKind.ACTIVITY, 1: WorkKind.ACTIVITY}
    outcome = replay_shim("fan_out", toy_history)
    check_task_ids("test", outcome, sdk)  # the real allocation agrees

    outcome.outstanding[1] = ScheduledWork(1, WorkKind.TIMER, ShimTask())
    with pytest.raises(TaskIdMismatchError, match="id 1: host has a timer, SDK a activity"):
        check_task_ids("test", outcome, sdk)


@pytest.mark.asyncio
async def test_a_nondeterministic_orchestrator_fails_loudly() -> None:
    engine = OrchestrationEngine(INDEX, timer_scale=0.0)
    try:
        instance_id = await engine.start_new("reads_wall_clock", None, None)
        with pytest.raises(ReplayDivergenceError, match="different results"):
            await engine.wait_for(instance_id, timeout=10)
        record = await engine.get_record(instance_id)
    finally:
        await engine.close()

    assert record is not None and record.runtime_status is RuntimeStatus.FAILED
    assert str(record.output).startswith("Local host error: ReplayDivergenceError")


def test_context_json_is_what_the_extension_sends_and_selects_schema_v3() -> None:
    moment = h.parse_time("2030-01-01T00:00:00.000000Z")
    seen = [
        h.orchestrator_started(moment),
        h.execution_started(moment, name="sequence", instance_id="i", execution_id="e", input_json=client_input([1])),
    ]

    context = json.loads(build_context(seen, instance_id="i", is_replaying=False, parent_instance_id=None))
    parsed = DurableOrchestrationContext.from_json(json.dumps(context))

    assert context["input"] == "[1]"  # the stored input decoded once: still a JSON string
    assert (context["upperSchemaVersion"], context["upperSchemaVersionNew"]) == (1, 2)
    assert context["history"][1]["Version"] == "" and context["history"][1]["EventType"] == 0
    assert parsed._replay_schema is ReplaySchema.V3
    assert parsed.get_input() == [1]


@pytest.mark.asyncio
async def test_a_fan_out_is_one_compound_action_whose_children_take_ids_in_order() -> None:
    record, history = await run_to_end("fan_out", 3)
    # the children may complete in one episode or several, depending on timing: only order matters
    (first_seen, first_decisions), *later = episodes(history)
    second_decisions = [decision for _, decisions in later for decision in decisions]

    state_json, _ = invoke_entry(INDEX.orchestrator("fan_out").callable, "context", _context(first_seen))
    action = parse_state(str(state_json)).top_level_actions[0]

    assert action.action_type is ActionType.WHEN_ALL and len(action.children) == 3
    assert [(e["EventId"], e["Input"]) for e in first_decisions] == [(0, "0"), (1, "1"), (2, "2")]
    assert [_decision_key(e) for e in second_decisions] == [("TaskScheduled", 3, "total")]
    assert record.output == {"squares": [0, 1, 4], "total": 5}


def test_schema_v1_action_sets_are_read_as_the_extension_replays_them() -> None:
    call = {"actionType": 0, "functionName": "say_hello", "input": '"x"'}
    v1 = parse_state(json.dumps({"isDone": False, "actions": [[call], [call, call]]}))
    when_all = {"actionType": 12, "compoundActions": [call]}
    v3 = parse_state(json.dumps({"isDone": False, "schemaVersion": 2, "actions": [[call, when_all]]}))

    assert [a.action_type for a in v1.top_level_actions] == [ActionType.CALL_ACTIVITY, ActionType.WHEN_ANY]
    assert [a.action_type for a in v3.top_level_actions] == [ActionType.CALL_ACTIVITY, ActionType.WHEN_ALL]


@pytest.mark.asyncio
async def test_the_action_after_a_failed_fan_out_waits_for_every_child_like_the_extension() -> None:
    record, history = await run_to_end("fail_fast_fan_out")

    slow_done = next(e for e in history if e["EventType"] == h.EventType.TASK_COMPLETED and e["TaskScheduledId"] == 1)
    after = next(e for e in history if e["EventType"] == h.EventType.TASK_SCHEDULED and e["Name"] == "say_hello")

    assert record.output == "Hello after"
    assert after["EventId"] == 2
    assert h.parse_time(after["Timestamp"]) >= h.parse_time(slow_done["Timestamp"])
