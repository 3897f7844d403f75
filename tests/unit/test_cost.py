"""The cost model: a dated, sourced price table; the monthly estimate; the cost of a run."""

from __future__ import annotations

import argparse
import json
import re
from datetime import date
from typing import Any

import pytest

from pipeline.cost import (
    PriceError,
    Workload,
    add_cost_parser,
    estimate_monthly,
    estimate_run_cost,
    load_prices,
    render,
    run_cost,
)
from pipeline.cost import workload as w

PRICES = load_prices()
SECONDS = 730 * 3600


def test_the_price_table_is_dated_and_every_price_has_a_unit_sources_and_a_basis() -> None:
    assert date.fromisoformat(PRICES.as_of) and PRICES.currency == "USD" and PRICES.hours_per_month == 730
    for price in PRICES.prices.values():
        assert price.unit and price.basis in ("fact", "derived", "assumption")
        assert all(re.match(r"^https://", source) for source in price.sources), price.key
        assert price.known or price.basis == "assumption", f"{price.key}: an unknown price must say so"
    facts = [p for p in PRICES.prices.values() if p.basis == "fact"]
    assert len(facts) >= 10


def test_prices_can_be_overridden_and_a_bad_table_is_refused(tmp_path) -> None:
    table = PRICES.with_overrides({"durable_task_scheduler.dedicated_capacity_unit_month": 250.0})
    assert table["durable_task_scheduler.dedicated_capacity_unit_month"].basis == "override"
    with pytest.raises(PriceError, match="no 'nonsense'"):
        PRICES.with_overrides({"nonsense": 1.0})
    broken = tmp_path / "prices.json"
    broken.write_text(json.dumps({"as_of": "2026-01-01", "prices": {"x": {"price": 1, "unit": "u", "basis": "guess"}}}))
    with pytest.raises(PriceError, match="basis"):
        load_prices(broken)


def line(estimate, service: str, item: str):  # type: ignore[no-untyped-def]
    return next(entry for entry in estimate.lines if entry.service == service and entry.item.startswith(item))


def test_a_thousand_events_per_second_of_one_kilobyte() -> None:
    estimate = estimate_monthly(Workload(events_per_second=1000, event_bytes=1000), PRICES)
    assert estimate.figures["events_per_month"] == 1000 * SECONDS
    # 1,000 events/s is one TU; 1.5 x peak needs two, all month.
    assert line(estimate, "Event Hubs", "throughput units").monthly_usd == pytest.approx(2 * 0.03 * 730)
    assert line(estimate, "Event Hubs", "ingress").monthly_usd == pytest.approx(1000 * SECONDS / 1e6 * 0.028, abs=0.01)
    # Batches of 100: 6 executions each; and the fold timer once a minute.
    assert estimate.figures["executions_per_month"] == pytest.approx(10 * SECONDS * 6 + SECONDS / 60)
    # Serverless cannot serve the RU/s needed; autoscale is chosen.
    assert estimate.viable["cosmos"] == {"serverless": False, "autoscale": True}
    assert estimate.chosen == {"cosmos": "autoscale", "durable": "azure-storage"}
    counted = [entry.monthly_usd for entry in estimate.lines if estimate.counts(entry)]
    assert estimate.total == pytest.approx(sum(counted), abs=0.01)
    assert 3000 < estimate.total < 10000


def test_ten_thousand_events_per_second_has_no_hot_rows_but_meets_the_scheduler_limit() -> None:
    estimate = estimate_monthly(Workload(events_per_second=10_000, event_bytes=1000), PRICES)
    assert not any("etag" in text or "aggregate row" in text for text in estimate.warnings)
    assert estimate.viable["durable"]["scheduler-consumption"] is False
    # One fold a minute writes each row once: the aggregates are a sliver of the request units.
    assert estimate.figures["cosmos_ru_per_s_aggregates"] < estimate.figures["cosmos_ru_per_s"] / 100
    assert estimate.total > 10 * 3000


