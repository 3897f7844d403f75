"""Timer triggers run as singletons: across every instance of the app, one invocation at a time.

The Functions host takes a blob lease (`locks/{host id}/{function}.listener` in the container
`azure-webjobs-hosts` of the host storage account) before it runs a timer, so that only one instance
does. Several local runner processes sharing Azurite are several instances: `BlobLeaseSingleton`
takes the same kind of lease there (60 s, renewed while the function runs, so a process that dies
frees it within a minute). `ProcessSingleton` is the in-memory lock for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

LOCK_CONTAINER = "azure-webjobs-hosts"
LEASE_S = 60
RENEW_S = 20
RETRY_S = 0.2


class SingletonLock(Protocol):
    def hold(self, function_name: str) -> contextlib.AbstractAsyncContextManager[None]: ...


class ProcessSingleton:
    """One invocation at a time within this process."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, function_name: str) -> AsyncIterator[None]:
        async with self._locks.setdefault(function_name, asyncio.Lock()):
            yield


class BlobLeaseSingleton:
    """One invocation at a time across every process sharing the storage account."""

    def __init__(self, connection_string: str, host_id: str) -> None:
        self._connection_string, self._host_id = connection_string, host_id
        self._local = ProcessSingleton()

    @contextlib.asynccontextmanager
    async def hold(self, function_name: str) -> AsyncIterator[None]:
        from azure.core.exceptions import HttpResponseError, ResourceExistsError
        from azure.storage.blob.aio import BlobServiceClient

        from pipeline.stores.http import transport_options

        async with (
            self._local.hold(function_name),
            BlobServiceClient.from_connection_string(self._connection_string, **transport_options()) as service,
        ):
            container = service.get_container_client(LOCK_CONTAINER)
            with contextlib.suppress(ResourceExistsError):
                await container.create_container()
            async with container.get_blob_client(f"locks/{self._host_id}/{function_name}.listener") as blob:
                with contextlib.suppress(ResourceExistsError, HttpResponseError):
                    await blob.upload_blob(b"", overwrite=False)
                while True:
                    try:
                        lease = await blob.acquire_lease(lease_duration=LEASE_S)
                        break
                    except HttpResponseError:  # another instance holds it
                        await asyncio.sleep(RETRY_S)
                renewing = asyncio.create_task(_keep_renewed(lease))
                try:
                    yield
                finally:
                    renewing.cancel()
                    with contextlib.suppress(Exception):
                        await lease.release()


async def _keep_renewed(lease) -> None:  # type: ignore[no-untyped-def]
    while True:
        await asyncio.sleep(RENEW_S)
        await lease.renew()
