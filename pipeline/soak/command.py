"""`python -m pipeline soak`: generate, floor, run and sample, floor again, check, report.

The stream is generated first, into NDJSON files (`python -m pipeline generate`, one process per
CPU over chunks of the stream, each chunk's event times following the last one's at the stream's
rate), so generating it costs nothing during the run. The runner runs in a process of its own with
`--status-file`; this process polls that file every second (the progress points the tenths are
computed from) and every `interval_s` takes a sample: the counts, batches in flight, Cosmos DB
requests so far, and the resident memory of the runner, of every process below it (the activity
workers and multiprocessing's resource tracker), and of the two emulators, read from /proc.

Everything runs against the local emulators on the given ports (their stores are emptied first):
the soak never touches a configured Azure account.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.bench.floor import bare_blob_puts_per_s, bare_upserts_per_s
from pipeline.functions_host.workers import default_worker_processes
from pipeline.runtime import reset_local_stores
from pipeline.settings import Settings, local_emulator_environment
from pipeline.soak import chart, procfs
from pipeline.soak.expected import expected, ndjson_events
from pipeline.soak.verdict import describe, judge

ROOT = Path(__file__).resolve().parents[2]
CHUNK_EVENTS = 250_000  # events per generated file (one generator process each, at most one per CPU)
MIB = 1024


#: Blob uploads per measurement of Azurite's floor, before and after the run.
BLOB_FLOOR_PUTS = 3_000


@dataclass(frozen=True)
class SoakOptions:
    events: int = 1_000_000
    out: Path = Path("soak")
    chart: Path = Path("docs/images/soak.png")
    azurite_port: int = 10000
    cosmos_port: int = 8081
    # A small Functions app: the dev deployment's hub has 4 partitions (one instance reads each), a
    # trigger batch is host.json's maxEventBatchSize, and the activities run in one worker process per CPU.
    partitions: int = 4
    workers: int = 0  # 0: one per CPU
    batch_size: int = 100
    window_minutes: int = 1
    rate: float = 1000.0  # event times spaced at this many events/s: a live stream, not a backfill
    bad_ratio: float = 0.01
    duplicate_ratio: float = 0.02
    seed: int = 17
    interval_s: float = 10.0
    floor_documents: int = 10_000
    floor_document_bytes: int = 1_210  # the mean stored event document `make bench` measures
    reference: Path = ROOT / "samples" / "reference"


def run_soak(options: SoakOptions) -> int:
    """The whole soak; 0 when conservation and the aggregates check out, 1 when they do not."""
    workers = options.workers or default_worker_processes()
    env = {**os.environ, **local_emulator_environment(options.azurite_port, options.cosmos_port)}
    settings = Settings.from_env(env)
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"soak: generating {options.events:,} events …", flush=True)
    started = time.perf_counter()
    files, labelled = generate(options, out / "stream", env)
    generation_s = time.perf_counter() - started
    stream_mib = sum(f.stat().st_size for f in files) / 2**20
    print(f"soak: {len(files)} files, {stream_mib:,.0f} MiB in {generation_s:.0f} s; the floor before …", flush=True)
    asyncio.run(reset_local_stores(settings))
    floor_start = asyncio.run(bare_upserts_per_s(settings, options.floor_documents, options.floor_document_bytes))
    blobs_start = asyncio.run(bare_blob_puts_per_s(settings, BLOB_FLOOR_PUTS, options.floor_document_bytes))
    print(
        f"soak: floor {floor_start:,.0f} upserts/s, {blobs_start:,.0f} blob puts/s; running the pipeline …", flush=True
    )
    report, samples, progress = run_and_sample(options, files, workers, env)
    print("soak: the floor after …", flush=True)
    floor_end = asyncio.run(bare_upserts_per_s(settings, options.floor_documents, options.floor_document_bytes))
    blobs_end = asyncio.run(bare_blob_puts_per_s(settings, BLOB_FLOOR_PUTS, options.floor_document_bytes))
    print("soak: checking against the independent computation …", flush=True)
    checks = check(report, labelled, files, options, out / "out")
    memory: dict[str, list[tuple[float, float]]] = {}
    for sample in samples:
        if sample["elapsed_s"] is not None:
            for name, process in sorted(sample["processes"].items()):
                memory.setdefault(name, []).append((sample["elapsed_s"], process["rss_mib"]))
    verdict = judge(progress, memory, floor_start, floor_end)
    received = max(report["received"], 1)
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": default_worker_processes()},
        "config": {
            **{k: v for k, v in asdict(options).items() if k not in ("out", "chart", "reference")},
            "workers": workers,
            "via": "eventhub",
        },
        "generation": {"files": len(files), "mib": round(stream_mib, 1), "seconds": round(generation_s, 1)},
        "run": {
            "elapsed_s": report["elapsed_s"],
            "events_per_s": report["events_per_s"],
            "received": report["received"],
            "stored": report["stored"],
            "duplicates": report["duplicates"],
            "dead_lettered": report["dead_lettered"],
            "dead_letter_reasons": report["dead_letter_reasons"],
            "aggregate_rows": report["aggregate_rows"],
            "orchestrations": report["orchestrations"],
            "activities": report["activities"],
            "cosmos_requests_per_event": {k: round(v / received, 3) for k, v in report["store_requests"].items()},
            "cosmos_batched_writes_per_event": {
                k: round(v / received, 3) for k, v in report.get("store_batched_operations", {}).items()
            },
            "peak_rss_mib": {
                name: max(s["processes"][name]["peak_rss_mib"] for s in samples if name in s["processes"])
                for name in sorted({name for s in samples for name in s["processes"]})
            },
        },
        "floor": {
            "documents": options.floor_documents,
            "document_bytes": options.floor_document_bytes,
            "start_upserts_per_s": round(floor_start, 1),
            "end_upserts_per_s": round(floor_end, 1),
            # Azurite's own slope: every blob lookup there scans its whole store, so it slows as the
            # run's blobs (claim checks, manifests, dead letters, fold markers) accumulate.
            "blob_puts": BLOB_FLOOR_PUTS,
            "start_blob_puts_per_s": round(blobs_start, 1),
            "end_blob_puts_per_s": round(blobs_end, 1),
        },
        "verdict": verdict,
        "checks": checks,
        "samples": samples,
        "progress": progress,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    chart.draw(results, options.chart)
    print_summary(results, out / "results.json", options.chart)
    return 0 if checks["passed"] else 1


# -- the stream ---------------------------------------------------------------------------------


def generate(options: SoakOptions, directory: Path, env: dict[str, str]) -> tuple[list[Path], dict[str, Any]]:
    """The stream as NDJSON files of up to `CHUNK_EVENTS` events, and what their generators say the
    pipeline should make of them (summed over the files)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    chunks = [min(CHUNK_EVENTS, options.events - i) for i in range(0, options.events, CHUNK_EVENTS)]
    first = datetime.now(UTC) - timedelta(seconds=options.events / options.rate + 60)
    jobs: list[tuple[list[str], Path]] = []
    done = 0
    for number, count in enumerate(chunks):
        path = directory / f"part-{number:03d}.ndjson"
        start = first + timedelta(seconds=done / options.rate)
        done += count
        command = [
            sys.executable, "-m", "pipeline", "generate", "--count", str(count), "--seed", str(options.seed + number),
            "--rate", str(options.rate), "--start", start.isoformat(), "--bad-ratio", str(options.bad_ratio),
            "--duplicate-ratio", str(options.duplicate_ratio), "--id-prefix", f"soak{number}-",
            "--out", str(path), "--expected", str(path.with_suffix(".expected.json")), "--quiet",
        ]  # fmt: skip
        jobs.append((command, path))
    running: list[subprocess.Popen[bytes]] = []
    for command, _ in jobs:
        if len(running) >= default_worker_processes():
            _finish(running.pop(0))
        running.append(subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE))
    for process in running:
        _finish(process)
    outcome: dict[str, Any] = {"received": 0, "stored": 0, "duplicates": 0, "dead_lettered": 0, "reasons": {}}
    for _, path in jobs:
        part = json.loads(path.with_suffix(".expected.json").read_text())
        for key in ("received", "stored", "duplicates", "dead_lettered"):
            outcome[key] += part[key]
        for reason, count in part["dead_letter_reasons"].items():
            outcome["reasons"][reason] = outcome["reasons"].get(reason, 0) + count
    return [path for _, path in jobs], outcome


