"""Integration tests run against Azurite and the Cosmos DB server; each test starts from empty stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.runtime import reset_local_stores
from pipeline.settings import Settings

INTEGRATION = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in Path(item.fspath).parents:
            item.add_marker(pytest.mark.emulators)


@pytest.fixture(autouse=True)
def empty_stores(emulators: None) -> Iterator[None]:
    asyncio.run(reset_local_stores(Settings.local_emulators()))
    yield
