"""Feed the pipeline: `python -m pipeline generate` writes synthetic streams, `send` publishes them.

`generate` shapes :func:`pipeline.synthetic.generate_labelled` into a stream: a choice of event
types and tenants, event times spaced at a rate (with optional lateness), bad-event and duplicate
ratios; it writes NDJSON and says what the pipeline should make of it.

`send` publishes a file or a generated stream to an Event Hub (`azure-eventhub`, with
`DefaultAzureCredential`) in size-bounded batches per route: by default events are routed by
identity to a partition (every copy of an event lands in one partition, in order), or by tenant
as partition key. The publishing logic (:class:`Sender`) talks to an :class:`EventSink`; the
tests use a fake sink that enforces a batch size and injects failures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from pipeline import synthetic

NS = 1_000_000_000
TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "order": (synthetic.ORDER_V1, synthetic.ORDER_V2),
    "order.placed": (synthetic.ORDER_V1, synthetic.ORDER_V2),
    "order.v1": (synthetic.ORDER_V1,),
    "order.v2": (synthetic.ORDER_V2,),
    "page": (synthetic.PAGE_VIEWED,),
    "page.viewed": (synthetic.PAGE_VIEWED,),
    "device": (synthetic.DEVICE_READING,),
    "device.reading": (synthetic.DEVICE_READING,),
}
_TIME = re.compile(rb'"time"(\s*):(\s*)"([0-9][0-9:.+\-TtZz]{18,40})"')


# ---------------------------------------------------------------------------------------------
# Generating a stream
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSpec:
    """What to generate. `rate` spaces event times (events per second of event time) from `start`."""

    count: int
    seed: int = 7
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    rate: float | None = None
    start: datetime | None = None
    skew_s: float = 0.0
    bad_ratio: float = 0.05
    duplicate_ratio: float = 0.03
    tenants: tuple[str, ...] = synthetic.TENANT_IDS
    types: tuple[str, ...] = ()
    bad_kinds: tuple[str, ...] = synthetic.BAD_KINDS
    span: timedelta = timedelta(hours=3)
    id_prefix: str = "gen-"
    max_oversized: int | None = 2


def resolve_types(names: Iterable[str]) -> tuple[str, ...]:
    """Registered type names from aliases (`order`, `page.viewed`, `device`, …) or full names."""
    known = {t for group in TYPE_ALIASES.values() for t in group}
    chosen: list[str] = []
    for name in names:
        types = TYPE_ALIASES.get(name) or ((name,) if name in known else None)
        if types is None:
            raise ValueError(f"unknown event type {name!r}: use {', '.join(sorted(TYPE_ALIASES))} or a full type name")
        chosen.extend(t for t in types if t not in chosen)
    return tuple(chosen)


def generate_stream(spec: StreamSpec) -> Iterator[synthetic.Labelled]:
    """The shaped stream: filtered by type, with event times placed at the rate when one is set.

    With a type filter, bad events are thinned so that their share stays `bad_ratio`, and a
    redelivery is kept only when its original was. With a rate, event `i` gets the time
    `start + i / rate` minus a random lateness of up to `skew_s`; copies of an event keep their
    original's instant (each in its own spelling), and `time_out_of_range` events keep their time.
    """
    source = synthetic.generate_labelled(
        spec.count if not spec.types else spec.count * 50 + 1_000,
        seed=spec.seed,
        now=spec.now,
        bad_ratio=spec.bad_ratio,
        duplicate_ratio=spec.duplicate_ratio,
        tenants=spec.tenants,
        bad_kinds=spec.bad_kinds,
        window=spec.span,
        id_prefix=spec.id_prefix,
        max_oversized=spec.max_oversized,
    )
    rng = random.Random(spec.seed ^ 0x5EED)
    start = spec.start or (spec.now - timedelta(seconds=spec.count / spec.rate + 60) if spec.rate else spec.now)
    start_ns = int(start.timestamp()) * NS + start.microsecond * 1000
    placed: dict[tuple[str, str, str], int] = {}
    dropped: set[tuple[str, str, str]] = set()
    emitted = bad = 0
    for item in source:
        if emitted >= spec.count:
            return
        identity, type_ = _identity_and_type(item.raw)
        if spec.types:
            if item.label == "valid" and type_ not in spec.types:
                if identity:
                    dropped.add(identity)
                continue
            if item.label in ("duplicate", "conflicting_duplicate") and identity in dropped:
                continue
            if item.label not in ("valid", "duplicate") and bad + 1 > spec.bad_ratio * (emitted + 1):
                continue
        raw = item.raw
        if spec.rate and item.label != "time_out_of_range":
            target: int | None
            if item.label in ("duplicate", "conflicting_duplicate"):
                target = placed.get(identity) if identity else None
            else:
                lateness = int(rng.uniform(0, spec.skew_s) * NS) if spec.skew_s else 0
                target = start_ns + int(emitted * NS / spec.rate) - lateness
                if item.label == "valid" and identity:
                    placed[identity] = target
            if target is not None:
                raw = retime(raw, target)
        if item.label not in ("valid", "duplicate"):
            bad += 1
        emitted += 1
        yield synthetic.Labelled(item.label, raw)


def _identity_and_type(raw: bytes) -> tuple[tuple[str, str, str] | None, str | None]:
    try:
        event = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    if not isinstance(event, dict):
        return None, None
    parts = (event.get("tenantid"), event.get("source"), event.get("id"))
    identity = parts if all(isinstance(p, str) for p in parts) else None
    type_ = event.get("type")
    return identity, type_ if isinstance(type_, str) else None  # type: ignore[return-value]


def retime(raw: bytes, target_ns: int) -> bytes:
    """`raw` with its `time` set to the instant `target_ns`, in the same offset spelling.

    The fraction keeps its length when the instant fits it, else gets nine digits. A raw event
    without a parseable `time` is returned unchanged.
    """
    from schemas.timestamps import TimeFormatError, parse_rfc3339

    match = _TIME.search(raw)
    if match is None:
        return raw
    text = match.group(3).decode("ascii")
    try:
        parse_rfc3339(text)
    except TimeFormatError:
        return raw
    fraction = _fraction(text)
    offset = text[20 + len(fraction) :] if fraction else text[19:]
    offset_ns = _offset_seconds(offset) * NS
    local_s, nanos = divmod(target_ns + offset_ns, NS)
    digits = len(fraction)
    if nanos % 10 ** (9 - digits):  # the instant needs more digits than the spelling had
        digits = 9
    spelled = datetime.fromtimestamp(local_s, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        spelled += "." + f"{nanos:09d}"[:digits]
    spelled += offset
    return raw[: match.start(3)] + spelled.encode("ascii") + raw[match.end(3) :]


def _fraction(text: str) -> str:
    if len(text) > 19 and text[19] == ".":
        end = 20
        while end < len(text) and text[end].isdigit():
            end += 1
        return text[20:end]
    return ""


def _offset_seconds(offset: str) -> int:
    if offset in ("Z", "z"):
        return 0
    sign = 1 if offset[0] == "+" else -1
    return sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)


def expected_outcome(labels: Counter[str]) -> dict[str, Any]:
    """What the pipeline should report for a stream with these labels (processed in order)."""
    reasons = {k: v for k, v in sorted(labels.items()) if k not in ("valid", "duplicate")}
    return {
        "received": sum(labels.values()),
        "stored": labels["valid"],
        "duplicates": labels["duplicate"],
        "dead_lettered": sum(reasons.values()),
        "dead_letter_reasons": reasons,
    }


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------


class SinkError(Exception):
    """A send failed; `retryable` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Route:
    """Where a batch goes: a partition id, a partition key, or neither (round robin)."""

    partition_id: str | None = None
    partition_key: str | None = None

    def __str__(self) -> str:
        if self.partition_id is not None:
            return f"partition {self.partition_id}"
        return f"key {self.partition_key}" if self.partition_key is not None else "any partition"