def test_a_thousand_events_per_second_of_a_kilobyte_costs_about_six_request_units_each() -> None:
    """The goal of the bulk write path: at most 6.5 RU per event (8.5 with a merge per batch)."""
    workload = Workload(events_per_second=1000, event_bytes=1024)
    figures = estimate_monthly(workload, PRICES).figures
    doc = 1024 + w.DOCUMENT_OVERHEAD_BYTES
    # Derived from the operations: a create of each stored document, the reads redeliveries cause, the fold.
    assert figures["cosmos_ru_per_event_store"] == pytest.approx(0.92 * 5 * (doc / 1024) ** 0.5)
    assert figures["cosmos_ru_per_event_duplicates"] == pytest.approx(
        0.03 * (w.read_ru(doc) + w.REJECTED_CREATE_RU / 19), rel=1e-6
    )
    fold = w.fold(workload)
    assert fold.rows == pytest.approx(5 * 3 * 10, rel=1e-3)  # tenants x families x windows in the spread
    assert figures["cosmos_ru_per_event_aggregates"] == pytest.approx(fold.ru / 60_000)
    assert figures["cosmos_ru_per_event"] == pytest.approx(
        figures["cosmos_ru_per_event_store"]
        + figures["cosmos_ru_per_event_duplicates"]
        + figures["cosmos_ru_per_event_aggregates"]
    )
    assert figures["cosmos_ru_per_event"] <= 6.5


def test_requests_per_event_follow_tenants_per_batch_not_events() -> None:
    workload = Workload(events_per_second=1000, event_bytes=1024, duplicate_ratio=0.0)
    assert w.transactional_batches_per_batch(workload) == pytest.approx(5)  # one per tenant
    assert estimate_monthly(workload, PRICES).figures["cosmos_requests_per_event"] == pytest.approx(5 / 100)
    one_tenant = Workload(1000, 1024, batch_size=250, tenants=1, duplicate_ratio=0.0, dead_letter_ratio=0.0)
    assert w.transactional_batches_per_batch(one_tenant) == 3  # 100 creates a request at most


def test_scattered_duplicates_cost_more_than_redelivered_batches_and_none_cost_nothing() -> None:
    redelivered = Workload(1000, 1024)
    scattered = Workload(1000, 1024, duplicates="scattered")
    assert w.duplicate_ru_per_batch(Workload(1000, 1024, duplicate_ratio=0.0)) == 0
    # A redelivered batch fails at its first create and reads its documents: about one read per copy.
    assert w.duplicate_ru_per_batch(redelivered) < 100 * 0.03 * 2
    # A scattered copy fails a batch of new documents part-way: the rest are read, the creates run are lost.
    assert w.duplicate_ru_per_batch(scattered) > 10 * w.duplicate_ru_per_batch(redelivered)
    assert w.cosmos_requests_per_batch(scattered) > w.cosmos_requests_per_batch(redelivered)


def test_the_aggregates_cost_per_event_falls_as_the_rate_rises() -> None:
    """The fold writes each touched row once a minute, however many batches touched it."""
    per_event = [
        estimate_monthly(Workload(rate, 1024), PRICES).figures["cosmos_ru_per_event_aggregates"]
        for rate in (100, 1000, 10_000)
    ]
    assert per_event[0] > per_event[1] > per_event[2]
    assert w.fold(Workload(1000, 1024)).ru == pytest.approx(w.fold(Workload(10_000, 1024)).ru)
    # Sparse events touch fewer rows than there are windows.
    assert w.fold(Workload(0.01, 1024)).rows < w.fold(Workload(1000, 1024)).rows / 10


