"""A store that stops answering mid-run and comes back: transient failures are waited out and
retried, and the results are exact. The emulator processes are paused and resumed by PID."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.runner.run import RunOptions, run
from pipeline.settings import Settings
from pipeline.synthetic import generate_events
from tests.integration.test_local_runner import REFERENCE
from tests.oracle import expected

STATE = Path(__file__).resolve().parents[2] / ".emulators"


def emulator_pid(name: str) -> int:
    return int((STATE / f"{name}.pid").read_text().split("\n", 1)[0])


@pytest.mark.parametrize("emulator", ["cosmos", "azurite"])
def test_a_store_paused_mid_run_is_waited_out_and_nothing_is_lost_or_doubled(emulator, tmp_path):
    lines = list(generate_events(600, seed=23, now=datetime.now(UTC), bad_ratio=0.05, duplicate_ratio=0.05))
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    pid = emulator_pid(emulator)
    paused = threading.Event()

    def outage() -> None:
        time.sleep(1.0)
        os.kill(pid, signal.SIGSTOP)
        paused.set()
        time.sleep(3.0)
        os.kill(pid, signal.SIGCONT)

    thread = threading.Thread(target=outage)
    thread.start()
    try:
        options = RunOptions(inputs=[path], reference=REFERENCE, out=tmp_path / "out", batch_size=20, quiet=True)
        report = asyncio.run(run(options, Settings.local_emulators()))
    finally:
        thread.join()
        os.kill(pid, signal.SIGCONT)
    assert paused.is_set()
    assert report["elapsed_s"] > 3.0, "the run must have spanned the outage"
    exp = expected(lines, REFERENCE, 1, datetime.now(UTC))
    assert (report["stored"], report["duplicates"]) == (exp.stored, exp.duplicates)
    assert (tmp_path / "out" / "analytics" / "aggregates.csv").read_text().splitlines() == exp.csv_lines(1)
