"""The orchestration of one batch: curate (enrich and store) → aggregate.

A pure generator, as Durable Functions requires: no I/O, no clock, no settings. Its input is a claim
check (a Blob reference), so histories stay small however large the batch.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

bp = df.Blueprint()

ORCHESTRATOR = "process_batch"
CURATE = "curate_batch"
AGGREGATE = "aggregate_batch"
FAIL = "fail_batch"

# Transient failures (a store briefly unreachable or throttling) are retried: the store clients back
# off within an attempt, and the orchestration makes up to 5 attempts, 2 s apart.
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=2_000, max_number_of_attempts=5)


@bp.orchestration_trigger(context_name="context", orchestration=ORCHESTRATOR)
def process_batch(context: df.DurableOrchestrationContext) -> Generator[Any, Any, dict[str, Any]]:
    batch: dict[str, Any] = context.get_input()
    try:
        yield context.call_activity_with_retry(CURATE, RETRY, batch)
        result = yield context.call_activity_with_retry(AGGREGATE, RETRY, batch)
    except Exception as error:
        result = yield context.call_activity_with_retry(FAIL, RETRY, {**batch, "error": str(error)})
    return result