def test_a_backfill_costs_more_aggregate_request_units_than_a_live_stream() -> None:
    live = Workload(1000, 1024)
    backfill = Workload(1000, 1024, event_spread_minutes=180)
    assert w.fold(backfill).rows == pytest.approx(5 * 3 * 180, rel=1e-3)
    assert w.fold(backfill).row_bytes > w.fold(live).row_bytes  # a fold id per fold in `applied`
    live_ru = estimate_monthly(live, PRICES).figures["cosmos_ru_per_event_aggregates"]
    backfill_ru = estimate_monthly(backfill, PRICES).figures["cosmos_ru_per_event_aggregates"]
    assert backfill_ru > 10 * live_ru
    # Longer windows gather the same spread into fewer rows.
    assert w.fold(Workload(1000, 1024, event_spread_minutes=180, window_minutes=60)).rows < w.fold(backfill).rows


def test_retention_bounds_the_stored_events() -> None:
    def storage(**kwargs) -> float:  # type: ignore[no-untyped-def]
        estimate = estimate_monthly(Workload(1000, 1024, **kwargs), PRICES)
        return line(estimate, "Cosmos DB", "storage").quantity

    kept_90 = storage()
    assert kept_90 == pytest.approx(1000 * 90 * 86400 * 0.92 * (1024 + 600) * 1.1 / 1e9)
    assert storage(retention_days=30) == pytest.approx(kept_90 / 3)
    # Without a TTL the month's growth is priced (and it grows every month).
    forever = estimate_monthly(Workload(1000, 1024, retention_days=0), PRICES)
    month = line(forever, "Cosmos DB", "storage added this month")
    assert month.quantity == pytest.approx(1000 * SECONDS * 0.92 * (1024 + 600) * 1.1 / 1e9)
    assert "grows" in month.note


def test_the_contributions_cost_blob_writes_per_batch_and_per_fold() -> None:
    estimate = estimate_monthly(Workload(1000, 1024), PRICES)
    writes = line(estimate, "Storage", "blob writes: contributions")
    batches, folds = 10 * SECONDS, SECONDS / 60
    assert writes.quantity == pytest.approx(batches * 2 + folds * 2)
    reads = line(estimate, "Storage", "blob reads")
    assert reads.quantity == pytest.approx(batches * 4 + folds)


def test_a_small_workload_fits_serverless_and_the_free_grants() -> None:
    estimate = estimate_monthly(Workload(events_per_second=0.5, event_bytes=500), PRICES)
    assert estimate.chosen["cosmos"] == "serverless"
    assert line(estimate, "Functions", "on-demand execution time").monthly_usd == 0
    assert estimate.options["cosmos"]["serverless"] < estimate.options["cosmos"]["autoscale"]


def test_throughput_units_follow_bytes_when_events_are_large_and_ingress_counts_64_kb_units() -> None:
    workload = Workload(events_per_second=100, event_bytes=100_000, peak_factor=1.0)
    assert w.event_hubs_throughput_units(workload) == 10  # 9.5 MB/s
    assert w.ingress_units_per_event(workload) == 2


def test_the_scheduler_is_priced_when_its_price_is_given_and_replaces_the_storage_backend() -> None:
    prices = PRICES.with_overrides({"durable_task_scheduler.dedicated_capacity_unit_month": 500.0})
    estimate = estimate_monthly(Workload(1000, 1000), prices, durable="scheduler-dedicated")
    assert estimate.options["durable"]["scheduler-dedicated"] == 500.0
    assert not any(entry.service == "Durable (Azure Storage)" and estimate.counts(entry) for entry in estimate.lines)
    unpriced = estimate_monthly(Workload(1000, 1000), PRICES, durable="scheduler-consumption")
    assert unpriced.total is None and any("no price" in text for text in unpriced.warnings)


def test_always_ready_instances_add_a_baseline_and_take_executions_off_on_demand() -> None:
    plain = estimate_monthly(Workload(200, 800), PRICES)
    ready = estimate_monthly(Workload(200, 800, always_ready=1), PRICES)
    baseline = line(ready, "Functions", "always-ready baseline")
    assert baseline.quantity == pytest.approx(2 * SECONDS)
    assert line(ready, "Functions", "on-demand").quantity < line(plain, "Functions", "on-demand").quantity


