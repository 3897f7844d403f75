"""OpenTelemetry export is off without a connection string; on, spans continue the batch's trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.identity import ManagedIdentityCredential
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pipeline.observability import (
    InMemoryMetrics,
    OpenTelemetryMetrics,
    TelemetryConfig,
    batch_scope,
    configure_observability,
    configure_telemetry,
    correlation,
    get_metrics,
    parse_traceparent,
    set_metrics,
    span,
    telemetry_enabled,
)
from pipeline.observability import telemetry as telemetry_module
from pipeline.observability.telemetry import managed_identity_credential

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
LINKED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    previous = get_metrics()
    yield
    telemetry_module.reset_for_tests()
    set_metrics(previous)


def test_without_a_connection_string_export_stays_off_and_metrics_stay_in_memory() -> None:
    for config in (TelemetryConfig(), TelemetryConfig(connection_string="  ")):
        assert isinstance(configure_telemetry(config), InMemoryMetrics)
        assert not telemetry_enabled()
    assert isinstance(configure_observability(console=False), InMemoryMetrics)


def test_spans_without_export_are_children_of_the_batch_trace_bound_into_the_context() -> None:
    parent = parse_traceparent(VALID)
    with span("pipeline.curate", parent=parent) as context:
        assert context.trace_id == parent.trace_id and context.span_id != parent.span_id
        assert correlation()["traceparent"] == context.traceparent
    with span("pipeline.curate") as fresh:
        assert fresh.trace_id != parent.trace_id
    assert correlation() == {}


def test_with_a_connection_string_the_distro_is_configured_once_and_metrics_go_to_opentelemetry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[TelemetryConfig] = []
    monkeypatch.setattr(telemetry_module, "_sdk_provider_installed", lambda trace: False)
    monkeypatch.setattr(telemetry_module, "_configure_azure_monitor", calls.append)
    config = TelemetryConfig(connection_string="InstrumentationKey=00000000-0000-0000-0000-000000000000")
    assert isinstance(configure_telemetry(config), OpenTelemetryMetrics)
    assert telemetry_enabled()
    configure_telemetry(config)
    assert calls == [config]


def test_a_worker_that_already_set_up_opentelemetry_is_not_configured_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[TelemetryConfig] = []
    monkeypatch.setattr(telemetry_module, "_sdk_provider_installed", lambda trace: True)
    monkeypatch.setattr(telemetry_module, "_configure_azure_monitor", calls.append)
    configure_telemetry(TelemetryConfig(connection_string="InstrumentationKey=x"))
    assert telemetry_enabled() and calls == []


def test_an_exporter_that_fails_to_configure_leaves_telemetry_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(config: TelemetryConfig) -> None:
        raise RuntimeError("no network")

    monkeypatch.setattr(telemetry_module, "_sdk_provider_installed", lambda trace: False)
    monkeypatch.setattr(telemetry_module, "_configure_azure_monitor", broken)
    assert isinstance(configure_telemetry(TelemetryConfig(connection_string="InstrumentationKey=x")), InMemoryMetrics)
    assert not telemetry_enabled()


def test_with_export_on_a_step_span_continues_the_batch_trace_and_links_the_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(telemetry_module, "_tracer", provider.get_tracer("pipeline"))
    with batch_scope("b1", step="aggregate", traceparent=VALID, links=[parse_traceparent(LINKED)]) as scope:
        assert correlation()["span_id"] == scope.trace.span_id
    (finished,) = exporter.get_finished_spans()
    assert finished.name == "pipeline.aggregate"
    assert f"{finished.context.trace_id:032x}" == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert f"{finished.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert f"{finished.links[0].context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert finished.attributes["pipeline.batch_id"] == "b1"
    provider.shutdown()


def test_the_authentication_string_selects_the_user_assigned_identity() -> None:
    assert managed_identity_credential(None) is None
    assert managed_identity_credential("Authorization=Key") is None
    credential = managed_identity_credential("Authorization=AAD;ClientId=11111111-2222-3333-4444-555555555555")
    assert isinstance(credential, ManagedIdentityCredential)
