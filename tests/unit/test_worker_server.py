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