def test_tracing_the_azure_sdk_multiplies_telemetry() -> None:
    plain = estimate_monthly(Workload(1000, 1000), PRICES).figures["telemetry_gb_per_month"]
    traced = estimate_monthly(Workload(1000, 1000, trace_azure_sdk=True), PRICES).figures["telemetry_gb_per_month"]
    # Documents go out a tenant's batch at a time, so a batch of 100 makes ~8 Cosmos DB requests, not ~100.
    assert 3 * plain < traced < 10 * plain


def test_invalid_workloads_are_refused() -> None:
    with pytest.raises(ValueError):
        Workload(events_per_second=0, event_bytes=100)
    with pytest.raises(ValueError):
        Workload(events_per_second=1, event_bytes=100, duplicate_ratio=0.7, dead_letter_ratio=0.5)
    with pytest.raises(ValueError):
        Workload(events_per_second=1, event_bytes=100, retention_days=-1)
    with pytest.raises(ValueError):
        Workload(events_per_second=1, event_bytes=100, duplicates="sometimes")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser()
    add_cost_parser(root.add_subparsers(dest="command"))
    return root


def test_steady_traffic_of_a_few_events_per_second_is_already_cheaper_on_autoscale() -> None:
    """Autoscale bills at least 10% of its 1,000 RU/s minimum: about $8.76 a month."""
    estimate = estimate_monthly(Workload(events_per_second=5, event_bytes=500), PRICES)
    assert estimate.options["cosmos"]["autoscale"] == pytest.approx(100 / 100 * 730 * 0.012, abs=0.01)
    assert estimate.chosen["cosmos"] == "autoscale"


