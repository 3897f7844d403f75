"""The steps of one batch's orchestration, as plain async functions over the runtime's stores.

`orchestrations/activities.py` binds each to an activity; the orchestrator sequences them.
Every step is idempotent: it can run again after a crash or a retry and leaves the same state.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pipeline.aggregates import apply_contributions, contributions, contributions_from_json, contributions_to_json
from pipeline.deadletter import DeadLetter, write_dead_letters
from pipeline.enrich import document_id
from pipeline.ingest import utc_now_text
from pipeline.observability import log_dead_letters, record_stored
from pipeline.persist import BatchEvent, outcome_summary, read_claim_check, store_batch
from pipeline.runtime import Runtime
from pipeline.settings import CONTAINER_BATCHES, COSMOS_EVENTS
from schemas import Reason


def curated_blob(batch_id: str) -> str:
    return f"{batch_id}/curated.json"


def result_blob(batch_id: str) -> str:
    return f"{batch_id}/result.json"


def poison_blob(batch_id: str) -> str:
    return f"{batch_id}/poison.json"


class PoisonEventsError(RuntimeError):
    """Some events of the batch raised while being processed; the rest were stored. The step is
    retried; when the retries are exhausted, `fail` dead-letters those events as `processing_failed`."""


async def curate(batch: dict[str, Any], runtime: Runtime, now: datetime) -> dict[str, Any]:
    """Enrich and store the batch's events; returns its counts (the contributions stay in Blob)."""
    batch_id = batch["batch_id"]
    content = await runtime.blobs.get(CONTAINER_BATCHES, batch["events_blob"])
    if content is None:
        raise FileNotFoundError(f"claim check {CONTAINER_BATCHES}/{batch['events_blob']} is missing")

    async def completed_before() -> bool:  # asked only if the batch meets its own documents: rare
        return await runtime.blobs.get(CONTAINER_BATCHES, result_blob(batch_id)) is not None

    outcome = await store_batch(
        batch_id,
        batch["source_kind"],
        read_claim_check(content),
        reference=await runtime.reference.get(runtime.blobs),
        documents=runtime.documents,
        window_minutes=runtime.settings.window_minutes,
        processed_at=utc_now_text(now),
        batch_completed=completed_before,
    )
    await write_dead_letters(runtime.blobs, outcome.dead_letters)
    summary = outcome_summary(outcome)
    record = {**summary, "contributions": contributions_to_json(contributions(outcome.stored_documents))}
    if outcome.failures:
        errors = {str(item.index): error for item, error in outcome.failures}
        poison = {**record, "errors": errors, "events": [item.index for item, _ in outcome.failures]}
        await runtime.blobs.put(CONTAINER_BATCHES, poison_blob(batch_id), json.dumps(poison).encode())
        raise PoisonEventsError(
            f"{len(errors)} event(s) of batch {batch_id} failed to process, e.g. {next(iter(errors.values()))}"
        )
    record_stored(outcome.stored_documents, batch, now=now, dead_letters=outcome.dead_letters)
    await runtime.blobs.put(CONTAINER_BATCHES, curated_blob(batch_id), json.dumps(record).encode())
    return {"batch_id": batch_id, **summary}


