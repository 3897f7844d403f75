"""The two store protocols the domain code depends on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Document = dict[str, Any]

# Statuses of one operation in a transactional batch (the Cosmos DB codes).
CONFLICT = 409  # create: a document with that id already exists
PRECONDITION_FAILED = 412  # replace: the document changed since its etag was read
NOT_FOUND = 404  # replace: the document is gone
NOT_ATTEMPTED = 424  # failed dependency: another operation of the batch failed
MAX_BATCH_OPERATIONS = 100  # Cosmos DB's limit per transactional batch
READ_MANY_IDS = 100  # ids per query of `read_many`


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One write in a transactional batch: create `doc`, or replace it if unchanged since `etag`."""

    kind: Literal["create", "replace"]
    doc: Document
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    status: int
    doc: Document | None = None  # as stored (with its new `_etag`) when the write succeeded

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class PreconditionFailed(Exception):
    """An optimistic-concurrency write lost the race (the document changed since it was read)."""


class BlobStore(Protocol):
    async def ensure_containers(self, names: Iterable[str]) -> None: ...
    async def put(self, container: str, name: str, data: bytes) -> str:
        """Write the blob (replacing it) and return its new ETag."""

    async def put_new(self, container: str, name: str, data: bytes) -> bool:
        """Write the blob only if it does not exist; False (and nothing written) when it does."""

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
    async def read_many(self, container: str, partition_key: str, doc_ids: Sequence[str]) -> list[Document]:
        """The documents of one partition, among `doc_ids`, that exist: one query per READ_MANY_IDS ids
        (where a read each would be a request each)."""

    async def upsert(self, container: str, doc: Document) -> None: ...
    async def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        """Replace `doc` if it is unchanged since `etag` was read, else raise PreconditionFailed;
        returns it as stored (with its new `_etag`)."""

    async def write_batch(
        self, container: str, partition_key: str, operations: Sequence[BatchOperation]
    ) -> list[BatchResult]:
        """Send up to MAX_BATCH_OPERATIONS writes to one partition as one transactional batch: one request.

        Returns one result per operation, in order. Azure applies all or none: when one operation
        fails (CONFLICT, PRECONDITION_FAILED, NOT_FOUND), every other one is NOT_ATTEMPTED. The local
        Cosmos DB API server is not atomic: it applies the operations before the failing one (they come
        back ok) and stops there. Callers that retry exactly the operations that did not come back ok are
        correct on both.
        """

    async def query_all(self, container: str) -> list[Document]: ...
    async def drop_database(self) -> None: ...
    async def close(self) -> None: ...
