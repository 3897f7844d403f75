"""`LocalFunctionsHost`: the app's Durable Functions running in-process, without the Functions host.

    async with LocalFunctionsHost(app, max_concurrent_orchestrations=8, timer_scale=0.01) as host:
        response = await host.call_http("http_start", "POST", "start/hello", body=b"{}")
        instance_id = json.loads(response.get_body())["id"]
        record = await host.wait_for(instance_id)

It indexes the app, serves the Durable HTTP API on a loopback port (so unmodified starters and
`DurableOrchestrationClient` calls work) and drives orchestrations with `OrchestrationEngine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from pipeline.functions_host.durable_http import DurableHttpApi
from pipeline.functions_host.history import HistoryEvent
from pipeline.functions_host.history_store import HistoryStore, InstanceRecord
from pipeline.functions_host.indexing import HTTP_TRIGGER, TIMER_TRIGGER, FunctionIndex, index_app
from pipeline.functions_host.instance_runtime import EngineStats, OverridableStates
from pipeline.functions_host.replay import OrchestrationEngine
from pipeline.functions_host.sdk_session import close_client_session, reset_client_session
from pipeline.functions_host.singleton import ProcessSingleton, SingletonLock
from pipeline.functions_host.starters import call_function, http_request, match_route, resolve_function
from pipeline.functions_host.trigger_delivery import (
    DEFAULT_MAX_DEQUEUE_COUNT,
    MemoryPoisonQueue,
    PoisonQueue,
    deliver,
    replayable,
)
from pipeline.functions_host.workers import ActivityWorkers


class LocalFunctionsHost:
    """Runs a `df.DFApp` / `func.FunctionApp` locally; use as `async with`.

    Args:
        app: The app object `function_app.py` builds.
        max_concurrent_orchestrations: Top-level instances running at once; the rest wait as Pending.
        max_concurrent_activities: Activity attempts running at once (None: unbounded).
        timer_scale: Real seconds waited per durable-timer second (retry intervals included); 0 fires at once.
        verify: Replay every episode twice through the SDK and check determinism and task ids.
        store: Where records and histories live (default: in memory).
        task_hub: The task hub name clients see.
        overridable_existing_instance_states: As host.json `durableTask.overridableExistingInstanceStates`.
        host, port: Where the Durable HTTP API listens (port 0: a free port).
        workers: Worker processes to run activity attempts in (None: in this process), started and
            stopped with the host.
        poison_queue: Where a blob trigger's message goes after `max_dequeue_count` failed attempts
            (default: in memory).
        max_dequeue_count: As host.json `extensions.queues.maxDequeueCount`.
        singleton: How timer triggers run one at a time across instances (default: within this process).
    """

    def __init__(
        self,
        app: func.FunctionApp,
        *,
        max_concurrent_orchestrations: int = 8,
        max_concurrent_activities: int | None = None,
        timer_scale: float = 1.0,
        verify: bool = True,
        store: HistoryStore | None = None,
        task_hub: str = "LocalTaskHub",
        overridable_existing_instance_states: OverridableStates = "NonRunningStates",
        host: str = "127.0.0.1",
        port: int = 0,
        workers: ActivityWorkers | None = None,
        poison_queue: PoisonQueue | None = None,
        max_dequeue_count: int = DEFAULT_MAX_DEQUEUE_COUNT,
        singleton: SingletonLock | None = None,
    ) -> None:
        self.app = app
        self.poison_queue: PoisonQueue = poison_queue if poison_queue is not None else MemoryPoisonQueue()
        self._max_dequeue_count = max_dequeue_count
        self.singleton: SingletonLock = singleton if singleton is not None else ProcessSingleton()
        self._timer_scale = timer_scale
        self.index: FunctionIndex = index_app(app)
        self._engine_options: dict[str, Any] = {
            "store": store,
            "max_concurrent_orchestrations": max_concurrent_orchestrations,
            "max_concurrent_activities": max_concurrent_activities,
            "timer_scale": timer_scale,
            "verify": verify,
            "overridable_existing_instance_states": overridable_existing_instance_states,
            "workers": workers,
        }
        self.workers = workers
        self._task_hub = task_hub
        self._address = (host, port)
        self._engine: OrchestrationEngine | None = None
        self._api: DurableHttpApi | None = None

    async def __aenter__(self) -> LocalFunctionsHost:
        reset_client_session()
        if self.workers is not None:
            await self.workers.start()  # they warm up while the host starts and the caller goes on
        self._engine = OrchestrationEngine(self.index, **self._engine_options)
        self._api = DurableHttpApi(self._engine, task_hub=self._task_hub)
        await self._api.start(*self._address)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.engine.close()
        await self.api.stop()
        await close_client_session()
        if self.workers is not None:
            await self.workers.close()

    @property
    def engine(self) -> OrchestrationEngine:
        if self._engine is None:
            raise RuntimeError("LocalFunctionsHost is not running: use `async with`")
        return self._engine

    @property
    def api(self) -> DurableHttpApi:
        if self._api is None:
            raise RuntimeError("LocalFunctionsHost is not running: use `async with`")
        return self._api

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:<port>`: the host's address, for HTTP requests and status links."""
        return self.api.origin

    # -- clients and starters ----------------------------------------------------------------------

    def client_binding_json(self, task_hub: str | None = None, connection_name: str | None = None) -> str:
        """The JSON string the host passes to a `durable_client_input` parameter."""
        return self.api.client_binding_json(task_hub, connection_name)

    def client(self) -> df.DurableOrchestrationClient:
        """A `DurableOrchestrationClient` bound to this host, for tests and scripts."""
        return df.DurableOrchestrationClient(self.client_binding_json())

    async def call_starter(self, function: str | Any, **kwargs: Any) -> Any:
        """Call any function of the app (typically one with `durable_client_input`) as the host would.

        `function` is its name, the decorated object or its callable; pass the other bindings by name
        (`timer=...`, `events=...`); the durable client bindings and `context` are filled in. A failure
        is retried as the host retries it (`trigger_delivery`): by the function's retry policy, or for
        a blob trigger up to `max_dequeue_count` times and then into the poison queue.
        """
        target = resolve_function(self.index, function)
        trigger_input = replayable(kwargs.get(target.trigger_parameter))
        if target.trigger_type == TIMER_TRIGGER:  # one invocation at a time across instances
            async with self.singleton.hold(target.name):
                return await self._deliver(target, trigger_input, kwargs)
        return await self._deliver(target, trigger_input, kwargs)

    async def _deliver(self, target: Any, trigger_input: Any, kwargs: dict[str, Any]) -> Any:
        return await deliver(
            target,
            lambda: call_function(
                target, self.client_binding_json, **{**kwargs, target.trigger_parameter: trigger_input()}
            ),
            timer_scale=self._timer_scale,
            poison_queue=self.poison_queue,
            max_dequeue_count=self._max_dequeue_count,
            blob=trigger_input(),
        )

    def http_request(self, method: str, path: str, **kwargs: Any) -> func.HttpRequest:
        """An `HttpRequest` addressed to this host (`/api/<path>`); see `starters.http_request`."""
        return http_request(self.origin, method, path, **kwargs)

    async def call_http(
        self,
        function: str | Any,
        method: str,
        path: str,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Call an HTTP-triggered function with a request for `path`, route parameters from its template."""
        target = resolve_function(self.index, function)
        if target.trigger_type != HTTP_TRIGGER:
            raise TypeError(f"{target.name!r} is not HTTP-triggered ({target.trigger_type})")
        route = str(target.trigger.get("route") or target.name)
        route_params = match_route(route, path)
        if route_params is None:
            raise ValueError(f"path {path!r} does not match route {route!r} of {target.name!r}")
        request = self.http_request(method, path, body=body, headers=headers, params=params, route_params=route_params)
        return await call_function(target, self.client_binding_json, **{target.trigger_parameter: request})

    # -- instances ---------------------------------------------------------------------------------

    async def wait_for(self, instance_id: str, timeout: float | None = 300.0) -> InstanceRecord:
        """Wait for one instance to finish; raises if the host hit an internal error on it."""
        return await self.engine.wait_for(instance_id, timeout)

    async def wait_all(self, timeout: float | None = 300.0) -> list[InstanceRecord]:
        """Wait until no instance is Pending or Running."""
        return await self.engine.wait_all(timeout)

    async def history(self, instance_id: str) -> list[HistoryEvent]:
        return await self.engine.history(instance_id)

    @property
    def instances(self) -> dict[str, InstanceRecord]:
        """Every instance's record (status, input, output, custom status, times, history length), by id."""
        return self.engine.records

    @property
    def stats(self) -> EngineStats:
        """Counters: `orchestrations`, `activities` (every attempt), `history_events`, episodes, ..."""
        return self.engine.stats
