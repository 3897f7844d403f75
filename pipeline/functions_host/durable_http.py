"""A loopback HTTP server answering the Durable extension's HTTP API, so real durable clients work locally.

`DurableOrchestrationClient` does everything over HTTP to the binding's `rpcBaseUrl` (the extension's local
RPC listener, `http://127.0.0.1:<port>/durabletask/`); the management URLs it hands out point at the public
webhook path `/runtime/webhooks/durabletask/`. This server answers both, with the extension's status codes:

* `POST orchestrators/{name}[/{instanceId}]`: the body is the client's input, JSON-encoded twice (the SDK
  `df_dumps` it, then aiohttp `json=` encodes that string again); it is stored as-is as the input. 202 with
  the management payload. Starting an id whose instance is still Pending/Running answers 500, as the
  extension does: `StartNewAsync` throws an `InvalidOperationException` (the default
  `overridableExistingInstanceStates` is `NonRunningStates`), which `HttpApiHandler` answers with its
  catch-all "Something went wrong" error; the Python client then raises with that body. A finished
  (Completed, Failed, Terminated) instance is replaced and runs again.
  An unknown orchestrator answers 400 (with `ExceptionMessage`, which the Python client reads).
* `GET instances/{id}`: 200 (done), 202 (running), 404 (unknown); Failed answers 200 unless
  `returnInternalServerErrorOnFailure=true` (500). `showHistory` adds `historyEvents`.
* `GET instances/` (filters `runtimeStatus`, `createdTimeFrom`, `createdTimeTo`, `instanceIdPrefix`),
  `DELETE instances/{id}` (412 unless finished), `DELETE instances/?createdTimeFrom=...`.
* `POST instances/{id}/raiseEvent/{name}` (202, 404, 410; `application/json` only). The extension parses the
  body once and stores it re-serialized, so the orchestrator receives `json.dumps(event_data)` as a *string*
  (a known quirk: azure-functions-durable-python issue #295).
* `POST instances/{id}/terminate?reason=...` (202, 404, 410).
* suspend, resume, rewind, restart and entity routes answer 501: not emulated.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from pipeline.functions_host import history as h
from pipeline.functions_host.history_store import InstanceRecord, RuntimeStatus
from pipeline.functions_host.instance_runtime import (
    InstanceExistsError,
    InstanceGoneError,
    InstanceNotFoundError,
    InstanceNotTerminalError,
    OrchestratorNotFoundError,
)
from pipeline.functions_host.replay import OrchestrationEngine

RPC_PATH = "/durabletask/"
WEBHOOK_PATH = "/runtime/webhooks/durabletask"
INSTANCE_ID_PLACEHOLDER = "INSTANCEID"
DEFAULT_CONNECTION_NAME = "Storage"
RETURN_500_ON_FAILURE = "returnInternalServerErrorOnFailure"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DurableHttpApi:
    """The extension's HTTP API over an `OrchestrationEngine`, on 127.0.0.1 and a free port by default."""

    def __init__(self, engine: OrchestrationEngine, *, task_hub: str = "LocalTaskHub") -> None:
        self.engine = engine
        self.task_hub = task_hub
        self._runner: web.AppRunner | None = None
        self.origin = ""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        for prefix in (RPC_PATH.rstrip("/"), WEBHOOK_PATH):
            self._add_routes(app, prefix)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.origin = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def rpc_base_url(self) -> str:
        return f"{self.origin}{RPC_PATH}"

    @property
    def webhook_base_url(self) -> str:
        return f"{self.origin}{WEBHOOK_PATH}"

    # -- binding data ------------------------------------------------------------------------------

    def client_binding_json(self, task_hub: str | None = None, connection_name: str | None = None) -> str:
        """The string the host passes to a `durable_client_input` binding (extension `BindingHelper`)."""
        instances = f"{self.webhook_base_url}/orchestrators/{{functionName}}[/{{instanceId}}]"
        return json.dumps(
            {
                "taskHubName": task_hub or self.task_hub,
                "connectionName": connection_name,
                "creationUrls": {
                    "createNewInstancePostUri": f"{instances}?",
                    "createAndWaitOnNewInstancePostUri": (
                        f"{instances}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&"
                    ),
                },
                "managementUrls": self.management_urls(INSTANCE_ID_PLACEHOLDER, task_hub, connection_name),
                "baseUrl": self.webhook_base_url,
                "requiredQueryStringParameters": "",
                "rpcBaseUrl": self.rpc_base_url,
                "httpBaseUrl": None,
                "maxGrpcMessageSizeInBytes": None,
            }
        )

    def management_urls(
        self,
        instance_id: str,
        task_hub: str | None = None,
        connection_name: str | None = None,
        origin: str | None = None,
    ) -> dict[str, str]:
        """The extension's `HttpManagementPayload` for one instance."""
        instance = f"{origin or self.origin}{WEBHOOK_PATH}/instances/{quote(instance_id, safe='')}"
        hub, connection = quote(task_hub or self.task_hub), quote(connection_name or DEFAULT_CONNECTION_NAME)
        query = f"taskHub={hub}&connection={connection}"
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{instance}?{query}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
            "purgeHistoryDeleteUri": f"{instance}?{query}",
            "restartPostUri": f"{instance}/restart?{query}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
        }

    # -- routes ------------------------------------------------------------------------------------

    def _add_routes(self, app: web.Application, prefix: str) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("POST", "/orchestrators/{function_name}", self._start),
            ("POST", "/orchestrators/{function_name}/{instance_id}", self._start),
            ("GET", "/instances", self._list),
            ("GET", "/instances/", self._list),
            ("DELETE", "/instances", self._purge_by_filter),
            ("DELETE", "/instances/", self._purge_by_filter),
            ("GET", "/instances/{instance_id}", self._status),
            ("DELETE", "/instances/{instance_id}", self._purge),
            ("POST", "/instances/{instance_id}/raiseEvent/{event_name}", self._raise_event),
            ("POST", "/instances/{instance_id}/terminate", self._terminate),
            ("POST", "/instances/{instance_id}/{operation}", self._not_emulated),
            ("*", "/entities/{tail:.*}", self._not_emulated),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, handler)

    async def _start(self, request: web.Request) -> web.Response:
        name = request.match_info["function_name"]
        body = await request.text()
        input_json = body if body else None
        if input_json is not None:
            try:
                json.loads(input_json)
            except json.JSONDecodeError as exc:
                return _error(400, "Invalid JSON content", str(exc))
        try:
            instance_id = await self.engine.start_new(
                name, request.match_info.get("instance_id"), input_json, version=request.query.get("version", "")
            )
        except OrchestratorNotFoundError as exc:
            return _error(400, str(exc), str(exc))
        except InstanceExistsError as exc:
            return _error(
                500,
                "Something went wrong while processing your request",
                str(exc),
                exception_type="System.InvalidOperationException",
            )
        links = self.management_urls(instance_id, origin=_origin(request))
        payload = {key: value for key, value in links.items() if key != "rewindPostUri"}
        return web.json_response(
            payload, status=202, headers={"Location": links["statusQueryGetUri"], "Retry-After": "10"}
        )

    async def _status(self, request: web.Request) -> web.Response:
        record = await self.engine.get_record(request.match_info["instance_id"])
        if record is None:
            return web.Response(status=404)
        query = request.query
        payload = status_payload(record, show_input=_flag(query, "showInput", default=True))
        if _flag(query, "showHistory", default=False):
            history = await self.engine.history(record.instance_id)
            payload["historyEvents"] = history_for_status(history, _flag(query, "showHistoryOutput", False))
        status_code, headers = 200, {}
        if record.runtime_status in (RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.CONTINUED_AS_NEW):
            status_code, headers = 202, {"Location": str(request.url), "Retry-After": "5"}
        elif record.runtime_status is RuntimeStatus.FAILED and _flag(query, RETURN_500_ON_FAILURE, False):
            status_code = 500
        return web.json_response(payload, status=status_code, headers=headers)

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        wanted = {s for part in query.getall("runtimeStatus", []) for s in part.split(",") if s}
        created_from = _query_time(query.get("createdTimeFrom"))
        created_to = _query_time(query.get("createdTimeTo"))
        prefix = query.get("instanceIdPrefix", "")
        show_input = _flag(query, "showInput", default=True)
        records = [
            record
            for record in await self.engine.list_records()
            if (not wanted or record.runtime_status.value in wanted)
            and (created_from is None or record.created_time >= created_from)
            and (created_to is None or record.created_time <= created_to)
            and record.instance_id.startswith(prefix)
        ]
        records.sort(key=lambda record: record.created_time)
        return web.json_response([status_payload(record, show_input=show_input) for record in records])

    async def _purge(self, request: web.Request) -> web.Response:
        try:
            await self.engine.purge(request.match_info["instance_id"])
        except InstanceNotFoundError:
            return web.Response(status=404)
        except InstanceNotTerminalError as exc:
            return web.json_response(str(exc), status=412)
        return web.json_response({"instancesDeleted": 1})

    async def _purge_by_filter(self, request: web.Request) -> web.Response:
        created_from = _query_time(request.query.get("createdTimeFrom"))
        if created_from is None:
            return web.json_response("Please provide value for 'createdTimeFrom' parameter.", status=400)
        created_to = _query_time(request.query.get("createdTimeTo"))
        wanted = {s for part in request.query.getall("runtimeStatus", []) for s in part.split(",") if s}
        deleted = 0
        for record in await self.engine.list_records():
            if (
                record.runtime_status.is_terminal
                and record.created_time >= created_from
                and (created_to is None or record.created_time <= created_to)
                and (not wanted or record.runtime_status.value in wanted)
            ):
                await self.engine.purge(record.instance_id)
                deleted += 1
        if deleted == 0:
            return web.Response(status=404)
        return web.json_response({"instancesDeleted": deleted})

    async def _raise_event(self, request: web.Request) -> web.Response:
        instance_id, event_name = request.match_info["instance_id"], request.match_info["event_name"]
        record = await self.engine.get_record(instance_id)
        if record is None:
            return web.Response(status=404)
        if record.runtime_status.is_terminal:
            return web.Response(status=410)
        if request.content_type.lower() != "application/json":
            return _error(400, "Only application/json request content is supported")
        body = await request.text()
        try:
            token = json.loads(body) if body else None
        except json.JSONDecodeError as exc:
            return _error(400, "Invalid JSON content", str(exc))
        try:
            await self.engine.raise_event(instance_id, event_name, json.dumps(token))
        except InstanceGoneError:
            return web.Response(status=410)
        return web.Response(status=202)

    async def _terminate(self, request: web.Request) -> web.Response:
        try:
            await self.engine.terminate(request.match_info["instance_id"], request.query.get("reason"))
        except InstanceNotFoundError:
            return web.Response(status=404)
        except InstanceGoneError:
            return web.Response(status=410)
        return web.Response(status=202)

    async def _not_emulated(self, request: web.Request) -> web.Response:
        return _error(501, f"{request.method} {request.path} is not emulated by the local host")


