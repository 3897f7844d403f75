"""What the pipeline records about its batches and events: metrics and one log line per fact.

Three calls cover a batch's life (see docs/observability.md for the fields):

- :func:`record_ingest` in the trigger, after `ingest_batch`: events received, dead letters at
  ingest (one log line per rejected event, with its reason and dead-letter blob);
- :func:`record_stored` in the curate step, with the documents it stored: the end-to-end latency
  of each event from its own time and from its Event Hubs enqueue time (and a line per event it
  dead-lettered);
- :func:`log_dead_letters` in the fail step, for its `processing_failed` records;
- :func:`record_batch` after the aggregate step (or the fail step): stored, duplicates, dead
  letters after ingest, and the batch's duration from ingest.

Per-event lines go to the logger `pipeline.events`: dead letters at INFO, stored events at DEBUG
(so a production app at INFO logs one line per batch step plus one per rejected event).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeline.observability.context import event_fields, event_scope
from pipeline.observability.metrics import (
    BATCH_DURATION,
    BATCHES,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATES,
    EVENTS_RECEIVED,
    EVENTS_STORED,
    LATENCY_ENQUEUED,
    LATENCY_EVENT_TIME,
    Metrics,
    get_metrics,
)
from pipeline.observability.tracecontext import ENQUEUED_AT_KEY, INGESTED_AT_KEY

log = logging.getLogger("pipeline.batch")
events_log = logging.getLogger("pipeline.events")


class DeadLetterLike(Protocol):
    """What `pipeline.deadletter.DeadLetter` offers (duck-typed, to keep this module a leaf)."""

    @property
    def reason(self) -> Any: ...
    @property
    def errors(self) -> Any: ...
    @property
    def source_ref(self) -> str: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def blob_name(self) -> str: ...


class IngestOutcomeLike(Protocol):
    """What `pipeline.ingest.IngestOutcome` offers."""

    @property
    def batch_id(self) -> str: ...
    @property
    def source_kind(self) -> str: ...
    @property
    def received(self) -> int: ...
    @property
    def valid(self) -> int: ...
    @property
    def dead_letter_reasons(self) -> Mapping[str, int]: ...
    @property
    def rejections(self) -> Iterable[tuple[int, DeadLetterLike]]: ...


def record_ingest(outcome: IngestOutcomeLike, *, metrics: Metrics | None = None) -> None:
    """Count a batch's received events and ingest dead letters; log the batch and each rejection."""
    metrics = metrics or get_metrics()
    kind = {"source_kind": outcome.source_kind}
    metrics.add(EVENTS_RECEIVED, outcome.received, kind)
    reasons = {str(reason): count for reason, count in outcome.dead_letter_reasons.items() if count}
    for reason, count in reasons.items():
        metrics.add(EVENTS_DEAD_LETTERED, count, {**kind, "reason": reason, "stage": "ingest"})
    log_dead_letters((record for _, record in outcome.rejections), stage="ingest")
    log.info(
        "batch %s ingested: %d received, %d valid, %d dead-lettered",
        outcome.batch_id,
        outcome.received,
        outcome.valid,
        sum(reasons.values()),
        extra={
            "received": outcome.received,
            "valid": outcome.valid,
            "dead_lettered": sum(reasons.values()),
            "dead_letter_reasons": json.dumps(reasons, sort_keys=True),
        },
    )


def log_dead_letters(records: Iterable[DeadLetterLike], *, stage: str) -> None:
    """One INFO line per dead-lettered event (`stage`: ingest, curate or fail)."""
    for record in records:
        log_dead_letter(record, stage=stage)


def log_dead_letter(record: DeadLetterLike, *, stage: str) -> None:
    """One INFO line for one dead-lettered event, with its identity when the raw event has one."""
    reason = str(getattr(record.reason, "value", record.reason))
    errors = list(record.errors or ())
    first = errors[0] if errors else {}
    tenant, source, event_id, traceparent = _identity(record.raw)
    with event_scope(tenant, source, event_id, traceparent):
        events_log.info(
            "event dead-lettered: %s",
            reason,
            extra={
                "reason": reason,
                "stage": stage,
                "source_ref": record.source_ref,
                "deadletter_blob": f"deadletter/{record.blob_name}",
                "error_loc": str(first.get("loc", "")),
                "error": str(first.get("msg", ""))[:500],
            },
        )


