"""The aggregates at scale against an independent computation.

`python -m pipeline.analytics.scale_check --events 1000000` builds that many curated events (as the
curate step stores them) spread over 24 hours of event time, in a realistic arrival order: mostly in
time order, with a share of late events up to six hours behind. It queues their contributions in
batches of 100 as the aggregate activity does (`pipeline.contributions.queue_contributions`, into an
in-memory Blob store), queuing a share of the batches twice (a retried activity) and a share again at
the end (a redelivery after later folds), folds them into an in-memory `aggregates` container after
every few batches as the fold timer does (`fold_pending`), then compares the table with an independent
computation.

The independent side uses nothing from the pipeline: it reads each event's `time` and value as plain
text, computes the window with integer arithmetic on the epoch, and keeps exact sums with Decimal in
a context wide enough never to round. Rows are compared exactly (count, sum, minimum, maximum as
exact decimals), and as the two-decimal CSV text, rounded here with `quantize`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from pipeline.aggregates import contributions, contributions_to_json, csv_row
from pipeline.contributions import fold_pending, queue_contributions
from pipeline.runtime import COSMOS_CONTAINERS
from pipeline.settings import CONTAINER_CONTRIBUTIONS, COSMOS_AGGREGATES
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore
from pipeline.windows import window_start

TENANTS = ("acme", "globex", "initech", "umbrella", "stark-industries")
FAMILIES = ("order.placed", "page.viewed", "device.reading")
START = datetime(2026, 11, 1, tzinfo=UTC)
HOURS = 24
BATCH_SIZE = 100
WIDE = Context(prec=200)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def curated_events(count: int, *, seed: int = 7, window_minutes: int = 1) -> Iterator[dict[str, Any]]:
    """`count` curated documents over 24 hours from `START`, deterministic for a seed.

    Each carries what the aggregate step reads (`tenantid`, `family`, `window_start`,
    `window_minutes`, and `amount_usd` or `data`) plus `time`, from which the independent side works.
    """
    rng = random.Random(seed)
    draw = rng.random
    span = HOURS * 3600
    start = int(START.timestamp())
    windows: dict[int, str] = {}  # window_start of each minute, computed once per minute
    for n in range(count):
        offset = n * span // count + int(draw() * 30)
        if draw() < 0.02:  # late: up to six hours behind the stream
            offset -= int(draw() * 6 * 3600)
        offset = min(max(offset, 0), span - 1)
        seconds = start + offset
        minute = seconds - seconds % 60
        if minute not in windows:
            windows[minute] = window_start(minute, window_minutes)
        family = FAMILIES[int(draw() * 3)]
        doc: dict[str, Any] = {
            "id": f"e{n}",
            "tenantid": TENANTS[int(draw() * len(TENANTS))],
            "family": family,
            "time": f"{_utc_text(seconds)}.{int(draw() * 1_000_000):06d}Z",
            "window_start": windows[minute],
            "window_minutes": window_minutes,
        }
        if family == "order.placed":
            doc["amount_usd"] = f"{int(draw() * 500_000) / 100:.2f}"
        elif family == "page.viewed":
            doc["data"] = {"duration_ms": int(draw() * 600_000)}
        else:  # a float as JSON gives it, with up to three decimals, below zero too
            doc["data"] = {"temperature_c": round(draw() * 160 - 40, int(draw() * 4))}
        yield doc


def _utc_text(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()[:19]


@dataclass
class Oracle:
    """The independent computation: {(tenant, family, window start): [count, sum, min, max]}."""

    window_minutes: int = 1
    rows: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    _windows: dict[str, str] = field(default_factory=dict)  # minute text -> window start text

    def add(self, doc: dict[str, Any]) -> None:
        text = doc["time"][:19]  # whole seconds, UTC
        window = self._windows.get(text[:16])
        if window is None:
            moment = datetime.fromisoformat(text[:16]).replace(tzinfo=UTC)
            seconds = (moment - EPOCH) // timedelta(seconds=1)
            start = EPOCH + timedelta(seconds=seconds - seconds % (self.window_minutes * 60))
            window = self._windows[text[:16]] = start.strftime("%Y-%m-%dT%H:%M:00Z")
        key = (doc["tenantid"], doc["family"], window)
        if doc["family"] == "order.placed":
            value = Decimal(doc["amount_usd"])
        elif doc["family"] == "page.viewed":
            value = Decimal(doc["data"]["duration_ms"])
        else:
            value = Decimal(repr(doc["data"]["temperature_c"]))
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = [1, value, value, value]
        else:
            row[0] += 1
            row[1] = WIDE.add(row[1], value)
            row[2] = min(row[2], value)
            row[3] = max(row[3], value)

    def table(self) -> list[tuple[Any, ...]]:
        """Exact rows, sorted: (tenant, family, window, minutes, count, sum, min, max)."""
        return sorted((*key, self.window_minutes, *row) for key, row in self.rows.items())

    def csv_rows(self) -> list[list[str]]:
        cent = Decimal("0.01")
        return [
            [t, f, w, str(m), str(c), *(str(v.quantize(cent, rounding=ROUND_HALF_EVEN)) for v in (s, lo, hi))]
            for t, f, w, m, c, s, lo, hi in self.table()
        ]


@dataclass
class ScaleResult:
    events: int
    batches: int
    retried_batches: int
    redelivered_batches: int
    rows: int
    seconds: float
    matches: bool
    stored: list[dict[str, Any]]
    oracle: Oracle


async def run_scale_check(events: int, *, seed: int = 7, window_minutes: int = 1, concurrency: int = 8) -> ScaleResult:
    """Aggregate `events` synthetic events through the pipeline's aggregate step and compare."""
    documents, blobs = MemoryDocumentStore(), MemoryBlobStore()
    await documents.ensure_containers(COSMOS_CONTAINERS)
    await blobs.ensure_containers([CONTAINER_CONTRIBUTIONS])
    oracle = Oracle(window_minutes)
    rng = random.Random(seed + 1)
    started = time.perf_counter()
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    redeliver: list[tuple[str, list[dict[str, Any]]]] = []
    retried = 0

    async def apply(batch_id: str, docs: list[dict[str, Any]]) -> None:
        await queue_contributions(blobs, {batch_id: contributions_to_json(contributions(docs))})

    async def flush() -> None:
        nonlocal retried
        await asyncio.gather(*(apply(b, d) for b, d in batches))
        again = [(b, d) for b, d in batches if rng.random() < 0.05]
        retried += len(again)
        await asyncio.gather(*(apply(b, d) for b, d in again))  # a retried activity
        redeliver.extend((b, d) for b, d in batches if rng.random() < 0.01)
        batches.clear()
        await fold_pending(blobs, documents)

    current: list[dict[str, Any]] = []
    count = 0
    for doc in curated_events(events, seed=seed, window_minutes=window_minutes):
        oracle.add(doc)
        current.append(doc)
        if len(current) == BATCH_SIZE:
            batches.append((f"eh-0-{count}", current))
            count += 1
            current = []
            if len(batches) == concurrency:
                await flush()
    if current:
        batches.append((f"eh-0-{count}", current))
        count += 1
    await flush()
    for batch_id, docs in redeliver:  # a redelivery, long after the batch finished
        await apply(batch_id, docs)
    await fold_pending(blobs, documents)

    stored = await documents.query_all(COSMOS_AGGREGATES)
    elapsed = time.perf_counter() - started
    return ScaleResult(
        events=events,
        batches=count,
        retried_batches=retried,
        redelivered_batches=len(redeliver),
        rows=len(stored),
        seconds=elapsed,
        matches=compare(stored, oracle) == [],
        stored=stored,
        oracle=oracle,
    )


