"""A million events over 24 hours of event time give the same table as an independent computation."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_EVEN, Decimal

import pyarrow.parquet as pq

from pipeline.analytics.export import build_partitions
from pipeline.analytics.scale_check import compare, run_scale_check

EVENTS = 1_000_000


async def test_a_million_events_with_retries_and_redeliveries_match_the_independent_computation():
    result = await run_scale_check(EVENTS)

    assert compare(result.stored, result.oracle) == []
    assert result.matches
    assert result.batches == EVENTS // 100 and result.retried_batches > 0 and result.redelivered_batches > 0
    assert result.rows == len(result.oracle.rows) == 5 * 3 * 24 * 60  # every tenant, family and minute
    assert sum(r["event_count"] for r in result.stored) == EVENTS

    # the exported files carry the same table
    (partition,) = build_partitions(result.stored).values()
    table = pq.read_table(io.BytesIO(partition.parquet)).to_pylist()
    expected = {
        (t, f, w): (c, s.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
        for t, f, w, _, c, s, _, _ in result.oracle.table()
    }
    assert len(table) == len(expected)
    for row in table:
        key = (row["tenant_id"], row["event_type"], row["window_start"].strftime("%Y-%m-%dT%H:%M:00Z"))
        assert (row["event_count"], row["value_sum"]) == expected[key]
