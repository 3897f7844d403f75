"""`python -m pipeline run`: the whole pipeline, locally, through the real `function_app.py`.

The runner plays the Functions host: it indexes the app, serves the durable client's HTTP API on a
loopback port, delivers the input to the chosen trigger, and runs the orchestrations and activities
through the real `azure-functions-durable` orchestrator code. Events are spread over partitions by
identity; each partition has one batch in flight at a time (as an Event Hubs partition has), so
copies of an event are processed in input order while partitions run side by side.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.functions.timer import TimerRequest

from pipeline.analytics.export import export_window_aggregates, write_local_files
from pipeline.cost import estimate_run_cost
from pipeline.functions_host import LocalFunctionsHost, RuntimeStatus
from pipeline.functions_host.ownership import this_process
from pipeline.functions_host.singleton import BlobLeaseSingleton
from pipeline.functions_host.table_history_store import TableHistoryStore, task_hub_name
from pipeline.functions_host.trigger_delivery import AzuritePoisonQueue
from pipeline.functions_host.workers import ActivityWorkers, WorkerSetup
from pipeline.ingest import manifest_blob
from pipeline.observability import InMemoryMetrics, get_metrics
from pipeline.reference import upload_reference
from pipeline.runner.batching import QUEUE_DEPTH, InFlight, feed
from pipeline.runner.drivers import BlobDriver, DeliveryFailed, Driver, EventHubDriver, HttpDriver, local_namespace
from pipeline.runner.inputs import InputEvent, input_files
from pipeline.runner.progress import Progress
from pipeline.runner.report import RunTotals, build_report, process_age_s, write_aggregates_csv, write_report
from pipeline.runner.status import StatusFile
from pipeline.runtime import Runtime, install_runtime, uninstall_runtime
from pipeline.settings import CONTAINER_BATCHES, COSMOS_AGGREGATES, Settings

TRIGGERS = {"eventhub": "eventhub_ingest", "blob": "blob_ingest", "http": "http_ingest"}


class RunFailed(RuntimeError):
    """The run could not complete; the message is the one line the user sees."""


@dataclass(frozen=True)
class RunOptions:
    inputs: list[Path]
    reference: Path = Path("samples/reference")
    out: Path = Path("out")
    via: str = "eventhub"
    batch_size: int = 100
    window_minutes: int = 1
    partitions: int = 8
    quiet: bool = False
    timer_scale: float = 1.0  # real seconds per durable-timer second (retry intervals); tests shorten it
    workers: int = 0  # activity worker processes; 0 runs activities in the runner's own process
    log_file: Path | None = None  # where worker processes append their JSON log lines
    log_level: str = "INFO"
    status_file: Path | None = None  # a JSON snapshot of the run, rewritten every second (`status.py`)
    durable_state: str = "azurite"  # where the task hub lives: "azurite" (Table storage) or "memory"


async def run(options: RunOptions, settings: Settings | None = None) -> dict[str, Any]:
    files = input_files(options.inputs)
    base = settings or Settings.from_env()
    # The run's reconciliation sweeps run when nothing of its own is in flight, so they need no grace
    # period; what the sweep may not take is told by the process that ingested it (ownership).
    settings = dataclasses.replace(
        base,
        window_minutes=options.window_minutes,
        ingest_batch_size=options.batch_size,
        reconcile_grace_s=0,
        host_instance_id=this_process(),
    )
    runtime = Runtime.from_settings(settings)
    install_runtime(runtime)
    try:
        await runtime.ensure_stores()
        await upload_reference(runtime.blobs, options.reference)
        runtime.reference.clear()
        history = await _task_hub(runtime) if options.durable_state == "azurite" else None
        try:
            return await _run(options, files, runtime, history)
        finally:
            if history is not None:
                await history.close()
    finally:
        uninstall_runtime()
        await runtime.close()


async def _run(
    options: RunOptions, files: list[Path], runtime: Runtime, history: TableHistoryStore | None
) -> dict[str, Any]:
    from function_app import app  # the real Functions app, indexed as the host would

    totals = RunTotals()
    progress = Progress(sum(f.stat().st_size for f in files)) if not options.quiet else None
    activity_workers = None
    if options.workers:
        setup = WorkerSetup("function_app:app", runtime.settings, options.log_file, options.log_level)
        activity_workers = ActivityWorkers(options.workers, setup)
    async with LocalFunctionsHost(
        app,
        max_concurrent_orchestrations=2 * options.partitions,  # the partitions, and the remainders' lanes
        verify=False,
        store=history,
        task_hub=task_hub_name(),
        timer_scale=options.timer_scale,
        workers=activity_workers,
        poison_queue=_poison_queue(runtime.settings),
        singleton=_singleton(runtime.settings),
    ) as host:
        resumed = await _resume(host, runtime)
        # The host is up. Its workers may still be warming up: the first batches are ingested meanwhile,
        # and the in-run clock starts again once they are ready (`_in_run_start`).
        started = time.monotonic()
        invoke = functools.partial(host.call_starter, TRIGGERS[options.via])
        driver: Driver
        if options.via == "eventhub":
            driver = EventHubDriver(invoke, local_namespace(files))
        elif options.via == "blob":
            driver = BlobDriver(invoke, runtime, _upload_prefix(files, options))
        else:
            driver = HttpDriver(invoke, runtime.settings.http_max_batch_events)
        queues: list[asyncio.Queue[list[InputEvent] | None]] = [
            asyncio.Queue(maxsize=QUEUE_DEPTH) for _ in range(options.partitions)
        ]
        in_flight = InFlight()
        timing: dict[str, float | None] = {}
        stranded: list[str] = []  # batches whose trigger failed after their claim check was written
        batches = Counter[str]()  # "in_flight" (delivered, not yet accounted for) and "settled"

        def snapshot() -> dict[str, Any]:
            requests = Counter(getattr(runtime.documents, "requests", {}))
            if activity_workers:
                requests.update(activity_workers.requests_so_far().get("documents", {}))
            return {
                "elapsed_s": round(time.monotonic() - started, 3),
                "received": totals.received,
                "stored": totals.stored,
                "duplicates": totals.duplicates,
                "dead_lettered": totals.dead_lettered,
                "batches_in_flight": batches["in_flight"],
                "batches_settled": batches["settled"],
                "store_requests": dict(requests),
                "pids": {"runner": os.getpid(), "activity_workers": activity_workers.pids if activity_workers else []},
            }

        status = StatusFile(options.status_file, snapshot) if options.status_file else None
        status_writer = asyncio.create_task(status.keep_writing()) if status else None
        stop_folding = asyncio.Event()
        folding = [asyncio.create_task(_keep_folding(host, stop_folding))]  # the fold timer, while the run lasts

        async def process(lane: int, batch: list[InputEvent]) -> None:
            delivered = time.monotonic()
            if "startup_s" not in timing:  # the first batch is handed over: the end of start-up
                timing["startup_s"] = process_age_s()
            batches["in_flight"] += 1
            try:
                batch_ids = await driver.deliver(lane, batch)
            except DeliveryFailed as error:
                raise RunFailed(str(error)) from error
            for batch_id in batch_ids:
                if not await _settle(batch_id, runtime, host, totals):
                    stranded.append(batch_id)
            batches["in_flight"] -= 1
            batches["settled"] += 1
            totals.batch_latencies_s.append(round(time.monotonic() - delivered, 4))
            if progress:
                progress.advance(len(batch), sum(len(e.body) + 1 for e in batch))
            await in_flight.settled(batch)

        async def partition_worker(partition: int) -> None:
            queue = queues[partition]
            while (batch := await queue.get()) is not None:
                await process(partition, batch)

        workers = [asyncio.create_task(partition_worker(p)) for p in range(options.partitions)]
        try:
            await feed(files, options.batch_size, queues, workers, in_flight, process)
            # The input is all handed over: a tick now folds what is done while the last batches drain
            # (the runner is mostly waiting then), and leaves the last fold only theirs.
            folding.append(asyncio.create_task(_fold(host)))
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            if status_writer:
                status_writer.cancel()
            stop_folding.set()  # a tick in progress finishes, so the last fold has no half-done one to finish
            await asyncio.gather(*folding, return_exceptions=True)
        if stranded:
            # What the reconciliation timer would do on its next tick, now that nothing is in flight.
            await host.call_starter("reconcile_batches", timer=TimerRequest(past_due=False))
            for batch_id in stranded:
                if not await _settle(batch_id, runtime, host, totals):
                    raise RunFailed(f"batch {batch_id} is stranded: the reconciliation sweep did not start it")
        await _fold(host)  # the last tick: every contribution of the run is in the rows
        stats = host.stats
        started = _in_run_start(started, activity_workers, timing)
        elapsed = time.monotonic() - started
        if status:
            status.write(done=True)
    if progress:
        progress.finish()
    rows = await runtime.documents.query_all(COSMOS_AGGREGATES)
    report = build_report(
        totals,
        aggregate_rows=len(rows),
        orchestrations=stats.orchestrations_started,
        activities=stats.activity_executions,
        history_events=stats.history_events,
        elapsed_s=elapsed,
        via=options.via,
        batch_size=options.batch_size,
        window_minutes=options.window_minutes,
    )
    counts = {
        "documents": Counter(getattr(runtime.documents, "requests", {})),
        "documents_batched": Counter(getattr(runtime.documents, "batched_operations", {})),
        "documents_conflicts": Counter(getattr(runtime.documents, "conflicts", {})),
        "blobs": Counter(getattr(runtime.blobs, "requests", {})),
    }
    for store, worker_counts in (activity_workers.requests if activity_workers else {}).items():
        counts[store].update(worker_counts)
    report["store_requests"] = dict(counts["documents"])
    report["store_batched_operations"] = dict(counts["documents_batched"])
    report["write_conflicts"] = dict(sorted(counts["documents_conflicts"].items()))
    report["blob_requests"] = dict(counts["blobs"])
    report["activity_processes"] = options.workers
    report["activity_failures"] = stats.activity_failures  # attempts that raised (each retried, or ended in fail)
    for moment in ("startup_s", "workers_ready_s"):
        if timing.get(moment) is not None:
            report[moment] = round(timing[moment], 3)  # type: ignore[arg-type]
    if resumed is not None:
        report["resumed"] = resumed
    report["batch_latencies_s"] = totals.batch_latencies_s
    metrics = get_metrics()
    if isinstance(metrics, InMemoryMetrics):
        report["metrics"] = metrics.snapshot()
    report["cost"] = estimate_run_cost(report)
    write_report(options.out, report)
    write_aggregates_csv(options.out, rows)
    write_local_files(options.out, rows)
    await export_window_aggregates(runtime.documents, runtime.blobs)
    return report


def _in_run_start(host_up: float, workers: ActivityWorkers | None, timing: dict[str, float | None]) -> float:
    """When the in-run clock starts: once the host is up and its activity workers are ready, the first
    moment every part of the pipeline can work (`time.monotonic()`). Notes in `timing` how long after
    the process started the workers were ready."""
    if workers is None or workers.ready_at is None:
        return host_up
    age = process_age_s()
    if age is not None:
        timing["workers_ready_s"] = age - (time.monotonic() - workers.ready_at)
    return max(host_up, workers.ready_at)


async def _task_hub(runtime: Runtime) -> TableHistoryStore | None:
    """The Durable task hub in Azurite's Table service (in memory when the stores are not reached
    through a connection string)."""
    connection = runtime.settings.blob.connection_string
    if connection is None:
        return None
    store = TableHistoryStore(connection, task_hub_name(), runtime.blobs)
    await store.ensure_tables()
    return store


async def _resume(host: LocalFunctionsHost, runtime: Runtime) -> dict[str, Any] | None:
    """Before any new input: resume the instances a crashed run left unfinished, start the batches it
    handed over but never started (the reconciliation sweep), and account for both apart from this
    run's input. None when there was nothing to pick up."""
    resumed = await host.engine.resume()
    before = set(host.engine.records)
    await host.call_starter("reconcile_batches", timer=TimerRequest(past_due=False))
    reconciled = [batch_id for batch_id in host.engine.records if batch_id not in before]
    if not resumed and not reconciled:
        return None
    totals = RunTotals()
    for batch_id in [*resumed, *reconciled]:
        if not await _settle(batch_id, runtime, host, totals):
            raise RunFailed(f"batch {batch_id} of an earlier run could not be resumed")
    return {
        "instances_resumed": len(resumed),
        "batches_reconciled": len(reconciled),
        "received": totals.received,
        "stored": totals.stored,
        "duplicates": totals.duplicates,
        "dead_lettered": totals.dead_lettered,
        "dead_letter_reasons": dict(sorted(totals.dead_letter_reasons.items())),
    }


