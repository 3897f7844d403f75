"""The two store protocols the domain code depends on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

Document = dict[str, Any]


class PreconditionFailed(Exception):
    """An optimistic-concurrency write lost the race (the document changed since it was read)."""


class BlobStore(Protocol):
    async def ensure_containers(self, names: Iterable[str]) -> None: ...
    async def put(self, container: str, name: str, data: bytes) -> None: ...
    async def get(self, container: str, name: str) -> bytes | None:
        """The blob's content, or None when it does not exist."""

    async def list_names(self, container: str, prefix: str = "") -> list[str]: ...
    async def delete(self, container: str, name: str) -> None: ...
    async def close(self) -> None: ...


class DocumentStore(Protocol):
    async def ensure_containers(self, partition_keys: dict[str, str]) -> None:
        """Create the database and the containers ({name: partition key path}) if missing."""

    async def create(self, container: str, doc: Document) -> Document | None:
        """Insert `doc` and return it as stored (with its `_etag`); None when a document with its id
        already exists in its partition."""

    async def read(self, container: str, doc_id: str, partition_key: str) -> Document | None: ...
    async def read_many(self, container: str, keys: list[tuple[str, str]]) -> list[Document]:
        """Point-read many (id, partition key) pairs at once; missing ones are left out."""

    async def upsert(self, container: str, doc: Document) -> None: ...
    async def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        """Replace `doc` if it is unchanged since `etag` was read, else raise PreconditionFailed;
        returns it as stored (with its new `_etag`)."""

    async def query_all(self, container: str) -> list[Document]: ...
    async def drop_database(self) -> None: ...
    async def close(self) -> None: ...
