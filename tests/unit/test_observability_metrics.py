"""Metrics: the in-memory implementation, the OpenTelemetry one, and the step durations of batch_scope."""

from __future__ import annotations

import logging

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from pipeline.observability import InMemoryMetrics, OpenTelemetryMetrics, batch_scope, get_metrics, set_metrics
from pipeline.observability.metrics import (
    BATCH_DURATION,
    EVENTS_DEAD_LETTERED,
    EVENTS_RECEIVED,
    INSTRUMENTS,
    STEP_DURATION,
    Summary,
)


def test_counters_sum_per_attribute_set_and_filter_by_attributes() -> None:
    metrics = InMemoryMetrics()
    metrics.add(EVENTS_DEAD_LETTERED, 2, {"reason": "malformed_json", "stage": "ingest"})
    metrics.add(EVENTS_DEAD_LETTERED, 1, {"reason": "unknown_tenant", "stage": "curate"})
    metrics.add(EVENTS_DEAD_LETTERED, 3, {"reason": "malformed_json", "stage": "ingest"})
    assert metrics.counter(EVENTS_DEAD_LETTERED) == 6
    assert metrics.counter(EVENTS_DEAD_LETTERED, stage="ingest") == 5
    assert metrics.by_attribute(EVENTS_DEAD_LETTERED, "reason") == {"malformed_json": 5, "unknown_tenant": 1}
    assert metrics.counter(EVENTS_RECEIVED) == 0


def test_histograms_keep_bounded_summaries_with_percentiles() -> None:
    metrics = InMemoryMetrics()
    for value in [0.002] * 90 + [0.4] * 9 + [42.0]:
        metrics.record(BATCH_DURATION, value, {"outcome": "completed"})
    summary = metrics.histogram(BATCH_DURATION)
    assert summary.count == 100 and summary.minimum == 0.002 and summary.maximum == 42.0
    assert 0.002 <= summary.quantile(0.5) <= 0.0025  # inside the bucket holding the median
    assert 0.25 <= summary.quantile(0.95) <= 0.5
    assert summary.quantile(1.0) == 42.0 and summary.quantile(0.0) == 0.002
    assert len(summary.buckets) == len(Summary().buckets)  # memory does not grow with values
    snapshot = metrics.snapshot()
    assert snapshot["histograms"][BATCH_DURATION]["outcome=completed"]["count"] == 100
    assert metrics.histogram(BATCH_DURATION, outcome="failed").count == 0


def test_the_opentelemetry_implementation_creates_each_instrument_once_with_its_unit() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    metrics = OpenTelemetryMetrics(provider.get_meter("pipeline"))
    metrics.add(EVENTS_RECEIVED, 100, {"source_kind": "eventhub"})
    metrics.add(EVENTS_RECEIVED, 20, {"source_kind": "eventhub"})
    metrics.record(BATCH_DURATION, 1.5, {"outcome": "completed"})
    data = reader.get_metrics_data()
    found = {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert found[EVENTS_RECEIVED].unit == INSTRUMENTS[EVENTS_RECEIVED].unit
    (point,) = found[EVENTS_RECEIVED].data.data_points
    assert point.value == 120 and dict(point.attributes) == {"source_kind": "eventhub"}
    (histogram,) = found[BATCH_DURATION].data.data_points
    assert (histogram.count, histogram.sum, found[BATCH_DURATION].unit) == (1, 1.5, "s")
    provider.shutdown()


@pytest.fixture
def memory() -> InMemoryMetrics:
    metrics = InMemoryMetrics()
    previous = set_metrics(metrics)
    yield metrics
    set_metrics(previous)


def test_batch_scope_records_the_step_duration_with_its_outcome(memory: InMemoryMetrics) -> None:
    assert get_metrics() is memory
    with batch_scope("b1", step="aggregate", source_kind="http"):
        pass
    assert memory.histogram(STEP_DURATION, step="aggregate", outcome="ok", source_kind="http").count == 1


def test_batch_scope_logs_a_failure_once_with_the_context_and_reraises(
    memory: InMemoryMetrics, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(RuntimeError), batch_scope("b2", step="curate"):
        raise RuntimeError("cosmos throttled")
    (record,) = [r for r in caplog.records if r.name == "pipeline.batch"]
    assert "step curate of batch b2 failed" in record.getMessage() and record.exc_info
    assert memory.histogram(STEP_DURATION, step="curate", outcome="error").count == 1
