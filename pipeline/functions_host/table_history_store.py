"""`HistoryStore` in Azure Table storage (Azurite locally), laid out much as the Durable Azure Storage
provider lays out a task hub.

- `{hub}History`, one partition per instance (PartitionKey = instance id):
  - the instance row, RowKey = "" (status, input, output, custom status, times, the execution id, the
    process that drives it) — the provider keeps these rows in a table of their own, `{hub}Instances`;
  - one row per history event, RowKey = `{execution id}:{sequence number:08d}`, the event as JSON text;
- a value over `MAX_INLINE_CHARS` (a table property holds at most 64 KiB) goes to a blob in the
  container `{hub}-largemessages` and the row keeps its name, as the provider offloads payloads.

Why one partition for an instance's row and its events: a checkpoint (the episode's new events and
the instance's new state) is then one entity-group transaction, atomic and one request, where two
tables would take two requests and could be seen half written. Why tables rather than a blob per
instance: an episode appends its events instead of rewriting a growing blob, and the instance list is
one query. The pipeline's histories hold claim-check references, never payloads, so an instance's
history stays O(activities) and nothing offloads in practice.
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

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"
DEFAULT_HUB = "LocalTaskHub"
MAX_INLINE_CHARS = 30_000  # a string property holds 64 KiB of UTF-16
_TRANSACTION_LIMIT = 100  # operations per entity-group transaction
CHECKPOINT_ATTEMPTS = 6  # 0.5 + 1 + 2 + 4 + 8 s of waiting at most, beyond the SDK's own retries


def task_hub_name(host_json: Path = HOST_JSON) -> str:
    """The task hub `host.json` names (`extensions.durableTask.hubName`), as `func start` would use."""
    settings = json.loads(host_json.read_text()) if host_json.exists() else {}
    return str(settings.get("extensions", {}).get("durableTask", {}).get("hubName") or DEFAULT_HUB)


class TableHistoryStore:
    """Instance records and histories of one task hub in a storage account's Table service."""

    def __init__(self, connection_string: str, hub: str, large_messages: BlobStore) -> None:
        self.hub = hub
        self._service = TableServiceClient.from_connection_string(connection_string)
        self._history = self._service.get_table_client(f"{hub}History")
        self._blobs = large_messages
        self._blob_container = f"{hub.lower()}-largemessages"
        self.requests = 0

    async def ensure_tables(self) -> None:
        try:
            await self._history.create_table()
        except ResourceExistsError:
            pass
        except (ServiceRequestError, ServiceResponseError) as error:
            endpoint = self._service.url
            raise StoreUnavailableError(f"Table storage at {endpoint} (the Durable task hub) is unreachable") from error
        await self._blobs.ensure_containers([self._blob_container])

    async def clear(self) -> None:
        """Delete every instance and history of the hub (tests and benchmarks on the emulators)."""
        await self._history.delete_table()
        for name in await self._blobs.list_names(self._blob_container):
            await self._blobs.delete(self._blob_container, name)
        await self.ensure_tables()

    async def close(self) -> None:
        await self._history.close()
        await self._service.close()

    # -- HistoryStore ----------------------------------------------------------------------------

    async def checkpoint(
        self, record: InstanceRecord, new_events: Sequence[HistoryEvent], *, new_execution: bool = False
    ) -> None:
        """The episode's events and the instance's state in one transaction (a new execution starts
        rows of its own, so the old ones need no deleting)."""
        first = record.history_length - len(new_events)
        operations: list[tuple[Any, ...]] = [
            ("upsert", await self._event_entity(record, first + offset, event))
            for offset, event in enumerate(new_events)
        ]
        operations.append(("upsert", await self._record_entity(record), {"mode": UpdateMode.REPLACE}))
        # an episode's events fit one transaction; a longer one writes its events first, the record last
        for start in range(0, len(operations), _TRANSACTION_LIMIT):
            await self._submit(operations[start : start + _TRANSACTION_LIMIT])

    async def _submit(self, operations: list[tuple[Any, ...]]) -> None:
        """One transaction, tried again over a dropped connection (upserts, so a repeat is harmless), as
        the Durable extension retries its storage calls: a reset under load must not end the run."""
        for attempt in range(CHECKPOINT_ATTEMPTS):
            self.requests += 1
            try:
                await self._history.submit_transaction(operations)
                return
            except (ServiceRequestError, ServiceResponseError):
                if attempt == CHECKPOINT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)

    async def record(self, instance_id: str) -> InstanceRecord | None:
        self.requests += 1
        try:
            entity = await self._history.get_entity(instance_id, "")
        except ResourceNotFoundError:
            return None
        return await self._record(entity)

    async def records(self) -> list[InstanceRecord]:
        self.requests += 1
        rows = self._history.query_entities("RowKey eq @instance", parameters={"instance": ""})
        return [await self._record(entity) async for entity in rows]

    async def history(self, instance_id: str) -> list[HistoryEvent]:
        record = await self.record(instance_id)
        if record is None:
            return []
        prefix = f"{record.execution_id}:"
        self.requests += 1
        entities = self._history.query_entities(
            "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high",
            parameters={"pk": instance_id, "low": prefix, "high": prefix[:-1] + ";"},
        )
        rows = sorted([entity async for entity in entities], key=lambda entity: entity["RowKey"])
        return [json.loads(await self._text(entity, "Event")) for entity in rows][: record.history_length]

    async def purge(self, instance_id: str) -> bool:
        self.requests += 1
        query = self._history.query_entities("PartitionKey eq @pk", parameters={"pk": instance_id})
        rows = sorted([entity async for entity in query], key=lambda row: row["RowKey"] == "")  # the instance last
        for start in range(0, len(rows), _TRANSACTION_LIMIT):
            self.requests += 1
            chunk = rows[start : start + _TRANSACTION_LIMIT]
            await self._history.submit_transaction([("delete", row) for row in chunk])
        for row in rows:
            for blob in (row.get("EventBlob"), row.get("InputBlob")):
                if blob:
                    await self._blobs.delete(self._blob_container, blob)
        return any(row["RowKey"] == "" for row in rows)

    # -- entities --------------------------------------------------------------------------------

    async def _event_entity(self, record: InstanceRecord, sequence: int, event: HistoryEvent) -> dict[str, Any]:
        row_key = f"{record.execution_id}:{sequence:08d}"
        entity: dict[str, Any] = {"PartitionKey": record.instance_id, "RowKey": row_key}
        entity["EventType"] = int(event["EventType"])
        await self._put_text(entity, "Event", json.dumps(event), f"{record.instance_id}/{row_key}.json")
        return entity

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
        input_json = await self._text(entity, "Input") if "Input" in entity or "InputBlob" in entity else None
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
            owner=entity.get("Owner", ""),
        )

    async def _put_text(self, entity: dict[str, Any], name: str, text: str, blob_name: str) -> None:
        if len(text) <= MAX_INLINE_CHARS:
            entity[name] = text
            return
        await self._blobs.put(self._blob_container, blob_name, text.encode("utf-8"))
        entity[f"{name}Blob"] = blob_name

    async def _text(self, entity: dict[str, Any], name: str) -> str:
        if name in entity:
            return str(entity[name])
        content = await self._blobs.get(self._blob_container, entity[f"{name}Blob"])
        if content is None:
            raise LookupError(f"the large message {entity[f'{name}Blob']} of the task hub {self.hub} is missing")
        return content.decode("utf-8")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
