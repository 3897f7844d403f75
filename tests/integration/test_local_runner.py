"""The whole pipeline through each trigger, against the emulators, checked against the oracle."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.runner.run import RunOptions, run
from pipeline.settings import Settings
from pipeline.synthetic import generate_events
from tests import factories as f
from tests.oracle import expected

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "samples" / "reference"


def run_once(inputs: list[Path], out: Path, **options) -> dict:
    defaults = {"batch_size": 40, "partitions": 4, "quiet": True}
    return asyncio.run(
        run(
            RunOptions(inputs=inputs, reference=REFERENCE, out=out, **{**defaults, **options}),
            Settings.local_emulators(),
        )
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    lines = list(generate_events(900, seed=11, now=datetime.now(UTC), bad_ratio=0.08, duplicate_ratio=0.05))
    path = tmp_path_factory.mktemp("corpus") / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, lines


def assert_matches(report: dict, exp) -> None:
    assert report["received"] == exp.received
    assert report["stored"] == exp.stored
    assert report["duplicates"] == exp.duplicates
    assert report["dead_letter_reasons"] == dict(sorted(exp.reasons.items()))
    assert report["received"] == report["stored"] + report["duplicates"] + report["dead_lettered"]


@pytest.mark.parametrize(("via", "workers"), [("eventhub", 2), ("blob", 0), ("http", 0)])
def test_a_run_equals_the_oracle_and_a_second_run_finds_only_duplicates(via, workers, corpus, tmp_path):
    """Activities in two worker processes (as the CLI runs them) or in the runner's own process."""
    path, lines = corpus
    exp = expected(lines, REFERENCE, 1, datetime.now(UTC))
    assert exp.stored and exp.duplicates and len(exp.reasons) >= 10, "the corpus must exercise every path"

    first = run_once([path], tmp_path / "first", via=via, workers=workers)
    assert_matches(first, exp)
    assert first["activity_processes"] == workers
    # the store requests the activities made are counted, in whichever process they ran; events go
    # out in transactional batches, so there are fewer requests than stored events
    requests = first["store_requests"]
    assert requests["batch"] >= 1 and sum(requests.values()) < exp.stored
    csv_first = (tmp_path / "first" / "analytics" / "aggregates.csv").read_text().splitlines()
    assert csv_first == exp.csv_lines(1)
    assert first["aggregate_rows"] == len(exp.rows) > 0
    assert first["orchestrations"] >= 1 and first["activities"] >= 2 * first["orchestrations"]

    second = run_once([path], tmp_path / "second", via=via, workers=workers)
    assert second["stored"] == 0
    assert second["duplicates"] == exp.stored + exp.duplicates
    assert second["received"] == second["duplicates"] + second["dead_lettered"]
    assert (tmp_path / "second" / "analytics" / "aggregates.csv").read_text().splitlines() == csv_first


def test_window_minutes_and_batch_size_change_the_table_not_the_truth(corpus, tmp_path):
    path, lines = corpus
    report = run_once([path], tmp_path / "out", window_minutes=15, batch_size=7, partitions=3)
    exp = expected(lines, REFERENCE, 15, datetime.now(UTC))
    assert_matches(report, exp)
    assert (tmp_path / "out" / "analytics" / "aggregates.csv").read_text().splitlines() == exp.csv_lines(15)


def test_redeliveries_across_batches_and_files_count_once(tmp_path):
    events = [f.order(str(i), tenant=("acme" if i % 2 else "globex")) for i in range(30)]
    first = tmp_path / "a.ndjson"
    first.write_bytes(b"\n".join(f.raw(e) for e in events))
    again = tmp_path / "b.json"  # the same events again, as a JSON array file, pretty-printed
    again.write_text(json.dumps(events, indent=2))
    report = run_once([first, again], tmp_path / "out", batch_size=4)
    assert (report["received"], report["stored"], report["duplicates"], report["dead_lettered"]) == (60, 30, 30, 0)


def test_the_first_version_in_the_input_wins_a_conflict(tmp_path):
    original = f.order("7", total="25.00")
    changed = f.order("7", total="13.00", items=[{"sku": "A", "quantity": 1, "unit_price": "13.00"}])
    filler = [f.page(f"p{i}") for i in range(50)]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(f.raw(e) for e in [original, *filler, changed]))
    report = run_once([path], tmp_path / "out", batch_size=5, partitions=4)
    assert report["dead_letter_reasons"] == {"conflicting_duplicate": 1}
    rows = (tmp_path / "out" / "analytics" / "aggregates.csv").read_text().splitlines()
    assert any(r.startswith("acme,order.placed,") and r.endswith(",1,27.12,27.12,27.12") for r in rows)


def test_an_unreachable_store_fails_the_run_with_one_clear_line(tmp_path):
    from dataclasses import replace

    from pipeline.errors import TransientError

    settings = Settings.local_emulators()
    broken = replace(settings, cosmos=replace(settings.cosmos, endpoint="https://127.0.0.1:1"))
    path = tmp_path / "in.ndjson"
    path.write_bytes(f.raw(f.order()))
    with pytest.raises(TransientError, match=r"Cosmos DB at https://127\.0\.0\.1:1 is unreachable"):
        asyncio.run(run(RunOptions(inputs=[path], reference=REFERENCE, out=tmp_path / "out", quiet=True), broken))
