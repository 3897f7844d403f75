"""`HistoryStore` in Azure Table storage (Azurite locally): one row per instance in `{hub}Instances`.

The row (PartitionKey = instance id, RowKey = "") holds the instance's status, input, output, custom
status, times, execution id and owner (the process that drives it), and its current execution's
history as one JSON array. A checkpoint (the episode's new events and the instance's new state) is
therefore one entity write: atomic, and a single request. The Durable Azure Storage provider keeps a
row per history event and writes them in an entity-group transaction; here that costs the client
three times the CPU of a single write (the SDK builds and parses a multipart body per transaction),
and an orchestration of this pipeline has a dozen events, so one row is both simpler and cheaper.
Rewriting the history at each checkpoint is O(events) per episode, which suits short orchestrations,
not ones with thousands of activities.

A value over `MAX_INLINE_CHARS` (a table property holds at most 64 KiB) goes to a blob in the
container `{hub}-largemessages` and the row keeps its name, as the provider offloads payloads. An
offloaded history is written to a blob named after its execution before the row that points to it,
and is read back only up to the row's `HistoryLength`: a crash between the two writes leaves the row
as it was. The pipeline's histories hold claim-check references, never payloads, so nothing offloads
in practice.

The store remembers the history of the instances it checkpoints (the current execution's, until the
instance ends or is purged), so that appending needs no read; a new instance's row is an insert that
fails if the id has one, so that starting needs no read either; and it remembers which blobs the rows it
wrote point to, so that purging one is a single delete. An orchestration of this pipeline thus costs
five requests to the hub: the start, three checkpoints, and the purge.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableServiceClient

from pipeline.errors import StoreUnavailableError
from pipeline.functions_host.history import HistoryEvent
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus
from pipeline.stores.base import BlobStore
from pipeline.stores.http import transport_options

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"
DEFAULT_HUB = "LocalTaskHub"
MAX_INLINE_CHARS = 30_000  # a string property holds 64 KiB of UTF-16
CHECKPOINT_ATTEMPTS = 6  # 0.5 + 1 + 2 + 4 + 8 s of waiting at most, beyond the SDK's own retries


def task_hub_name(host_json: Path = HOST_JSON) -> str:
    """The task hub `host.json` names (`extensions.durableTask.hubName`), as `func start` would use."""
    settings = json.loads(host_json.read_text()) if host_json.exists() else {}
    return str(settings.get("extensions", {}).get("durableTask", {}).get("hubName") or DEFAULT_HUB)


class TableHistoryStore:
    """Instance records and histories of one task hub in a storage account's Table service."""

    def __init__(self, connection_string: str, hub: str, large_messages: BlobStore) -> None:
        self.hub = hub
        self._service = TableServiceClient.from_connection_string(connection_string, **transport_options())
        self._instances = self._service.get_table_client(f"{hub}Instances")
        self._blobs = large_messages
        self._blob_container = f"{hub.lower()}-largemessages"
        self._histories: dict[str, tuple[str, list[str]]] = {}  # instance id: (execution id, events as JSON)
        self._written: dict[str, set[str]] = {}  # instance id: the blobs its rows pointed to, for rows written here
        self.requests = 0

    async def ensure_tables(self) -> None:
        try:
            await self._instances.create_table()
        except ResourceExistsError:
            pass
        except (ServiceRequestError, ServiceResponseError) as error:
            endpoint = self._service.url
            raise StoreUnavailableError(f"Table storage at {endpoint} (the Durable task hub) is unreachable") from error
        await self._blobs.ensure_containers([self._blob_container])

    async def clear(self) -> None:
        """Delete every instance and history of the hub (tests and benchmarks on the emulators)."""
        await self._instances.delete_table()
        for name in await self._blobs.list_names(self._blob_container):
            await self._blobs.delete(self._blob_container, name)
        self._histories.clear()
        self._written.clear()
        await self.ensure_tables()

    async def close(self) -> None:
        await self._instances.close()
        await self._service.close()

    # -- HistoryStore ----------------------------------------------------------------------------

    async def checkpoint(
        self, record: InstanceRecord, new_events: Sequence[HistoryEvent], *, new_execution: bool = False
    ) -> None:
        """The instance's new state and its history so far, in one write (only the state when the
        history did not change)."""
        entity = await self._record_entity(record)
        if new_events or new_execution:
            events = [] if new_execution else await self._events(record)
            events.extend(json.dumps(event) for event in new_events)
            blob = f"{record.instance_id}/{record.execution_id}/history.json"
            await self._put_text(entity, "History", f"[{','.join(events)}]", blob)
            await self._write(entity, UpdateMode.REPLACE)
            self._histories[record.instance_id] = (record.execution_id, events)  # remembered once stored
        else:
            await self._write(entity, UpdateMode.MERGE)  # the history the row holds stays
        self._remember_written(entity)
        if record.runtime_status.is_terminal:
            self._histories.pop(record.instance_id, None)

    async def create(self, record: InstanceRecord) -> InstanceRecord | None:
        """The new instance's row, written only if the instance has none: one request, where a read
        and then a write would take two."""
        entity = await self._record_entity(record)
        entity["History"] = "[]"
        try:
            await self._write(entity, None)
        except ResourceExistsError:
            existing = await self.record(record.instance_id)
            if existing is not None and existing.execution_id != record.execution_id:
                return existing
            if existing is None:  # purged since: the instance is new again
                return await self.create(record)
            # else the row is this very write, landed by an attempt whose answer was lost
        self._histories[record.instance_id] = (record.execution_id, [])
        self._remember_written(entity)
        return None

    async def _write(self, entity: dict[str, Any], mode: UpdateMode | None) -> None:
        """One write (an insert when `mode` is None), tried again over a dropped connection, as the
        Durable extension retries its storage calls: a reset under load must not end the run. A repeat
        is harmless: an upsert writes the same row again, and an insert that landed fails as a conflict."""
        for attempt in range(CHECKPOINT_ATTEMPTS):
            self.requests += 1
            try:
                if mode is None:
                    await self._instances.create_entity(entity)
                else:
                    await self._instances.upsert_entity(entity, mode=mode)
                return
            except (ServiceRequestError, ServiceResponseError):
                if attempt == CHECKPOINT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    async def _events(self, record: InstanceRecord) -> list[str]:
        """The current execution's events so far, as JSON text: remembered, or read from the row."""
        execution, events = self._histories.get(record.instance_id, ("", []))
        if execution != record.execution_id:
            events = [json.dumps(event) for event in await self.history(record.instance_id)]
        return events

    async def record(self, instance_id: str) -> InstanceRecord | None:
        entity = await self._entity(instance_id)
        return None if entity is None else await self._record(entity)

    async def records(self) -> list[InstanceRecord]:
        self.requests += 1
        rows = self._instances.list_entities()
        return [await self._record(entity) async for entity in rows]

    async def history(self, instance_id: str) -> list[HistoryEvent]:
        entity = await self._entity(instance_id)
        if entity is None or (entity.get("History") is None and entity.get("HistoryBlob") is None):
            return []
        events: list[HistoryEvent] = json.loads(await self._text(entity, "History"))
        return events[: int(entity["HistoryLength"])]

    async def purge(self, instance_id: str) -> bool:
        """Delete the row and its blobs. A row this store wrote is deleted without reading it first:
        the store knows which blobs it pointed to."""
        self._histories.pop(instance_id, None)
        blobs = self._written.pop(instance_id, None)
        if blobs is None:
            entity = await self._entity(instance_id)
            if entity is None:
                return False
            blobs = {name for name in (entity.get("HistoryBlob"), entity.get("InputBlob")) if name}
        self.requests += 1
        await self._instances.delete_entity(instance_id, "")
        for blob in blobs:
            await self._blobs.delete(self._blob_container, blob)
        return True

    def _remember_written(self, entity: dict[str, Any]) -> None:
        blobs = self._written.setdefault(entity["PartitionKey"], set())
        blobs.update(entity[name] for name in ("HistoryBlob", "InputBlob") if name in entity)

    async def _entity(self, instance_id: str) -> dict[str, Any] | None:
        self.requests += 1
        try:
            return dict(await self._instances.get_entity(instance_id, ""))
        except ResourceNotFoundError:
            return None

    # -- entities --------------------------------------------------------------------------------

    async def _record_entity(self, record: InstanceRecord) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": record.instance_id,
            "RowKey": "",
            "Name": record.name,
            "RuntimeStatus": record.runtime_status.value,
            "CreatedTime": record.created_time,
            "LastUpdatedTime": record.last_updated_time,
            "ExecutionId": record.execution_id,
            "ParentInstanceId": record.parent_instance_id or "",
            "HistoryLength": record.history_length,
            "Episodes": record.episodes,
            "Version": record.version,
            "Owner": record.owner,
            "Output": json.dumps(record.output),
            "CustomStatus": json.dumps(record.custom_status),
        }
        if record.input_json is not None:
            await self._put_text(entity, "Input", record.input_json, f"{record.instance_id}/input.json")
        return entity

    async def _record(self, entity: dict[str, Any]) -> InstanceRecord:
        has_input = entity.get("Input") is not None or entity.get("InputBlob") is not None
        input_json = await self._text(entity, "Input") if has_input else None
        return InstanceRecord(
            instance_id=entity["PartitionKey"],
            name=entity["Name"],
            runtime_status=RuntimeStatus(entity["RuntimeStatus"]),
            created_time=_utc(entity["CreatedTime"]),
            last_updated_time=_utc(entity["LastUpdatedTime"]),
            execution_id=entity["ExecutionId"],
            input_json=input_json,
            output=json.loads(entity["Output"]),
            custom_status=json.loads(entity["CustomStatus"]),
            parent_instance_id=entity["ParentInstanceId"] or None,
            history_length=int(entity["HistoryLength"]),
            episodes=int(entity["Episodes"]),
            version=entity["Version"],
            owner=entity.get("Owner") or "",
        )

    async def _put_text(self, entity: dict[str, Any], name: str, text: str, blob_name: str) -> None:
        if len(text) <= MAX_INLINE_CHARS:
            entity[name] = text
            return
        await self._blobs.put(self._blob_container, blob_name, text.encode("utf-8"))
        entity[f"{name}Blob"] = blob_name

    async def _text(self, entity: dict[str, Any], name: str) -> str:
        if entity.get(name) is not None:
            return str(entity[name])
        content = await self._blobs.get(self._blob_container, entity[f"{name}Blob"])
        if content is None:
            raise LookupError(f"the large message {entity[f'{name}Blob']} of the task hub {self.hub} is missing")
        return content.decode("utf-8")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
