"""Activity attempts in separate Python worker processes, as the Functions host runs them.

The Functions host hands invocations to language worker processes, and a Python app gets past the
GIL with several of them (per instance where the plan allows, and across instances as it scales).
`ActivityWorkers` does the same for the local host: each worker process imports the app, indexes it,
builds its own stores on its own event loop, and runs many activity attempts at once. Inputs and
results cross the process boundary as the same JSON text the in-process path uses, so an activity
cannot tell the difference.

What a worker records for the run report travels back to the parent: the metrics and its store
request counts so far with every result (so a long run can be watched), the final counts when the
worker stops. A worker that dies fails its in-flight attempts (the
orchestration's retry policy sends them to a live worker); a worker whose parent dies exits.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pipeline import worker_server
from pipeline.functions_host.activities import ActivityFailure, missing_activity_failure, run_activity
from pipeline.functions_host.indexing import FunctionNotFoundError, index_app
from pipeline.observability.metrics import Attributes, get_metrics, set_metrics

_log = logging.getLogger(__name__)


def default_worker_processes() -> int:
    """One worker process per CPU this process may use."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(len(cpus), 1)


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs to run the app's activities like the parent would."""

    app: str  # "module:attribute" of the Functions app, e.g. "function_app:app"
    settings: Any = None  # pipeline.settings.Settings: the stores the activities use (None: none installed)
    log_file: Path | None = None
    log_level: str = "INFO"


@dataclass
class _Worker:
    process: Any
    connection: Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: dict[int, asyncio.Future[str]] = field(default_factory=dict)
    alive: bool = True
    reader: threading.Thread | None = None


class ActivityWorkers:
    """A pool of worker processes; `run` is a drop-in for the in-process `run_activity`."""

    def __init__(self, processes: int, setup: WorkerSetup) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self._count = processes
        self._setup = setup
        self._workers: list[_Worker] = []
        self._ids = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Future[None] | None = None
        self.ready_at: float | None = None  # `time.monotonic()` when every worker was ready
        self.requests: dict[str, Counter[str]] = {}  # the workers' store request counts, once they stopped
        self._counts_so_far: dict[int, dict[str, dict[str, int]]] = {}  # per worker, with its latest result

    async def start(self) -> None:
        """Start the processes. Each imports the app and connects to its stores while the caller goes
        on; the first attempt waits until every worker is ready (`ready`)."""
        self._loop = asyncio.get_running_loop()
        # Never fork this process, which runs an event loop: fork the clean server, or spawn.
        context = worker_server.context() or multiprocessing.get_context("spawn")
        for number in range(self._count):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_worker_main, args=(child_end, self._setup), name=f"activity-worker-{number}", daemon=True
            )
            process.start()
            child_end.close()
            self._workers.append(_Worker(process, parent_end))
        self._ready = asyncio.ensure_future(self._all_ready())

    async def ready(self) -> None:
        """Wait until every worker has imported the app and connected to its stores; RuntimeError
        (with the worker's error) when one could not."""
        assert self._ready is not None, "start() first"
        await asyncio.shield(self._ready)

    async def _all_ready(self) -> None:
        ready = await asyncio.gather(
            *(asyncio.to_thread(w.connection.recv) for w in self._workers), return_exceptions=True
        )
        for worker, message in zip(self._workers, ready, strict=True):
            if message != ("ready",):
                detail = "it exited (its error is in the log)" if isinstance(message, EOFError) else message
                raise RuntimeError(f"activity worker {worker.process.name} failed to start: {detail}")
            worker.reader = threading.Thread(target=self._receive, args=(worker,), daemon=True)
            worker.reader.start()
        self.ready_at = time.monotonic()

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def requests_so_far(self) -> dict[str, Counter[str]]:
        """The workers' store request counts as of their latest results, while they run."""
        total: dict[str, Counter[str]] = {}
        for counts in list(self._counts_so_far.values()):
            for store, operations in counts.items():
                total.setdefault(store, Counter()).update(operations)
        return total

    async def run(self, name: str, input_json: str | None) -> str:
        """Run one attempt of activity `name` in the least busy live worker; result or ActivityFailure."""
        await self.ready()
        assert self._loop is not None
        live = [w for w in self._workers if w.alive]
        if not live:
            raise ActivityFailure(f"Activity function '{name}' failed: no live worker process", "{}")
        worker = min(live, key=lambda w: len(w.in_flight))
        task_id = next(self._ids)
        future: asyncio.Future[str] = self._loop.create_future()
        worker.in_flight[task_id] = future
        try:
            with worker.lock:
                worker.connection.send(("run", task_id, name, input_json))
        except (BrokenPipeError, OSError):
            self._lost(worker)
        return await future

    async def close(self) -> None:
        """Stop the workers, collecting their store request counts."""
        if self._ready is not None:
            await asyncio.gather(self._ready, return_exceptions=True)  # a worker still starting stops after
        for worker in self._workers:
            if worker.alive:
                with worker.lock:
                    try:
                        worker.connection.send(("stop",))
                    except (BrokenPipeError, OSError):
                        worker.alive = False
        for worker in self._workers:
            await asyncio.to_thread(worker.process.join, 30)
            if worker.process.is_alive():
                worker.process.kill()
            if worker.reader is not None:  # it has taken in the worker's last message (its counts)
                await asyncio.to_thread(worker.reader.join, 5)
            worker.connection.close()

    def _receive(self, worker: _Worker) -> None:
        """Reader thread: hands each result to the waiting attempt on the parent's event loop."""
        assert self._loop is not None
        loop = self._loop
        while True:
            try:
                message = worker.connection.recv()
            except (EOFError, OSError):
                break
            if message[0] == "stopped":
                for store, counts in message[1].items():
                    self.requests.setdefault(store, Counter()).update(counts)
                break
            _, task_id, outcome, payload, metrics, counts = message
            self._counts_so_far[id(worker)] = counts
            loop.call_soon_threadsafe(self._settle, worker, task_id, outcome, payload, metrics)
        if not loop.is_closed():
            loop.call_soon_threadsafe(self._lost, worker)

    def _settle(self, worker: _Worker, task_id: int, outcome: str, payload: Any, metrics: list[Any]) -> None:
        replay_metrics(metrics)
        future = worker.in_flight.pop(task_id)
        if future.done():
            return
        if outcome == "ok":
            future.set_result(payload)
        else:
            future.set_exception(ActivityFailure(*payload))

    def _lost(self, worker: _Worker) -> None:
        worker.alive = False
        for future in worker.in_flight.values():
            if not future.done():
                reason = f"the worker process {worker.process.name} exited during the attempt"
                future.set_exception(ActivityFailure(reason, "{}"))
        worker.in_flight.clear()


