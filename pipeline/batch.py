"""The steps of one batch's orchestration, as plain async functions over the runtime's stores.

`orchestrations/activities.py` binds each to an activity; the orchestrator sequences them.
Every step is idempotent: it can run again after a crash or a retry and leaves the same state.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from pipeline.aggregates import contributions_by_id, contributions_to_json
from pipeline.contributions import queue_contributions
from pipeline.deadletter import DeadLetter, write_dead_letters
from pipeline.enrich import document_id
from pipeline.ingest import utc_now_text
from pipeline.observability import log_dead_letters, record_stored
from pipeline.persist import BatchEvent, outcome_summary, read_claim_check, store_batch
from pipeline.runtime import Runtime
from pipeline.settings import CONTAINER_BATCHES, CONTAINER_DEADLETTER, COSMOS_EVENTS
from schemas import Reason


def curated_blob(batch_id: str) -> str:
    return f"{batch_id}/curated.json"


def result_blob(batch_id: str) -> str:
    return f"{batch_id}/result.json"


def poison_blob(batch_id: str) -> str:
    return f"{batch_id}/poison.json"


class PoisonEventsError(RuntimeError):
    """Some events of the batch raised while being processed; the rest were stored. The step is
    retried once: when the same events fail again they are poison, and `curate` returns them so that
    `fail` dead-letters them as `processing_failed` without waiting out the retries meant for outages."""


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
        contribution=f"{batch_id}@{uuid.uuid4().hex[:12]}",  # the documents this attempt creates
    )
    await write_dead_letters(runtime.blobs, outcome.dead_letters)
    summary = outcome_summary(outcome)
    record = {**summary, "contributions": _contributions_json(outcome.stored_documents)}
    if outcome.failures:
        errors = {str(item.index): error for item, error in outcome.failures}
        failed = sorted(item.index for item, _ in outcome.failures)
        previous = await runtime.blobs.get(CONTAINER_BATCHES, poison_blob(batch_id))
        poison = {**record, "errors": errors, "events": failed}
        await runtime.blobs.put(CONTAINER_BATCHES, poison_blob(batch_id), json.dumps(poison).encode())
        message = f"{len(errors)} event(s) of batch {batch_id} failed to process, e.g. {next(iter(errors.values()))}"
        if previous is not None and json.loads(previous)["events"] == failed:
            return {"batch_id": batch_id, **summary, "poison": failed, "error": message}  # the same, twice
        raise PoisonEventsError(message)
    record_stored(outcome.stored_documents, batch, now=now, dead_letters=outcome.dead_letters)
    await runtime.blobs.put(CONTAINER_BATCHES, curated_blob(batch_id), json.dumps(record).encode())
    return {"batch_id": batch_id, **summary}


async def aggregate(batch: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Queue the batch's contributions for the fold into the `aggregates` rows (`contributions.py`);
    then mark the batch done."""
    batch_id = batch["batch_id"]
    content = await runtime.blobs.get(CONTAINER_BATCHES, curated_blob(batch_id))
    if content is None:
        raise FileNotFoundError(f"{CONTAINER_BATCHES}/{curated_blob(batch_id)} is missing; run curate first")
    record = json.loads(content)
    windows = await queue_contributions(runtime.blobs, record["contributions"])
    result = {
        "batch_id": batch_id,
        "stored": record["stored"],
        "duplicates": record["duplicates"],
        "dead_letter_reasons": record["dead_letter_reasons"],
        "windows": windows,
    }
    await runtime.blobs.put(CONTAINER_BATCHES, result_blob(batch_id), json.dumps(result).encode())
    return result


