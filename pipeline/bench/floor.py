"""The floor: bare concurrent upserts of documents of the same size into the same Cosmos DB server."""

from __future__ import annotations

import asyncio
import time
import uuid

from pipeline.settings import Settings
from pipeline.stores.cosmos import CosmosDocumentStore


async def bare_upserts_per_s(settings: Settings, documents: int, document_bytes: int, concurrency: int = 64) -> float:
    store = CosmosDocumentStore(settings.cosmos)
    container = f"floor-{uuid.uuid4().hex[:8]}"
    try:
        await store.ensure_containers({container: "/id"})
        padding = "x" * max(document_bytes - 60, 0)
        limit = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with limit:
                await store.upsert(container, {"id": f"doc-{index}", "pad": padding})

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(documents)))
        return documents / (time.perf_counter() - started)
    finally:
        await store.close()


async def bare_blob_puts_per_s(settings: Settings, blobs: int, blob_bytes: int, concurrency: int = 32) -> float:
    """Bare concurrent blob uploads into a container of their own in the same storage account (Azurite
    locally): the blob server's own speed, which the soak measures before and after the run."""
    from pipeline.stores.blob import AzureBlobStore

    store = AzureBlobStore(settings.blob)
    container = f"floor-{uuid.uuid4().hex[:8]}"
    try:
        await store.ensure_containers([container])
        body = b"x" * blob_bytes
        limit = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with limit:
                await store.put(container, f"blob-{index}", body)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(blobs)))
        return blobs / (time.perf_counter() - started)
    finally:
        await store.close()
