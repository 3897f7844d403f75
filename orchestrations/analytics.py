"""The analytics timers: fold the batches' contributions into the aggregates every minute, and every
five minutes export the `WindowAggregates` table for Power BI.

The timer forwards to `pipeline.analytics.export`, which writes the changed date partitions of the
Blob container `analytics` as CSV and Parquet (idempotently: unchanged partitions are left alone) and
the manifest last. The Functions host runs a timer as a singleton across instances, and a missed
tick is caught up once (`use_monitor`), so late events reach the files within one period.
"""

from __future__ import annotations

import logging

import azure.durable_functions as df
import azure.functions as func

from pipeline.analytics.export import export_window_aggregates
from pipeline.contributions import fold_pending
from pipeline.runtime import current_runtime

bp = df.Blueprint()
log = logging.getLogger(__name__)

#: NCRONTAB (with seconds): at second 0 of every fifth minute.
EXPORT_SCHEDULE = "0 */5 * * * *"
#: Every minute, at second 15: pending contributions reach the rows within a minute or so.
FOLD_SCHEDULE = "15 * * * * *"


@bp.timer_trigger(arg_name="timer", schedule=FOLD_SCHEDULE, run_on_startup=False, use_monitor=True)
async def fold_aggregates(timer: func.TimerRequest) -> None:
    """Fold the pending contributions into the `aggregates` rows: the rows' only writer (a timer
    runs as a singleton across instances), so their writes never contend (`contributions.py`)."""
    runtime = current_runtime()
    summary = await fold_pending(runtime.blobs, runtime.documents)
    if summary.fold_id:
        log.info(
            "fold %s: %d contributions into %d rows (%d written again after their fold, dropped)%s",
            summary.fold_id,
            summary.contributions,
            summary.rows_changed,
            summary.dropped,
            ", finishing an interrupted fold" if summary.resumed else "",
        )


@bp.timer_trigger(arg_name="timer", schedule=EXPORT_SCHEDULE, run_on_startup=False, use_monitor=True)
async def analytics_export(timer: func.TimerRequest) -> None:
    runtime = current_runtime()
    summary = await export_window_aggregates(runtime.documents, runtime.blobs)
    log.info(
        "exported WindowAggregates: %d rows, %d partitions written, %d unchanged, %d removed%s",
        summary.rows,
        len(summary.written),
        len(summary.unchanged),
        len(summary.deleted),
        " (the timer was past due)" if timer.past_due else "",
    )