async def aggregate(batch: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Merge the batch's contributions into the `aggregates` rows, once; then mark the batch done."""
    batch_id = batch["batch_id"]
    content = await runtime.blobs.get(CONTAINER_BATCHES, curated_blob(batch_id))
    if content is None:
        raise FileNotFoundError(f"{CONTAINER_BATCHES}/{curated_blob(batch_id)} is missing; run curate first")
    record = json.loads(content)
    stats = contributions_from_json(record["contributions"])
    rows_changed = await apply_contributions(runtime.documents, batch_id, stats, cache=runtime.rows)
    result = {
        "batch_id": batch_id,
        "stored": record["stored"],
        "duplicates": record["duplicates"],
        "dead_letter_reasons": record["dead_letter_reasons"],
        "windows": len(stats),
        "rows_changed": rows_changed,
    }
    await runtime.blobs.put(CONTAINER_BATCHES, result_blob(batch_id), json.dumps(result).encode())
    return result


async def fail(batch: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """The last resort after the retries: account for every event of the batch.

    Events this batch already stored keep their place (and their aggregates are applied); events
    another batch stored are duplicates; the rest are dead-lettered as `processing_failed` with the
    error, to be replayed once the cause is fixed.
    """
    batch_id, error = batch["batch_id"], batch.get("error", "unknown error")
    content = await runtime.blobs.get(CONTAINER_BATCHES, batch["events_blob"])
    events = read_claim_check(content or b"")
    poison_content = await runtime.blobs.get(CONTAINER_BATCHES, poison_blob(batch_id))
    if poison_content is not None:
        return await _fail_poison_events(batch, runtime, events, json.loads(poison_content))
    stored: list[dict[str, Any]] = []
    stored_ids: set[str] = set()  # a batch may hold several copies of an event it stored once
    duplicates = 0
    dead: list[DeadLetter] = []
    for item in events:
        event = item.event
        doc_id = document_id(event.tenantid, event.source, event.id)
        existing = await runtime.documents.read(COSMOS_EVENTS, doc_id, doc_id)
        if existing is not None and existing.get("batch_id") == batch_id and doc_id not in stored_ids:
            stored.append(existing)
            stored_ids.add(doc_id)
        elif existing is not None and existing["content_key"] == event.content_key():
            duplicates += 1
        else:
            dead.append(_processing_failed(batch, item, error))
    await write_dead_letters(runtime.blobs, dead)
    log_dead_letters(dead, stage="fail")
    stats = contributions(stored)
    await apply_contributions(runtime.documents, batch_id, stats, cache=runtime.rows)
    result = {
        "batch_id": batch_id,
        "stored": len(stored),
        "duplicates": duplicates,
        "dead_letter_reasons": {Reason.PROCESSING_FAILED.value: len(dead)} if dead else {},
        "windows": len(stats),
        "error": error,
    }
    await runtime.blobs.put(CONTAINER_BATCHES, result_blob(batch_id), json.dumps(result).encode())
    return result


async def _fail_poison_events(
    batch: dict[str, Any], runtime: Runtime, events: list[BatchEvent], poison: dict[str, Any]
) -> dict[str, Any]:
    """The batch's last full pass classified every event but the poison ones: keep that outcome,
    dead-letter the poison events with their own errors, and apply the stored events' aggregates."""
    batch_id = batch["batch_id"]
    failed = set(poison["events"])
    dead = [
        _processing_failed(batch, item, poison["errors"][str(item.index)]) for item in events if item.index in failed
    ]
    await write_dead_letters(runtime.blobs, dead)
    log_dead_letters(dead, stage="fail")
    stats = contributions_from_json(poison["contributions"])
    await apply_contributions(runtime.documents, batch_id, stats, cache=runtime.rows)
    reasons = dict(poison["dead_letter_reasons"])
    reasons[Reason.PROCESSING_FAILED.value] = reasons.get(Reason.PROCESSING_FAILED.value, 0) + len(dead)
    result = {
        "batch_id": batch_id,
        "stored": poison["stored"],
        "duplicates": poison["duplicates"],
        "dead_letter_reasons": reasons,
        "windows": len(stats),
        "error": batch.get("error", ""),
    }
    await runtime.blobs.put(CONTAINER_BATCHES, result_blob(batch_id), json.dumps(result).encode())
    return result


def _processing_failed(batch: dict[str, Any], item: BatchEvent, error: str) -> DeadLetter:
    return DeadLetter(
        reason=Reason.PROCESSING_FAILED,
        errors=({"loc": "", "msg": error},),
        source_kind=batch["source_kind"],
        source_ref=item.source_ref,
        received_at=item.received_at,
        raw=item.raw,
        batch_id=batch["batch_id"],
        index=item.index,
    )