def _finish(process: subprocess.Popen[bytes]) -> None:
    _, error = process.communicate()
    if process.returncode:
        raise RuntimeError(f"generating the stream failed: {error.decode(errors='replace')[-500:]}")


# -- the run and its samples ---------------------------------------------------------------------


def run_and_sample(
    options: SoakOptions, files: list[Path], workers: int, env: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[float, int]]]:
    out = options.out / "out"
    status_path = options.out / "status.json"
    status_path.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "pipeline", "run", *(arg for f in files for arg in ("--input", str(f))),
        "--out", str(out), "--via", "eventhub", "--partitions", str(options.partitions),
        "--workers", str(workers), "--batch-size", str(options.batch_size),
        "--window-minutes", str(options.window_minutes), "--status-file", str(status_path), "--quiet",
    ]  # fmt: skip
    servers = emulator_pids(options.azurite_port, options.cosmos_port)
    sampler = Sampler(servers)
    progress: list[tuple[float, int]] = []
    samples: list[dict[str, Any]] = []
    with (options.out / "runner.log").open("wb") as log:
        runner = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        launched = time.monotonic()
        next_sample = launched
        last_progress = 0.0
        while runner.poll() is None:
            status = read_status(status_path)
            if status and status["elapsed_s"] > last_progress:
                last_progress = status["elapsed_s"]
                progress.append((status["elapsed_s"], status["received"]))
            if status and status.get("done"):  # what follows is the report, not the run: stop sampling
                runner.wait()
                break
            now = time.monotonic()
            if now >= next_sample:
                samples.append(sampler.sample(runner.pid, status, now - launched))
                next_sample += options.interval_s
                print(_sample_line(samples[-1]), flush=True)
            time.sleep(min(1.0, max(next_sample - time.monotonic(), 0.05)))
    if runner.returncode != 0:
        tail = (options.out / "runner.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the pipeline run failed (exit {runner.returncode}):\n{tail}")
    report = json.loads((out / "report.json").read_text())
    final = read_status(status_path)
    if final is not None:  # the counts as the last batch was accounted for
        samples.append(sampler.sample(None, final, time.monotonic() - launched))
    progress = [p for p in progress if p[0] < report["elapsed_s"]] + [(report["elapsed_s"], report["received"])]
    return report, samples, progress


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        status: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return status


