"""Contributions to the aggregates: queued by each batch in Blob storage, folded into the rows by one writer.

Many Functions instances on many Event Hubs partitions finish batches that touch the same
(tenant, family, window) rows at the same moment. Instead of each batch rewriting those rows (a
read-modify-write that contends on the rows' etags), a batch only *queues* what it adds:

- `aggregate_batch` (and `fail_batch`) write each contribution (the window statistics of the
  documents one `curate` attempt created, `aggregates.contribution_of`) as one blob,
  `pending/{contribution id}.json` in the container `contributions`, create-only: a retry writes
  nothing new. Appending never contends, and costs no Cosmos DB request at all.
- `fold_aggregates`, a timer (a singleton across instances, as every timer trigger is), folds
  everything pending into the rows, once, as the only writer of the `aggregates` container:
  1. it lists and reads the pending contributions, sums them per row, and records the fold
     (`folds/current.json`: its id, the contributions, the summed rows) before writing anything;
  2. it merges the sums into the rows (`aggregates.apply_contributions` with the fold's id, so each
     row takes a fold once, even when the fold is run again after a crash);
  3. it leaves a marker `folded/{contribution id}` for each contribution, deletes the pending blobs,
     and deletes the fold record.
  A fold that died midway is finished by the next one from its record. A contribution written again
  after it was folded (an activity retried after its write had landed) finds its marker and is
  dropped. Markers are kept for the retention period (a lifecycle rule on `folded/`).

Each row is written once per fold, however many batches touched it: in a real-time stream that is a
few writes a minute for a whole tenant, instead of a read and a write per batch.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pipeline.aggregates import (
    WindowKey,
    WindowStats,
    apply_contributions,
    contributions_from_json,
    contributions_to_json,
)
from pipeline.settings import CONTAINER_CONTRIBUTIONS
from pipeline.stores.base import BlobStore, DocumentStore

PENDING = "pending/"
FOLDED = "folded/"
CURRENT_FOLD = "folds/current.json"
CONCURRENCY = 32  # blob requests in flight while folding

T = TypeVar("T")


def pending_blob(contribution_id: str) -> str:
    return f"{PENDING}{contribution_id}.json"


def folded_blob(contribution_id: str) -> str:
    return f"{FOLDED}{contribution_id}"


async def queue_contributions(blobs: BlobStore, recorded: dict[str, list[dict[str, Any]]]) -> int:
    """Queue a batch's contributions (usually one) for the fold; returns the windows they touch."""
    windows: set[tuple[str, str, str, int]] = set()
    for contribution_id, rows in recorded.items():
        if not rows:
            continue
        body = json.dumps({"contribution": contribution_id, "rows": rows}).encode()
        await blobs.put_new(CONTAINER_CONTRIBUTIONS, pending_blob(contribution_id), body)
        windows.update((r["tenant_id"], r["event_type"], r["window_start"], int(r["window_minutes"])) for r in rows)
    return len(windows)


@dataclass
class FoldSummary:
    fold_id: str | None = None
    contributions: int = 0  # folded now
    dropped: int = 0  # written again after they had been folded
    rows_changed: int = 0
    resumed: bool = False  # finished a fold an earlier run had started


async def fold_pending(blobs: BlobStore, documents: DocumentStore) -> FoldSummary:
    """Fold every pending contribution into the aggregate rows, once. One caller at a time.

    A fold an earlier call left unfinished (its record is still there) is finished first; then what is
    pending now is folded.
    """
    summary = FoldSummary()
    interrupted = await blobs.get(CONTAINER_CONTRIBUTIONS, CURRENT_FOLD)
    if interrupted is not None:
        summary.resumed = True
        await _finish(blobs, documents, json.loads(interrupted), summary)
    record = await _plan(blobs)
    if record is not None:
        if not await blobs.put_new(CONTAINER_CONTRIBUTIONS, CURRENT_FOLD, json.dumps(record).encode()):
            # Another fold recorded its plan first (two instances at once: the timer's lease had
            # lapsed). Only one plan may ever be applied, so this one is dropped and that one finished.
            recorded = await blobs.get(CONTAINER_CONTRIBUTIONS, CURRENT_FOLD)
            if recorded is None:
                return summary  # that fold has finished meanwhile: what is left waits for the next tick
            record = json.loads(recorded)
        await _finish(blobs, documents, record, summary)
    return summary


async def _finish(blobs: BlobStore, documents: DocumentStore, record: dict[str, Any], summary: FoldSummary) -> None:
    """Apply a recorded fold to the rows, mark its contributions folded, and clear it (safe to repeat)."""
    sums: dict[WindowKey, WindowStats] = contributions_from_json(record["rows"])
    summary.fold_id = record["fold"]
    summary.contributions += len(record["contributions"])
    summary.dropped += len(record["dropped"])
    summary.rows_changed += await apply_contributions(documents, record["fold"], sums)
    await _each(record["contributions"], lambda cid: blobs.put(CONTAINER_CONTRIBUTIONS, folded_blob(cid), b""))
    await _each(
        [*record["contributions"], *record["dropped"]],
        lambda cid: blobs.delete(CONTAINER_CONTRIBUTIONS, pending_blob(cid)),
    )
    await blobs.delete(CONTAINER_CONTRIBUTIONS, CURRENT_FOLD)


async def _plan(blobs: BlobStore) -> dict[str, Any] | None:
    """The next fold: every pending contribution not folded before, summed per row."""
    names = [n for n in await blobs.list_names(CONTAINER_CONTRIBUTIONS, PENDING) if n.endswith(".json")]
    if not names:
        return None
    ids = [name.removeprefix(PENDING).removesuffix(".json") for name in names]
    bodies = await _each(names, lambda name: blobs.get(CONTAINER_CONTRIBUTIONS, name))
    markers = await _each(ids, lambda cid: blobs.get(CONTAINER_CONTRIBUTIONS, folded_blob(cid)))
    sums: dict[WindowKey, WindowStats] = {}
    fresh, dropped = [], []
    for contribution_id, body, marker in zip(ids, bodies, markers, strict=True):
        if marker is not None or body is None:
            dropped.append(contribution_id)
            continue
        fresh.append(contribution_id)
        for key, stats in contributions_from_json(json.loads(body)["rows"]).items():
            if key in sums:
                sums[key].merge(stats)
            else:
                sums[key] = stats
    moment = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return {
        "fold": f"fold-{moment}-{uuid.uuid4().hex[:8]}",
        "contributions": fresh,
        "dropped": dropped,
        "rows": contributions_to_json(sums),
    }


async def _each(items: list[str], call: Callable[[str], Awaitable[T]]) -> list[T]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(item: str) -> T:
        async with limit:
            return await call(item)

    return list(await asyncio.gather(*(one(item) for item in items)))
