"""Store: curated events go into the Cosmos DB container `events` exactly once.

An event's identity (tenantid, source, id) is its document id, so the first version to be created
wins and every later copy is classified against it: same content, a duplicate; other content,
`conflicting_duplicate`. Documents are partitioned by tenant, so a batch's new documents go out as
transactional batches of creates, one request per tenant and 100 events (`create_in_bulk`); only
identities that turn out to exist already cost a point read.

A document records the batch that created it; when an activity is retried, the batch recognises
its own earlier writes and classifies them exactly as the first attempt did, so counts and
aggregates come out the same however often the step runs.
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
from pipeline.stores.base import CONFLICT, MAX_BATCH_OPERATIONS, NOT_ATTEMPTED, BatchOperation, DocumentStore
from schemas import Reason, ValidEvent

EVENTS_PARTITION_KEY = "/tenantid"
STORE_CONCURRENCY = 64  # point reads and single writes in flight per batch


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

    firsts = {doc_id: m[0].curated for doc_id, m in groups.items() if not isinstance(m[0].curated, EnrichmentFailure)}
    created = await create_in_bulk(documents, firsts, concurrency)  # type: ignore[arg-type]
    limit = asyncio.Semaphore(concurrency)

    async def resolve(doc_id: str, members: list[_Member]) -> None:
        async with limit:
            try:
                await _resolve_identity(
                    doc_id, members, batch_id, source_kind, documents, completed, outcome, created.get(doc_id)
                )
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
    bulk: Created | None = None,
) -> None:
    """Classify every copy of one identity in this batch, in arrival order.

    `bulk`: what `create_in_bulk` did with the first copy (None: it was not part of the bulk write).
    """
    accepted_key: str | None = None
    tenant = members[0].item.event.tenantid

    async def own(existing: Document) -> bool:
        # Written by an earlier attempt of this very batch (a retried activity), not a redelivery.
        return existing.get("batch_id") == batch_id and not await batch_completed()

    for member in members:
        key = member.item.event.content_key()
        if accepted_key is not None:
            _classify_against(member, key, accepted_key, batch_id, source_kind, outcome)
            continue
        if isinstance(member.curated, EnrichmentFailure):
            existing = await documents.read(COSMOS_EVENTS, doc_id, tenant)
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
        if bulk is None:
            bulk = Created(await documents.create(COSMOS_EVENTS, member.curated) is not None)
        if bulk.created:
            accepted_key = key
            outcome.stored_documents.append(member.curated)
            continue
        existing = bulk.existing or await documents.read(COSMOS_EVENTS, doc_id, tenant)
        if existing is None:
            raise RuntimeError(f"event document {doc_id} exists for create but not for read; retry")
        accepted_key = existing["content_key"]
        if accepted_key == key and await own(existing):
            outcome.stored_documents.append(existing)
            continue
        _classify_against(member, key, accepted_key, batch_id, source_kind, outcome)


@dataclass(frozen=True, slots=True)
class Created:
    """What a bulk create found for one document: created now, or an existing one (read if known)."""

    created: bool
    existing: Document | None = None


async def create_in_bulk(
    documents: DocumentStore, docs: dict[str, Document], concurrency: int = STORE_CONCURRENCY
) -> dict[str, Created]:
    """Create the documents, a tenant's at a time in transactional batches of up to 100 creates.

    Returns, by document id, whether it was created, or found existing (a duplicate, a conflicting
    version, or this batch's own earlier write), with the existing document where it was read. A batch in which
    one create meets an existing document fails (on Azure all of it; on the local server from that
    create on). The first time, the other creates are simply sent again: a duplicate is usually alone
    among new events, so that costs one more request. Should the tenant's creates meet an existing
    document again, the batch looks like a redelivery, and its remaining creates are looked up with
    parallel point reads before they are sent again: one failed request and its reads, not a round
    per event. A batch the store refuses outright (not a conflict) is retried one create at a time,
    so one bad document cannot sink its neighbours.
    """
    results: dict[str, Created] = {}
    by_tenant: dict[str, list[Document]] = {}
    for doc in docs.values():
        by_tenant.setdefault(str(doc["tenantid"]), []).append(doc)
    limit = asyncio.Semaphore(concurrency)

    async def one_tenant(tenant: str, pending: list[Document]) -> None:
        conflicts = 0
        while pending:
            chunk, pending = pending[:MAX_BATCH_OPERATIONS], pending[MAX_BATCH_OPERATIONS:]
            creates = [BatchOperation("create", doc) for doc in chunk]
            try:
                outcomes = await documents.write_batch(COSMOS_EVENTS, tenant, creates)
            except TransientError:
                raise
            except Exception:
                continue  # refused as a whole: each is created on its own, so the bad one is named
            retry: list[Document] = []
            conflicted = False
            for doc, result in zip(chunk, outcomes, strict=True):
                if result.ok:
                    results[doc["id"]] = Created(True)
                elif result.status == CONFLICT:
                    results[doc["id"]] = Created(False)
                    conflicted = True
                elif result.status == NOT_ATTEMPTED:
                    retry.append(doc)
                # any other status: left out, to be created on its own and named if it fails again
            conflicts += conflicted
            if retry and conflicted and conflicts > 1:  # existing documents again: look before sending the rest
                # Point reads, not one query (`read_many`): the events container is large, and the local
                # server answers a query by scanning all of it; on Azure the two cost about the same RU.

                async def read(doc: Document) -> Document | None:
                    async with limit:
                        return await documents.read(COSMOS_EVENTS, doc["id"], tenant)

                found = await asyncio.gather(*(read(doc) for doc in retry))
                for doc, existing in zip(retry, found, strict=True):
                    if existing is not None:
                        results[doc["id"]] = Created(False, existing)
                retry = [doc for doc, existing in zip(retry, found, strict=True) if existing is None]
            pending = retry + pending

    await asyncio.gather(*(one_tenant(tenant, pending) for tenant, pending in by_tenant.items()))
    return results


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
