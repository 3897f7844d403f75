"""`batch_scope`: one step of one batch, with its correlation, its span and its duration.

Wrap each step that handles a batch (the trigger's ingest, each activity) in it::

    with batch_scope(batch["batch_id"], traceparent=batch.get("traceparent"), step="curate",
                     source_kind=batch["source_kind"]):
        ...

Inside, every log line carries the batch id, the orchestration instance id and the batch's
trace; on exit the step's duration is recorded (`pipeline.step.duration`, with `outcome`), and
an exception is logged once with the context before it propagates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from pipeline.observability.context import bind
from pipeline.observability.metrics import STEP_DURATION, Metrics, get_metrics
from pipeline.observability.telemetry import span
from pipeline.observability.tracecontext import TraceContext, batch_trace, parse_traceparent

log = logging.getLogger("pipeline.batch")


@dataclass(slots=True)
class BatchScope:
    batch_id: str
    step: str
    trace: TraceContext
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started


@contextmanager
def batch_scope(
    batch_id: str,
    *,
    step: str,
    instance_id: str | None = None,
    traceparent: TraceContext | str | None = None,
    source_kind: str | None = None,
    links: Sequence[TraceContext] = (),
    metrics: Metrics | None = None,
) -> Iterator[BatchScope]:
    """Bind a batch's correlation and open its step span for the block.

    Args:
        batch_id: The batch (and, by default, the orchestration instance) id.
        step: `ingest`, `curate`, `aggregate`, `fail`, … (a metric attribute: keep it a fixed word).
        instance_id: The orchestration instance id when it differs from the batch id.
        traceparent: The batch's trace context (from :func:`batch_trace` at ingest, from the
            orchestration input later); when missing, the trace derived from the batch id.
        source_kind: `eventhub`, `blob` or `http`.
        links: Trace contexts to link to the span (e.g. the events' own traces).
        metrics: Where the step duration goes (default: the process's metrics).
    """
    parent = traceparent if isinstance(traceparent, TraceContext) else parse_traceparent(traceparent)
    if parent is None:
        parent = batch_trace(batch_id)
    outcome = "ok"
    started = time.perf_counter()
    with (
        bind(batch_id=batch_id, instance_id=instance_id or batch_id, source_kind=source_kind, step=step),
        span(
            f"pipeline.{step}",
            parent=parent,
            links=links,
            attributes={"pipeline.batch_id": batch_id, "pipeline.step": step},
        ) as context,
    ):
        scope = BatchScope(batch_id, step, context, started)
        try:
            yield scope
        except BaseException as error:
            outcome = "error"
            log.warning("step %s of batch %s failed: %s", step, batch_id, error, exc_info=True)
            raise
        finally:
            attributes = {"step": step, "outcome": outcome}
            if source_kind:
                attributes["source_kind"] = source_kind
            (metrics or get_metrics()).record(STEP_DURATION, time.perf_counter() - started, attributes)
