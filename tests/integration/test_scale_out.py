"""Four runner processes at once over disjoint partitions of one stream that shares tenants and
windows, with redeliveries across them (`make bench` runs the same at a larger size)."""

from __future__ import annotations

from pipeline.bench.scale_out import partitioned_stream, run_scale_out
from pipeline.settings import Settings


def test_the_partitions_are_disjoint_by_identity_and_redeliveries_cross_them() -> None:
    parts, whole = partitioned_stream(2000, 4)
    assert sum(len(part) for part in parts) == len(whole) > 2000
    assert all(len(part) > 300 for part in parts)


def test_four_runners_at_once_store_each_event_once_and_fold_exact_aggregates_without_contention() -> None:
    result = run_scale_out(Settings.local_emulators(), 3000, runners=4)

    assert result["conservation"] and result["dead_letters_match"]
    assert result["stored_once"], (result["stored_documents"], result["expected_stored"])
    assert result["duplicates"]["reported"] == result["duplicates"]["expected"] > 0
    assert result["aggregates_exact"]
    assert result["contributions_left_pending"] == 0  # each runner's last fold took what it had queued
    assert result["aggregate_write_conflicts_per_1000_events"] == 0
