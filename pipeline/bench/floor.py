"""The floors: bare concurrent writes of the same size into the same servers, the Cosmos DB server
(what `make bench` and the soak set the pipeline against) and Azurite's Blob service (the soak)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from pipeline.settings import Settings
from pipeline.stores.blob import AzureBlobStore
from pipeline.stores.cosmos import CosmosDocumentStore


async def bare_upserts_per_s(settings: Settings, documents: int, document_bytes: int, concurrency: int = 64) -> float:
    store = CosmosDocumentStore(settings.cosmos)
    container = _floor_container()
    try:
        await store.ensure_containers({container: "/id"})
        padding = "x" * max(document_bytes - 60, 0)
        return await _per_s(
            documents, concurrency, lambda i: store.upsert(container, {"id": f"doc-{i}", "pad": padding})
        )
    finally:
        await store.close()


async def bare_blob_puts_per_s(settings: Settings, blobs: int, blob_bytes: int, concurrency: int = 32) -> float:
    """Bare blob uploads into a container of their own in the same storage account (Azurite locally):
    the blob server's own speed, which the soak measures before and after the run."""
    store = AzureBlobStore(settings.blob)
    container = _floor_container()
    try:
        await store.ensure_containers([container])
        body = b"x" * blob_bytes
        return await _per_s(blobs, concurrency, lambda i: store.put(container, f"blob-{i}", body))
    finally:
        await store.close()


def _floor_container() -> str:
    return f"floor-{uuid.uuid4().hex[:8]}"


async def _per_s(count: int, concurrency: int, write: Callable[[int], Awaitable[object]]) -> float:
    """Writes per second of `write(0)` … `write(count - 1)`, `concurrency` in flight; the clock leaves
    out creating the client and the container."""
    limit = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with limit:
            await write(index)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return count / (time.perf_counter() - started)
