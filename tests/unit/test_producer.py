"""The producer: shaped synthetic streams, and size-bounded, routed, retried sends to a fake hub."""

from __future__ import annotations

import argparse
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import synthetic
from pipeline.producer import (
    Route,
    Sender,
    SinkError,
    StreamSpec,
    add_generate_parser,
    add_send_parser,
    expected_outcome,
    generate_stream,
    resolve_types,
    retime,
    run_generate,
    run_send,
)
from schemas import Rejection, ValidEvent, validate_event
from schemas.timestamps import parse_rfc3339

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


# ---- the stream ----------------------------------------------------------------------------


def test_without_shaping_the_stream_is_the_synthetic_generator_itself() -> None:
    spec = StreamSpec(count=300, seed=3, now=NOW, id_prefix="t-")
    shaped = [item.raw for item in generate_stream(spec)]
    plain = list(synthetic.generate_events(300, seed=3, now=NOW, id_prefix="t-", max_oversized=2))
    assert shaped == plain
    assert [i.raw for i in generate_stream(spec)] == shaped  # deterministic


def test_a_rate_spaces_event_times_and_redeliveries_keep_their_originals_instant() -> None:
    spec = StreamSpec(count=400, seed=5, now=NOW, rate=50, start=START, bad_ratio=0.1, duplicate_ratio=0.1)
    items = list(generate_stream(spec))
    judge_at = START + timedelta(seconds=400 / 50 + 60)
    keys: dict[tuple[str, str, str], str] = {}
    for index, item in enumerate(items):
        result = validate_event(item.raw, now=judge_at)
        if item.label == "valid":
            assert isinstance(result, ValidEvent), result
            assert parse_rfc3339(result.time).epoch_ns == int(START.timestamp() * 1e9) + index * 20_000_000
            keys[result.identity] = result.content_key()
        elif item.label == "duplicate":
            assert isinstance(result, ValidEvent) and result.content_key() == keys[result.identity]
        elif item.label == "time_out_of_range":
            assert isinstance(result, Rejection) and result.reason.value == "time_out_of_range"
        elif item.label not in ("conflicting_duplicate", "unknown_tenant", "unknown_currency"):
            assert isinstance(result, Rejection) and result.reason.value == item.label, (item.label, result)
    assert Counter(i.label for i in items)["valid"] == len(keys) > 250


def test_skew_makes_events_late_by_at_most_the_skew() -> None:
    spec = StreamSpec(count=200, seed=1, now=NOW, rate=10, start=START, skew_s=30, bad_ratio=0, duplicate_ratio=0)
    lateness = []
    for index, item in enumerate(generate_stream(spec)):
        event = validate_event(item.raw, now=NOW)
        assert isinstance(event, ValidEvent)
        slot = START + timedelta(seconds=index / 10)
        lateness.append((slot - event.timestamp).total_seconds())
    assert all(-0.001 <= late <= 30 for late in lateness)
    assert max(lateness) > 20


def test_a_type_filter_keeps_chosen_types_and_the_bad_share() -> None:
    spec = StreamSpec(count=2000, seed=2, now=NOW, types=resolve_types(["page"]), bad_ratio=0.1, duplicate_ratio=0.05)
    items = list(generate_stream(spec))
    assert len(items) == 2000
    labels = Counter(i.label for i in items)
    assert 0.07 < (2000 - labels["valid"] - labels["duplicate"]) / 2000 <= 0.1
    for item in items:
        if item.label in ("valid", "duplicate"):
            assert json.loads(item.raw.removeprefix(b"\xef\xbb\xbf"))["type"] == synthetic.PAGE_VIEWED


def test_type_aliases_resolve_to_registered_types() -> None:
    assert resolve_types(["order", "device"]) == (synthetic.ORDER_V1, synthetic.ORDER_V2, synthetic.DEVICE_READING)
    assert resolve_types([synthetic.PAGE_VIEWED]) == (synthetic.PAGE_VIEWED,)
    with pytest.raises(ValueError, match="unknown event type"):
        resolve_types(["invoice"])


@pytest.mark.parametrize(
    "before, target, after",
    [
        ('"time":"2026-11-25T10:00:00Z"', "2026-11-25T11:00:01Z", '"time":"2026-11-25T11:00:01Z"'),
        (
            '"time": "2026-11-25T10:00:00.250+01:00"',
            "2026-11-25T11:00:01.5Z",
            '"time": "2026-11-25T12:00:01.500+01:00"',
        ),
        (
            '"time":"2026-11-25T10:00:00-05:00"',
            "2026-11-25T11:00:00.000000001Z",
            '"time":"2026-11-25T06:00:00.000000001-05:00"',
        ),
        ('"time":"not a time"', "2026-11-25T11:00:00Z", '"time":"not a time"'),
    ],
)
def test_retime_keeps_the_offset_and_fraction_spelling(before: str, target: str, after: str) -> None:
    raw = ('{"id":"1",' + before + ',"data":{}}').encode()
    assert retime(raw, parse_rfc3339(target).epoch_ns) == ('{"id":"1",' + after + ',"data":{}}').encode()