#: Seconds between the runner's ticks of the `fold_aggregates` timer (every minute on Azure; more often
#: here, so that a long run keeps few contributions pending).
FOLD_INTERVAL_S = 10.0


async def _keep_folding(host: LocalFunctionsHost, stop: asyncio.Event) -> None:
    while True:
        try:
            await asyncio.wait_for(stop.wait(), FOLD_INTERVAL_S)
            return
        except TimeoutError:
            await _fold(host)


async def _fold(host: LocalFunctionsHost) -> None:
    await host.call_starter("fold_aggregates", timer=TimerRequest(past_due=False))


def _singleton(settings: Settings) -> BlobLeaseSingleton | None:
    """Timers run one at a time across every runner sharing the emulators, as across instances."""
    connection = settings.blob.connection_string
    return BlobLeaseSingleton(connection, task_hub_name().lower()) if connection else None


def _poison_queue(settings: Settings) -> AzuritePoisonQueue | None:
    """The blob trigger's poison queue in the storage account's queue service (Azurite locally)."""
    connection = settings.blob.connection_string
    return AzuritePoisonQueue(connection) if connection else None


def _upload_prefix(files: list[Path], options: RunOptions) -> str:
    """Where `--via blob` uploads: the same input and options always give the same blob names, so
    a rerun after a crash re-creates the same batches (and batch ids) instead of new ones."""
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.resolve()}\0{file.stat().st_size}\0".encode())
    digest.update(f"{options.batch_size}/{options.partitions}".encode())
    return f"run-{digest.hexdigest()[:16]}"


