"""The orchestration of one batch: curate (enrich and store) → aggregate.

A pure generator, as Durable Functions requires: no I/O, no clock, no settings. Its input is a claim
check (a Blob reference), so histories stay small however large the batch.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

import azure.durable_functions as df

bp = df.Blueprint()

ORCHESTRATOR = "process_batch"
CURATE = "curate_batch"
AGGREGATE = "aggregate_batch"
FAIL = "fail_batch"

#: Transient failures (a store briefly unreachable or throttling) are retried with growing delays on
#: durable timers: 2 s, 4 s, 8 s … capped at 5 minutes, 9 attempts in all (about 8.5 minutes of waiting),
#: on top of the store clients' own retries within an attempt. `fail` then accounts for the batch; if
#: even that runs out, the instance ends Failed and the reconciliation sweep restarts it later.
FIRST_RETRY_S, RETRY_FACTOR, MAX_RETRY_S, ATTEMPTS = 2, 2, 300, 9


def retry_delay(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed attempt."""
    return timedelta(seconds=min(MAX_RETRY_S, FIRST_RETRY_S * RETRY_FACTOR ** (failures - 1)))


def call_with_backoff(
    context: df.DurableOrchestrationContext, activity: str, payload: dict[str, Any]
) -> Generator[Any, Any, Any]:
    """Call an activity until it succeeds or `ATTEMPTS` attempts failed; re-raises the last failure."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return (yield context.call_activity(activity, payload))
        except Exception:
            if attempt == ATTEMPTS:
                raise
            yield context.create_timer(context.current_utc_datetime + retry_delay(attempt))
    raise AssertionError("unreachable")


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR)
def process_batch(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    batch: dict[str, Any] = context.get_input()
    try:
        curated = yield from call_with_backoff(context, CURATE, batch)
        if curated.get("poison"):  # events that failed the same way twice: dead-letter them, no waiting
            return (yield from call_with_backoff(context, FAIL, {**batch, "error": curated["error"]}))
        result = yield from call_with_backoff(context, AGGREGATE, batch)
    except Exception as error:
        result = yield from call_with_backoff(context, FAIL, {**batch, "error": str(error)})
    return result  # type: ignore[no-any-return]