def emulator_pids(azurite_port: int, cosmos_port: int) -> dict[str, int]:
    """The emulators' PIDs from the files `emulators/ctl.py` keeps for these ports (none if absent)."""
    state = ROOT / ".emulators"
    if (azurite_port, cosmos_port) != (10000, 8081):
        state = state / f"ports-{azurite_port}-{cosmos_port}"
    pids: dict[str, int] = {}
    for name in ("azurite", "cosmos"):
        try:
            pids[name] = int((state / f"{name}.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            continue
    return pids


class Sampler:
    def __init__(self, servers: dict[str, int]) -> None:
        self._servers = servers
        self._previous: dict[str, Any] | None = None  # the last sample with a status

    def sample(self, runner: int | None, status: dict[str, Any] | None, wall_s: float) -> dict[str, Any]:
        """One sample; `runner` None when it has exited (then no pipeline process is sampled)."""
        servers = {name: _mib(pid) for name, pid in self._servers.items()}
        row: dict[str, Any] = {
            "wall_s": round(wall_s, 1),
            "elapsed_s": status["elapsed_s"] if status else None,
            "processes": process_memory(runner) if runner is not None else {},
            "servers": {name: memory for name, memory in servers.items() if memory is not None},
        }
        if status is None:
            return row
        requests = sum(status["store_requests"].values())
        row.update(
            received=status["received"],
            stored=status["stored"],
            duplicates=status["duplicates"],
            dead_lettered=status["dead_lettered"],
            batches_in_flight=status["batches_in_flight"],
            cosmos_requests=requests,
            requests_per_event=round(requests / status["received"], 3) if status["received"] else None,
            events_per_s=None,
            requests_per_event_interval=None,
        )
        previous = self._previous
        if previous is not None and status["elapsed_s"] > previous["elapsed_s"]:
            events = status["received"] - previous["received"]
            row["events_per_s"] = round(events / (status["elapsed_s"] - previous["elapsed_s"]), 1)
            if events:
                row["requests_per_event_interval"] = round((requests - previous["cosmos_requests"]) / events, 3)
        elif previous is None and status["elapsed_s"] > 0:
            row["events_per_s"] = round(status["received"] / status["elapsed_s"], 1)
        self._previous = row
        return row


def process_memory(runner: int, proc: Path = procfs.PROC) -> dict[str, dict[str, float]]:
    """Memory of the runner and every process below it, named by what it is: `runner`,
    `worker-server` (the process the workers fork from, `pipeline/worker_server.py`),
    `activity-worker-N` (numbered in the order they started), `resource-tracker`
    (multiprocessing's), else `process-PID`."""
    named: dict[str, dict[str, float]] = {}
    spawned = 0
    children = set(procfs.children(runner, proc))
    for pid in [runner, *sorted(procfs.descendants(runner, proc))]:
        memory = _mib(pid, proc)
        if memory is None:
            continue
        command = procfs.command_line(pid, proc)
        if pid == runner:
            name = "runner"
        elif "resource_tracker" in command:
            name = "resource-tracker"
        elif "forkserver" in command and pid in children:
            name = "worker-server"
        elif "spawn_main" in command or "forkserver" in command:  # spawned, or forked from the server
            name = f"activity-worker-{spawned}"
            spawned += 1
        else:
            name = f"process-{pid}"
        named[name] = {"pid": pid, **memory}
    return named


def _mib(pid: int, proc: Path = procfs.PROC) -> dict[str, float] | None:
    memory = procfs.memory(pid, proc)
    if memory is None:
        return None
    return {"rss_mib": round(memory.rss_kib / MIB, 1), "peak_rss_mib": round(memory.peak_kib / MIB, 1)}


def _sample_line(sample: dict[str, Any]) -> str:
    memory = sum(p["rss_mib"] for p in sample["processes"].values())
    if sample.get("received") is None:
        processes = len(sample["processes"])
        return f"  {sample['wall_s']:>7.0f} s  starting  RSS {memory:,.0f} MiB over {processes} processes"
    rate = sample["events_per_s"]
    return (
        f"  {sample['elapsed_s']:>7.0f} s  {sample['received']:>10,} events  "
        f"{(f'{rate:,.0f}' if rate is not None else '-'):>6} events/s  "
        f"in flight {sample['batches_in_flight']:>3}  dead letters {sample['dead_lettered']:,}  "
        f"Cosmos {sample['requests_per_event'] or 0:.2f} req/event  "
        f"RSS {memory:,.0f} MiB over {len(sample['processes'])} processes"
    )


# -- the checks ----------------------------------------------------------------------------------


def check(
    report: dict[str, Any], labelled: dict[str, Any], files: list[Path], options: SoakOptions, out: Path
) -> dict[str, Any]:
    """Conservation, and the report and the aggregates table against the independent computation
    (and the report's counts against what the generators labelled)."""
    started = time.perf_counter()
    exp = expected(ndjson_events(files), options.reference, options.window_minutes, datetime.now(UTC))
    counts = ("received", "stored", "duplicates", "dead_lettered")
    independent = {
        "received": exp.received,
        "stored": exp.stored,
        "duplicates": exp.duplicates,
        "dead_lettered": exp.dead_lettered,
    }
    table = (out / "analytics" / "aggregates.csv").read_text().splitlines()
    want = exp.csv_lines(options.window_minutes)
    differing = sorted(set(table) ^ set(want))
    result = {
        "conservation": report["received"] == report["stored"] + report["duplicates"] + report["dead_lettered"],
        "counts_match_independent": all(report[k] == independent[k] for k in counts)
        and report["dead_letter_reasons"] == dict(sorted(exp.reasons.items())),
        "counts_match_generator_labels": all(report[k] == labelled[k] for k in counts)
        and report["dead_letter_reasons"] == dict(sorted(labelled["reasons"].items())),
        "aggregates_match_independent": table == want,
        "aggregate_rows": {"pipeline": len(table) - 1, "independent": len(want) - 1},
        "aggregate_lines_differing": differing[:10],
        "independent": {**independent, "dead_letter_reasons": dict(sorted(exp.reasons.items()))},
        "generator_labels": labelled,
        "independent_computation_s": round(time.perf_counter() - started, 1),
    }
    result["passed"] = bool(
        result["conservation"] and result["counts_match_independent"] and result["aggregates_match_independent"]
    )
    return result


def print_summary(results: dict[str, Any], path: Path, chart_path: Path) -> None:
    run, checks, floor = results["run"], results["checks"], results["floor"]
    peak = sum(run["peak_rss_mib"].values())
    lines = [
        "",
        f"soak: {run['received']:,} events in {run['elapsed_s']:,.0f} s ({run['events_per_s']:,.0f} events/s): "
        f"stored {run['stored']:,}, duplicates {run['duplicates']:,}, dead-lettered {run['dead_lettered']:,}",
        f"Cosmos DB requests per event {run['cosmos_requests_per_event']}; peak RSS "
        + ", ".join(f"{name} {mib:,.0f}" for name, mib in run["peak_rss_mib"].items())
        + f" MiB (together {peak:,.0f})",
        *describe(results["verdict"]),
        f"Azurite: bare blob puts went {floor['start_blob_puts_per_s']:,.0f} -> {floor['end_blob_puts_per_s']:,.0f}/s "
        f"({floor['end_blob_puts_per_s'] / max(floor['start_blob_puts_per_s'], 1) - 1:+.1%})",
        "conservation (received = stored + duplicates + dead-lettered): "
        + ("holds" if checks["conservation"] else "BROKEN"),
        "counts and reasons vs the independent computation: "
        + ("equal" if checks["counts_match_independent"] else f"DIFFERENT ({checks['independent']})")
        + "; vs the generators' labels: "
        + ("equal" if checks["counts_match_generator_labels"] else "different"),
        f"aggregates ({checks['aggregate_rows']['pipeline']:,} rows) vs the independent computation: "
        + ("exactly equal" if checks["aggregates_match_independent"] else "DIFFERENT"),
        f"wrote {path} and {chart_path}",
    ]
    print("\n".join(lines))