def test_the_expected_outcome_follows_the_labels() -> None:
    labels = Counter({"valid": 90, "duplicate": 5, "malformed_json": 3, "unknown_tenant": 2})
    assert expected_outcome(labels) == {
        "received": 100,
        "stored": 90,
        "duplicates": 5,
        "dead_lettered": 5,
        "dead_letter_reasons": {"malformed_json": 3, "unknown_tenant": 2},
    }


# ---- sending ---------------------------------------------------------------------------------

OVERHEAD = 20  # bytes per event in the fake batch, like the AMQP framing of a real one


class FakeBatch:
    def __init__(self, route: Route, max_bytes: int) -> None:
        self.route, self.max_bytes, self.bodies = route, max_bytes, []

    @property
    def count(self) -> int:
        return len(self.bodies)

    @property
    def size_in_bytes(self) -> int:
        return sum(len(b) + OVERHEAD for b in self.bodies)

    def try_add(self, body: bytes) -> bool:
        if self.size_in_bytes + len(body) + OVERHEAD > self.max_bytes:
            return False
        self.bodies.append(body)
        return True


class FakeSink:
    """A hub with four partitions and a batch size limit; `failures` are raised by successive sends."""

    def __init__(self, max_bytes: int = 2048, failures: list[Exception] | None = None) -> None:
        self.max_bytes, self.failures = max_bytes, list(failures or [])
        self.sent: list[FakeBatch] = []
        self.attempts = 0
        self.closed = False

    async def partition_ids(self) -> list[str]:
        return ["0", "1", "2", "3"]

    async def create_batch(self, route: Route) -> FakeBatch:
        return FakeBatch(route, self.max_bytes)

    async def send(self, batch: FakeBatch) -> None:  # type: ignore[override]
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(batch)

    async def close(self) -> None:
        self.closed = True


def events(count: int, tenants: tuple[str, ...] = ("acme", "globex"), copies: int = 1) -> list[bytes]:
    out = []
    for n in range(count):
        for copy in range(copies):
            event = {
                "id": f"e-{n}",
                "source": "/s",
                "tenantid": tenants[n % len(tenants)],
                "copy": copy,
                "pad": "x" * 80,
            }
            out.append(json.dumps(event).encode())
    return out


async def no_sleep(seconds: float) -> None:
    return None


async def test_batches_stay_under_the_size_limit_and_every_event_is_sent_once() -> None:
    sink = FakeSink(max_bytes=1024)
    bodies = events(200)
    summary = await Sender(sink).send_all(bodies)
    assert summary.ok and summary.sent == summary.read == 200 and summary.failed == 0
    assert all(batch.size_in_bytes <= 1024 and batch.count for batch in sink.sent)
    assert sorted(b for batch in sink.sent for b in batch.bodies) == sorted(bodies)
    assert summary.batches == len(sink.sent) > 20
    assert sum(summary.routes.values()) == 200


async def test_identity_routing_sends_every_copy_of_an_event_to_one_partition_in_order() -> None:
    sink = FakeSink()
    await Sender(sink).send_all(events(50, copies=3))
    partition_of: dict[str, set[str | None]] = {}
    order: dict[str, list[int]] = {}
    for batch in sink.sent:
        assert batch.route.partition_key is None
        for body in batch.bodies:
            event = json.loads(body)
            partition_of.setdefault(event["id"], set()).add(batch.route.partition_id)
            order.setdefault(event["id"], []).append(event["copy"])
    assert all(len(p) == 1 for p in partition_of.values())
    assert all(copies == [0, 1, 2] for copies in order.values())
    assert {p for ps in partition_of.values() for p in ps} == {"0", "1", "2", "3"}


async def test_tenant_routing_uses_the_tenant_as_partition_key_and_unparseable_events_go_anywhere() -> None:
    sink = FakeSink()
    await Sender(sink, partition_by="tenant").send_all([*events(10), b"not json"])
    routes = {batch.route for batch in sink.sent}
    assert routes == {Route(partition_key="acme"), Route(partition_key="globex"), Route()}


async def test_an_event_too_large_for_any_batch_is_set_aside_and_the_rest_is_sent() -> None:
    sink, failed = FakeSink(max_bytes=512), io.BytesIO()
    huge = json.dumps({"id": "big", "source": "/s", "tenantid": "acme", "pad": "x" * 1000}).encode()
    summary = await Sender(sink, failed_out=failed).send_all([*events(5), huge, *events(5)])
    assert (summary.sent, summary.too_large, summary.failed, summary.ok) == (10, 1, 0, False)
    assert failed.getvalue() == huge + b"\n"


