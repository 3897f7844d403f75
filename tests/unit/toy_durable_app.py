"""A small `df.DFApp` used only by the functions-host tests.

It exercises every orchestration feature the local host supports: sequential calls, fan-out/fan-in,
retries that eventually succeed, retries that are exhausted (and caught), a timer, custom status,
external events, sub-orchestrations, an HTTP starter and a plain `durable_client_input` starter.
Activities record their calls in `CALLS` so tests can count executions (each retry attempt counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, List  # noqa: UP035 (binding annotations: see worker_checks)

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

CALLS: Counter[str] = Counter()
"""Activity executions by activity name; reset by the tests."""

IN_FLIGHT = {"now": 0, "max": 0}
"""How many `square` attempts run at the same moment (fan-out concurrency)."""

FLAKY_FAILURES_BEFORE_SUCCESS: dict[str, int] = {}
"""Per flaky-activity key: how many times it fails before succeeding."""


def reset() -> None:
    """Forget every recorded call and configured failure (tests call it first)."""
    CALLS.clear()
    FLAKY_FAILURES_BEFORE_SUCCESS.clear()
    IN_FLIGHT.update(now=0, max=0)


RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=3)


@app.route(route="start/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """The usual HTTP starter: start the orchestrator named in the route, answer 202."""
    body = req.get_body()
    payload = json.loads(body) if body else None
    instance_id = await client.start_new(req.route_params["name"], None, payload)
    return client.create_check_status_response(req, instance_id)


@app.function_name("start_pipeline")
@app.timer_trigger(schedule="0 0 * * * *", arg_name="timer", run_on_startup=False)
@app.durable_client_input(client_name="client")
async def timer_start(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """A non-HTTP starter: starts a sequence with a fixed id (exercises the 409 path)."""
    await client.start_new("sequence", "nightly", ["timer"])


@app.function_name("ingest_events")
@app.event_hub_message_trigger(
    arg_name="events", event_hub_name="ingest", connection="EventHubConnection", cardinality="many"
)
@app.durable_client_input(client_name="client")
async def ingest_events(events: List[func.EventHubEvent], client: df.DurableOrchestrationClient) -> None:  # noqa: UP006
    """One fan-out orchestration per Event Hubs batch, keyed by the first sequence number."""
    sizes = [len(event.get_body()) for event in events]
    await client.start_new("fan_out", f"batch-{events[0].sequence_number}", len(sizes))


@app.orchestration_trigger(context_name="context")
def sequence(context: df.DurableOrchestrationContext):
    """Three sequential calls; the output of each feeds the next."""
    names = context.get_input() or ["a"]
    results = []
    for name in names:
        greeting = yield context.call_activity("say_hello", name)
        results.append(greeting)
    context.set_custom_status({"done": len(results)})
    return results


@app.orchestration_trigger(context_name="context")
def fan_out(context: df.DurableOrchestrationContext):
    """Fan-out/fan-in: one activity per item, all at once, then an aggregate."""
    count = context.get_input()
    tasks = [context.call_activity("square", i) for i in range(count)]
    squares = yield context.task_all(tasks)
    total = yield context.call_activity("total", squares)
    return {"squares": squares, "total": total}


@app.orchestration_trigger(context_name="context")
def retries(context: df.DurableOrchestrationContext):
    """A flaky activity that succeeds after retries, then one that always fails and is caught."""
    flaky = yield context.call_activity_with_retry("flaky", RETRY, "key-1")
    try:
        yield context.call_activity_with_retry("always_fails", RETRY, "doomed")
        caught = None
    except Exception as error:
        caught = str(error)
    context.set_custom_status("retries-finished")
    return {"flaky": flaky, "caught": caught}


@app.orchestration_trigger(context_name="context")
def fan_out_retries(context: df.DurableOrchestrationContext):
    """Fan-out of retrying calls: their hidden timer/task ids interleave in history order."""
    keys = context.get_input()
    results = yield context.task_all([context.call_activity_with_retry("flaky", RETRY, key) for key in keys])
    return results


@app.orchestration_trigger(context_name="context")
def timer_then_call(context: df.DurableOrchestrationContext):
    """A durable timer, then a call: the call must see a clock past the timer's deadline."""
    deadline = context.current_utc_datetime + timedelta(seconds=30)
    context.set_custom_status("waiting")
    yield context.create_timer(deadline)
    after = context.current_utc_datetime
    result = yield context.call_activity("say_hello", "timer")
    return {"slept_past_deadline": after >= deadline, "result": result}


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Wait for an external event or a timeout, whichever is first."""
    event = context.wait_for_external_event("Approve")
    timeout = context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    winner = yield context.task_any([event, timeout])
    if winner == event:
        timeout.cancel()
        return {"approved": event.result}
    return {"approved": None}


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    """Calls `sequence` as a sub-orchestration and an activity after it."""
    child = yield context.call_sub_orchestrator("sequence", ["x", "y"])
    tail = yield context.call_activity("say_hello", "parent")
    return {"child": child, "tail": tail}


@app.orchestration_trigger(context_name="context")
def unhandled_failure(context: df.DurableOrchestrationContext):
    """Lets an activity failure escape: the orchestration ends Failed."""
    yield context.call_activity("always_fails", "boom")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def tuple_echo(context: df.DurableOrchestrationContext):
    """Returns what an activity returned: a tuple crosses the JSON boundary as a list."""
    value = yield context.call_activity("make_tuple", None)
    return value


@app.orchestration_trigger(context_name="context")
def call_named(context: df.DurableOrchestrationContext):
    """Calls the activity named in the input; reports a failure instead of failing."""
    request = context.get_input()
    try:
        return {"result": (yield context.call_activity(request["activity"], request.get("input")))}
    except Exception as error:
        return {"error": str(error)}


@app.orchestration_trigger(context_name="context")
def fail_fast_fan_out(context: df.DurableOrchestrationContext):
    """One fan-out child fails at once, another is slow; the call after the fan-out waits for both."""
    with contextlib.suppress(Exception):
        yield context.task_all([context.call_activity("always_fails", "fast"), context.call_activity("slow", 0.05)])
    after = yield context.call_activity("say_hello", "after")
    return after


@app.orchestration_trigger(context_name="context")
def countdown(context: df.DurableOrchestrationContext):
    """continue_as_new until the counter reaches zero."""
    remaining = context.get_input()
    if remaining > 0:
        yield context.call_activity("say_hello", str(remaining))
        context.continue_as_new(remaining - 1)
        return None
    return "liftoff"


@app.orchestration_trigger(context_name="context")
def flaky_child(context: df.DurableOrchestrationContext):
    """A sub-orchestration that fails while its flaky activity does (no retry of its own)."""
    result = yield context.call_activity("flaky", context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def parent_with_retry(context: df.DurableOrchestrationContext):
    """Retries a failing sub-orchestration: every attempt is a new child instance."""
    result = yield context.call_sub_orchestrator_with_retry("flaky_child", RETRY, context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def long_nap(context: df.DurableOrchestrationContext):
    """A ten-day timer: longer than Azure Storage's six-day maximum, so the SDK chains shorter timers."""
    start = context.current_utc_datetime
    yield context.create_timer(start + timedelta(days=10))
    return (context.current_utc_datetime - start).days