async def fail(batch: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """The last resort after the retries: account for every event of the batch, once.

    When `curate` finished (the batch's aggregates are what failed), or finished all but some poison
    events, its outcome stands: its dead letters are already written, only the poison events are
    dead-lettered as `processing_failed`. Otherwise each event is classified from the store: events this
    batch stored keep their place, events another batch stored are duplicates, events an earlier
    `curate` attempt dead-lettered keep that record, and the rest are dead-lettered as
    `processing_failed` with the error, to be replayed once the cause is fixed. In every case the
    stored events' aggregates are applied.
    """
    batch_id, error = batch["batch_id"], batch.get("error", "unknown error")
    content = await runtime.blobs.get(CONTAINER_BATCHES, batch["events_blob"])
    events = read_claim_check(content or b"")
    for name in (curated_blob(batch_id), poison_blob(batch_id)):
        finished = await runtime.blobs.get(CONTAINER_BATCHES, name)
        if finished is not None:
            return await _fail_after_curate(batch, runtime, events, json.loads(finished))
    stored: list[dict[str, Any]] = []
    stored_ids: set[str] = set()  # a batch may hold several copies of an event it stored once
    duplicates = 0
    reasons: Counter[str] = Counter()
    earlier = await _dead_lettered_by_curate(runtime, batch_id)
    dead: list[DeadLetter] = []
    for item in events:
        event = item.event
        doc_id = document_id(event.tenantid, event.source, event.id)
        existing = await runtime.documents.read(COSMOS_EVENTS, doc_id, event.tenantid)
        if existing is not None and existing.get("batch_id") == batch_id and doc_id not in stored_ids:
            stored.append(existing)
            stored_ids.add(doc_id)
        elif existing is not None and existing["content_key"] == event.content_key():
            duplicates += 1
        elif item.index in earlier:
            reasons[earlier[item.index]] += 1  # one event, one record: its curate-stage record stands
        else:
            dead.append(_processing_failed(batch, item, error))
    await write_dead_letters(runtime.blobs, dead)
    log_dead_letters(dead, stage="fail")
    reasons[Reason.PROCESSING_FAILED.value] += len(dead)
    windows = await queue_contributions(runtime.blobs, _contributions_json(stored))
    result = {
        "batch_id": batch_id,
        "stored": len(stored),
        "duplicates": duplicates,
        "dead_letter_reasons": {reason: count for reason, count in reasons.items() if count},
        "windows": windows,
        "error": error,
    }
    await runtime.blobs.put(CONTAINER_BATCHES, result_blob(batch_id), json.dumps(result).encode())
    return result


#: The reasons `curate` dead-letters with; validation's reasons are written by ingest, before any batch.
_CURATE_REASONS = (Reason.CONFLICTING_DUPLICATE, Reason.UNKNOWN_TENANT, Reason.UNKNOWN_CURRENCY)


async def _dead_lettered_by_curate(runtime: Runtime, batch_id: str) -> dict[int, str]:
    """The events of the batch an earlier `curate` attempt dead-lettered, by index: {index: reason}."""
    found: dict[int, str] = {}
    for reason in _CURATE_REASONS:
        prefix = f"{reason.value}/{batch_id}/"
        for name in await runtime.blobs.list_names(CONTAINER_DEADLETTER, prefix):
            found[int(name.removeprefix(prefix).removesuffix(".json"))] = reason.value
    return found


async def _fail_after_curate(
    batch: dict[str, Any], runtime: Runtime, events: list[BatchEvent], record: dict[str, Any]
) -> dict[str, Any]:
    """`curate` classified every event (all but the poison ones, when `record` is its poison record):
    keep that outcome, dead-letter the poison events with their own errors, apply the aggregates."""
    batch_id = batch["batch_id"]
    failed = set(record.get("events", ()))
    dead = [
        _processing_failed(batch, item, record["errors"][str(item.index)]) for item in events if item.index in failed
    ]
    await write_dead_letters(runtime.blobs, dead)
    log_dead_letters(dead, stage="fail")
    windows = await queue_contributions(runtime.blobs, record["contributions"])
    reasons = dict(record["dead_letter_reasons"])
    if dead:
        reasons[Reason.PROCESSING_FAILED.value] = reasons.get(Reason.PROCESSING_FAILED.value, 0) + len(dead)
    result = {
        "batch_id": batch_id,
        "stored": record["stored"],
        "duplicates": record["duplicates"],
        "dead_letter_reasons": reasons,
        "windows": windows,
        "error": batch.get("error", ""),
    }
    await runtime.blobs.put(CONTAINER_BATCHES, result_blob(batch_id), json.dumps(result).encode())
    return result


def _contributions_json(documents: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {cid: contributions_to_json(stats) for cid, stats in contributions_by_id(documents).items()}


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
