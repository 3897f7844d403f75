"""Activities: each forwards to a step in `pipeline.batch` with the worker's stores.

The input is annotated with the bare `dict`: the Python worker refuses a built-in generic such as
`dict[str, Any]` on a binding parameter (`functions_host.worker_checks` explains why).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df

from orchestrations.orchestrator import AGGREGATE, CURATE, FAIL
from pipeline import batch as steps
from pipeline.observability import batch_scope, record_batch
from pipeline.runtime import current_runtime

bp = df.Blueprint()


@bp.activity_trigger(input_name="batch", activity=CURATE)
async def curate_batch(batch: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    with batch_scope(
        batch["batch_id"], step="curate", traceparent=batch.get("traceparent"), source_kind=batch.get("source_kind")
    ):
        return await steps.curate(batch, current_runtime(), datetime.now(UTC))


@bp.activity_trigger(input_name="batch", activity=AGGREGATE)
async def aggregate_batch(batch: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    with batch_scope(
        batch["batch_id"], step="aggregate", traceparent=batch.get("traceparent"), source_kind=batch.get("source_kind")
    ):
        result = await steps.aggregate(batch, current_runtime())
        record_batch(result, batch, now=datetime.now(UTC))
        return result


@bp.activity_trigger(input_name="batch", activity=FAIL)
async def fail_batch(batch: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    with batch_scope(
        batch["batch_id"], step="fail", traceparent=batch.get("traceparent"), source_kind=batch.get("source_kind")
    ):
        result = await steps.fail(batch, current_runtime())
        record_batch(result, batch, now=datetime.now(UTC))
        return result
