"""The task hub lives in Azurite: a runner killed at any point, even between a claim check and the start
of its orchestration, is resumed by the next run, whatever batching that run uses, and the stores end
exactly as after one clean run."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from pipeline.functions_host.table_history_store import TableHistoryStore
from pipeline.runtime import Runtime
from pipeline.settings import AZURITE_CONNECTION_STRING, Settings
from pipeline.synthetic import generate_events
from tests.integration.test_crash_safety import REFERENCE, ROOT, stored_event_count
from tests.oracle import expected


def runner(path: Path, out: Path, batch_size: int, partitions: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pipeline", "run", "--input", str(path), "--out", str(out), "--quiet"]
    command += ["--batch-size", str(batch_size), "--partitions", str(partitions)]
    command += ["--status-file", str(out.with_suffix(".status.json"))]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def corpus(tmp_path: Path, count: int, seed: int) -> tuple[Path, object]:
    lines = list(generate_events(count, seed=seed, now=datetime.now(UTC), bad_ratio=0.06, duplicate_ratio=0.05))
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, expected(lines, REFERENCE, 1, datetime.now(UTC))


def assert_exact(out: Path, exp) -> dict:  # type: ignore[no-untyped-def]
    report = json.loads((out / "report.json").read_text())
    assert report["conservation_holds"]
    assert report["stored"] + report["duplicates"] == exp.stored + exp.duplicates
    assert report["dead_letter_reasons"] == dict(sorted(exp.reasons.items()))
    assert asyncio.run(stored_event_count()) == exp.stored  # every accepted event stored once
    assert (out / "analytics" / "aggregates.csv").read_text().splitlines() == exp.csv_lines(1)
    return report


# The runner, dying (as SIGKILL would take it) the moment its Nth aggregate activity starts: activities run
# in the runner's process here, so that batch's instance, and the others in flight, are left Running.
DIE_IN_AGGREGATE = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    import pipeline.batch as steps
    from pipeline.runner.run import RunOptions, run

    calls = 0
    real_aggregate = steps.aggregate

    async def aggregate_then_die(batch, runtime):
        global calls
        calls += 1
        if calls == int(sys.argv[5]):
            os._exit(9)
        return await real_aggregate(batch, runtime)

    steps.aggregate = aggregate_then_die
    options = RunOptions(
        inputs=[Path(sys.argv[1])], out=Path(sys.argv[2]), batch_size=int(sys.argv[3]),
        partitions=int(sys.argv[4]), quiet=True, workers=0,
    )
    asyncio.run(run(options))
    """
)


def die_in_aggregate(path: Path, out: Path, batch_size: int, partitions: int, at_call: int) -> None:
    command = [sys.executable, "-c", DIE_IN_AGGREGATE, str(path), str(out), str(batch_size), str(partitions)]
    died = subprocess.run([*command, str(at_call)], cwd=ROOT, capture_output=True, timeout=300)
    assert died.returncode == 9, died.stdout.decode()[-3000:] + died.stderr.decode()[-3000:]


def test_killed_twice_then_rerun_with_other_batching_ends_exactly_as_one_clean_run(tmp_path):
    path, exp = corpus(tmp_path, 1500, seed=11)
    die_in_aggregate(path, tmp_path / "first", batch_size=20, partitions=4, at_call=10)
    die_in_aggregate(path, tmp_path / "second", batch_size=30, partitions=2, at_call=15)  # resumes, then dies
    left_running = asyncio.run(unfinished_instances())

    rerun = runner(path, tmp_path / "rerun", batch_size=50, partitions=3)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    report = assert_exact(tmp_path / "rerun", exp)
    assert left_running  # the batch cut in its aggregate step, at least
    assert report["resumed"]["instances_resumed"] >= len(left_running)
    assert asyncio.run(unfinished_instances()) == []


