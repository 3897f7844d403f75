"""Activity attempts in worker processes: same results and failures as in process, and no orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.functions_host import LocalFunctionsHost, RuntimeStatus
from pipeline.functions_host.workers import ActivityWorkers, WorkerSetup
from tests.unit import toy_durable_app as toy

ROOT = Path(__file__).resolve().parents[2]
TOY = WorkerSetup("tests.unit.toy_durable_app:app")


@pytest.fixture(autouse=True)
def _fresh_toy() -> None:
    toy.reset()


async def _run(host: LocalFunctionsHost, name: str, payload: object) -> object:
    record = await host.wait_for(await host.client().start_new(name, client_input=payload))
    assert record.runtime_status is RuntimeStatus.COMPLETED, record.output
    return record.output


@pytest.mark.asyncio
async def test_activities_run_in_the_worker_processes_with_the_same_results() -> None:
    async with LocalFunctionsHost(toy.app, timer_scale=0, workers=ActivityWorkers(2, TOY)) as host:
        output = await _run(host, "fan_out", 12)
        failed = await _run(host, "call_named", {"activity": "always_fails", "input": "x"})
        missing = await _run(host, "call_named", {"activity": "no_such_activity"})
    assert output == {"squares": [i * i for i in range(12)], "total": sum(i * i for i in range(12))}
    assert toy.CALLS["square"] == 0  # not one attempt ran in this process
    assert "Activity function 'always_fails' failed: ValueError: cannot process x" in failed["error"]
    assert "doesn't exist" in missing["error"]


@pytest.mark.asyncio
async def test_a_worker_that_dies_fails_its_attempts_and_the_others_carry_on() -> None:
    workers = ActivityWorkers(2, TOY)
    async with LocalFunctionsHost(toy.app, timer_scale=0, workers=workers) as host:
        doomed = asyncio.create_task(_run(host, "call_named", {"activity": "slow", "input": 30}))
        await asyncio.sleep(1.0)
        busy = [pid for pid in workers.pids if _running_slow(workers, pid)]
        os.kill(busy[0], signal.SIGKILL)
        lost = await asyncio.wait_for(doomed, 20)
        after = await _run(host, "call_named", {"activity": "say_hello", "input": "again"})
    assert "exited during the attempt" in lost["error"]
    assert after == {"result": "Hello again"}


def _running_slow(workers: ActivityWorkers, pid: int) -> bool:
    return any(w.process.pid == pid and w.in_flight for w in workers._workers)


@pytest.mark.parametrize("server", ["spawned", "forked from the worker server"])
def test_workers_exit_when_their_parent_is_killed(server: str) -> None:
    start = 'worker_server.start("tests.unit.toy_durable_app")' if server != "spawned" else ""
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pipeline import worker_server
        from pipeline.functions_host.workers import ActivityWorkers, WorkerSetup
        {start}

        async def main():
            workers = ActivityWorkers(2, WorkerSetup("tests.unit.toy_durable_app:app"))
            await workers.start()
            print(*workers.pids, flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