def status_payload(record: InstanceRecord, *, show_input: bool) -> dict[str, Any]:
    """The extension's `StatusResponsePayload`; times as `ToString("s") + "Z"`."""
    stored_input = json.loads(record.input_json) if show_input and record.input_json is not None else None
    return {
        "name": record.name,
        "instanceId": record.instance_id,
        "runtimeStatus": record.runtime_status.value,
        "input": stored_input,
        "customStatus": record.custom_status,
        "output": record.output,
        "createdTime": record.created_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lastUpdatedTime": record.last_updated_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def history_for_status(history: list[h.HistoryEvent], show_output: bool) -> list[dict[str, Any]]:
    """A readable history like the extension's: scheduling folded into completions, replay markers dropped."""
    scheduled = {
        e["EventId"]: e
        for e in history
        if e["EventType"] in (h.EventType.TASK_SCHEDULED, h.EventType.SUB_ORCHESTRATION_INSTANCE_CREATED)
    }
    hidden = {
        h.EventType.ORCHESTRATOR_STARTED,
        h.EventType.ORCHESTRATOR_COMPLETED,
        h.EventType.TASK_SCHEDULED,
        h.EventType.SUB_ORCHESTRATION_INSTANCE_CREATED,
    }
    readable = []
    for event in history:
        if event["EventType"] in hidden:
            continue
        item: dict[str, Any] = {"EventType": h.event_type_name(event), "Timestamp": event["Timestamp"]}
        origin = scheduled.get(event.get("TaskScheduledId"))
        if origin is not None:
            item["FunctionName"] = origin.get("Name")
            item["ScheduledTime"] = origin["Timestamp"]
        for key in ("Name", "FireAt", "Reason", "Details", "OrchestrationStatus"):
            if event.get(key) is not None:
                item["FunctionName" if key == "Name" else key] = event[key]
        if show_output:
            for key in ("Input", "Result"):
                if event.get(key) is not None:
                    item[key] = event[key]
        readable.append(item)
    return readable


def _error(
    status: int, message: str, exception_message: str | None = None, *, exception_type: str | None = None
) -> web.Response:
    """The body of ASP.NET's `CreateErrorResponse` (an `HttpError`), as the extension answers errors."""
    body: dict[str, Any] = {"Message": message}
    if exception_message is not None:
        body["ExceptionMessage"] = exception_message
    if exception_type is not None:
        body["ExceptionType"] = exception_type
    return web.json_response(body, status=status)


def _flag(query: Any, name: str, default: bool) -> bool:
    value = query.get(name)
    return default if value is None else value.lower() == "true"


def _query_time(value: str | None) -> datetime | None:
    return h.parse_time(value if value.endswith("Z") else value + "Z") if value else None


def _origin(request: web.Request) -> str:
    parts = urlsplit(str(request.url))
    return f"{parts.scheme}://{parts.netloc}"
