"""The `generate` and `send` commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import synthetic
from pipeline.producer.sender import EventHubSink, EventSink, Sender, SendSummary
from pipeline.producer.stream import TYPE_ALIASES, StreamSpec, expected_outcome, generate_stream, resolve_types


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
