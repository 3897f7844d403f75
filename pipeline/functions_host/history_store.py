"""Where instance status and history live: a small seam with an in-memory implementation.

The engine checkpoints after every episode, as the Durable backend does: the instance record (status,
input, output, custom status, times) and the events the episode appended. `TableHistoryStore` keeps
them in Azurite's Table service, as the Azure Storage provider keeps a task hub; since every piece of
outstanding work (scheduled tasks without completion, timers not fired) can be read back from the
history, that is enough to resume instances after a crash (`OrchestrationEngine.resume`). The
in-memory store is for unit tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pipeline.functions_host.history import HistoryEvent


class RuntimeStatus(StrEnum):
    """`OrchestrationRuntimeStatus` as the status API spells it."""

    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    CONTINUED_AS_NEW = "ContinuedAsNew"
    FAILED = "Failed"
    CANCELED = "Canceled"
    TERMINATED = "Terminated"
    SUSPENDED = "Suspended"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.CANCELED, RuntimeStatus.TERMINATED}
)


@dataclass
class InstanceRecord:
    """The status of one orchestration instance (the Durable "Instances" table row).

    Attributes:
        input_json: The input as stored (`ExecutionStarted.Input`, JSON text).
        output: The output as the status API returns it (a JSON value; the failure message when Failed).
        custom_status: The last custom status the orchestrator set (a JSON value).
        history_length: Events in the current execution's history.
        episodes: Orchestrator invocations (replays) of this instance.
        owner: The process that drives the instance (`ownership.this_process()`), for taking over
            the instances of a process that died.
    """

    instance_id: str
    name: str
    runtime_status: RuntimeStatus
    created_time: datetime
    last_updated_time: datetime
    execution_id: str
    input_json: str | None = None
    output: Any = None
    custom_status: Any = None
    parent_instance_id: str | None = None
    history_length: int = 0
    episodes: int = 0
    version: str = ""
    owner: str = ""

    @property
    def error(self) -> str | None:
        """Why the instance did not complete: the failure message (Failed) or the reason (Terminated)."""
        if self.runtime_status in (RuntimeStatus.FAILED, RuntimeStatus.TERMINATED):
            return None if self.output is None else str(self.output)
        return None

    def copy(self) -> InstanceRecord:
        return dataclasses.replace(self)


class HistoryStore(Protocol):
    """Persistence of instance records and histories; all methods may do I/O."""

    async def checkpoint(
        self, record: InstanceRecord, new_events: Sequence[HistoryEvent], *, new_execution: bool = False
    ) -> None:
        """Store `record` and append `new_events` (replacing the history when `new_execution`)."""
        ...

    async def create(self, record: InstanceRecord) -> InstanceRecord | None:
        """Store the record of a new instance, with an empty history, unless the instance has a record
        already: then store nothing and return that record."""
        ...

    async def record(self, instance_id: str) -> InstanceRecord | None: ...

    async def records(self) -> list[InstanceRecord]: ...

    async def history(self, instance_id: str) -> list[HistoryEvent]: ...

    async def purge(self, instance_id: str) -> bool:
        """Delete the record and history; False when there was none."""
        ...


class InMemoryHistoryStore:
    """`HistoryStore` in process memory: fast, and gone with the process."""

    def __init__(self) -> None:
        self._records: dict[str, InstanceRecord] = {}
        self._histories: dict[str, list[HistoryEvent]] = {}

    async def checkpoint(
        self, record: InstanceRecord, new_events: Sequence[HistoryEvent], *, new_execution: bool = False
    ) -> None:
        self._records[record.instance_id] = record.copy()
        if new_execution or record.instance_id not in self._histories:
            self._histories[record.instance_id] = list(new_events)
        else:
            self._histories[record.instance_id].extend(new_events)

    async def create(self, record: InstanceRecord) -> InstanceRecord | None:
        if record.instance_id in self._records:
            return self._records[record.instance_id].copy()
        await self.checkpoint(record, [], new_execution=True)
        return None

    async def record(self, instance_id: str) -> InstanceRecord | None:
        record = self._records.get(instance_id)
        return record.copy() if record else None

    async def records(self) -> list[InstanceRecord]:
        return [record.copy() for record in self._records.values()]

    async def history(self, instance_id: str) -> list[HistoryEvent]:
        return list(self._histories.get(instance_id, []))

    async def purge(self, instance_id: str) -> bool:
        self._histories.pop(instance_id, None)
        return self._records.pop(instance_id, None) is not None
