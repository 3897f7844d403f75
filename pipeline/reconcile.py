"""The reconciliation sweep: find batches that ingest accepted but no orchestration carried to its end.

A batch is *stranded* when its ingest manifest says it holds valid events, it has no result, and no
instance is running it. Two things strand a batch on Azure: its trigger failed after the claim check
was written and after its retries (the Event Hubs host checkpoints all the same, so the events are
never delivered again), or its orchestration ended Failed or Terminated (an outage outlasted every
retry, or an operator terminated it). The timer `reconcile_batches` starts each stranded batch's
orchestration again from its manifest and claim check; every step is idempotent, so a batch that
had been half processed ends exactly as if it had run once.

A manifest younger than the grace period is left alone: its trigger may be about to start it. Where
the manifest names the host instance that ingested it and that instance is a process of this machine
(the local host records its process), its liveness decides instead: a live process's batches are its
own to start, a dead process's are taken at once.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.batch import result_blob
from pipeline.functions_host.ownership import local_process_alive
from pipeline.ingest import manifest_blob, orchestration_input
from pipeline.settings import CONTAINER_BATCHES
from pipeline.stores.base import BlobStore

#: Instance states in which an orchestration still carries its batch (the rest may be restarted).
RUNNING_STATES = frozenset({"Pending", "Running", "ContinuedAsNew", "Suspended"})


@dataclass(frozen=True, slots=True)
class StrandedBatch:
    batch_id: str
    orchestration_input: dict[str, Any]
    received_at: str


async def stranded_candidates(
    blobs: BlobStore, *, now: datetime, grace: timedelta, this_instance: str = ""
) -> list[StrandedBatch]:
    """Batches with a manifest of valid events, no result, and a manifest older than `grace`.

    One listing of the `batches` container, then one read per candidate manifest: the sweep's cost
    grows with the container, which a retention rule on it keeps bounded.
    """
    names = set(await blobs.list_names(CONTAINER_BATCHES))
    candidates = []
    for name in sorted(names):
        batch_id = name.partition("/")[0]
        if name != manifest_blob(batch_id) or result_blob(batch_id) in names:
            continue
        content = await blobs.get(CONTAINER_BATCHES, name)
        if content is None:
            continue
        manifest = json.loads(content)
        if not manifest.get("valid") or not _abandoned(manifest, now - grace, this_instance):
            continue
        candidates.append(
            StrandedBatch(
                batch_id,
                orchestration_input(batch_id, manifest["source_kind"], manifest),
                manifest["received_at"],
            )
        )
    return candidates


async def restart_stranded(
    blobs: BlobStore,
    *,
    now: datetime,
    grace: timedelta,
    this_instance: str = "",
    status_of: Callable[[str], Awaitable[str | None]],
    start: Callable[[StrandedBatch], Awaitable[None]],
) -> list[str]:
    """Start the orchestration of every stranded batch (status None: no instance); returns their ids."""
    restarted = []
    for candidate in await stranded_candidates(blobs, now=now, grace=grace, this_instance=this_instance):
        if await status_of(candidate.batch_id) in RUNNING_STATES:
            continue
        await start(candidate)
        restarted.append(candidate.batch_id)
    return restarted


def _abandoned(manifest: dict[str, Any], before: datetime, this_instance: str) -> bool:
    """Whether no trigger will start this batch any more: its ingesting process is gone, or (where
    that cannot be told) its manifest is older than the grace period."""
    ingested_by = str(manifest.get("host_instance") or "")
    alive = local_process_alive(ingested_by) if ingested_by and ingested_by != this_instance else None
    if alive is not None:
        return not alive
    return _parse_time(manifest["received_at"]) <= before


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
