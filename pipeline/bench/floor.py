"""The floors: bare concurrent writes of the same size into the same servers, with each SDK's own
client as a user's first program would build it: the Cosmos DB server (what `make bench` and the soak
set the pipeline against) and Azurite's Blob service (the soak).

The pipeline's own clients are built differently in one respect (`pipeline.stores.http`): they do
not look up proxy settings and `~/.netrc` on every request. `make bench` also measures the Cosmos DB
floor with that transport (`tuned=True`), to show what the setting is worth to a per-event writer.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from azure.core.pipeline.transport import AioHttpTransport
from azure.cosmos import PartitionKey
from azure.cosmos.aio import CosmosClient
from azure.storage.blob.aio import BlobServiceClient

from pipeline.settings import Settings
from pipeline.stores.credentials import azure_credential
from pipeline.stores.http import transport_options


async def bare_upserts_per_s(
    settings: Settings, documents: int, document_bytes: int, concurrency: int = 64, *, tuned: bool = False
) -> float:
    """Upserts per second of `documents` documents of about `document_bytes`, one request each;
    `tuned` gives the client the pipeline's transport."""
    cosmos = settings.cosmos
    options: dict[str, Any] = {"connection_verify": cosmos.verify_tls}
    if tuned:
        options["transport"] = AioHttpTransport(connection_verify=cosmos.verify_tls, **transport_options())
    credential = cosmos.key or azure_credential(cosmos.client_id)
    async with CosmosClient(cosmos.endpoint, credential=credential, **options) as client:  # type: ignore[arg-type]
        database = await client.create_database_if_not_exists(cosmos.database)
        container = await database.create_container_if_not_exists(_floor_container(), PartitionKey("/id"))
        padding = "x" * max(document_bytes - 60, 0)
        return await _per_s(documents, concurrency, lambda i: container.upsert_item({"id": f"doc-{i}", "pad": padding}))


async def bare_blob_puts_per_s(settings: Settings, blobs: int, blob_bytes: int, concurrency: int = 32) -> float:
    """Bare blob uploads into a container of their own in the same storage account (Azurite locally):
    the blob server's own speed, which the soak measures before and after the run."""
    blob = settings.blob
    if blob.connection_string:
        service = BlobServiceClient.from_connection_string(blob.connection_string)
    else:
        service = BlobServiceClient(str(blob.account_url), credential=azure_credential(blob.client_id))
    async with service:
        container = await service.create_container(_floor_container())
        body = b"x" * blob_bytes
        return await _per_s(blobs, concurrency, lambda i: container.upload_blob(f"blob-{i}", body, overwrite=True))


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
