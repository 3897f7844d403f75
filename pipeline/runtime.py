"""The stores a worker process uses, built once per event loop from the settings.

Async SDK clients belong to the event loop that created them; the Functions worker runs one loop,
the local runner one per run, tests several. Keying the cache by loop keeps each correct.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pipeline.aggregates import AGGREGATES_PARTITION_KEY
from pipeline.persist import EVENTS_PARTITION_KEY, STORE_CONCURRENCY
from pipeline.reference import ReferenceCache
from pipeline.settings import BLOB_CONTAINERS, COSMOS_AGGREGATES, COSMOS_EVENTS, Settings
from pipeline.stores.base import BlobStore, DocumentStore

COSMOS_CONTAINERS = {COSMOS_EVENTS: EVENTS_PARTITION_KEY, COSMOS_AGGREGATES: AGGREGATES_PARTITION_KEY}


@dataclass
class Runtime:
    settings: Settings
    blobs: BlobStore
    documents: DocumentStore
    reference: ReferenceCache

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        from pipeline.stores.blob import AzureBlobStore
        from pipeline.stores.cosmos import CosmosDocumentStore

        return cls(settings, AzureBlobStore(settings.blob), CosmosDocumentStore(settings.cosmos), ReferenceCache())

    async def ensure_stores(self) -> None:
        """Create the Blob and Cosmos DB containers if missing (locally; Bicep does it in Azure)."""
        await self.blobs.ensure_containers(BLOB_CONTAINERS)
        await self.documents.ensure_containers(COSMOS_CONTAINERS)

    async def warm_up(self, connections: int = STORE_CONCURRENCY) -> None:
        """Load what the first batch would otherwise wait for, in stores that exist already: the
        reference data, the containers' metadata, and a pool of Cosmos DB connections as large as one
        batch's writes in flight (each a point read of a document that does not exist, so each opens
        its TLS connection now)."""
        await self.reference.get(self.blobs)
        containers = list(COSMOS_CONTAINERS)
        await asyncio.gather(
            *(self.documents.read(containers[n % len(containers)], "warm-up", "warm-up") for n in range(connections))
        )

    async def close(self) -> None:
        await self.blobs.close()
        await self.documents.close()


_runtimes: dict[asyncio.AbstractEventLoop, Runtime] = {}


def current_runtime() -> Runtime:
    """The runtime of the running event loop, created from the environment on first use."""
    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(loop)
    if runtime is None:
        for stale in [loop for loop in _runtimes if loop.is_closed()]:
            del _runtimes[stale]
        runtime = _runtimes[loop] = Runtime.from_settings(Settings.from_env())
    return runtime


def install_runtime(runtime: Runtime) -> None:
    """Use `runtime` for the running event loop (the local runner and tests inject theirs)."""
    _runtimes[asyncio.get_running_loop()] = runtime


def uninstall_runtime() -> Runtime | None:
    return _runtimes.pop(asyncio.get_running_loop(), None)


async def reset_local_stores(settings: Settings) -> None:
    """Empty every Blob container, drop the Cosmos database and clear the Durable task hub: for tests
    and benchmarks on the emulators."""
    runtime = Runtime.from_settings(settings)
    try:
        await runtime.ensure_stores()
        for container in BLOB_CONTAINERS:
            for name in await runtime.blobs.list_names(container):
                await runtime.blobs.delete(container, name)
        await runtime.documents.drop_database()
        await runtime.ensure_stores()
        if settings.blob.connection_string is not None:
            from pipeline.functions_host.table_history_store import TableHistoryStore, task_hub_name

            hub = TableHistoryStore(settings.blob.connection_string, task_hub_name(), runtime.blobs)
            try:
                await hub.clear()
            finally:
                await hub.close()
    finally:
        await runtime.close()