# The runner, dying the moment a trigger has written its claim check and before it starts the orchestration.
CRASH_BETWEEN_CLAIM_CHECK_AND_START = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    import orchestrations.handover as handover
    import orchestrations.triggers as triggers
    from pipeline.runner.run import RunOptions, run

    started = 0
    real_start = handover.start_batch

    async def start_then_die(client, batch_id, orchestration_input):
        global started
        started += 1
        if started == int(sys.argv[3]):
            os._exit(9)  # the claim check and the manifest are written; the instance is not
        return await real_start(client, batch_id, orchestration_input)

    triggers.start_batch = start_then_die
    options = RunOptions(inputs=[Path(sys.argv[1])], out=Path(sys.argv[2]), batch_size=25, partitions=2, quiet=True)
    asyncio.run(run(options))
    """
)


def test_a_crash_between_the_claim_check_and_the_orchestration_start_is_picked_up_once(tmp_path):
    path, exp = corpus(tmp_path, 600, seed=12)
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_BETWEEN_CLAIM_CHECK_AND_START, str(path), str(tmp_path / "crashed"), "6"],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    assert crashed.returncode == 9, crashed.stdout.decode()[-3000:] + crashed.stderr.decode()[-3000:]

    rerun = runner(path, tmp_path / "rerun", batch_size=40, partitions=3)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    report = assert_exact(tmp_path / "rerun", exp)
    assert report["resumed"]["batches_reconciled"] >= 1  # the batch whose start the crash cut off


async def unfinished_instances() -> list[str]:
    runtime = Runtime.from_settings(Settings.local_emulators())
    store = TableHistoryStore(AZURITE_CONNECTION_STRING, "EventPipeline", runtime.blobs)
    try:
        return [r.instance_id for r in await store.records() if not r.runtime_status.is_terminal]
    finally:
        await store.close()
        await runtime.close()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "instances", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_instances_are_listed_shown_terminated_and_purged_from_the_persisted_task_hub():
    import aiohttp

    from pipeline.functions_host import LocalFunctionsHost, RuntimeStatus
    from pipeline.functions_host.table_history_store import task_hub_name
    from tests.unit import toy_durable_app as toy

    async def start_two() -> list[dict]:
        runtime = Runtime.from_settings(Settings.local_emulators())
        store = TableHistoryStore(AZURITE_CONNECTION_STRING, task_hub_name(), runtime.blobs)
        await store.ensure_tables()
        try:
            async with LocalFunctionsHost(toy.app, store=store) as host:  # real time: the approval waits
                await host.client().start_new("sequence", "done-1", ["x"])
                await host.wait_for("done-1")
                await host.client().start_new("approval", "waiting-1")  # waits for an event
                await asyncio.sleep(0.2)
                url = f"{host.origin}/runtime/webhooks/durabletask/instances"
                async with aiohttp.ClientSession() as session, session.get(url) as response:
                    listed = await response.json()
            waiting = await store.record("waiting-1")
            assert waiting is not None and waiting.runtime_status is RuntimeStatus.RUNNING
            waiting.owner = f"{socket.gethostname()}:999999:1"  # as if its process had died
            await store.checkpoint(waiting, [])
            return listed
        finally:
            await store.close()
            await runtime.close()

    listed = asyncio.run(start_two())
    assert sorted((i["instanceId"], i["runtimeStatus"]) for i in listed) == [
        ("done-1", "Completed"),
        ("waiting-1", "Running"),
    ]
    assert (
        json.loads(cli("list", "--json").stdout)
        == [{**i, "input": None} for i in sorted(listed, key=lambda i: i["createdTime"])]
        or len(json.loads(cli("list", "--json").stdout)) == 2
    )
    assert cli("purge", "waiting-1").returncode == 1  # not finished
    terminated = cli("terminate", "waiting-1", "--reason", "operator")
    assert terminated.returncode == 0, terminated.stderr
    shown = json.loads(cli("show", "waiting-1", "--json").stdout)
    assert (shown["runtimeStatus"], shown["output"]) == ("Terminated", "operator")
    assert "purged 2 instance(s)" in cli("purge", "--finished").stdout
    assert "0 instance(s)" in cli("list").stdout
