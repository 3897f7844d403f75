"""Health: can this worker reach every store it needs, and how fast?

One cheap, read-only probe per container, all at once, each with a timeout: a listing with a
prefix no blob has (Blob) and a point read of an id no document has (Cosmos DB, 1 RU). A store
that answers, even "not found", is reachable with the worker's identity; an exception or a
timeout marks it down. `GET /api/health` (`orchestrations/health.py`) serves the report.

The stores treat a missing container like an empty one, so a probe proves reachability and
permissions, not that a container still exists (Bicep creates them; see docs/runbook.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.stores.base import BlobStore, DocumentStore

PROBE_NAME = "__health__"
DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Check:
    store: str  # "blob" or "cosmos"
    container: str
    ok: bool
    latency_ms: float
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "store": self.store,
            "container": self.container,
            "ok": self.ok,
            "latency_ms": round(self.latency_ms, 1),
        }
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass(frozen=True, slots=True)
class HealthReport:
    checks: tuple[Check, ...]
    checked_at: str
    elapsed_ms: float

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def status_code(self) -> int:
        """200 when every store answered, 503 otherwise."""
        return 200 if self.healthy else 503

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "healthy" if self.healthy else "unhealthy",
            "checked_at": self.checked_at,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "checks": [check.to_json() for check in self.checks],
        }


async def check_health(
    blobs: BlobStore,
    documents: DocumentStore,
    *,
    blob_containers: Sequence[str] | None = None,
    cosmos_containers: Sequence[str] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    now: datetime | None = None,
) -> HealthReport:
    """Probe every container concurrently; never raises.

    Args:
        blobs: The Blob store of the runtime.
        documents: The Cosmos DB store of the runtime.
        blob_containers: Containers to probe (default: every data container of the contract).
        cosmos_containers: Cosmos DB containers to probe (default: `events` and `aggregates`).
        timeout_s: How long one probe may take before it counts as down.
        now: The report's timestamp (default: the clock).
    """
    from pipeline.settings import BLOB_CONTAINERS, COSMOS_AGGREGATES, COSMOS_EVENTS  # lazily: no import cycle

    if blob_containers is None:
        blob_containers = BLOB_CONTAINERS
    if cosmos_containers is None:
        cosmos_containers = (COSMOS_EVENTS, COSMOS_AGGREGATES)
    started = time.perf_counter()

    def blob_probe(container: str) -> Callable[[], Awaitable[object]]:
        return lambda: blobs.list_names(container, prefix=f"{PROBE_NAME}/")

    def cosmos_probe(container: str) -> Callable[[], Awaitable[object]]:
        return lambda: documents.read(container, PROBE_NAME, PROBE_NAME)

    probes = [("blob", name, blob_probe(name)) for name in blob_containers]
    probes += [("cosmos", name, cosmos_probe(name)) for name in cosmos_containers]
    checks = await asyncio.gather(*(_probe(store, name, call, timeout_s) for store, name, call in probes))
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return HealthReport(
        checks=tuple(checks),
        checked_at=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


async def _probe(store: str, container: str, call: Callable[[], Awaitable[object]], timeout_s: float) -> Check:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(call(), timeout_s)
    except TimeoutError:
        return Check(store, container, False, _ms(started), f"no answer within {timeout_s:g} s")
    except Exception as error:  # any failure means "not reachable"; the report says which
        message = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        return Check(store, container, False, _ms(started), message)
    return Check(store, container, True, _ms(started))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