def test_the_command_prints_a_table_or_json(capsys: pytest.CaptureFixture) -> None:
    assert run_cost(parser().parse_args(["cost", "--events-per-second", "1000", "--event-bytes", "1000"])) == 0
    text = capsys.readouterr().out
    assert "Total" in text and "Cosmos DB autoscale" in text and "Assumptions" in text
    args = ["cost", "--events-per-second", "1000", "--event-bytes", "1000", "--json", "--cosmos", "serverless"]
    assert run_cost(parser().parse_args(args)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["chosen"]["cosmos"] == "serverless" and data["price_table"]["as_of"] == PRICES.as_of
    assert any("cannot carry" in text for text in data["warnings"])


def test_the_command_takes_the_event_spread_the_retention_and_the_duplicates(capsys: pytest.CaptureFixture) -> None:
    base = ["cost", "--events-per-second", "1000", "--event-bytes", "1024", "--json"]
    assert run_cost(parser().parse_args(base)) == 0
    live = json.loads(capsys.readouterr().out)
    args = [*base, "--event-spread-minutes", "180", "--retention-days", "0", "--duplicates", "scattered"]
    assert run_cost(parser().parse_args(args)) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["workload"]["event_spread_minutes"] == 180 and other["workload"]["retention_days"] == 0
    assert other["figures"]["fold_rows"] > 10 * live["figures"]["fold_rows"]
    assert other["figures"]["cosmos_ru_per_event"] > live["figures"]["cosmos_ru_per_event"]
    assert any(entry["item"] == "storage added this month" for entry in other["lines"])
    with pytest.raises(SystemExit):
        parser().parse_args([*base, "--retention-days", "-1"])
    capsys.readouterr()
    assert run_cost(parser().parse_args(base[:-1])) == 0
    assert "one fold a minute" in capsys.readouterr().out


def test_the_command_refuses_a_malformed_price_override(capsys: pytest.CaptureFixture) -> None:
    args = ["cost", "--events-per-second", "10", "--event-bytes", "100", "--price", "cosmos.storage_gb_month"]
    assert run_cost(parser().parse_args(args)) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_render_marks_assumed_prices() -> None:
    text = render(estimate_monthly(Workload(1000, 1000), PRICES))
    assert "(a)" in text and "no price" in text


REPORT = {
    "received": 3000,
    "valid": 2850,
    "stored": 2750,
    "duplicates": 100,
    "dead_lettered": 150,
    "orchestrations": 30,
    "activities": 60,
    "history_events": 400,
    "elapsed_s": 12.5,
    "events_per_s": 240.0,
    "batch_size": 100,
    "window_minutes": 1,
}


def test_a_run_report_gets_its_observed_executions_and_an_estimated_cost() -> None:
    result = estimate_run_cost(REPORT)
    observed = result["observed"]
    assert observed["trigger_invocations"] == 30
    # 30 triggers, 90 orchestrator episodes, 60 activities, and the one fold a 12.5 s run would see.
    assert observed["orchestrator_episodes"] == 90 and observed["folds"] == 1 and observed["executions"] == 181
    assert observed["ms_per_event"] == pytest.approx(12500 / 3000, abs=0.001)
    costs = result["estimated_usd"]
    assert costs["functions_executions"] == pytest.approx(181 / 1e6 * 0.4, abs=1e-6)  # rounded to 6 places
    assert costs["total"] == pytest.approx(sum(v for k, v in costs.items() if k != "total"), abs=1e-5)
    assert result["per_million_events_usd"] == pytest.approx(costs["total"] / 3000 * 1e6, abs=0.01)
    assert result["cosmos_ru"] > 2750 * 5
    json.dumps(result)  # ready for report.json


def test_a_run_whose_events_were_all_dead_lettered_costs_no_aggregate_writes() -> None:
    report = {**REPORT, "stored": 0, "duplicates": 0, "dead_lettered": 3000, "aggregate_rows": 0}
    result = estimate_run_cost(report)
    assert result["cosmos_ru"] == 0 and result["estimated_usd"]["total"] > 0


def test_a_run_report_with_only_the_required_keys_is_estimated_too() -> None:
    minimal = {"received": 10, "orchestrations": 1, "activities": 2, "elapsed_s": 0.5}
    result = estimate_run_cost(minimal, event_bytes=400)
    assert result["observed"]["trigger_invocations"] == 1 and result["estimated_usd"]["total"] > 0


def test_the_worked_examples_in_the_cost_guide_match_the_model() -> None:
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text(encoding="utf-8")
    kb: dict[str, Any] = {"event_bytes": 1024}
    for kwargs, shown in [
        ({"events_per_second": 1000}, "**${:,.0f}**"),
        ({"events_per_second": 1000, "retention_days": 0}, "${:,.0f}"),
        ({"events_per_second": 1000, "event_spread_minutes": 180}, "${:,.0f}"),
        ({"events_per_second": 1000, "event_spread_minutes": 180, "retention_days": 0}, "${:,.0f}"),
        ({"events_per_second": 1000, "duplicates": "scattered"}, "${:,.0f}"),
        ({"events_per_second": 1000, "duplicates": "scattered", "retention_days": 0}, "${:,.0f}"),
        ({"events_per_second": 1000, "batch_size": 1000, "retention_days": 0}, "${:,.0f}"),
        ({"events_per_second": 10_000}, "**${:,.0f}**"),
        ({"events_per_second": 10_000, "retention_days": 0}, "**${:,.0f}**"),
        ({"events_per_second": 10_000, "batch_size": 1000}, "**${:,.0f}**"),
        ({"events_per_second": 10_000, "batch_size": 1000, "retention_days": 0}, "${:,.0f}"),
    ]:
        estimate = estimate_monthly(Workload(**kb, **kwargs), PRICES)
        assert shown.format(estimate.total) in guide, (kwargs, estimate.total)
        assert f"{estimate.figures['cosmos_ru_per_event']:.2f}" in guide, kwargs
    # The previous design's figures, quoted beside these, are not the model's: they stay as recorded.
    assert "8.50 RU per event" in guide and "**$5,702**" in guide
