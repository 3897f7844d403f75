"""Store: curated events go into the Cosmos DB container `events` exactly once.

An event's identity (tenantid, source, id) is its document id, so the first version to be created
wins and every later copy is classified against it: same content, a duplicate; other content,
`conflicting_duplicate`. A document records the batch that created it; when an activity is retried,
the batch recognises its own earlier writes and classifies them exactly as the first attempt did, so
counts and aggregates come out the same however often the step runs.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.deadletter import DeadLetter
from pipeline.enrich import Document, EnrichmentFailure, document_id, enrich
from pipeline.errors import TransientError
from pipeline.reference import ReferenceData
from pipeline.settings import COSMOS_EVENTS
from pipeline.stores.base import DocumentStore
from schemas import Reason, ValidEvent

EVENTS_PARTITION_KEY = "/id"
STORE_CONCURRENCY = 64  # event writes in flight per batch


@dataclass(frozen=True, slots=True)
class BatchEvent:
    """One valid event as the claim check carries it."""

    index: int
    source_ref: str
    received_at: str
    event: ValidEvent
    raw: bytes

    @classmethod
    def from_line(cls, line: bytes) -> BatchEvent:
        item = json.loads(line)
        return cls(
            index=item["index"],
            source_ref=item["source_ref"],
            received_at=item["received_at"],
            event=ValidEvent.model_validate_json(item["event"]),
            raw=item["raw"].encode("utf-8"),
        )


def read_claim_check(content: bytes) -> list[BatchEvent]:
    return [BatchEvent.from_line(line) for line in content.splitlines() if line.strip()]


@dataclass(slots=True)
class StoreOutcome:
    stored_documents: list[Document] = field(default_factory=list)
    duplicates: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    failures: list[tuple[BatchEvent, str]] = field(default_factory=list)  # events that raised: poison

    @property
    def dead_letter_reasons(self) -> Counter[str]:
        return Counter(d.reason.value for d in self.dead_letters)


@dataclass(frozen=True, slots=True)
class _Member:
    item: BatchEvent
    curated: Document | EnrichmentFailure


async def store_batch(
    batch_id: str,
    source_kind: str,
    events: list[BatchEvent],
    *,
    reference: ReferenceData,
    documents: DocumentStore,
    window_minutes: int,
    processed_at: str,
    batch_completed: bool | Callable[[], Awaitable[bool]],
    contribution: str | None = None,
    concurrency: int = STORE_CONCURRENCY,
) -> StoreOutcome:
    """Enrich and store one batch.

    `batch_completed`: whether this batch id finished before (a redelivery), or how to find out; it is
    asked at most once, and only when the batch meets a document it created itself.
    `contribution`: the aggregate contribution the documents created now belong to (default: the batch).
    """
    outcome = StoreOutcome()
    completed = _ask_once(batch_completed)
    groups: dict[str, list[_Member]] = {}
    for item in events:
        try:
            curated = enrich(
                item.event,
                reference,
                window_minutes=window_minutes,
                ingested_at=item.received_at,
                processed_at=processed_at,
            )
        except Exception as error:  # one event must not sink its batch: it is set aside as poison
            outcome.failures.append((item, _describe(error)))
            continue
        if not isinstance(curated, EnrichmentFailure):
            curated["batch_id"] = batch_id
            curated["contribution"] = contribution or batch_id
        event = item.event
        groups.setdefault(document_id(event.tenantid, event.source, event.id), []).append(_Member(item, curated))

    limit = asyncio.Semaphore(concurrency)

    async def resolve(doc_id: str, members: list[_Member]) -> None:
        async with limit:
            try:
                await _resolve_identity(doc_id, members, batch_id, source_kind, documents, completed, outcome)
            except TransientError:
                raise  # the store is in trouble, not the event: retry the whole step
            except Exception as error:
                outcome.failures.extend((member.item, _describe(error)) for member in members)

    await asyncio.gather(*(resolve(doc_id, members) for doc_id, members in groups.items()))
    outcome.dead_letters.sort(key=lambda d: d.index)
    return outcome


async def _resolve_identity(
    doc_id: str,
    members: list[_Member],
    batch_id: str,
    source_kind: str,
    documents: DocumentStore,
    batch_completed: Callable[[], Awaitable[bool]],
    outcome: StoreOutcome,
) -> None:
    """Classify every copy of one identity in this batch, in arrival order."""
    accepted_key: str | None = None

    async def own(existing: Document) -> bool:
        # Written by an earlier attempt of this very batch (a retried activity), not a redelivery.
        return existing.get("batch_id") == batch_id and not await batch_completed()

    for member in members:
        key = member.item.event.content_key()
        if accepted_key is not None:
            _classify_against(member, key, accepted_key, batch_id, source_kind, outcome)
            continue
        if isinstance(member.curated, EnrichmentFailure):
            existing = await documents.read(COSMOS_EVENTS, doc_id, doc_id)
            if existing is None or await own(existing):
                # Nothing was accepted before this copy (an own document was created by a later copy).
                outcome.dead_letters.append(
                    _dead_letter(
                        member, member.curated.reason, member.curated.loc, member.curated.message, batch_id, source_kind
                    )
                )
                continue
            accepted_key = existing["content_key"]
            _classify_against(member, key, accepted_key, batch_id, source_kind, outcome)
            continue
        if await documents.create(COSMOS_EVENTS, member.curated):
            accepted_key = key
            outcome.stored_documents.append(member.curated)
            continue
        existing = await documents.read(COSMOS_EVENTS, doc_id, doc_id)
        if existing is None:
            raise RuntimeError(f"event document {doc_id} exists for create but not for read; retry")
        accepted_key = existing["content_key"]
        if accepted_key == key and await own(existing):
            outcome.stored_documents.append(existing)
            continue
        _classify_against(member, key, accepted_key, batch_id, source_kind, outcome)


def _ask_once(answer: bool | Callable[[], Awaitable[bool]]) -> Callable[[], Awaitable[bool]]:
    if isinstance(answer, bool):
        known = answer

        async def constant() -> bool:
            return known

        return constant
    task: asyncio.Task[bool] | None = None

    async def once() -> bool:
        nonlocal task
        if task is None:
            task = asyncio.ensure_future(answer())
        return await asyncio.shield(task)

    return once


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _classify_against(
    member: _Member, key: str, accepted_key: str, batch_id: str, source_kind: str, outcome: StoreOutcome
) -> None:
    if key == accepted_key:
        outcome.duplicates += 1
    else:
        outcome.dead_letters.append(
            _dead_letter(
                member,
                Reason.CONFLICTING_DUPLICATE,
                "id",
                "an event with the same (tenantid, source, id) and different content was accepted first",
                batch_id,
                source_kind,
            )
        )


def _dead_letter(
    member: _Member, reason: Reason, loc: str, message: str, batch_id: str, source_kind: str
) -> DeadLetter:
    item = member.item
    return DeadLetter(
        reason=reason,
        errors=({"loc": loc, "msg": message},),
        source_kind=source_kind,
        source_ref=item.source_ref,
        received_at=item.received_at,
        raw=item.raw,
        batch_id=batch_id,
        index=item.index,
    )


def outcome_summary(outcome: StoreOutcome) -> dict[str, Any]:
    return {
        "stored": len(outcome.stored_documents),
        "duplicates": outcome.duplicates,
        "dead_letter_reasons": dict(outcome.dead_letter_reasons),
    }
