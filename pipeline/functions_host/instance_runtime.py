"""The engine's runtime types: per-instance state, counters and the errors client operations raise."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from pipeline.functions_host import history as h
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus

EPOCH = datetime.min.replace(tzinfo=UTC)

OverridableStates = Literal["NonRunningStates", "AnyState"]


class OrchestratorNotFoundError(LookupError):
    """No orchestrator function has that name."""


class InstanceNotFoundError(LookupError):
    """No instance has that id."""


class InstanceExistsError(RuntimeError):
    """An instance with that id is still running (and only non-running instances may be replaced)."""

    def __init__(self, instance_id: str, status: RuntimeStatus) -> None:
        super().__init__(f"An Orchestration instance with the status {status.value} already exists.")
        self.instance_id, self.status = instance_id, status


class InstanceGoneError(RuntimeError):
    """The instance already finished (completed, failed or terminated)."""


class InstanceNotTerminalError(RuntimeError):
    """Only finished instances may be purged."""


@dataclass
class EngineStats:
    """Counters over the engine's lifetime. Every activity attempt counts, retries included."""

    orchestrations_started: int = 0
    orchestrations_resumed: int = 0
    orchestrations_completed: int = 0
    orchestrations_failed: int = 0
    orchestrations_terminated: int = 0
    activity_executions: int = 0
    activity_failures: int = 0
    timers_fired: int = 0
    episodes: int = 0
    history_events: int = 0

    @property
    def orchestrations(self) -> int:
        return self.orchestrations_started

    @property
    def activities(self) -> int:
        return self.activity_executions

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ParentRef:
    instance_id: str
    execution_id: str
    name: str
    task_id: int


@dataclass
class LiveInstance:
    """An instance while the engine drives it: its inbox of messages, its history, its timers and its clock.

    The clock is real UTC time plus an offset that only grows: an episode delivering a timer never starts
    before the timer's `FireAt`, even when `timer_scale` made it fire early in real time, and timestamps
    of one instance are strictly increasing.
    """

    record: InstanceRecord
    parent: ParentRef | None = None
    history: list[h.HistoryEvent] = field(default_factory=list)
    inbox: asyncio.Queue[tuple[str, h.HistoryEvent]] = field(default_factory=asyncio.Queue)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task[None] | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)
    started: bool = False
    fresh_execution: bool = True
    clock_offset: timedelta = timedelta(0)
    last_time: datetime = EPOCH
    execution_started_at: datetime | None = None
    host_error: BaseException | None = None

    def now(self, at_least: datetime | None = None) -> datetime:
        moment = datetime.now(UTC) + self.clock_offset
        if at_least is not None and moment < at_least:
            self.clock_offset += at_least - moment
            moment = at_least
        if moment <= self.last_time:
            moment = self.last_time + timedelta(microseconds=1)
        self.last_time = moment
        return moment
