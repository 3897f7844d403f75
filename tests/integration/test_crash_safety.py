"""Kill the runner with SIGKILL mid-run, run it again: the stores end as after one clean run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.runtime import Runtime
from pipeline.settings import Settings
from pipeline.synthetic import generate_events
from tests.oracle import expected

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "samples" / "reference"


def runner(path: Path, out: Path, via: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "run",
        "--input",
        str(path),
        "--out",
        str(out),
        "--via",
        via,
        "--batch-size",
        "20",
        "--partitions",
        "4",
        "--quiet",
    ]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


async def stored_event_count() -> int:
    runtime = Runtime.from_settings(Settings.local_emulators())
    try:
        return len(await runtime.documents.query_all("events"))
    finally:
        await runtime.close()


@pytest.mark.parametrize(("via", "kill_after_s"), [("eventhub", 1.5), ("eventhub", 4.0), ("blob", 3.0)])
def test_a_run_killed_midway_and_run_again_ends_exactly_as_one_clean_run(via, kill_after_s, tmp_path):
    # long enough that a kill at 4 s still lands mid-run on a fast machine (start-up is ~2-4 s)
    lines = list(generate_events(3000, seed=5, now=datetime.now(UTC), bad_ratio=0.06, duplicate_ratio=0.05))
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    exp = expected(lines, REFERENCE, 1, datetime.now(UTC))

    crashed = runner(path, tmp_path / "crashed", via)
    time.sleep(kill_after_s)
    if crashed.poll() is None:
        os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait()
    if crashed.returncode != -signal.SIGKILL:
        output = crashed.stdout.read().decode() if crashed.stdout else ""
        pytest.fail(f"the run ended ({crashed.returncode}) before it could be killed:\n{output[-3000:]}")

    rerun = runner(path, tmp_path / "rerun", via)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    report = json.loads((tmp_path / "rerun" / "report.json").read_text())
    assert report["received"] == report["stored"] + report["duplicates"] + report["dead_lettered"]
    # every accepted event is stored exactly once, whichever run stored it
    assert asyncio.run(stored_event_count()) == exp.stored
    assert report["stored"] + report["duplicates"] == exp.stored + exp.duplicates
    csv = (tmp_path / "rerun" / "analytics" / "aggregates.csv").read_text().splitlines()
    assert csv == exp.csv_lines(1)
