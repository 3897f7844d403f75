"""Dead-letter records: every event that is not stored leaves one, with its reason and its raw bytes.

Records are JSON blobs in the container `deadletter`, named `{reason}/{batch_id}/{index}.json`: the
name is a pure function of where the event came from, so a redelivered or retried batch overwrites
its own records instead of doubling them, and listing by reason is a prefix scan.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.settings import CONTAINER_DEADLETTER
from pipeline.stores.base import BlobStore
from schemas import Reason


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: Reason
    errors: Sequence[dict[str, str]]
    source_kind: str
    source_ref: str
    received_at: str
    raw: bytes
    batch_id: str
    index: int

    @property
    def blob_name(self) -> str:
        return f"{self.reason.value}/{self.batch_id}/{self.index:06d}.json"

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "reason": self.reason.value,
            "errors": [dict(e) for e in self.errors],
            "source_kind": self.source_kind,
            "source_ref": self.source_ref,
            "received_at": self.received_at,
            "batch_id": self.batch_id,
        }
        try:
            record["raw"] = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            record["raw_base64"] = base64.b64encode(self.raw).decode("ascii")
        return record


async def write_dead_letters(blobs: BlobStore, records: Sequence[DeadLetter], *, concurrency: int = 16) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one(record: DeadLetter) -> None:
        async with limit:
            body = json.dumps(record.to_json(), ensure_ascii=False).encode("utf-8")
            await blobs.put(CONTAINER_DEADLETTER, record.blob_name, body)

    await asyncio.gather(*(one(r) for r in records))
