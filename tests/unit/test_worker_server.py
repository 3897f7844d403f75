"""Which command lines start the server the activity workers fork from."""

from __future__ import annotations

import pytest

from pipeline import worker_server


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["run", "--input", "x.ndjson"], True),
        (["run", "--input", "x.ndjson", "--workers", "3"], True),
        (["run", "--input", "x.ndjson", "--workers", "0"], False),
        (["run", "--workers=0", "--input", "x.ndjson"], False),
        (["run", "--input", "0", "--workers"], True),  # argparse rejects it; the server does no harm
        (["bench"], False),
        (["report", "--out", "out"], False),
        ([], False),
    ],
)
def test_only_a_run_with_worker_processes_starts_it(argv: list[str], wanted: bool) -> None:
    assert worker_server.wanted(argv) is wanted


def test_the_command_leaves_with_its_exit_code_and_everything_it_printed(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`python -m pipeline` ends without tearing down its modules (`pipeline/__main__.leave`): what it
    wrote to a pipe still arrives in full, and a failure still exits non-zero."""
    import subprocess
    import sys
    from pathlib import Path

    from pipeline.cli import main

    root = Path(__file__).resolve().parents[2]
    command = ["cost", "--events-per-second", "1000", "--event-bytes", "1024"]
    done = subprocess.run([sys.executable, "-m", "pipeline", *command], cwd=root, capture_output=True, text=True)
    assert main(command) == 0
    assert done.returncode == 0 and done.stdout == capsys.readouterr().out  # the whole of it, in-process or not

    missing = ["report", "--out", str(tmp_path / "missing")]
    failed = subprocess.run([sys.executable, "-m", "pipeline", *missing], cwd=root, capture_output=True, text=True)
    assert failed.returncode == 2 and failed.stderr.startswith("pipeline report:")
