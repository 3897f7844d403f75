"""Ingest: the one path all three triggers share.

Validate each raw event; dead-letter what is invalid; write the valid events to Blob as a claim check
(orchestration inputs carry a reference, never payloads); return what the trigger needs to start the
batch's orchestration. Every event of the batch is accounted for before this returns.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.deadletter import DeadLetter, write_dead_letters
from pipeline.settings import CONTAINER_BATCHES
from pipeline.stores.base import BlobStore
from schemas import Rejection, validate_event

ORCHESTRATOR = "process_batch"


@dataclass(frozen=True, slots=True)
class RawEvent:
    body: bytes
    source_ref: str  # partition/sequence number, blob name and line, or request id and index


@dataclass(slots=True)
class IngestOutcome:
    batch_id: str
    source_kind: str
    received: int
    valid: int
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    rejections: list[tuple[int, DeadLetter]] = field(default_factory=list)

    @property
    def dead_lettered(self) -> int:
        return sum(self.dead_letter_reasons.values())

    @property
    def counts(self) -> dict[str, Any]:
        """What ingest counted: in the manifest, and in the orchestration input for whoever follows it."""
        return {"received": self.received, "valid": self.valid, "dead_letter_reasons": dict(self.dead_letter_reasons)}

    @property
    def orchestration_input(self) -> dict[str, Any] | None:
        """The claim check the orchestration starts with; None when nothing in the batch was valid."""
        if not self.valid:
            return None
        return orchestration_input(self.batch_id, self.source_kind, self.counts)

    def manifest(self, received_at: str, host_instance: str = "") -> dict[str, Any]:
        """What ingest handed over, and when and where (the Functions host instance that ingested it)."""
        return {
            "batch_id": self.batch_id,
            "source_kind": self.source_kind,
            "received_at": received_at,
            "host_instance": host_instance,
            **self.counts,
        }


def orchestration_input(batch_id: str, source_kind: str, counts: dict[str, Any]) -> dict[str, Any]:
    """The claim check an orchestration starts with, from what ingest counted (or its manifest)."""
    return {
        "batch_id": batch_id,
        "source_kind": source_kind,
        "events_blob": events_blob(batch_id),
        "events": counts["valid"],
        "ingest": {key: counts[key] for key in ("received", "valid", "dead_letter_reasons")},
    }


def events_blob(batch_id: str) -> str:
    return f"{batch_id}/events.ndjson"


def manifest_blob(batch_id: str) -> str:
    return f"{batch_id}/ingest.json"


def eventhub_batch_id(stream: str, partition: str, first_sequence: int, last_sequence: int) -> str:
    """Stable across redeliveries of the same events: the stream (`eventhub_stream`), the partition and
    its sequence-number range. Two hubs, namespaces or consumer groups never share an id."""
    return f"eh-{_digest(stream, 12)}-{partition}-{first_sequence}-{last_sequence}"


def eventhub_stream(namespace: str, event_hub: str, consumer_group: str) -> str:
    """What a sequence number is relative to: the namespace, the hub and the consumer group."""
    return f"{namespace.lower()}/{event_hub.lower()}/{consumer_group.lower()}"


def blob_batch_id(blob_url: str, version: str, chunk: int) -> str:
    """Stable for one version of a blob: a digest of its URL and its ETag (or version id), and the
    chunk's position in it. A blob overwritten under the same name is new content with new batch ids."""
    return f"blob-{_digest(blob_url + '|' + version, 20)}-{chunk}"


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def http_batch_id(body: bytes, headers_digest: str = "") -> str:
    """Stable for a given request body, so a client's retry of the same request is a redelivery."""
    return f"http-{hashlib.sha256(headers_digest.encode() + body).hexdigest()[:24]}"


def utc_now_text(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def ingest_batch(
    events: Sequence[RawEvent],
    *,
    source_kind: str,
    batch_id: str,
    blobs: BlobStore,
    now: datetime,
    host_instance: str = "",
) -> IngestOutcome:
    received_at = utc_now_text(now)
    outcome = IngestOutcome(batch_id=batch_id, source_kind=source_kind, received=len(events), valid=0)
    claim_lines: list[bytes] = []
    for index, raw in enumerate(events):
        result = validate_event(raw.body, now=now)
        if isinstance(result, Rejection):
            record = DeadLetter(
                reason=result.reason,
                errors=result.errors,
                source_kind=source_kind,
                source_ref=raw.source_ref,
                received_at=received_at,
                raw=raw.body,
                batch_id=batch_id,
                index=index,
            )
            outcome.rejections.append((index, record))
            outcome.dead_letter_reasons[result.reason.value] += 1
            continue
        outcome.valid += 1
        claim_lines.append(
            json.dumps(
                {
                    "index": index,
                    "source_ref": raw.source_ref,
                    "received_at": received_at,
                    "event": result.model_dump_json(),
                    "raw": raw.body.decode("utf-8"),
                },
                ensure_ascii=False,
            ).encode("utf-8")
        )
    # the dead letters and the claim check side by side; the manifest, written last, says both are there
    writes: list[Awaitable[object]] = [write_dead_letters(blobs, [record for _, record in outcome.rejections])]
    if claim_lines:
        writes.append(blobs.put(CONTAINER_BATCHES, events_blob(batch_id), b"\n".join(claim_lines) + b"\n"))
    for failed in await asyncio.gather(*writes, return_exceptions=True):
        if isinstance(failed, BaseException):
            raise failed  # both have finished: nothing is left writing behind the retry
    manifest = outcome.manifest(received_at, host_instance)
    await blobs.put(CONTAINER_BATCHES, manifest_blob(batch_id), json.dumps(manifest).encode())
    return outcome
