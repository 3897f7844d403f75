"""How `python -m pipeline` ends (`pipeline/__main__.py`): without the interpreter's module teardown,
yet with its exit code and all of its output, and quietly when its reader leaves early."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[2]
COST = ["cost", "--events-per-second", "1000", "--event-bytes", "1024"]


def _pipeline(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def test_what_it_prints_arrives_whole_and_its_exit_code_stands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = subprocess.run(_pipeline(*COST), cwd=ROOT, capture_output=True, text=True, check=False)
    assert main(COST) == 0
    assert done.returncode == 0 and done.stdout == capsys.readouterr().out  # the whole of it, through a pipe

    missing = subprocess.run(
        _pipeline("report", "--out", str(tmp_path / "missing")), cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2 and missing.stderr.startswith("pipeline report:")


def test_a_reader_that_leaves_early_ends_it_quietly() -> None:
    process = subprocess.Popen(_pipeline(*COST), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before the first line, as `| head -0` would be: every write fails
    assert process.wait(timeout=60) == 1
    assert b"Traceback" not in process.stderr.read()
