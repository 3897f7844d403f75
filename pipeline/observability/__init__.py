"""Observability: structured logs with a correlation context, W3C trace context, metrics, health.

The public surface, in the order a batch meets it:

- :func:`configure_observability` once per process (the Functions app, the CLI);
- :func:`batch_trace` / :func:`traceparents_in` / :func:`with_trace` in a trigger, to choose the
  batch's trace and carry it in the orchestration input;
- :func:`batch_scope` around each step (ingest, curate, aggregate, fail);
- :func:`record_ingest`, :func:`record_stored`, :func:`record_batch` for the metrics and the
  one log line per step;
- :func:`check_health` for `GET /api/health`.

Nothing here reads settings: callers pass what the settings say.
"""

from __future__ import annotations

from typing import Literal

from pipeline.observability.context import CONTEXT_FIELDS, bind, correlation, event_scope
from pipeline.observability.health import Check, HealthReport, check_health
from pipeline.observability.logs import CorrelationFilter, JsonFormatter, attach_correlation, configure_logging
from pipeline.observability.metrics import (
    INSTRUMENTS,
    InMemoryMetrics,
    Metrics,
    OpenTelemetryMetrics,
    get_metrics,
    set_metrics,
)
from pipeline.observability.recording import (
    log_dead_letter,
    log_dead_letters,
    record_batch,
    record_ingest,
    record_stored,
)
from pipeline.observability.scopes import BatchScope, batch_scope
from pipeline.observability.telemetry import TelemetryConfig, configure_telemetry, span, telemetry_enabled
from pipeline.observability.tracecontext import (
    TraceContext,
    batch_trace,
    parse_traceparent,
    trace_of,
    traceparents_in,
    with_trace,
)

__all__ = [
    "CONTEXT_FIELDS",
    "INSTRUMENTS",
    "BatchScope",
    "Check",
    "CorrelationFilter",
    "HealthReport",
    "InMemoryMetrics",
    "JsonFormatter",
    "Metrics",
    "OpenTelemetryMetrics",
    "TelemetryConfig",
    "TraceContext",
    "attach_correlation",
    "batch_scope",
    "batch_trace",
    "bind",
    "check_health",
    "configure_logging",
    "configure_observability",
    "configure_telemetry",
    "correlation",
    "event_scope",
    "get_metrics",
    "log_dead_letter",
    "log_dead_letters",
    "parse_traceparent",
    "record_batch",
    "record_ingest",
    "record_stored",
    "set_metrics",
    "span",
    "telemetry_enabled",
    "trace_of",
    "traceparents_in",
    "with_trace",
]


def configure_observability(
    *,
    log_level: str | int = "INFO",
    log_format: Literal["json", "text"] = "json",
    console: bool = True,
    telemetry: TelemetryConfig | None = None,
) -> Metrics:
    """Logging, then (when configured) Application Insights export; returns the metrics in use.

    In the Functions app pass ``console=False`` (the host captures the worker's logs) and the
    telemetry config from the settings; in the CLI keep ``console=True``.
    """
    configure_logging(log_level, fmt=log_format, console=console)
    return configure_telemetry(telemetry or TelemetryConfig())
