"""`LocalFunctionsHost` end to end: unmodified starters, the real durable client, the toy app's features."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import azure.durable_functions as df
import azure.functions as func
import pytest
import pytest_asyncio
from azure.durable_functions.models.utils import http_utils

from pipeline.functions_host import LocalFunctionsHost, RuntimeStatus
from pipeline.functions_host import history as h
from tests.unit import toy_durable_app as toy


@pytest.fixture(autouse=True)
def _fresh_toy() -> None:
    toy.reset()


@pytest_asyncio.fixture
async def host() -> AsyncIterator[LocalFunctionsHost]:
    """Durable timers at 1/1000: retry intervals take 1 ms, the approval's one-hour timeout 3.6 s."""
    async with LocalFunctionsHost(toy.app, timer_scale=0.001) as running:
        yield running


async def _get_json(url: str) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json(content_type=None)


@pytest.mark.asyncio
async def test_an_http_starter_runs_unmodified_and_its_status_links_work(host: LocalFunctionsHost) -> None:
    response = await host.call_http("http_start", "POST", "start/sequence", body=json.dumps(["p", "q"]))
    payload = json.loads(response.get_body())

    record = await host.wait_for(payload["id"])
    status_code, status = await _get_json(payload["statusQueryGetUri"])

    assert response.status_code == 202
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"].startswith(f"{host.origin}/runtime/webhooks/durabletask/instances/")
    assert record.runtime_status is RuntimeStatus.COMPLETED and record.output == ["Hello p", "Hello q"]
    assert status_code == 200
    assert status == {
        "name": "sequence",
        "instanceId": payload["id"],
        "runtimeStatus": "Completed",
        "input": '["p", "q"]',
        "customStatus": {"done": 2},
        "output": ["Hello p", "Hello q"],
        "createdTime": record.created_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lastUpdatedTime": record.last_updated_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@pytest.mark.asyncio
async def test_client_status_shows_custom_status_while_a_timer_runs_then_the_clock_past_it() -> None:
    async with LocalFunctionsHost(toy.app, timer_scale=0.005) as host:
        client = host.client()
        started = time.perf_counter()
        instance_id = await client.start_new("timer_then_call")
        status = await client.get_status(instance_id)
        while status.custom_status != "waiting":
            await asyncio.sleep(0.005)
            status = await client.get_status(instance_id)
        running = status.runtime_status
        record = await host.wait_for(instance_id)
        elapsed = time.perf_counter() - started
        history = await host.history(instance_id)

    created = next(e for e in history if e["EventType"] == h.EventType.TIMER_CREATED)
    fired = next(e for e in history if e["EventType"] == h.EventType.TIMER_FIRED)
    assert running is df.OrchestrationRuntimeStatus.Running
    assert record.output == {"slept_past_deadline": True, "result": "Hello timer"}
    assert fired["TimerId"] == created["EventId"] and fired["FireAt"] == created["FireAt"]
    assert 0.12 <= elapsed < 5  # a 30 s timer at scale 0.005 waits 0.15 s


@pytest.mark.asyncio
async def test_retry_intervals_are_waited_scaled_and_every_attempt_counts() -> None:
    toy.FLAKY_FAILURES_BEFORE_SUCCESS["key-1"] = 2
    async with LocalFunctionsHost(toy.app, timer_scale=0.01) as host:
        started = time.perf_counter()
        record = await host.wait_for(await host.client().start_new("retries"))
        elapsed = time.perf_counter() - started

    assert record.output["flaky"] == "ok key-1"
    assert record.custom_status == "retries-finished"
    assert host.stats.activity_executions == sum(toy.CALLS.values()) == 6
    assert host.stats.activity_failures == 5
    assert host.stats.timers_fired == 5  # two before the flaky success, three after always_fails' attempts
    assert elapsed >= 0.05  # five 1000 ms retry intervals at scale 0.01


@pytest.mark.asyncio
async def test_a_caught_activity_failure_is_a_plain_exception_with_reason_and_details(
    host: LocalFunctionsHost,
) -> None:
    record = await host.wait_for(await host.client().start_new("retries"))

    reason, details = record.output["caught"].split(" \n ", 1)

    assert reason == "Activity function 'always_fails' failed: ValueError: cannot process doomed"
    assert json.loads(details)["Message"] == "ValueError: cannot process doomed"


@pytest.mark.asyncio
async def test_fan_out_runs_activities_concurrently(host: LocalFunctionsHost) -> None:
    started = time.perf_counter()
    record = await host.wait_for(await host.client().start_new("fan_out", client_input=10))
    elapsed = time.perf_counter() - started

    assert record.output == {"squares": [i * i for i in range(10)], "total": 285}
    assert toy.IN_FLIGHT["max"] >= 5
    assert elapsed < 10 * 0.02


@pytest.mark.asyncio
async def test_instances_run_concurrently_but_no_more_than_the_limit() -> None:
    samples: list[tuple[int, int]] = []  # (running, pending) as seen every millisecond

    async with LocalFunctionsHost(toy.app, timer_scale=0.0, max_concurrent_orchestrations=3) as host:

        async def sample() -> None:
            while True:
                statuses = [r.runtime_status for r in host.instances.values()]
                samples.append((statuses.count(RuntimeStatus.RUNNING), statuses.count(RuntimeStatus.PENDING)))
                await asyncio.sleep(0.001)

        sampler = asyncio.create_task(sample())
        client = host.client()
        ids = [await client.start_new("fan_out", f"fan-{n}", n % 4 + 1) for n in range(12)]
        records = await host.wait_all()
        sampler.cancel()

    assert max(running for running, _ in samples) == 3
    assert any(running == 3 and pending > 0 for running, pending in samples)  # the rest waited their turn
    assert [host.instances[i].output["total"] for i in ids] == [sum(k * k for k in range(n % 4 + 1)) for n in range(12)]
    assert host.stats.orchestrations == 12
    assert host.stats.history_events == sum(r.history_length for r in records)


@pytest.mark.asyncio
async def test_an_event_hub_starter_gets_a_working_client(host: LocalFunctionsHost) -> None:
    events = [func.EventHubEvent(body=b"x" * n, sequence_number=41 + n) for n in range(3)]

    await host.call_starter("ingest_events", events=events)
    record = await host.wait_for("batch-41")

    assert record.output == {"squares": [0, 1, 4], "total": 5}


@pytest.mark.asyncio
async def test_a_timer_starter_gets_a_working_client(host: LocalFunctionsHost) -> None:
    await host.call_starter(toy.timer_start, timer=None)
    record = await host.wait_for("nightly")

    assert record.output == ["Hello timer"]


@pytest.mark.asyncio
async def test_starting_a_running_id_is_refused_and_a_finished_one_is_replaced(host: LocalFunctionsHost) -> None:
    client = host.client()
    await client.start_new("approval", "singleton")
    with pytest.raises(Exception, match=r"An Orchestration instance with the status (Pending|Running) already exists"):
        await client.start_new("approval", "singleton")
    await client.terminate("singleton", "make room")
    first = await host.wait_for("singleton")

    await client.start_new("sequence", "singleton", ["again"])
    second = await host.wait_for("singleton")

    assert first.runtime_status is RuntimeStatus.TERMINATED
    assert (second.name, second.runtime_status, second.output) == ("sequence", RuntimeStatus.COMPLETED, ["Hello again"])
    assert second.execution_id != first.execution_id
    assert host.stats.orchestrations == 2


@pytest.mark.asyncio
async def test_an_unhandled_failure_fails_the_instance(host: LocalFunctionsHost) -> None:
    client = host.client()
    instance_id = await client.start_new("unhandled_failure")
    await host.wait_for(instance_id)

    status = await client.get_status(instance_id)
    url = client.create_http_management_payload(instance_id)["statusQueryGetUri"]
    default_code, _ = await _get_json(url)
    strict_code, _ = await _get_json(url + "&returnInternalServerErrorOnFailure=true")

    assert status.runtime_status is df.OrchestrationRuntimeStatus.Failed
    assert status.output.startswith(
        "Orchestrator function 'unhandled_failure' failed: Activity function 'always_fails' failed: "
        "ValueError: cannot process boom"
    )
    assert (default_code, strict_code) == (200, 500)
    assert host.stats.orchestrations_failed == 1


@pytest.mark.asyncio
async def test_payloads_cross_a_json_boundary(host: LocalFunctionsHost) -> None:
    client = host.client()
    requests = {
        "tuple": ("tuple_echo", None),
        "renamed": ("call_named", {"activity": "shout", "input": "hi"}),
        "datetime": ("call_named", {"activity": "make_datetime"}),
        "missing": ("call_named", {"activity": "nope"}),
    }
    ids = {key: await client.start_new(name, None, value) for key, (name, value) in requests.items()}
    await host.wait_all()
    out = {key: host.instances[instance_id].output for key, instance_id in ids.items()}

    assert out["tuple"] == [1, "two"]
    assert out["renamed"] == {"result": "HI"}
    assert "activity trigger output must be json serializable" in out["datetime"]["error"]
    assert "The function 'nope' doesn't exist" in out["missing"]["error"]


@pytest.mark.asyncio
async def test_a_sub_orchestration_runs_as_a_child_instance(host: LocalFunctionsHost) -> None:
    parent_id = await host.client().start_new("parent")
    record = await host.wait_for(parent_id)
    await host.wait_all()

    children = [r for r in host.instances.values() if r.parent_instance_id == parent_id]
    kinds = [h.event_type_name(e) for e in await host.history(parent_id)]

    assert record.output == {"child": ["Hello x", "Hello y"], "tail": "Hello parent"}
    assert [(c.name, c.runtime_status, c.output) for c in children] == [
        ("sequence", RuntimeStatus.COMPLETED, ["Hello x", "Hello y"])
    ]
    assert "SubOrchestrationInstanceCreated" in kinds and "SubOrchestrationInstanceCompleted" in kinds


@pytest.mark.asyncio
async def test_a_failing_sub_orchestration_is_retried_as_new_child_instances(host: LocalFunctionsHost) -> None:
    toy.FLAKY_FAILURES_BEFORE_SUCCESS["child-key"] = 2
    parent_id = await host.client().start_new("parent_with_retry", None, "child-key")
    record = await host.wait_for(parent_id)
    await host.wait_all()

    children = [r for r in host.instances.values() if r.parent_instance_id == parent_id]

    assert record.output == "ok child-key"
    assert sorted(c.runtime_status.value for c in children) == ["Completed", "Failed", "Failed"]
    assert len({c.instance_id for c in children}) == 3


@pytest.mark.asyncio
async def test_a_timer_longer_than_six_days_is_chained_from_shorter_ones() -> None:
    async with LocalFunctionsHost(toy.app, timer_scale=0.0) as host:
        instance_id = await host.client().start_new("long_nap")
        record = await host.wait_for(instance_id)
        history = await host.history(instance_id)

    fire_times = [h.parse_time(e["FireAt"]) for e in history if e["EventType"] == h.EventType.TIMER_CREATED]
    steps = [(later - earlier).days for earlier, later in itertools.pairwise(fire_times)]

    assert record.output == 10
    assert len(fire_times) == 3 and steps == [3, 4]  # 3 days, 3 days, then the 4-day remainder


@pytest.mark.asyncio
async def test_a_raised_event_reaches_the_orchestrator_as_json_text(host: LocalFunctionsHost) -> None:
    client = host.client()
    instance_id = await client.start_new("approval")
    while host.instances[instance_id].runtime_status is not RuntimeStatus.RUNNING:
        await asyncio.sleep(0.001)

    await client.raise_event(instance_id, "Approve", {"by": "me"})
    record = await host.wait_for(instance_id)

    # The extension stores the client's (string) payload re-serialized: the orchestrator gets JSON text.
    assert record.output == {"approved": '{"by": "me"}'}
    assert host.stats.timers_fired == 0  # the one-hour timeout was cancelled with the instance


@pytest.mark.asyncio
async def test_terminate_stops_an_instance_and_later_events_are_refused(host: LocalFunctionsHost) -> None:
    client = host.client()
    instance_id = await client.start_new("approval")

    await client.terminate(instance_id, "enough")
    record = await host.wait_for(instance_id)

    assert record.runtime_status is RuntimeStatus.TERMINATED and record.output == "enough"
    with pytest.raises(Exception, match="is gone"):
        await client.raise_event(instance_id, "Approve", True)
    await client.terminate(instance_id, "again")  # 410: accepted silently by the client


@pytest.mark.asyncio
async def test_continue_as_new_restarts_with_a_fresh_history(host: LocalFunctionsHost) -> None:
    record = await host.wait_for(await host.client().start_new("countdown", None, 3))

    assert record.output == "liftoff"
    assert toy.CALLS["say_hello"] == 3
    assert record.history_length == 4  # OrchestratorStarted, ExecutionStarted, ExecutionCompleted, ...Completed
    assert json.loads(str(record.input_json)) == "0"


@pytest.mark.asyncio
async def test_unknown_instances_purge_rules_and_status_filters(host: LocalFunctionsHost) -> None:
    client = host.client()
    waiting = await client.start_new("approval")
    done = await client.start_new("sequence", None, ["z"])
    await host.wait_for(done)

    assert not await client.get_status("no-such-instance")
    with pytest.raises(Exception, match="412"):
        await client.purge_instance_history(waiting)
    completed = await client.get_status_by(runtime_status=[df.OrchestrationRuntimeStatus.Completed])
    assert [s.instance_id for s in completed] == [done]
    assert (await client.purge_instance_history(done)).instances_deleted == 1
    assert not await client.get_status(done)
    assert done not in host.instances
    with pytest.raises(Exception, match="501"):
        await client.suspend(waiting, "not emulated")


@pytest.mark.asyncio
async def test_status_with_history_lists_readable_events(host: LocalFunctionsHost) -> None:
    client = host.client()
    instance_id = await client.start_new("sequence", None, ["a"])
    await host.wait_for(instance_id)

    status = await client.get_status(instance_id, show_history=True, show_history_output=True)
    events = status.historyEvents  # the extension's key; DurableOrchestrationStatus.history stays None

    assert [e["EventType"] for e in events] == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    assert events[1]["FunctionName"] == "say_hello" and events[1]["Result"] == '"Hello a"'
    assert status.history is None


@pytest.mark.asyncio
async def test_raise_event_requires_json_content(host: LocalFunctionsHost) -> None:
    instance_id = await host.client().start_new("approval")
    url = host.client().create_http_management_payload(instance_id)["sendEventPostUri"]

    async with aiohttp.ClientSession() as session, session.post(url.replace("{eventName}", "Approve"), data="yes") as r:
        status = r.status
    await host.client().terminate(instance_id, "done")

    assert status == 400


def test_each_event_loop_gets_its_own_client_session() -> None:
    async def scenario() -> object:
        async with LocalFunctionsHost(toy.app, timer_scale=0.0) as host:
            client = host.client()
            return (await host.wait_for(await client.start_new("sequence", None, ["loop"]))).output

    first, second = asyncio.run(scenario()), asyncio.run(scenario())

    assert first == second == ["Hello loop"]
    assert http_utils._client_session is None
