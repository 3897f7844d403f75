"""Custom metrics behind a two-method interface: counters (`add`) and histograms (`record`).

The pipeline records through :func:`get_metrics`; which implementation answers is set once per
process: :class:`OpenTelemetryMetrics` when Application Insights is configured (the Azure Monitor
exporter sends them to `customMetrics`), else :class:`InMemoryMetrics`, whose bounded
summaries the local runner and the tests read back. Names and units follow the OpenTelemetry
conventions (durations in seconds).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Attributes = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str


EVENTS_RECEIVED = "pipeline.events.received"
EVENTS_STORED = "pipeline.events.stored"
EVENTS_DUPLICATES = "pipeline.events.duplicates"
EVENTS_DEAD_LETTERED = "pipeline.events.dead_lettered"
BATCHES = "pipeline.batches"
BATCH_DURATION = "pipeline.batch.duration"
STEP_DURATION = "pipeline.step.duration"
LATENCY_EVENT_TIME = "pipeline.latency.event_time"
LATENCY_ENQUEUED = "pipeline.latency.enqueued"

INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in (
        Instrument(EVENTS_RECEIVED, "counter", "{event}", "Events received by a trigger (attribute source_kind)."),
        Instrument(EVENTS_STORED, "counter", "{event}", "Events stored in Cosmos DB for the first time."),
        Instrument(EVENTS_DUPLICATES, "counter", "{event}", "Redeliveries of an already stored event."),
        Instrument(EVENTS_DEAD_LETTERED, "counter", "{event}", "Events dead-lettered (attributes reason and stage)."),
        Instrument(BATCHES, "counter", "{batch}", "Batches finished (attribute outcome: completed or failed)."),
        Instrument(BATCH_DURATION, "histogram", "s", "From the trigger receiving a batch to its aggregates."),
        Instrument(STEP_DURATION, "histogram", "s", "Duration of one step (attribute step)."),
        Instrument(LATENCY_EVENT_TIME, "histogram", "s", "From an event's own time to its storage."),
        Instrument(LATENCY_ENQUEUED, "histogram", "s", "From Event Hubs enqueueing an event to its storage."),
    )
}


class Metrics(Protocol):
    def add(self, name: str, value: float = 1, attributes: Attributes | None = None) -> None:
        """Add to a counter."""

    def record(self, name: str, value: float, attributes: Attributes | None = None) -> None:
        """Record one value of a histogram."""


# Bucket bounds in seconds: 1 ms to 2 h, roughly x2 apart (for the in-memory percentiles).
BOUNDS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
)  # fmt: skip


@dataclass(slots=True)
class Summary:
    """A bounded histogram: count, sum, min, max and bucket counts (upper bounds `BOUNDS`)."""

    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BOUNDS) + 1))

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.buckets[bisect.bisect_left(BOUNDS, value)] += 1

    def merge(self, other: Summary) -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def quantile(self, q: float) -> float:
        """An estimate of the q-quantile: linear within the bucket that holds it, within [min, max]."""
        if not self.count:
            return 0.0
        rank = q * self.count
        seen = 0
        for index, bucket in enumerate(self.buckets):
            if bucket and seen + bucket >= rank:
                lower = max(BOUNDS[index - 1] if index else self.minimum, self.minimum)
                upper = min(BOUNDS[index] if index < len(BOUNDS) else self.maximum, self.maximum)
                return lower + (upper - lower) * max(0.0, rank - seen) / bucket
            seen += bucket
        return self.maximum

    def to_json(self) -> dict[str, float]:
        if not self.count:
            return {"count": 0}
        return {
            "count": self.count,
            "sum": round(self.total, 6),
            "min": round(self.minimum, 6),
            "mean": round(self.mean, 6),
            "p50": round(self.quantile(0.5), 6),
            "p95": round(self.quantile(0.95), 6),
            "p99": round(self.quantile(0.99), 6),
            "max": round(self.maximum, 6),
        }


def _key(attributes: Attributes | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((attributes or {}).items()))


class InMemoryMetrics:
    """Counters and bounded histogram summaries in memory, per (name, attributes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        self._histograms: dict[str, dict[tuple[tuple[str, str], ...], Summary]] = {}

    def add(self, name: str, value: float = 1, attributes: Attributes | None = None) -> None:
        with self._lock:
            series = self._counters.setdefault(name, {})
            key = _key(attributes)
            series[key] = series.get(key, 0) + value

    def record(self, name: str, value: float, attributes: Attributes | None = None) -> None:
        with self._lock:
            self._histograms.setdefault(name, {}).setdefault(_key(attributes), Summary()).add(value)

    def counter(self, name: str, **attributes: str) -> float:
        """The total of a counter over every series whose attributes include `attributes`."""
        with self._lock:
            series = self._counters.get(name, {})
            return sum(v for key, v in series.items() if attributes.items() <= dict(key).items())

    def histogram(self, name: str, **attributes: str) -> Summary:
        """The merged summary of every series whose attributes include `attributes`."""
        merged = Summary()
        with self._lock:
            for key, summary in self._histograms.get(name, {}).items():
                if attributes.items() <= dict(key).items():
                    merged.merge(summary)
        return merged

    def by_attribute(self, name: str, attribute: str) -> dict[str, float]:
        """A counter's totals keyed by one attribute's value (e.g. dead letters by reason)."""
        totals: dict[str, float] = {}
        with self._lock:
            for key, value in self._counters.get(name, {}).items():
                label = dict(key).get(attribute)
                if label is not None:
                    totals[label] = totals.get(label, 0) + value
        return dict(sorted(totals.items()))

    def snapshot(self) -> dict[str, Any]:
        """Everything recorded, as JSON-ready data (for a run report)."""
        with self._lock:
            counters = {
                name: {_label(key): value for key, value in sorted(series.items())}
                for name, series in sorted(self._counters.items())
            }
            histograms = {
                name: {_label(key): summary.to_json() for key, summary in sorted(series.items())}
                for name, series in sorted(self._histograms.items())
            }
        return {"counters": counters, "histograms": histograms}

    def reset(self) -> None:
        with self._lock:
            self._counters.clear()
            self._histograms.clear()


def _label(key: tuple[tuple[str, str], ...]) -> str:
    return ",".join(f"{k}={v}" for k, v in key) or "all"


class OpenTelemetryMetrics:
    """Metrics through an OpenTelemetry `Meter` (instruments are created on first use)."""

    def __init__(self, meter: Any) -> None:
        self._meter = meter
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _instrument(self, name: str) -> Any:
        instrument = self._instruments.get(name)
        if instrument is None:
            with self._lock:
                spec = INSTRUMENTS.get(name) or Instrument(name, "counter", "1", name)
                create = self._meter.create_counter if spec.kind == "counter" else self._meter.create_histogram
                instrument = self._instruments.setdefault(
                    name, create(name, unit=spec.unit, description=spec.description)
                )
        return instrument

    def add(self, name: str, value: float = 1, attributes: Attributes | None = None) -> None:
        self._instrument(name).add(value, attributes=dict(attributes or {}))

    def record(self, name: str, value: float, attributes: Attributes | None = None) -> None:
        self._instrument(name).record(value, attributes=dict(attributes or {}))


_metrics: Metrics = InMemoryMetrics()


def get_metrics() -> Metrics:
    """The process's metrics (in memory until telemetry is configured)."""
    return _metrics


def set_metrics(metrics: Metrics) -> Metrics:
    """Install `metrics` for the process; returns the previous implementation (tests restore it)."""
    global _metrics
    previous, _metrics = _metrics, metrics
    return previous
