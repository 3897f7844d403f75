"""Durable Task history events, shaped as the Durable extension serializes them for the Python worker.

The extension sends `JArray.FromObject(context.History)`: Durable Task Framework `HistoryEvent` objects
with PascalCase properties and `EventType` as its integer value. Events that a decision creates carry the
task id in `EventId` (`TaskScheduled`, `TimerCreated`, `SubOrchestrationInstanceCreated`); events that
complete a task carry `EventId: -1` and point back with `TaskScheduledId` or `TimerId`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as EventType

HistoryEvent = dict[str, Any]

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""The SDK's own timestamp format (`azure.durable_functions.constants.DATETIME_STRING_FORMAT`)."""


class OrchestrationStatus(IntEnum):
    """`DurableTask.Core.OrchestrationStatus`, as `ExecutionCompleted.OrchestrationStatus` carries it."""

    RUNNING = 0
    COMPLETED = 1
    CONTINUED_AS_NEW = 2
    FAILED = 3
    CANCELED = 4
    TERMINATED = 5
    PENDING = 6


def format_time(moment: datetime) -> str:
    """A UTC timestamp as history and actions carry it."""
    return moment.astimezone(UTC).strftime(DATETIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse a history/action timestamp (always UTC, `Z` suffix, microseconds or .NET's 7 digits)."""
    cleaned = text.rstrip("Z")
    if "." in cleaned:
        head, fraction = cleaned.split(".", 1)
        cleaned = f"{head}.{fraction[:6].ljust(6, '0')}"
    else:
        cleaned = f"{cleaned}.000000"
    return datetime.strptime(cleaned, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def _event(event_type: EventType, moment: datetime, event_id: int = -1, **fields: Any) -> HistoryEvent:
    return {
        "EventType": int(event_type),
        "EventId": event_id,
        "IsPlayed": False,
        "Timestamp": format_time(moment),
        **fields,
    }


def orchestrator_started(moment: datetime) -> HistoryEvent:
    return _event(EventType.ORCHESTRATOR_STARTED, moment)


def orchestrator_completed(moment: datetime) -> HistoryEvent:
    return _event(EventType.ORCHESTRATOR_COMPLETED, moment)


def execution_started(
    moment: datetime,
    *,
    name: str,
    instance_id: str,
    execution_id: str,
    input_json: str | None,
    version: str = "",
    parent: dict[str, Any] | None = None,
) -> HistoryEvent:
    """`ExecutionStarted`: `Input` is the stored JSON text; the SDK requires `Version` to be present."""
    return _event(
        EventType.EXECUTION_STARTED,
        moment,
        OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": execution_id},
        ParentInstance=parent,
        Name=name,
        Version=version,
        Input=input_json,
        Tags=None,
        Correlation=None,
        ScheduledStartTime=None,
        Generation=0,
    )


def execution_completed(
    moment: datetime, status: OrchestrationStatus, result: str | None, failure: dict[str, Any] | None = None
) -> HistoryEvent:
    return _event(
        EventType.EXECUTION_COMPLETED,
        moment,
        OrchestrationStatus=int(status),
        Result=result,
        FailureDetails=failure,
    )


def execution_terminated(moment: datetime, reason: str | None) -> HistoryEvent:
    return _event(EventType.EXECUTION_TERMINATED, moment, Input=reason)


def task_scheduled(moment: datetime, task_id: int, name: str, input_json: str | None) -> HistoryEvent:
    return _event(EventType.TASK_SCHEDULED, moment, task_id, Name=name, Version=None, Input=input_json)


def task_completed(moment: datetime, task_id: int, result: str | None) -> HistoryEvent:
    return _event(EventType.TASK_COMPLETED, moment, TaskScheduledId=task_id, Result=result)


def task_failed(moment: datetime, task_id: int, reason: str, details: str | None) -> HistoryEvent:
    return _event(
        EventType.TASK_FAILED, moment, TaskScheduledId=task_id, Reason=reason, Details=details, FailureDetails=None
    )


def timer_created(moment: datetime, timer_id: int, fire_at: datetime) -> HistoryEvent:
    return _event(EventType.TIMER_CREATED, moment, timer_id, FireAt=format_time(fire_at))


def timer_fired(moment: datetime, timer_id: int, fire_at: datetime) -> HistoryEvent:
    return _event(EventType.TIMER_FIRED, moment, TimerId=timer_id, FireAt=format_time(fire_at))


def event_raised(moment: datetime, name: str, input_json: str | None) -> HistoryEvent:
    return _event(EventType.EVENT_RAISED, moment, Name=name, Input=input_json)


def sub_orchestration_created(
    moment: datetime, task_id: int, name: str, instance_id: str, input_json: str | None
) -> HistoryEvent:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
        moment,
        task_id,
        Name=name,
        Version="",
        InstanceId=instance_id,
        Input=input_json,
    )


def sub_orchestration_completed(moment: datetime, task_id: int, result: str | None) -> HistoryEvent:
    return _event(EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, moment, TaskScheduledId=task_id, Result=result)


def sub_orchestration_failed(moment: datetime, task_id: int, reason: str, details: str | None) -> HistoryEvent:
    return _event(
        EventType.SUB_ORCHESTRATION_INSTANCE_FAILED,
        moment,
        TaskScheduledId=task_id,
        Reason=reason,
        Details=details,
        FailureDetails=None,
    )


def event_type_name(event: HistoryEvent) -> str:
    """`TaskCompleted`, `TimerFired`, ...: the names the extension's status API shows."""
    return "".join(part.capitalize() for part in EventType(event["EventType"]).name.split("_"))


def mark_played(events: list[HistoryEvent]) -> None:
    """Past episodes are replayed: the extension sends them with `IsPlayed: true`."""
    for event in events:
        event["IsPlayed"] = True


def json_text(value: Any) -> str:
    """JSON text as the .NET side writes it (compact separators do not matter to the SDK)."""
    return json.dumps(value)