def compare(stored: list[dict[str, Any]], oracle: Oracle) -> list[str]:
    """Differences between the stored table and the oracle (empty when they agree exactly)."""
    mine = sorted(
        (
            r["tenant_id"],
            r["event_type"],
            r["window_start"],
            r["window_minutes"],
            r["event_count"],
            Decimal(r["value_sum"]),
            Decimal(r["value_min"]),
            Decimal(r["value_max"]),
        )
        for r in stored
    )
    theirs = oracle.table()
    problems = [f"stored {a} != expected {b}" for a, b in zip(mine, theirs, strict=False) if a != b][:10]
    if len(mine) != len(theirs):
        problems.append(f"{len(mine)} stored rows, {len(theirs)} expected")
    as_csv = sorted(csv_row(r) for r in stored)
    if not problems and as_csv != oracle.csv_rows():
        problems.append("the two-decimal CSV rows differ")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.analytics.scale_check", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window-minutes", type=int, default=1)
    args = parser.parse_args(argv)
    result = asyncio.run(run_scale_check(args.events, seed=args.seed, window_minutes=args.window_minutes))
    print(
        f"{result.events:,} events in {result.batches:,} batches "
        f"({result.retried_batches:,} retried, {result.redelivered_batches:,} redelivered) -> "
        f"{result.rows:,} rows in {result.seconds:.1f} s: "
        + ("identical to the independent computation" if result.matches else "DIFFERENT")
    )
    if not result.matches:
        for problem in compare(result.stored, result.oracle):
            print(problem, file=sys.stderr)
    return 0 if result.matches else 1


if __name__ == "__main__":
    sys.exit(main())
