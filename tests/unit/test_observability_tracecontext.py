"""W3C trace context: parsing by the spec's rules and the deterministic choice of a batch's trace."""

from __future__ import annotations

import pytest

from pipeline.observability.tracecontext import (
    ENQUEUED_AT_KEY,
    INGESTED_AT_KEY,
    TRACEPARENT_KEY,
    TraceContext,
    batch_trace,
    derived_trace_id,
    parse_traceparent,
    trace_of,
    traceparents_in,
    with_trace,
)

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_parses_into_its_fields_and_formats_back() -> None:
    context = parse_traceparent(VALID)
    assert context == TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1)
    assert context.traceparent == VALID
    assert context.sampled
    assert str(context) == VALID


@pytest.mark.parametrize(
    "value",
    [
        None,
        42,
        "",
        VALID.upper(),  # upper-case hex is invalid
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # all-zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
        VALID + "-extra",  # version 00 has exactly four fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",  # wrong separators
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",  # flags not hex
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  # later version: no '-' after flags
    ],
)
def test_invalid_traceparents_are_rejected(value: object) -> None:
    assert parse_traceparent(value) is None


def test_a_later_version_may_append_fields_after_a_dash() -> None:
    context = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")
    assert context is not None and not context.sampled


def test_a_child_keeps_the_trace_and_flags_with_a_new_span() -> None:
    parent = parse_traceparent(VALID)
    child = parent.child()
    assert (child.trace_id, child.flags) == (parent.trace_id, parent.flags)
    assert child.span_id != parent.span_id and len(child.span_id) == 16


def test_a_batch_whose_events_share_a_trace_continues_it_as_a_child_span() -> None:
    other_span = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01"
    context = batch_trace("eh-0-1-2", [VALID, None, "garbage", other_span])
    assert context.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert context.span_id not in ("00f067aa0ba902b7", "1111111111111111")
    assert batch_trace("eh-0-1-2", [VALID, other_span]) == context  # deterministic for a delivery


def test_a_batch_with_mixed_traces_uses_the_invocation_parent_else_a_trace_derived_from_its_id() -> None:
    mixed = [VALID, "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-00f067aa0ba902b7-01"]
    parent = "00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2222222222222222-01"
    assert batch_trace("b1", mixed, parent=parent).trace_id == "b" * 32
    derived = batch_trace("b1", mixed)
    assert derived.trace_id == derived_trace_id("b1")
    assert batch_trace("b1") == derived
    assert batch_trace("b2").trace_id != derived.trace_id


def test_traceparents_are_found_in_raw_events_without_validating_them() -> None:
    raws = [
        b'{"id":"1","traceparent":"' + VALID.encode() + b'"}',
        b'{"id":"2","traceparent": "not-a-traceparent"}',
        b"\xff\xfe not json",
        b'{"id":"3"}',
    ]
    assert traceparents_in(raws) == [VALID]


def test_the_orchestration_input_carries_the_trace_and_timing_without_changing_the_original() -> None:
    claim_check = {"batch_id": "b1", "source_kind": "eventhub", "events_blob": "b1/events.ndjson", "events": 3}
    context = parse_traceparent(VALID)
    carried = with_trace(claim_check, context, ingested_at="2026-11-25T10:00:00.000Z", enqueued_at=None)
    assert TRACEPARENT_KEY not in claim_check
    assert carried[TRACEPARENT_KEY] == VALID and carried[INGESTED_AT_KEY] == "2026-11-25T10:00:00.000Z"
    assert ENQUEUED_AT_KEY not in carried
    assert trace_of(carried) == context
    assert trace_of(claim_check) is None and trace_of(None) is None