def _identity(raw: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """(tenantid, source, id, traceparent) of a raw event, each None when absent or not text."""
    try:
        event = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None, None, None
    if not isinstance(event, dict):
        return None, None, None, None

    def text(name: str) -> str | None:
        value = event.get(name)
        return value if isinstance(value, str) else None

    return text("tenantid"), text("source"), text("id"), text("traceparent")


def record_stored(
    documents: Iterable[Mapping[str, Any]],
    batch: Mapping[str, Any],
    *,
    now: datetime,
    dead_letters: Iterable[DeadLetterLike] = (),
    metrics: Metrics | None = None,
) -> None:
    """Record the end-to-end latency of each stored event (one DEBUG line each), and log the
    events the step dead-lettered (one INFO line each).

    Args:
        documents: The curated documents the step stored (`StoreOutcome.stored_documents`).
        batch: The activity input: `source_kind` and, when the trigger carried it, `enqueued_at`.
        now: When they were stored (the step's processing time).
        dead_letters: The step's dead letters (`StoreOutcome.dead_letters`); they are counted by
            :func:`record_batch` from the step's result, so only logged here.
    """
    log_dead_letters(dead_letters, stage="curate")
    metrics = metrics or get_metrics()
    kind = {"source_kind": str(batch.get("source_kind", ""))}
    enqueued = _parse_time(batch.get(ENQUEUED_AT_KEY))
    for doc in documents:
        event_time = _parse_time(doc.get("time"))
        if event_time is not None:
            metrics.record(LATENCY_EVENT_TIME, max(0.0, (now - event_time).total_seconds()), kind)
        if enqueued is not None:
            metrics.record(LATENCY_ENQUEUED, max(0.0, (now - enqueued).total_seconds()), kind)
        if events_log.isEnabledFor(logging.DEBUG):
            fields = event_fields(doc.get("tenantid"), doc.get("source"), doc.get("event_id"))
            fields.update({"event_time": str(doc.get("time")), "family": str(doc.get("family"))})
            events_log.debug("event stored", extra=fields)


def record_batch(
    result: Mapping[str, Any],
    batch: Mapping[str, Any],
    *,
    now: datetime,
    metrics: Metrics | None = None,
) -> None:
    """Count a finished batch (the result of the aggregate or the fail step) and log it once.

    Dead letters in `result` are those found after ingest (`stage` fail for `processing_failed`,
    curate for the others), so with :func:`record_ingest` each event is counted exactly once.
    """
    metrics = metrics or get_metrics()
    failed = bool(result.get("error"))
    kind = {"source_kind": str(batch.get("source_kind", ""))}
    stored, duplicates = int(result.get("stored", 0)), int(result.get("duplicates", 0))
    reasons = {str(k): int(v) for k, v in dict(result.get("dead_letter_reasons") or {}).items() if v}
    metrics.add(EVENTS_STORED, stored, kind)
    metrics.add(EVENTS_DUPLICATES, duplicates, kind)
    for reason, count in reasons.items():
        stage = "fail" if reason == "processing_failed" else "curate"
        metrics.add(EVENTS_DEAD_LETTERED, count, {**kind, "reason": reason, "stage": stage})
    outcome = "failed" if failed else "completed"
    metrics.add(BATCHES, 1, {**kind, "outcome": outcome})
    extra: dict[str, Any] = {
        "outcome": outcome,
        "stored": stored,
        "duplicates": duplicates,
        "dead_lettered": sum(reasons.values()),
        "dead_letter_reasons": json.dumps(reasons, sort_keys=True),
    }
    ingested = _parse_time(batch.get(INGESTED_AT_KEY))
    if ingested is not None:
        duration = max(0.0, (now - ingested).total_seconds())
        metrics.record(BATCH_DURATION, duration, {**kind, "outcome": outcome})
        extra["batch_duration_s"] = round(duration, 3)
    if failed:
        extra["error"] = str(result["error"])[:1000]
    level = logging.WARNING if failed else logging.INFO
    log.log(
        level,
        "batch %s %s: %d stored, %d duplicates, %d dead-lettered",
        result.get("batch_id", batch.get("batch_id")),
        outcome,
        stored,
        duplicates,
        sum(reasons.values()),
        extra=extra,
    )


def _parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from RFC 3339 text (or a datetime), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    from schemas.timestamps import TimeFormatError, parse_rfc3339, to_datetime

    try:
        return to_datetime(parse_rfc3339(value).epoch_ns)
    except (TimeFormatError, ValueError, OverflowError):
        return None