@app.orchestration_trigger(context_name="context")
def reads_wall_clock(context: df.DurableOrchestrationContext):
    """Deliberately wrong: uses the wall clock, so two replays of one history disagree."""
    greeting = yield context.call_activity("say_hello", datetime.now(UTC).isoformat())
    return greeting


@app.activity_trigger(input_name="name")
def say_hello(name: str) -> str:
    CALLS["say_hello"] += 1
    return f"Hello {name}"


@app.activity_trigger(input_name="value")
async def square(value: int) -> int:
    CALLS["square"] += 1
    IN_FLIGHT["now"] += 1
    IN_FLIGHT["max"] = max(IN_FLIGHT["max"], IN_FLIGHT["now"])
    try:
        await asyncio.sleep(0.02)
    finally:
        IN_FLIGHT["now"] -= 1
    return value * value


@app.activity_trigger(input_name="seconds")
async def slow(seconds: float) -> float:
    CALLS["slow"] += 1
    await asyncio.sleep(seconds)
    return seconds


@app.activity_trigger(input_name="text", activity="shout")
def shout_impl(text: str) -> str:
    """Registered under the activity name `shout`, not its function name."""
    CALLS["shout"] += 1
    return text.upper()


@app.activity_trigger(input_name="unused")
def make_datetime(unused: Any) -> Any:
    """Returns something that cannot cross the JSON boundary: the attempt fails."""
    CALLS["make_datetime"] += 1
    return datetime.now(UTC)


@app.activity_trigger(input_name="values")
def total(values: List[int]) -> int:  # noqa: UP006 (the worker refuses list[int])
    CALLS["total"] += 1
    return sum(values)


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    CALLS["flaky"] += 1
    remaining = FLAKY_FAILURES_BEFORE_SUCCESS.get(key, 0)
    if remaining > 0:
        FLAKY_FAILURES_BEFORE_SUCCESS[key] = remaining - 1
        raise RuntimeError(f"flaky {key} failed, {remaining - 1} failures left")
    return f"ok {key}"


@app.activity_trigger(input_name="label")
def always_fails(label: str) -> Any:
    CALLS["always_fails"] += 1
    raise ValueError(f"cannot process {label}")


@app.activity_trigger(input_name="unused")
def make_tuple(unused: Any) -> tuple[int, str]:
    CALLS["make_tuple"] += 1
    return (1, "two")
