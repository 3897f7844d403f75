"""In-memory stores with the same behaviour as the Azure ones, for unit tests of the domain modules."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable

from pipeline.stores.base import Document, PreconditionFailed


class MemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}

    async def ensure_containers(self, names: Iterable[str]) -> None:
        return None

    async def put(self, container: str, name: str, data: bytes) -> None:
        self.blobs[(container, name)] = bytes(data)

    async def get(self, container: str, name: str) -> bytes | None:
        return self.blobs.get((container, name))

    async def list_names(self, container: str, prefix: str = "") -> list[str]:
        return sorted(n for (c, n) in self.blobs if c == container and n.startswith(prefix))

    async def delete(self, container: str, name: str) -> None:
        self.blobs.pop((container, name), None)

    async def close(self) -> None:
        return None


class MemoryDocumentStore:
    def __init__(self) -> None:
        self.containers: dict[str, dict[str, Document]] = {}
        self._partition_paths: dict[str, str] = {}
        self._etags = itertools.count(1)

    async def ensure_containers(self, partition_keys: dict[str, str]) -> None:
        for name, path in partition_keys.items():
            self.containers.setdefault(name, {})
            self._partition_paths[name] = path.lstrip("/")

    def _key(self, container: str, doc_id: str, partition_key: str) -> str:
        return f"{partition_key}\x00{doc_id}"

    def _key_of(self, container: str, doc: Document) -> str:
        return self._key(container, doc["id"], str(doc[self._partition_paths[container]]))

    def _stamp(self, doc: Document) -> Document:
        stored = copy.deepcopy(doc)
        stored["_etag"] = f'"{next(self._etags)}"'
        return stored

    async def create(self, container: str, doc: Document) -> Document | None:
        items = self.containers[container]
        key = self._key_of(container, doc)
        if key in items:
            return None
        items[key] = self._stamp(doc)
        return copy.deepcopy(items[key])

    async def read(self, container: str, doc_id: str, partition_key: str) -> Document | None:
        doc = self.containers[container].get(self._key(container, doc_id, partition_key))
        return copy.deepcopy(doc) if doc is not None else None

    async def read_many(self, container: str, keys: list[tuple[str, str]]) -> list[Document]:
        found = [await self.read(container, doc_id, pk) for doc_id, pk in keys]
        return [doc for doc in found if doc is not None]

    async def upsert(self, container: str, doc: Document) -> None:
        self.containers[container][self._key_of(container, doc)] = self._stamp(doc)

    async def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        items = self.containers[container]
        key = self._key_of(container, doc)
        current = items.get(key)
        if current is None or current["_etag"] != etag:
            raise PreconditionFailed(doc["id"])
        items[key] = self._stamp(doc)
        return copy.deepcopy(items[key])

    async def query_all(self, container: str) -> list[Document]:
        return [copy.deepcopy(doc) for doc in self.containers[container].values()]

    async def drop_database(self) -> None:
        self.containers.clear()

    async def close(self) -> None:
        return None
