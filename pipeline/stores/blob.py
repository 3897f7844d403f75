"""The Blob store on Azure Storage (or Azurite), with the async SDK."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from azure.core.exceptions import (
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob.aio import BlobServiceClient

from pipeline.errors import StoreUnavailableError
from pipeline.settings import BlobSettings
from pipeline.stores.credentials import azure_credential
from pipeline.stores.http import transport_options

# Small blobs only (claim checks, manifests, dead letters, exports): a request silent for 60 s is retried
# rather than waited on for the SDK default of 300 s.
_CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 4,
    "retry_backoff_factor": 0.4,
    "retry_backoff_max": 4,
    "connection_timeout": 20,
    "read_timeout": 60,
    **transport_options(),
}


class AzureBlobStore:
    def __init__(self, settings: BlobSettings) -> None:
        if settings.connection_string:
            self._service = BlobServiceClient.from_connection_string(settings.connection_string, **_CLIENT_OPTIONS)
            self._credential = None
        else:
            assert settings.account_url, "BlobSettings needs a connection string or an account URL"
            self._credential = azure_credential(settings.client_id)
            self._service = BlobServiceClient(settings.account_url, credential=self._credential, **_CLIENT_OPTIONS)
        self._endpoint = self._service.url
        self.requests: Counter[str] = Counter()  # requests sent, by kind and container: for the run report

    async def ensure_containers(self, names: Iterable[str]) -> None:
        for name in names:
            try:
                await self._guard(self._service.create_container(name))
            except ResourceExistsError:
                pass

    async def put(self, container: str, name: str, data: bytes) -> str:
        self.requests[f"put {container}"] += 1
        blob = self._service.get_blob_client(container, name)
        written = await self._guard(blob.upload_blob(data, overwrite=True))
        return str(written["etag"])

    async def put_new(self, container: str, name: str, data: bytes) -> bool:
        self.requests[f"put {container}"] += 1
        blob = self._service.get_blob_client(container, name)
        try:
            await self._guard(blob.upload_blob(data, overwrite=False))
        except ResourceExistsError:
            return False
        return True

    async def get(self, container: str, name: str) -> bytes | None:
        self.requests[f"get {container}"] += 1
        blob = self._service.get_blob_client(container, name)
        try:
            downloader = await self._guard(blob.download_blob())
            return bytes(await downloader.readall())
        except ResourceNotFoundError:
            return None

    async def list_names(self, container: str, prefix: str = "") -> list[str]:
        client = self._service.get_container_client(container)
        try:
            return [blob.name async for blob in client.list_blobs(name_starts_with=prefix or None)]
        except ResourceNotFoundError:
            return []
        except (ServiceRequestError, ServiceResponseError) as error:
            raise self._unavailable(error) from error

    async def delete(self, container: str, name: str) -> None:
        try:
            await self._guard(self._service.get_blob_client(container, name).delete_blob())
        except ResourceNotFoundError:
            pass

    async def close(self) -> None:
        await self._service.close()
        if self._credential is not None:
            await self._credential.close()

    async def _guard(self, awaitable):  # type: ignore[no-untyped-def]
        try:
            return await awaitable
        except (ServiceRequestError, ServiceResponseError) as error:
            raise self._unavailable(error) from error

    def _unavailable(self, error: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(f"Blob storage at {self._endpoint} is unreachable: {error}")
