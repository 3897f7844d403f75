"""The reconciliation sweep, every ten minutes: restart the batches no orchestration carried to its end.

`pipeline.reconcile` explains what strands a batch. The timer runs as a singleton across instances;
a batch whose instance is still running is left alone, and `start_batch` treats a race with its own
trigger (or a second sweep) as handed over.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import azure.functions as func

from orchestrations.handover import start_batch
from pipeline.observability import batch_trace, with_trace
from pipeline.reconcile import StrandedBatch, restart_stranded
from pipeline.runtime import current_runtime

bp = df.Blueprint()
log = logging.getLogger(__name__)

#: NCRONTAB (with seconds): at second 30 of every tenth minute.
RECONCILE_SCHEDULE = "30 */10 * * * *"


@bp.timer_trigger(arg_name="timer", schedule=RECONCILE_SCHEDULE, run_on_startup=False, use_monitor=True)
@bp.durable_client_input(client_name="client")
async def reconcile_batches(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    runtime = current_runtime()

    async def status_of(batch_id: str) -> str | None:
        status = await client.get_status(batch_id)
        return status.runtime_status.value if status.runtime_status is not None else None

    async def start(batch: StrandedBatch) -> None:
        carried = with_trace(batch.orchestration_input, batch_trace(batch.batch_id), ingested_at=batch.received_at)
        await start_batch(client, batch.batch_id, carried)

    restarted = await restart_stranded(
        runtime.blobs,
        now=datetime.now(UTC),
        grace=timedelta(seconds=runtime.settings.reconcile_grace_s),
        this_instance=runtime.settings.host_instance_id,
        status_of=status_of,
        start=start,
    )
    if restarted:
        log.warning("reconciliation restarted %d stranded batch(es): %s", len(restarted), ", ".join(restarted))
