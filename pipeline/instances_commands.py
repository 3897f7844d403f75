"""`python -m pipeline instances list|show|terminate|purge`: the local task hub's orchestration instances.

The verbs are the Durable HTTP API's (status, terminate, purge), read from and written to the task
hub the local runner keeps in Azurite (`TableHistoryStore`, the hub named in `host.json`). The same
list is served by a running local host at `GET /runtime/webhooks/durabletask/instances`.

- `list [--status S …] [--json]`: every instance with its status, times and history length.
- `show ID [--history] [--json]`: one instance's status payload, and its history if asked.
- `terminate ID [--reason TEXT]`: ends an unfinished instance as Terminated, as the API's terminate
  does once the instance takes the message. Only an instance whose process is gone can be terminated
  here; a live runner's instances are its own. The reconciliation sweep restarts a terminated batch
  from its claim check (batches are never left half done); purge it to keep it off the list.
- `purge ID | --finished`: deletes finished instances and their histories.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import StoreUnavailableError
from pipeline.functions_host import history as h
from pipeline.functions_host.durable_http import history_for_status, status_payload
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus
from pipeline.functions_host.ownership import owner_alive
from pipeline.functions_host.table_history_store import TableHistoryStore, task_hub_name
from pipeline.runtime import Runtime
from pipeline.settings import Settings


def add_parser(commands: Any) -> None:
    instances = commands.add_parser("instances", help="list, show, terminate or purge orchestration instances")
    actions = instances.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every instance of the task hub")
    listing.add_argument("--status", action="append", choices=[s.value for s in RuntimeStatus], help="filter")
    listing.add_argument("--json", action="store_true", help="the status API's payloads as JSON")
    show = actions.add_parser("show", help="one instance's status (and history)")
    show.add_argument("instance_id")
    show.add_argument("--history", action="store_true", help="with its history")
    show.add_argument("--json", action="store_true")
    terminate = actions.add_parser("terminate", help="end an unfinished instance whose process is gone")
    terminate.add_argument("instance_id")
    terminate.add_argument("--reason", default="terminated by an operator")
    purge = actions.add_parser("purge", help="delete finished instances and their histories")
    target = purge.add_mutually_exclusive_group(required=True)
    target.add_argument("instance_id", nargs="?")
    target.add_argument("--finished", action="store_true", help="every Completed, Failed or Terminated instance")


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if settings.blob.connection_string is None:
        print("instances: the task hub is local (Azurite); on Azure use the Durable HTTP API", file=sys.stderr)
        return 2
    runtime = Runtime.from_settings(settings)
    store = TableHistoryStore(settings.blob.connection_string, task_hub_name(), runtime.blobs)
    try:
        await store.ensure_tables()
        action = {"list": _list, "show": _show, "terminate": _terminate, "purge": _purge}[args.action]
        return await action(store, args)
    except StoreUnavailableError as error:
        print(f"instances: {error}; start the emulators with `make emulators-up`", file=sys.stderr)
        return 3
    finally:
        await store.close()
        await runtime.close()


async def _list(store: TableHistoryStore, args: argparse.Namespace) -> int:
    records = sorted(await store.records(), key=lambda r: r.created_time)
    if args.status:
        records = [r for r in records if r.runtime_status.value in args.status]
    if args.json:
        print(json.dumps([status_payload(r, show_input=False) for r in records], indent=2))
        return 0
    print(f"task hub {store.hub}: {len(records)} instance(s)")
    for r in records:
        print(
            f"{r.instance_id}  {r.runtime_status.value:<10} {r.name}  created {r.created_time:%Y-%m-%d %H:%M:%S}Z  "
            f"updated {r.last_updated_time:%H:%M:%S}Z  {r.history_length} events"
        )
    return 0


async def _show(store: TableHistoryStore, args: argparse.Namespace) -> int:
    record = await store.record(args.instance_id)
    if record is None:
        print(f"instances: no instance {args.instance_id!r} in task hub {store.hub}", file=sys.stderr)
        return 1
    payload = status_payload(record, show_input=True)
    if args.history:
        payload["historyEvents"] = history_for_status(await store.history(record.instance_id), show_output=True)
    print(json.dumps(payload, indent=2) if args.json or args.history else _describe(record))
    return 0


async def _terminate(store: TableHistoryStore, args: argparse.Namespace) -> int:
    record = await store.record(args.instance_id)
    if record is None:
        print(f"instances: no instance {args.instance_id!r} in task hub {store.hub}", file=sys.stderr)
        return 1
    if record.runtime_status.is_terminal:
        print(f"instances: {record.instance_id} already ended {record.runtime_status.value}", file=sys.stderr)
        return 1
    if owner_alive(record.owner):
        print(
            f"instances: {record.instance_id} is driven by a running process ({record.owner}); "
            "terminate it through that host's HTTP API",
            file=sys.stderr,
        )
        return 1
    now = datetime.now(UTC)
    events = [
        h.orchestrator_started(now),
        h.execution_terminated(now, args.reason),
        h.execution_completed(now, h.OrchestrationStatus.TERMINATED, args.reason),
        h.orchestrator_completed(now),
    ]
    record.runtime_status, record.output, record.last_updated_time = RuntimeStatus.TERMINATED, args.reason, now
    record.history_length += len(events)
    await store.checkpoint(record, events)
    print(f"terminated {record.instance_id}: {args.reason}")
    return 0


async def _purge(store: TableHistoryStore, args: argparse.Namespace) -> int:
    if args.finished:
        targets = [r for r in await store.records() if r.runtime_status.is_terminal]
    else:
        record = await store.record(args.instance_id)
        if record is None:
            print(f"instances: no instance {args.instance_id!r} in task hub {store.hub}", file=sys.stderr)
            return 1
        if not record.runtime_status.is_terminal:
            print(f"instances: {record.instance_id} is {record.runtime_status.value}; only finished ones are purged")
            return 1
        targets = [record]
    for record in targets:
        await store.purge(record.instance_id)
    print(f"purged {len(targets)} instance(s)")
    return 0


def _describe(record: InstanceRecord) -> str:
    lines = [
        f"{record.instance_id}: {record.name}, {record.runtime_status.value}",
        f"  created {record.created_time:%Y-%m-%d %H:%M:%S}Z, updated {record.last_updated_time:%Y-%m-%d %H:%M:%S}Z",
        f"  {record.history_length} history events, {record.episodes} episodes, driven by {record.owner or '-'}",
    ]
    if record.output is not None:
        lines.append(f"  output: {json.dumps(record.output)}")
    return "\n".join(lines)
