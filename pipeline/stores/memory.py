"""In-memory stores with the same behaviour as the Azure ones, for unit tests of the domain modules."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Sequence

from pipeline.stores.base import (
    CONFLICT,
    NOT_ATTEMPTED,
    NOT_FOUND,
    PRECONDITION_FAILED,
    BatchOperation,
    BatchResult,
    Document,
    PreconditionFailed,
)


class MemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.writes = 0

    async def ensure_containers(self, names: Iterable[str]) -> None:
        return None

    async def put(self, container: str, name: str, data: bytes) -> str:
        self.blobs[(container, name)] = bytes(data)
        self.writes += 1
        return f'"{self.writes}"'

    async def put_new(self, container: str, name: str, data: bytes) -> bool:
        if (container, name) in self.blobs:
            return False
        await self.put(container, name, data)
        return True

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

    async def read_many(self, container: str, partition_key: str, doc_ids: Sequence[str]) -> list[Document]:
        found = (self.containers[container].get(self._key(container, i, partition_key)) for i in dict.fromkeys(doc_ids))
        return [copy.deepcopy(doc) for doc in found if doc is not None]

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

    async def write_batch(
        self, container: str, partition_key: str, operations: Sequence[BatchOperation]
    ) -> list[BatchResult]:
        """All or none, as on Azure."""
        items = self.containers[container]
        for index, op in enumerate(operations):
            if str(op.doc[self._partition_paths[container]]) != partition_key:
                raise ValueError(f"operation {index} is not in partition {partition_key!r}")
            current = items.get(self._key_of(container, op.doc))
            if op.kind == "create" and current is not None:
                failure = CONFLICT
            elif op.kind == "replace" and current is None:
                failure = NOT_FOUND
            elif op.kind == "replace" and current is not None and current["_etag"] != op.etag:
                failure = PRECONDITION_FAILED
            else:
                continue
            return [BatchResult(failure if i == index else NOT_ATTEMPTED) for i in range(len(operations))]
        results = []
        for op in operations:
            stored = items[self._key_of(container, op.doc)] = self._stamp(op.doc)
            results.append(BatchResult(201 if op.kind == "create" else 200, copy.deepcopy(stored)))
        return results

    async def query_all(self, container: str) -> list[Document]:
        return [copy.deepcopy(doc) for doc in self.containers[container].values()]

    async def drop_database(self) -> None:
        self.containers.clear()

    async def close(self) -> None:
        return None
