"""OpenTelemetry export to Application Insights, only when a connection string is configured.

Off (the default, and always locally) nothing OpenTelemetry-related is imported: spans are
plain :class:`TraceContext` values bound into the correlation context, and metrics stay in
memory. On, :func:`configure_telemetry` sets up the Azure Monitor distro once per process
(unless the Functions worker already did, with `PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY`),
installs :class:`OpenTelemetryMetrics` and makes :func:`span` start real spans, so every log
record inside a batch is exported with the batch's trace id as its `operation_Id`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipeline.observability.context import bind
from pipeline.observability.logs import attach_correlation
from pipeline.observability.metrics import InMemoryMetrics, Metrics, OpenTelemetryMetrics, get_metrics, set_metrics
from pipeline.observability.tracecontext import TraceContext, new_span_id, new_trace_id

log = logging.getLogger(__name__)

INSTRUMENTATION_NAME = "pipeline"


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """What :func:`configure_telemetry` needs; built from the settings by the caller.

    Attributes:
        connection_string: `APPLICATIONINSIGHTS_CONNECTION_STRING`; None or empty turns export off.
        authentication_string: `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
            (``Authorization=AAD;ClientId=<id>``): telemetry is sent with that managed identity.
        service_name: `service.name` of the resource (the `cloud_RoleName` in Application Insights).
        trace_azure_sdk: Also trace every Azure SDK call (Cosmos, Blob) as a dependency. Useful to
            debug, costly at volume (one dependency record per call).
        sampling_ratio: Share of traces kept (1.0 keeps all).
    """

    connection_string: str | None = None
    authentication_string: str | None = None
    service_name: str = "event-pipeline"
    trace_azure_sdk: bool = False
    sampling_ratio: float = 1.0

    @property
    def enabled(self) -> bool:
        return bool(self.connection_string and self.connection_string.strip())


_tracer: Any = None


def telemetry_enabled() -> bool:
    return _tracer is not None


def configure_telemetry(config: TelemetryConfig) -> Metrics:
    """Export traces, metrics and logs to Application Insights when `config` enables it.

    Idempotent; returns the metrics now installed. Failures to set up the exporter are logged
    and leave telemetry off: observability must never stop the pipeline.
    """
    global _tracer
    if not config.enabled:
        if not isinstance(get_metrics(), InMemoryMetrics):
            set_metrics(InMemoryMetrics())
        return get_metrics()
    if _tracer is not None:
        return get_metrics()
    try:
        from opentelemetry import metrics, trace

        if not _sdk_provider_installed(trace):
            _configure_azure_monitor(config)
        _tracer = trace.get_tracer(INSTRUMENTATION_NAME)
        set_metrics(OpenTelemetryMetrics(metrics.get_meter(INSTRUMENTATION_NAME)))
    except Exception:  # an optional exporter must not break the app
        log.exception("Application Insights export could not be configured; telemetry stays off")
        _tracer = None
        return get_metrics()
    attach_correlation()
    return get_metrics()


def _sdk_provider_installed(trace: Any) -> bool:
    """True when a real SDK tracer provider is set (e.g. by the Functions worker)."""
    try:
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError:
        return False
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def _configure_azure_monitor(config: TelemetryConfig) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.sdk.resources import Resource

    options: dict[str, Any] = {
        "connection_string": config.connection_string,
        "resource": Resource.create({"service.name": config.service_name}),
        "sampling_ratio": config.sampling_ratio,
        "instrumentation_options": {"azure_sdk": {"enabled": config.trace_azure_sdk}},
    }
    credential = managed_identity_credential(config.authentication_string)
    if credential is not None:
        options["credential"] = credential
    configure_azure_monitor(**options)


def managed_identity_credential(authentication_string: str | None) -> Any:
    """The credential an `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` asks for, or None.

    ``Authorization=AAD`` means Entra ID with the system identity; ``ClientId=...`` names a
    user-assigned one (as the Bicep sets).
    """
    parts = _pairs(authentication_string)
    if parts.get("authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = parts.get("clientid")
    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()


def _pairs(text: str | None) -> dict[str, str]:
    pairs = {}
    for item in (text or "").split(";"):
        name, sep, value = item.partition("=")
        if sep:
            pairs[name.strip().lower()] = value.strip()
    return pairs


@contextmanager
def span(
    name: str,
    *,
    parent: TraceContext | None = None,
    links: Sequence[TraceContext] = (),
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> Iterator[TraceContext]:
    """A span as a child of `parent` (a new trace when None), bound into the correlation context.

    With telemetry on, a real OpenTelemetry span is started and made current, so log records
    inside carry its trace and span ids. With telemetry off, a child context with a fresh span
    id stands in for it. Either way the block sees `trace_id`/`span_id`/`traceparent` bound.
    """
    if _tracer is None:
        context = parent.child() if parent is not None else TraceContext(new_trace_id(), new_span_id())
        with bind(trace_id=context.trace_id, span_id=context.span_id, traceparent=context.traceparent):
            yield context
        return
    from opentelemetry import trace
    from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, TraceFlags

    def span_context(c: TraceContext) -> SpanContext:
        return SpanContext(int(c.trace_id, 16), int(c.span_id, 16), is_remote=True, trace_flags=TraceFlags(c.flags))

    otel_parent = trace.set_span_in_context(NonRecordingSpan(span_context(parent))) if parent is not None else None
    with _tracer.start_as_current_span(
        name,
        context=otel_parent,
        links=[Link(span_context(link)) for link in links],
        attributes=dict(attributes or {}),
    ) as current:
        ids = current.get_span_context()
        context = TraceContext(f"{ids.trace_id:032x}", f"{ids.span_id:016x}", int(ids.trace_flags))
        with bind(trace_id=context.trace_id, span_id=context.span_id, traceparent=context.traceparent):
            yield context


def reset_for_tests() -> None:
    """Forget the configured tracer (tests only; the exporter itself is not torn down)."""
    global _tracer
    _tracer = None