class OutgoingBatch(Protocol):
    @property
    def count(self) -> int: ...
    @property
    def size_in_bytes(self) -> int: ...
    def try_add(self, body: bytes) -> bool:
        """Add one event; False (and nothing added) when it does not fit."""


class EventSink(Protocol):
    async def partition_ids(self) -> list[str]: ...
    async def create_batch(self, route: Route) -> OutgoingBatch: ...
    async def send(self, batch: OutgoingBatch) -> None:
        """Publish a batch; raise :class:`SinkError` when it fails."""

    async def close(self) -> None: ...


@dataclass
class SendSummary:
    read: int = 0
    sent: int = 0
    failed: int = 0
    too_large: int = 0
    batches: int = 0
    retries: int = 0
    bytes_sent: int = 0
    elapsed_s: float = 0.0
    aborted: str | None = None
    routes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.aborted is None and self.failed == 0 and self.too_large == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "sent": self.sent,
            "failed": self.failed,
            "too_large": self.too_large,
            "batches": self.batches,
            "retries": self.retries,
            "bytes_sent": self.bytes_sent,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": round(self.sent / self.elapsed_s, 1) if self.elapsed_s > 0 else 0.0,
            "aborted": self.aborted,
            "routes": dict(sorted(self.routes.items())),
            "errors": dict(self.errors.most_common(10)),
        }


