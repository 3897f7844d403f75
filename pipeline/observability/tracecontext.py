"""W3C Trace Context: parse and format `traceparent`, derive span ids, carry a batch's trace.

A batch gets one trace context, chosen once at ingest and carried in the orchestration input
(`"traceparent"`), so every log line and span of the batch — trigger, orchestrator replays,
activities — shares one trace id. The choice (see :func:`batch_trace`) is deterministic for a
given delivery, like the batch id itself: a redelivered batch continues the same trace.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

#: The orchestration input keys this module adds (the claim check keeps its own keys).
TRACEPARENT_KEY = "traceparent"
INGESTED_AT_KEY = "ingested_at"
ENQUEUED_AT_KEY = "enqueued_at"

_HEX = re.compile(r"^[0-9a-f]+$")
_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16
_TRACEPARENT_IN_JSON = re.compile(rb'"traceparent"\s*:\s*"([0-9a-f-]{55,128})"')


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span's identity: `trace_id` (32 hex), `span_id` (16 hex) and the trace flags."""

    trace_id: str
    span_id: str
    flags: int = 1

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"

    @property
    def sampled(self) -> bool:
        return bool(self.flags & 1)

    def child(self, span_id: str | None = None) -> TraceContext:
        """A span in the same trace: a new (random, unless given) span id, the same flags."""
        return replace(self, span_id=span_id or new_span_id())

    def __str__(self) -> str:
        return self.traceparent


def parse_traceparent(value: object) -> TraceContext | None:
    """The trace context of a `traceparent` header value, or None when it is not a valid one.

    Follows the W3C rules: lower-case hex only, version `ff` is invalid, version `00` has
    exactly four fields, a later version may append fields after a `-`, and neither the
    trace id nor the parent id may be all zeros.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) < 55 or (len(text) > 55 and text[55] != "-"):
        return None
    version, trace_id, span_id, flags = text[:2], text[3:35], text[36:52], text[53:55]
    if text[2] != "-" or text[35] != "-" or text[52] != "-":
        return None
    if not all(_HEX.match(part) for part in (version, trace_id, span_id, flags)):
        return None
    if version == "ff" or (version == "00" and len(text) != 55):
        return None
    if trace_id == _INVALID_TRACE_ID or span_id == _INVALID_SPAN_ID:
        return None
    return TraceContext(trace_id, span_id, int(flags, 16))


def format_traceparent(context: TraceContext) -> str:
    return context.traceparent


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_span_id() -> str:
    return secrets.token_hex(8)


def derived_trace_id(seed: str) -> str:
    """A trace id that is a pure function of `seed` (never the invalid all-zero id)."""
    digest = hashlib.sha256(b"trace\x1f" + seed.encode()).hexdigest()[:32]
    return digest if digest != _INVALID_TRACE_ID else "1" + digest[1:]


def derived_span_id(*parts: str) -> str:
    """A span id that is a pure function of `parts` (never the invalid all-zero id)."""
    digest = hashlib.sha256("\x1f".join(("span", *parts)).encode()).hexdigest()[:16]
    return digest if digest != _INVALID_SPAN_ID else "1" + digest[1:]


def batch_trace(batch_id: str, event_traceparents: Iterable[object] = (), *, parent: object = None) -> TraceContext:
    """The trace context of one batch, chosen deterministically.

    1. All valid event `traceparent`s of the batch share one trace (a producer that traces its
       sends, or a single HTTP event): the batch span is a child of the first of them, so the
       producer sees the processing in its own trace.
    2. Otherwise, a valid `parent` (the trigger invocation's own trace context) is the parent.
    3. Otherwise the trace id is derived from the batch id.

    The span id is derived from the batch id and the trace, so a redelivery of the same batch
    continues the same trace with the same batch span.
    """
    contexts = [c for c in (parse_traceparent(t) for t in event_traceparents) if c is not None]
    if contexts and len({c.trace_id for c in contexts}) == 1:
        base = contexts[0]
    else:
        base = parse_traceparent(parent) or TraceContext(derived_trace_id(batch_id), derived_span_id(batch_id))
    return base.child(derived_span_id(batch_id, base.trace_id, base.span_id))


def traceparents_in(raw_events: Iterable[bytes]) -> list[str]:
    """The `traceparent` attribute of each raw CloudEvent that has a valid one (a cheap scan).

    For triggers that have the raw bodies but not the validated events. The pattern may, rarely,
    match a `traceparent` key inside `data`; :func:`batch_trace` tolerates that.
    """
    found = []
    for raw in raw_events:
        match = _TRACEPARENT_IN_JSON.search(raw)
        if match:
            text = match.group(1).decode("ascii")
            if parse_traceparent(text) is not None:
                found.append(text)
    return found


def with_trace(
    orchestration_input: Mapping[str, Any],
    context: TraceContext,
    *,
    ingested_at: str | None = None,
    enqueued_at: str | None = None,
) -> dict[str, Any]:
    """A copy of an orchestration input that carries the batch's trace context and timing.

    `ingested_at`/`enqueued_at` are RFC 3339 UTC texts (when the trigger received the batch, and
    when its first event was enqueued in Event Hubs); the activities use them for the batch
    duration and the end-to-end latency metrics.
    """
    carried: dict[str, Any] = {**orchestration_input, TRACEPARENT_KEY: context.traceparent}
    if ingested_at is not None:
        carried[INGESTED_AT_KEY] = ingested_at
    if enqueued_at is not None:
        carried[ENQUEUED_AT_KEY] = enqueued_at
    return carried


def trace_of(payload: Mapping[str, Any] | None) -> TraceContext | None:
    """The trace context carried by an orchestration input or activity payload, if any."""
    if not payload:
        return None
    return parse_traceparent(payload.get(TRACEPARENT_KEY))
