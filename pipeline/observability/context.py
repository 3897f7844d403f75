"""The correlation context: who a log line is about, carried in `contextvars`.

A trigger, an activity or the local runner binds the batch (`batch_id`, the orchestration
`instance_id`, the batch's trace) and, around per-event work, the event's identity; every log
record emitted meanwhile gets those fields (see :mod:`pipeline.observability.logs`). Context
variables follow `await` and are copied into tasks, so concurrent batches never mix.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

#: Every field the context can hold, in the order log lines show them.
CONTEXT_FIELDS: tuple[str, ...] = (
    "correlation_id",
    "batch_id",
    "instance_id",
    "source_kind",
    "step",
    "trace_id",
    "span_id",
    "traceparent",
    "event_key",
    "tenant_id",
    "event_source",
    "event_id",
    "event_traceparent",
)

_EMPTY: Mapping[str, str] = MappingProxyType({})
_current: ContextVar[Mapping[str, str]] = ContextVar("pipeline_correlation", default=_EMPTY)


def correlation() -> dict[str, str]:
    """The fields bound in the current context (a copy), with `correlation_id` filled in.

    `correlation_id` is the trace id when there is one (it equals the Application Insights
    `operation_Id` of the batch's telemetry), else the batch id.
    """
    fields = dict(_current.get())
    if "correlation_id" not in fields:
        chosen = fields.get("trace_id") or fields.get("batch_id")
        if chosen:
            fields["correlation_id"] = chosen
    return fields


@contextmanager
def bind(**fields: object) -> Iterator[dict[str, str]]:
    """Add fields to the correlation context for the duration of the block.

    `None` values are ignored (they neither set nor clear a field); other values are kept as
    text. Unknown names are allowed: they appear in log lines like the standard ones.
    """
    merged = dict(_current.get())
    merged.update({name: str(value) for name, value in fields.items() if value is not None})
    token = _current.set(MappingProxyType(merged))
    try:
        yield dict(merged)
    finally:
        _current.reset(token)


def event_key(tenant_id: str, source: str, event_id: str) -> str:
    """The Cosmos DB document id of an event identity: find the stored document with it."""
    from pipeline.enrich import document_id  # lazily: this package stays a leaf of `pipeline`

    return document_id(tenant_id, source, event_id)


def event_fields(
    tenant_id: str | None, source: str | None, event_id: str | None, traceparent: object = None
) -> dict[str, str]:
    """The context fields that name one event: its identity, its document id and its trace."""
    fields: dict[str, str] = {}
    if tenant_id is not None:
        fields["tenant_id"] = tenant_id
    if source is not None:
        fields["event_source"] = source
    if event_id is not None:
        fields["event_id"] = event_id
    if tenant_id is not None and source is not None and event_id is not None:
        fields["event_key"] = event_key(tenant_id, source, event_id)
    if isinstance(traceparent, str):
        fields["event_traceparent"] = traceparent
    return fields


@contextmanager
def event_scope(
    tenant_id: str | None, source: str | None, event_id: str | None, traceparent: object = None
) -> Iterator[dict[str, str]]:
    """Bind one event's identity for the duration of the block."""
    with bind(**event_fields(tenant_id, source, event_id, traceparent)) as fields:
        yield fields