async def _settle(batch_id: str, runtime: Runtime, host: LocalFunctionsHost, totals: RunTotals) -> bool:
    """Account for one trigger invocation: what ingest counted, then its orchestration's result.

    Ingest's counts travel in the orchestration's input; a batch with nothing valid starts no
    orchestration, and its counts are read from its ingest manifest instead. False when the batch
    has valid events but no orchestration (its trigger failed after the claim check): the
    reconciliation sweep is what starts it.
    """
    record = await host.engine.get_record(batch_id, stored=False)
    if record is None:
        manifest_content = await runtime.blobs.get(CONTAINER_BATCHES, manifest_blob(batch_id))
        if manifest_content is None:
            raise RunFailed(
                f"batch {batch_id} left no ingest manifest: its trigger failed before the events were handed over"
            )
        manifest = json.loads(manifest_content)
        if manifest["valid"]:
            return False
        totals.add_manifest(manifest)
        return True
    started_with = json.loads(record.input_json or "{}")
    if isinstance(started_with, str):  # the Durable extension stores the client's JSON as a string
        started_with = json.loads(started_with)
    totals.add_manifest(started_with["ingest"])
    status = await host.wait_for(batch_id, timeout=None)
    if status.runtime_status is not RuntimeStatus.COMPLETED:
        raise RunFailed(f"orchestration {batch_id} ended {status.runtime_status.value}: {status.output}")
    totals.add_result(status.output)
    # Accounted for: purge it, as a task hub's history clean-up would, so the host's memory is bounded
    # by the batches in flight rather than by the length of the input.
    await host.engine.purge(batch_id)
    return True


def print_summary(report: dict[str, Any], out: Path) -> None:
    reasons = ", ".join(f"{code} {count}" for code, count in report["dead_letter_reasons"].items()) or "none"
    print(
        f"received {report['received']:,}  stored {report['stored']:,}  duplicates {report['duplicates']:,}  "
        f"dead-lettered {report['dead_lettered']:,} ({reasons})\n"
        f"{report['aggregate_rows']:,} aggregate rows  {report['orchestrations']:,} orchestrations  "
        f"{report['activities']:,} activities  {report['elapsed_s']:.1f} s  {report['events_per_s']:,.0f} events/s\n"
        f"wrote {out / 'report.json'} and {out / 'analytics'}/; the visual report: "
        f"python -m pipeline report --out {out}",
        file=sys.stdout,
    )
