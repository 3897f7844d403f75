"""Integration tests run against Azurite and the Cosmos DB server; each test starts from empty stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.runtime import COSMOS_CONTAINERS, Runtime
from pipeline.settings import BLOB_CONTAINERS, Settings

INTEGRATION = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.fspath).parents:
            item.add_marker(pytest.mark.emulators)


async def _wipe() -> None:
    runtime = Runtime.from_settings(Settings.local_emulators())
    try:
        from azure.storage.blob.aio import BlobServiceClient

        from pipeline.settings import AZURITE_CONNECTION_STRING

        async with BlobServiceClient.from_connection_string(AZURITE_CONNECTION_STRING) as service:
            for name in BLOB_CONTAINERS:
                container = service.get_container_client(name)
                if await container.exists():
                    async for blob in container.list_blobs():
                        await container.delete_blob(blob.name)
        from azure.cosmos.aio import CosmosClient

        settings = Settings.local_emulators().cosmos
        async with CosmosClient(settings.endpoint, settings.key, connection_verify=False) as client:
            try:
                await client.delete_database(settings.database)
            except Exception:
                pass
        await runtime.ensure_stores()
        assert set(COSMOS_CONTAINERS) == {"events", "aggregates"}
    finally:
        await runtime.close()


@pytest.fixture(autouse=True)
def empty_stores(emulators: None) -> Iterator[None]:
    asyncio.run(_wipe())
    yield