class Sender:
    """Publishes events in size-bounded batches per route, with retries and a summary.

    Args:
        sink: Where batches go.
        partition_by: ``identity`` (hash of the event identity onto the hub's partitions),
            ``tenant`` (the tenant id as partition key) or ``none`` (round robin).
        max_retries: Further attempts for a batch after a retryable failure (exponential backoff
            from `backoff_s`); a batch that still fails is counted failed and written to `failed_out`.
        rate: At most this many events per second (None: as fast as the hub accepts).
        linger_s: With a rate, the longest an event waits in an open batch.
        progress: Called with the running summary about once a second.
        failed_out: NDJSON file that receives events that could not be sent (resend it later).
    """

    def __init__(
        self,
        sink: EventSink,
        *,
        partition_by: str = "identity",
        max_retries: int = 3,
        backoff_s: float = 0.5,
        rate: float | None = None,
        linger_s: float = 0.25,
        progress: Callable[[SendSummary], None] | None = None,
        failed_out: IO[bytes] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if partition_by not in ("identity", "tenant", "none"):
            raise ValueError(f"partition_by must be identity, tenant or none, not {partition_by!r}")
        self.sink, self.partition_by, self.max_retries, self.backoff_s = sink, partition_by, max_retries, backoff_s
        self.rate, self.linger_s, self.progress, self.failed_out = rate, linger_s, progress, failed_out
        self.clock, self.sleep = clock, sleep
        self.summary = SendSummary()
        self._partitions: list[str] = []
        self._open: dict[Route, tuple[OutgoingBatch, list[bytes]]] = {}

    async def send_all(self, bodies: Iterable[bytes] | AsyncIterator[bytes]) -> SendSummary:
        started = last_flush = last_progress = self.clock()
        try:
            if self.partition_by == "identity":
                self._partitions = sorted(await self._sink_call(self.sink.partition_ids()), key=_partition_order)
            async for body in _aiter(bodies):
                self.summary.read += 1
                if self.rate:
                    delay = started + (self.summary.read - 1) / self.rate - self.clock()
                    if delay > 0:
                        await self.sleep(delay)
                await self._add(self.route(body), body)
                now = self.clock()
                if self.rate and now - last_flush >= self.linger_s:
                    await self._flush_all()
                    last_flush = now
                if self.progress and now - last_progress >= 1.0:
                    self.summary.elapsed_s = now - started
                    self.progress(self.summary)
                    last_progress = now
            await self._flush_all()
        except _Abort as abort:
            self.summary.aborted = str(abort)
            for _, held in self._open.values():
                self._give_up(held, "not sent: aborted")
            self._open.clear()
        self.summary.elapsed_s = self.clock() - started
        return self.summary

    def route(self, body: bytes) -> Route:
        if self.partition_by == "none":
            return Route()
        identity, _ = _identity_and_type(body)
        if self.partition_by == "tenant":
            return Route(partition_key=identity[0]) if identity else Route()
        key = "\x1f".join(identity) if identity else hashlib.sha256(body).hexdigest()
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
        return Route(partition_id=self._partitions[digest % len(self._partitions)])

    async def _sink_call(self, awaitable: Any) -> Any:
        """A call that sending cannot go on without (partition ids, a new batch)."""
        try:
            return await awaitable
        except SinkError as error:
            self.summary.errors[str(error)[:200]] += 1
            raise _Abort(str(error)) from error

    async def _add(self, route: Route, body: bytes) -> None:
        if route not in self._open:
            self._open[route] = (await self._sink_call(self.sink.create_batch(route)), [])
        batch, held = self._open[route]
        if batch.try_add(body):
            held.append(body)
            return
        if batch.count:
            await self._flush(route)
            self._open[route] = (await self._sink_call(self.sink.create_batch(route)), [])
            batch, held = self._open[route]
            if batch.try_add(body):
                held.append(body)
                return
        self.summary.too_large += 1
        self._give_up([body], f"too large for one Event Hubs message ({len(body)} bytes)", count=False)

    async def _flush_all(self) -> None:
        for route in list(self._open):
            await self._flush(route)

    async def _flush(self, route: Route) -> None:
        batch, held = self._open.pop(route)
        if not held:
            return
        for attempt in range(self.max_retries + 1):
            try:
                await self.sink.send(batch)
            except SinkError as error:
                self.summary.errors[str(error)[:200]] += 1
                if not error.retryable:
                    self._give_up(held, str(error))
                    raise _Abort(f"{error} (not retryable; stopped after {self.summary.sent} events)") from error
                if attempt < self.max_retries:
                    self.summary.retries += 1
                    await self.sleep(self.backoff_s * 2**attempt)
                    continue
                self._give_up(held, str(error))
                return
            self.summary.sent += len(held)
            self.summary.batches += 1
            self.summary.bytes_sent += batch.size_in_bytes
            self.summary.routes[str(route)] += len(held)
            return

    def _give_up(self, bodies: list[bytes], reason: str, *, count: bool = True) -> None:
        if count:
            self.summary.failed += len(bodies)
        if self.failed_out is not None:
            for body in bodies:
                self.failed_out.write(body + b"\n")


class _Abort(Exception):
    pass


def _partition_order(partition_id: str) -> tuple[int, str]:
    return (int(partition_id), partition_id) if partition_id.isdigit() else (sys.maxsize, partition_id)


async def _aiter(bodies: Iterable[bytes] | AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if isinstance(bodies, AsyncIterator):
        async for body in bodies:
            yield body
    else:
        for body in bodies:
            yield body


class EventHubSink:
    """The real sink: `azure.eventhub.aio.EventHubProducerClient` with `DefaultAzureCredential`."""

    def __init__(self, namespace: str, eventhub: str, *, max_batch_bytes: int | None = None) -> None:
        from azure.eventhub.aio import EventHubProducerClient
        from azure.identity.aio import DefaultAzureCredential

        self._credential = DefaultAzureCredential()
        self._client = EventHubProducerClient(
            fully_qualified_namespace=namespace, eventhub_name=eventhub, credential=self._credential
        )
        self._max_batch_bytes = max_batch_bytes

    async def partition_ids(self) -> list[str]:
        return [str(p) for p in await self._guard(self._client.get_partition_ids())]

    async def create_batch(self, route: Route) -> OutgoingBatch:
        options: dict[str, Any] = {"partition_id": route.partition_id, "partition_key": route.partition_key}
        if self._max_batch_bytes:
            options["max_size_in_bytes"] = self._max_batch_bytes
        return _SdkBatch(await self._guard(self._client.create_batch(**options)))

    async def send(self, batch: OutgoingBatch) -> None:
        await self._guard(self._client.send_batch(batch.inner))  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self._client.close()
        await self._credential.close()

    @staticmethod
    async def _guard(awaitable: Any) -> Any:
        from azure.core.exceptions import ClientAuthenticationError
        from azure.eventhub.exceptions import AuthenticationError, ConnectError, EventHubError

        try:
            return await awaitable
        except (AuthenticationError, ClientAuthenticationError) as error:
            raise SinkError(f"not authorised: {error}", retryable=False) from error
        except ConnectError as error:
            raise SinkError(f"cannot connect: {error}", retryable=False) from error
        except EventHubError as error:
            raise SinkError(str(error)) from error


class _SdkBatch:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def count(self) -> int:
        return len(self.inner)

    @property
    def size_in_bytes(self) -> int:
        return int(self.inner.size_in_bytes)

    def try_add(self, body: bytes) -> bool:
        from azure.eventhub import EventData

        try:
            self.inner.add(EventData(body))
        except ValueError:  # the batch (or the hub's message size) is full
            return False
        return True


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _ratio(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {value}")
    return value


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time like 2026-11-25T10:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _add_stream_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    group = parser.add_argument_group("the generated stream")
    count_help = "events to generate (bad events and redeliveries included)"
    group.add_argument("--count", type=int, required=required, metavar="N", help=count_help)
    group.add_argument("--seed", type=int, default=7, help="the same seed gives the same bytes (default: 7)")
    group.add_argument("--rate", type=_positive_float, metavar="EPS", help="space event times at EPS events/s")
    group.add_argument("--start", type=_time, metavar="TIME", help="time of the first event (with --rate)")
    group.add_argument("--skew", type=float, default=0.0, metavar="S", help="make events up to S seconds late")
    group.add_argument("--bad-ratio", type=_ratio, default=0.05, help="share of bad events (default: 0.05)")
    group.add_argument("--duplicate-ratio", type=_ratio, default=0.03, help="share of redeliveries (default: 0.03)")
    group.add_argument("--tenants", type=_csv, default=synthetic.TENANT_IDS, help="comma-separated tenant ids")
    group.add_argument("--types", type=_csv, default=(), help=f"comma-separated: {', '.join(sorted(TYPE_ALIASES))}")
    group.add_argument("--bad-kinds", type=_csv, default=synthetic.BAD_KINDS, help="reason codes to produce")
    group.add_argument("--id-prefix", default="gen-", help="prefix of readable event ids (default: gen-)")
    group.add_argument("--max-oversized", type=int, default=2, metavar="N", help="at most N events over 256 KiB")
    group.add_argument("--span-minutes", type=float, default=180, help="without --rate: how far back times reach")


def _spec(args: argparse.Namespace, *, now: datetime, live: bool) -> StreamSpec:
    unknown = set(args.bad_kinds) - set(synthetic.BAD_KINDS)
    if unknown:
        raise ValueError(f"unknown bad kinds {sorted(unknown)}: choose from {', '.join(synthetic.BAD_KINDS)}")
    if args.count is None or args.count < 0:
        raise ValueError("--count must be a whole number of events")
    if args.bad_ratio + args.duplicate_ratio > 1:
        raise ValueError("--bad-ratio plus --duplicate-ratio must not exceed 1")
    start = args.start or (now if live and args.rate else None)
    return StreamSpec(
        count=args.count,
        seed=args.seed,
        now=now,
        rate=args.rate,
        start=start,
        skew_s=args.skew,
        bad_ratio=args.bad_ratio,
        duplicate_ratio=args.duplicate_ratio,
        tenants=args.tenants,
        types=resolve_types(args.types),
        bad_kinds=args.bad_kinds or synthetic.BAD_KINDS,
        span=timedelta(minutes=args.span_minutes),
        id_prefix=args.id_prefix,
        max_oversized=args.max_oversized,
    )


def add_generate_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("generate", help="write a synthetic event stream as NDJSON")
    _add_stream_options(parser, required=True)
    parser.add_argument("--out", type=Path, default=Path("-"), help="output file (default: standard output)")
    parser.add_argument("--expected", type=Path, metavar="FILE", help="also write the expected outcome as JSON")
    parser.add_argument("--quiet", action="store_true", help="no summary on standard error")
    return parser


def run_generate(args: argparse.Namespace) -> int:
    try:
        spec = _spec(args, now=datetime.now(UTC), live=False)
    except ValueError as error:
        print(f"pipeline generate: {error}", file=sys.stderr)
        return 2
    labels: Counter[str] = Counter()
    if str(args.out) != "-":
        args.out.parent.mkdir(parents=True, exist_ok=True)
    out = sys.stdout.buffer if str(args.out) == "-" else args.out.open("wb")
    try:
        for item in generate_stream(spec):
            labels[item.label] += 1
            out.write(item.raw + b"\n")
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    outcome = expected_outcome(labels)
    if args.expected:
        args.expected.parent.mkdir(parents=True, exist_ok=True)
        args.expected.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        reasons = ", ".join(f"{k} {v}" for k, v in outcome["dead_letter_reasons"].items()) or "none"
        print(
            f"generated {outcome['received']} events: {outcome['stored']} to store, "
            f"{outcome['duplicates']} redeliveries, {outcome['dead_lettered']} to dead-letter ({reasons})",
            file=sys.stderr,
        )
    return 0


def add_send_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("send", help="publish events to an Event Hub (DefaultAzureCredential)")
    parser.add_argument("--namespace", required=True, help="fully qualified namespace, e.g. ns.servicebus.windows.net")
    parser.add_argument("--hub", required=True, help="event hub name")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, action="append", metavar="FILE", help="NDJSON or JSON-array file")
    source.add_argument("--generate", action="store_true", help="send a generated stream (see --count)")
    _add_stream_options(parser, required=False)
    parser.add_argument("--partition-by", choices=("identity", "tenant", "none"), default="identity")
    parser.add_argument(
        "--send-rate",
        type=_positive_float,
        metavar="EPS",
        help="send at most EPS events/s (default: --rate with --generate, so event times match send times)",
    )
    parser.add_argument("--max-batch-bytes", type=int, metavar="B", help="smaller batches than the hub allows")
    parser.add_argument("--retries", type=int, default=3, help="attempts after a failed batch (default: 3)")
    parser.add_argument("--failed-out", type=Path, metavar="FILE", help="write unsent events here (NDJSON)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def _bodies_from_files(paths: list[Path]) -> Iterator[bytes]:
    from pipeline.framing import split_file

    for path in paths:
        for framed in split_file(path.name, path.read_bytes()):
            yield framed.body


def run_send(args: argparse.Namespace, sink: EventSink | None = None) -> int:
    """Send; exit 0 when every event was accepted by the hub, 1 when some were not, 2 on bad input."""
    try:
        if args.generate:
            spec = _spec(args, now=datetime.now(UTC), live=True)
            bodies: Iterable[bytes] = (item.raw for item in generate_stream(spec))
        else:
            missing = [str(p) for p in args.input if not p.is_file()]
            if missing:
                raise ValueError(f"no such file: {', '.join(missing)}")
            bodies = _bodies_from_files(args.input)
    except ValueError as error:
        print(f"pipeline send: {error}", file=sys.stderr)
        return 2
    summary = asyncio.run(_send(args, bodies, sink))
    data = summary.to_json()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        if not args.quiet:
            print(file=sys.stderr)
        print(
            f"sent {data['sent']} of {data['read']} events in {data['batches']} batches "
            f"({data['events_per_s']} events/s, {data['retries']} retries); "
            f"{data['failed']} failed, {data['too_large']} too large"
            + (f"; aborted: {data['aborted']}" if data["aborted"] else "")
        )
        for message, count in data["errors"].items():
            print(f"  {count} x {message}")
    return 0 if summary.ok else 1


async def _send(args: argparse.Namespace, bodies: Iterable[bytes], sink: EventSink | None) -> SendSummary:
    sink = sink or EventHubSink(args.namespace, args.hub, max_batch_bytes=args.max_batch_bytes)
    failed_out = args.failed_out.open("wb") if args.failed_out else None

    def progress(summary: SendSummary) -> None:
        rate = summary.sent / summary.elapsed_s if summary.elapsed_s else 0
        print(
            f"\rsent {summary.sent:,} / read {summary.read:,} ({rate:,.0f} events/s), "
            f"{summary.batches:,} batches, {summary.failed:,} failed",
            end="",
            file=sys.stderr,
            flush=True,
        )

    try:
        sender = Sender(
            sink,
            partition_by=args.partition_by,
            max_retries=args.retries,
            rate=args.send_rate or (args.rate if args.generate else None),
            progress=None if args.quiet or args.json else progress,
            failed_out=failed_out,
        )
        return await sender.send_all(bodies)
    finally:
        await sink.close()
        if failed_out is not None:
            failed_out.close()
