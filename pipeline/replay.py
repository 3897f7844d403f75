"""Dead-letter triage and replay.

Replay sends dead-lettered events through the ingest path again, as new batches, once their cause is
fixed (a tenant or an FX rate added to the reference data, a store back up). A record is deleted only
after its event has been handed to a started orchestration (or dead-lettered again), so an
interrupted replay loses nothing: what was not deleted is replayed next time, and what was already
stored counts as a duplicate.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.ingest import IngestOutcome, RawEvent, ingest_batch
from pipeline.settings import CONTAINER_DEADLETTER
from pipeline.stores.base import BlobStore
from schemas import Reason

# Reasons whose cause can go away; validation failures are the producer's to fix and resend.
REPLAYABLE = (Reason.UNKNOWN_TENANT, Reason.UNKNOWN_CURRENCY, Reason.PROCESSING_FAILED)

StartOrchestration = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeadLetterEntry:
    name: str
    record: dict[str, Any]

    @property
    def raw(self) -> bytes:
        if "raw_base64" in self.record:
            return base64.b64decode(self.record["raw_base64"])
        return str(self.record["raw"]).encode("utf-8")


@dataclass
class ReplaySummary:
    replayed: int = 0
    batches: list[str] = field(default_factory=list)
    rejected_again: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "batches": self.batches, "rejected_again": dict(self.rejected_again)}


def _reasons(reason: str | None) -> list[str]:
    if reason is None:
        return [r.value for r in REPLAYABLE]
    return [Reason(reason).value]


async def list_dead_letters(
    blobs: BlobStore, reason: str | None = None, *, all_reasons: bool = False
) -> list[DeadLetterEntry]:
    """Dead-letter records, oldest batch first; by default every reason when listing."""
    prefixes = (
        [f"{r.value}/" for r in Reason] if all_reasons and reason is None else [f"{r}/" for r in _reasons(reason)]
    )
    entries: list[DeadLetterEntry] = []
    for prefix in prefixes:
        for name in await blobs.list_names(CONTAINER_DEADLETTER, prefix):
            content = await blobs.get(CONTAINER_DEADLETTER, name)
            if content is not None:
                entries.append(DeadLetterEntry(name, json.loads(content)))
    return entries


def summarise(entries: list[DeadLetterEntry]) -> dict[str, int]:
    return dict(sorted(Counter(e.record["reason"] for e in entries).items()))


async def replay_dead_letters(
    blobs: BlobStore,
    start: StartOrchestration,
    *,
    now: datetime,
    reason: str | None = None,
    batch_size: int = 100,
    limit: int | None = None,
) -> ReplaySummary:
    """Replay the dead letters of `reason` (default: every replayable reason)."""
    entries = await list_dead_letters(blobs, reason)
    if limit is not None:
        entries = entries[:limit]
    by_kind: dict[str, list[DeadLetterEntry]] = {}
    for entry in entries:
        by_kind.setdefault(entry.record.get("source_kind", "eventhub"), []).append(entry)
    summary = ReplaySummary()
    for source_kind, group in by_kind.items():
        for offset in range(0, len(group), batch_size):
            chunk = group[offset : offset + batch_size]
            outcome = await _replay_chunk(blobs, start, chunk, source_kind, now)
            summary.replayed += len(chunk)
            summary.batches.append(outcome.batch_id)
            summary.rejected_again.update(outcome.dead_letter_reasons)
    return summary


async def _replay_chunk(
    blobs: BlobStore, start: StartOrchestration, chunk: list[DeadLetterEntry], source_kind: str, now: datetime
) -> IngestOutcome:
    batch_id = "replay-" + hashlib.sha256("\n".join(e.name for e in chunk).encode()).hexdigest()[:24]
    raws = [RawEvent(entry.raw, f"replay of {CONTAINER_DEADLETTER}/{entry.name}") for entry in chunk]
    outcome = await ingest_batch(raws, source_kind=source_kind, batch_id=batch_id, blobs=blobs, now=now)
    if outcome.orchestration_input is not None:
        await start(batch_id, outcome.orchestration_input)
    for entry in chunk:
        await blobs.delete(CONTAINER_DEADLETTER, entry.name)
    return outcome