class ForwardingMetrics:
    """A worker's metrics: buffered, and sent to the parent with the next result."""

    def __init__(self) -> None:
        self.buffer: list[tuple[str, str, float, dict[str, str]]] = []

    def add(self, name: str, value: float = 1, attributes: Attributes | None = None) -> None:
        self.buffer.append(("add", name, value, dict(attributes or {})))

    def record(self, name: str, value: float, attributes: Attributes | None = None) -> None:
        self.buffer.append(("record", name, value, dict(attributes or {})))

    def drain(self) -> list[tuple[str, str, float, dict[str, str]]]:
        drained, self.buffer = self.buffer, []
        return drained


def replay_metrics(calls: list[Any]) -> None:
    metrics = get_metrics()
    for kind, name, value, attributes in calls:
        (metrics.add if kind == "add" else metrics.record)(name, value, attributes)


def _worker_main(connection: Connection, setup: WorkerSetup) -> None:
    """The worker process: import and index the app, then run attempts until told to stop."""
    try:
        if setup.log_file is not None:
            from pipeline.observability import configure_logging

            configure_logging(setup.log_level, stream=setup.log_file.open("a", encoding="utf-8"))
        module, _, attribute = setup.app.partition(":")
        index = index_app(getattr(importlib.import_module(module), attribute))
        metrics = ForwardingMetrics()
        set_metrics(metrics)
    except Exception as error:  # the parent reports it and stops
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    asyncio.run(_serve(connection, setup, index, metrics))


async def _serve(connection: Connection, setup: WorkerSetup, index: Any, metrics: ForwardingMetrics) -> None:
    from pipeline.runtime import Runtime, install_runtime

    runtime = Runtime.from_settings(setup.settings) if setup.settings is not None else None
    if runtime is not None:
        install_runtime(runtime)
        try:  # warm, as an instance is before it takes work: connections, container metadata, reference data
            await runtime.warm_up()
        except Exception:  # not fatal: the first attempt meets the same store, with retries
            _log.warning("activity worker could not reach its stores at start-up", exc_info=True)
        for store in (runtime.documents, runtime.blobs):  # the report counts the work, not the warm-up
            getattr(store, "requests", Counter()).clear()
            getattr(store, "batched_operations", Counter()).clear()
            getattr(store, "conflicts", Counter()).clear()
    loop = asyncio.get_running_loop()
    send_lock = threading.Lock()
    stopping = loop.create_future()
    tasks: set[asyncio.Task[None]] = set()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            connection.send(message)

    async def attempt(task_id: int, name: str, input_json: str | None) -> None:
        try:
            result = await run_activity(_function(index, name), input_json)
            message: tuple[Any, ...] = ("result", task_id, "ok", result, metrics.drain(), store_counts(runtime))
        except ActivityFailure as failure:
            outcome = (failure.reason, failure.details)
            message = ("result", task_id, "failed", outcome, metrics.drain(), store_counts(runtime))
        except Exception as error:  # never leave the parent waiting
            reason = f"Activity function '{name}' failed: {type(error).__name__}: {error}"
            message = ("result", task_id, "failed", (reason, "{}"), metrics.drain(), store_counts(runtime))
        await asyncio.to_thread(send, message)

    def start(task_id: int, name: str, input_json: str | None) -> None:
        task = loop.create_task(attempt(task_id, name, input_json))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def receive() -> None:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):  # the parent is gone: stop at once
                os._exit(0)
            if message[0] == "stop":
                loop.call_soon_threadsafe(stopping.set_result, None)
                return
            _, task_id, name, input_json = message
            loop.call_soon_threadsafe(start, task_id, name, input_json)

    send(("ready",))
    threading.Thread(target=receive, daemon=True).start()
    await stopping
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    counts = store_counts(runtime)
    if runtime is not None:
        await runtime.close()
    send(("stopped", counts))


def store_counts(runtime: Any) -> dict[str, dict[str, int]]:
    """The requests a worker's stores have made so far, by store and operation."""
    if runtime is None:
        return {}
    return {
        store: dict(getattr(client, attribute, {}))
        for store, client, attribute in (
            ("documents", runtime.documents, "requests"),
            ("documents_batched", runtime.documents, "batched_operations"),
            ("documents_conflicts", runtime.documents, "conflicts"),
            ("blobs", runtime.blobs, "requests"),
        )
    }


def _function(index: Any, name: str) -> Any:
    try:
        return index.activity(name)
    except FunctionNotFoundError as error:
        raise missing_activity_failure(name) from error
