"""The document store on Cosmos DB (or the local Cosmos DB API server), with the async SDK."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import AioHttpTransport
from azure.cosmos import PartitionKey
from azure.cosmos import exceptions as cosmos_errors
from azure.cosmos.aio import ContainerProxy, CosmosClient

from pipeline.errors import StoreUnavailableError, TransientError
from pipeline.settings import CosmosSettings
from pipeline.stores.base import READ_MANY_IDS, BatchOperation, BatchResult, Document, PreconditionFailed
from pipeline.stores.credentials import DefaultAzureCredential, azure_credential
from pipeline.stores.http import transport_options

_TRANSIENT_STATUS = {408, 429, 449, 500, 502, 503}


class CosmosDocumentStore:
    def __init__(self, settings: CosmosSettings) -> None:
        self._settings = settings
        self._credential = None if settings.key else azure_credential(settings.client_id)
        if not settings.verify_tls:
            # The local Cosmos DB API server serves a self-signed certificate; only allowed by setting.
            warnings.filterwarnings("ignore", message="Unverified HTTPS request")
        credential: str | DefaultAzureCredential = settings.key or self._credential  # type: ignore[assignment]
        self._client = CosmosClient(
            settings.endpoint,
            credential=credential,  # type: ignore[arg-type]
            connection_verify=settings.verify_tls,
            # The Cosmos DB client takes no transport options of its own: it is given its transport.
            transport=AioHttpTransport(connection_verify=settings.verify_tls, **transport_options()),
            retry_total=4,
            retry_backoff_max=4,
            retry_backoff_factor=0.4,
        )
        self._database = self._client.get_database_client(settings.database)
        self._containers: dict[str, ContainerProxy] = {}
        self._partition_key_fields: dict[str, str] = {}
        # For the run report and sizing: requests sent, by kind, and the writes carried by "batch" requests.
        self.requests: Counter[str] = Counter()
        self.batched_operations: Counter[str] = Counter()
        # Writes the server refused for a conflict, as "{container} {status}": 409 (the id exists: on
        # `events` that is how a duplicate is found) and 412 (the etag moved: two writers on one row).
        self.conflicts: Counter[str] = Counter()

    def _container(self, name: str) -> ContainerProxy:
        container = self._containers.get(name)
        if container is None:
            container = self._containers[name] = self._database.get_container_client(name)
        return container

    async def ensure_containers(self, partition_keys: dict[str, str]) -> None:
        async with self._guard():
            database = await self._client.create_database_if_not_exists(self._settings.database)
            for name, path in partition_keys.items():
                await database.create_container_if_not_exists(name, PartitionKey(path))
                self._partition_key_fields[name] = path.lstrip("/")

    async def create(self, container: str, doc: Document) -> Document | None:
        self.requests["create"] += 1
        try:
            async with self._guard():
                return dict(await self._container(container).create_item(doc, enable_automatic_id_generation=False))
        except cosmos_errors.CosmosResourceExistsError:
            self.conflicts[f"{container} 409"] += 1
            return None

    async def read(self, container: str, doc_id: str, partition_key: str) -> Document | None:
        self.requests["read"] += 1
        try:
            async with self._guard():
                return dict(await self._container(container).read_item(doc_id, partition_key=partition_key))
        except cosmos_errors.CosmosResourceNotFoundError:
            return None

    async def read_many(self, container: str, partition_key: str, doc_ids: Sequence[str]) -> list[Document]:
        ids = list(dict.fromkeys(doc_ids))
        # The partition is named in the query too: the local server ignores the request's partition key
        # (and ids are unique only within a partition).
        field = await self._partition_key_field(container)
        text = f"SELECT * FROM c WHERE c.{field} = @pk AND ARRAY_CONTAINS(@ids, c.id)"
        found: list[Document] = []
        for start in range(0, len(ids), READ_MANY_IDS):
            self.requests["query"] += 1
            parameters: list[dict[str, Any]] = [
                {"name": "@pk", "value": partition_key},
                {"name": "@ids", "value": ids[start : start + READ_MANY_IDS]},
            ]
            async with self._guard():
                query = self._container(container).query_items(text, parameters=parameters, partition_key=partition_key)
                found.extend([dict(doc) async for doc in query])
        return found

    async def _partition_key_field(self, container: str) -> str:
        field = self._partition_key_fields.get(container)
        if field is None:
            async with self._guard():
                properties = await self._container(container).read()
            field = self._partition_key_fields[container] = properties["partitionKey"]["paths"][0].lstrip("/")
        if not field.isidentifier():
            raise ValueError(f"container {container}: partition key path /{field} is not a plain property")
        return field

    async def upsert(self, container: str, doc: Document) -> None:
        self.requests["upsert"] += 1
        async with self._guard():
            await self._container(container).upsert_item(doc)

    async def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        self.requests["replace"] += 1
        try:
            async with self._guard():
                written = await self._container(container).replace_item(
                    doc["id"], doc, etag=etag, match_condition=MatchConditions.IfNotModified
                )
                return dict(written)
        except cosmos_errors.CosmosAccessConditionFailedError as error:
            self.conflicts[f"{container} 412"] += 1
            raise PreconditionFailed(doc["id"]) from error

    async def write_batch(
        self, container: str, partition_key: str, operations: Sequence[BatchOperation]
    ) -> list[BatchResult]:
        self.requests["batch"] += 1
        self.batched_operations.update(op.kind for op in operations)
        sdk_operations: list[tuple[Any, ...]] = [
            ("create", (op.doc,))
            if op.kind == "create"
            else ("replace", (op.doc["id"], op.doc), {"if_match_etag": op.etag})
            for op in operations
        ]
        try:
            async with self._guard():
                responses = await self._container(container).execute_item_batch(
                    sdk_operations, partition_key=partition_key
                )
        except cosmos_errors.CosmosBatchOperationError as error:
            responses = error.operation_responses
        results = [_batch_result(response) for response in responses]
        self.conflicts.update(f"{container} {r.status}" for r in results if r.status in (409, 412))
        return results

    async def query_all(self, container: str) -> list[Document]:
        async with self._guard():
            return [dict(doc) async for doc in self._container(container).query_items("SELECT * FROM c")]

    async def drop_database(self) -> None:
        """Delete the whole database (local emulators only: tests and benchmarks start empty)."""
        async with self._guard():
            try:
                await self._client.delete_database(self._settings.database)
            except cosmos_errors.CosmosResourceNotFoundError:
                pass
        self._containers.clear()

    async def close(self) -> None:
        await self._client.close()
        if self._credential is not None:
            await self._credential.close()

    def _guard(self) -> _CosmosErrors:
        return _CosmosErrors(self._settings.endpoint)


def _batch_result(response: dict[str, Any]) -> BatchResult:
    status = int(response["statusCode"])
    body = response.get("resourceBody")
    return BatchResult(status, dict(body) if 200 <= status < 300 and body is not None else None)


class _CosmosErrors:
    """Maps transport failures and retryable status codes onto the pipeline's transient errors."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        """Never swallows: either raises the pipeline's error instead, or lets the original through."""
        if exc is None:
            return
        if isinstance(exc, ServiceRequestError | ServiceResponseError | ConnectionError):
            raise StoreUnavailableError(f"Cosmos DB at {self._endpoint} is unreachable: {exc}") from exc
        if isinstance(exc, cosmos_errors.CosmosHttpResponseError) and exc.status_code in _TRANSIENT_STATUS:
            raise TransientError(f"Cosmos DB answered {exc.status_code}: {exc.message}") from exc