async def test_a_transient_failure_is_retried_with_backoff_and_nothing_is_sent_twice() -> None:
    sink = FakeSink(max_bytes=100_000, failures=[SinkError("server busy"), SinkError("server busy")])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    summary = await Sender(sink, partition_by="none", sleep=sleep).send_all(events(30))
    assert summary.ok and summary.sent == 30 and summary.retries == 2 and waits == [0.5, 1.0]
    assert sum(batch.count for batch in sink.sent) == 30 and sink.attempts == 3
    assert summary.errors == Counter({"server busy": 2})


async def test_a_batch_that_keeps_failing_is_written_out_and_sending_goes_on() -> None:
    failures: list[Exception] = [SinkError("timeout")] * 3
    sink, failed = FakeSink(max_bytes=100_000, failures=failures), io.BytesIO()
    summary = await Sender(sink, partition_by="tenant", max_retries=2, sleep=no_sleep, failed_out=failed).send_all(
        events(20)
    )
    assert (summary.failed, summary.sent, summary.ok) == (10, 10, False)
    assert len(failed.getvalue().splitlines()) == 10
    assert summary.to_json()["errors"] == {"timeout": 3}


async def test_a_failure_that_cannot_pass_stops_the_send() -> None:
    sink = FakeSink(max_bytes=300, failures=[SinkError("not authorised", retryable=False)])
    summary = await Sender(sink, partition_by="none", sleep=no_sleep).send_all(events(20))
    assert summary.aborted and "not authorised" in summary.aborted
    assert summary.sent == 0 and summary.read < 20 and summary.failed >= 1


async def test_a_rate_paces_reads_and_flushes_open_batches_regularly() -> None:
    clock = [0.0]
    sink = FakeSink(max_bytes=100_000)

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    sender = Sender(sink, partition_by="none", rate=100, linger_s=0.1, clock=lambda: clock[0], sleep=sleep)
    summary = await sender.send_all(events(50))
    assert summary.sent == 50
    assert clock[0] == pytest.approx(0.49)  # the 50th event may leave 0.49 s after the first
    assert len(sink.sent) >= 4  # flushed every ~0.1 s instead of one big batch at the end


# ---- the command line -------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser()
    commands = root.add_subparsers(dest="command")
    add_generate_parser(commands)
    add_send_parser(commands)
    return root


def test_generate_writes_ndjson_and_the_expected_outcome(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out, expected = tmp_path / "stream.ndjson", tmp_path / "expected.json"
    args = parser().parse_args(
        [
            *("generate", "--count", "120", "--rate", "20", "--types", "order,page"),
            *("--out", str(out), "--expected", str(expected), "--tenants", "acme,globex"),
        ]
    )
    assert run_generate(args) == 0
    assert len(out.read_bytes().splitlines()) == 120
    outcome = json.loads(expected.read_text())
    assert outcome["received"] == 120 and outcome["stored"] > 90
    assert "generated 120 events" in capsys.readouterr().err


def test_generate_refuses_bad_options(capsys: pytest.CaptureFixture) -> None:
    args = parser().parse_args(["generate", "--count", "5", "--bad-kinds", "nonsense"])
    assert run_generate(args) == 2
    assert "unknown bad kinds" in capsys.readouterr().err


def test_send_publishes_a_file_through_the_sink_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join(events(40)) + b"\n\n")
    sink = FakeSink()
    args = parser().parse_args(["send", "--namespace", "ns", "--hub", "h", "--input", str(path), "--json"])
    assert run_send(args, sink=sink) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sent"] == summary["read"] == 40 and sink.closed


def test_send_generates_a_live_stream_when_asked(capsys: pytest.CaptureFixture) -> None:
    sink = FakeSink(max_bytes=1_100_000)
    args = parser().parse_args(["send", "--namespace", "ns", "--hub", "h", "--generate", "--count", "60", "--quiet"])
    assert run_send(args, sink=sink) == 0  # oversized (>256 KiB) events still fit a 1 MB message
    assert sum(batch.count for batch in sink.sent) == 60
    assert "sent 60 of 60 events" in capsys.readouterr().out


async def test_the_event_hubs_batch_adapter_reports_a_full_batch_without_a_network() -> None:
    from azure.eventhub import EventDataBatch

    from pipeline.producer import EventHubSink, _SdkBatch

    batch = _SdkBatch(EventDataBatch(max_size_in_bytes=2048, partition_key="acme"))
    assert batch.try_add(b"x" * 100) and batch.count == 1 and batch.size_in_bytes > 100
    assert not batch.try_add(b"y" * 5000) and batch.count == 1
    sink = EventHubSink("example.servicebus.windows.net", "events")  # no connection until a call
    await sink.close()
