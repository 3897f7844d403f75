"""Handing a batch to its orchestration: start the instance, or find that it already runs.

Instance ids are the batch ids, so a redelivered batch (a blob trigger retried by the host, an HTTP
client repeating its request, the reconciliation sweep) asks for the same instance again. With the
Durable extension's default `overridableExistingInstanceStates` (`NonRunningStates`), starting an id
whose instance is Pending, Running, ContinuedAsNew or Suspended fails: the HTTP API answers 500 and
the Python client raises a bare `Exception`. That instance already holds the batch, so it counts as
handed over; a Completed, Failed or Terminated instance is replaced and runs the batch again, which
every step of the orchestration is idempotent for.
"""

from __future__ import annotations

import logging
from typing import Any

import azure.durable_functions as df

from pipeline.ingest import ORCHESTRATOR

log = logging.getLogger(__name__)

RUNNING_STATES = frozenset(
    {
        df.OrchestrationRuntimeStatus.Pending,
        df.OrchestrationRuntimeStatus.Running,
        df.OrchestrationRuntimeStatus.ContinuedAsNew,
        df.OrchestrationRuntimeStatus.Suspended,
    }
)


async def start_batch(client: df.DurableOrchestrationClient, batch_id: str, orchestration_input: Any) -> bool:
    """Start the batch's orchestration; False when an instance of that id was already running it."""
    try:
        await client.start_new(ORCHESTRATOR, batch_id, orchestration_input)
        return True
    except Exception:
        status = await client.get_status(batch_id)
        if status.runtime_status in RUNNING_STATES:
            log.info("batch %s is already in orchestration %s (%s)", batch_id, batch_id, status.runtime_status.value)
            return False
        raise
