"""The WindowAggregates export: date partitions as CSV and Parquet, exact decimals, idempotent."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func
import pyarrow as pa
import pyarrow.parquet as pq

from orchestrations import analytics as analytics_functions
from pipeline.aggregates import CSV_COLUMNS, WindowKey, WindowStats, apply_contribution, csv_row
from pipeline.analytics.export import (
    MANIFEST,
    SCHEMA,
    build_partitions,
    export_window_aggregates,
    parquet_bytes,
    write_local_files,
)
from pipeline.functions_host.indexing import index_app
from pipeline.reference import ReferenceCache
from pipeline.runtime import COSMOS_CONTAINERS, Runtime, install_runtime, uninstall_runtime
from pipeline.settings import CONTAINER_ANALYTICS, COSMOS_AGGREGATES, Settings
from pipeline.stores.memory import MemoryBlobStore, MemoryDocumentStore

ROWS = [
    # (tenant, family, window start, batch, value)
    ("acme", "order.placed", "2026-11-01T23:59:00Z", "b1", "10.005"),
    ("acme", "order.placed", "2026-11-01T23:59:00Z", "b2", "0.01"),
    ("acme", "device.reading", "2026-11-02T00:00:00Z", "b1", "-0.135"),
    ("globex", "page.viewed", "2026-11-02T00:01:00Z", "b3", "86400000"),
    ("globex", "page.viewed", "2026-11-02T00:01:00Z", "b4", "86400000"),
    ("acme", "device.reading", "2026-11-03T12:00:00Z", "b5", "21.5"),
]


async def stores(rows=ROWS) -> tuple[MemoryDocumentStore, MemoryBlobStore]:
    documents, blobs = MemoryDocumentStore(), MemoryBlobStore()
    await documents.ensure_containers(COSMOS_CONTAINERS)
    for tenant, family, window, batch, value in rows:
        await apply_contribution(documents, batch, WindowKey(tenant, family, window, 1), WindowStats.of(Decimal(value)))
    return documents, blobs


def blob_names(blobs: MemoryBlobStore) -> list[str]:
    return sorted(name for container, name in blobs.blobs if container == CONTAINER_ANALYTICS)


def read_parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


async def test_rows_are_filed_by_the_utc_date_of_their_window_as_csv_and_parquet_with_a_manifest():
    documents, blobs = await stores()

    summary = await export_window_aggregates(documents, blobs)

    assert summary.written == ["2026-11-01", "2026-11-02", "2026-11-03"] and summary.rows == 4
    assert blob_names(blobs) == [
        "WindowAggregates/_manifest.json",
        *(
            f"WindowAggregates/date={d}/window_aggregates.{ext}"
            for d in ("2026-11-01", "2026-11-02", "2026-11-03")
            for ext in ("csv", "parquet")
        ),
    ]
    day2 = blobs.blobs[(CONTAINER_ANALYTICS, "WindowAggregates/date=2026-11-02/window_aggregates.csv")].decode()
    assert list(csv.reader(io.StringIO(day2))) == [
        list(CSV_COLUMNS),
        ["acme", "device.reading", "2026-11-02T00:00:00Z", "1", "1", "-0.14", "-0.14", "-0.14"],
        ["globex", "page.viewed", "2026-11-02T00:01:00Z", "1", "2", "172800000.00", "86400000.00", "86400000.00"],
    ]


async def test_parquet_holds_typed_columns_and_exact_two_decimal_values_equal_to_the_csv():
    documents, blobs = await stores()
    await export_window_aggregates(documents, blobs)

    data = blobs.blobs[(CONTAINER_ANALYTICS, "WindowAggregates/date=2026-11-01/window_aggregates.parquet")]
    table = read_parquet(data)

    assert table.schema.equals(SCHEMA, check_metadata=False)
    assert table.schema.field("value_sum").type == pa.decimal128(38, 2)
    assert table.schema.field("window_start").type == pa.timestamp("us", tz="UTC")
    (row,) = table.to_pylist()
    assert row == {
        "tenant_id": "acme",
        "event_type": "order.placed",
        "window_start": datetime(2026, 11, 1, 23, 59, tzinfo=UTC),
        "window_minutes": 1,
        "event_count": 2,
        "value_sum": Decimal("10.02"),  # 10.015 half-even
        "value_min": Decimal("0.01"),
        "value_max": Decimal("10.00"),  # 10.005 half-even
    }


async def test_a_second_export_of_the_same_rows_rewrites_nothing_and_the_bytes_are_identical():
    documents, blobs = await stores()
    await export_window_aggregates(documents, blobs)
    before = dict(blobs.blobs)

    summary = await export_window_aggregates(documents, blobs)

    assert summary.written == [] and summary.unchanged == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert blobs.blobs == before


async def test_the_same_table_built_in_another_order_in_other_stores_gives_the_same_bytes():
    first_docs, first_blobs = await stores()
    second_docs, second_blobs = await stores(list(reversed(ROWS)))
    await export_window_aggregates(first_docs, first_blobs)
    await export_window_aggregates(second_docs, second_blobs)

    assert first_blobs.blobs == second_blobs.blobs


async def test_a_late_event_rewrites_only_its_own_date_and_the_manifest():
    documents, blobs = await stores()
    await export_window_aggregates(documents, blobs)
    key = WindowKey("acme", "order.placed", "2026-11-01T23:59:00Z", 1)
    await apply_contribution(documents, "late", key, WindowStats.of(Decimal("5")))

    summary = await export_window_aggregates(documents, blobs)

    assert summary.written == ["2026-11-01"] and summary.unchanged == ["2026-11-02", "2026-11-03"]
    manifest = json.loads(blobs.blobs[(CONTAINER_ANALYTICS, MANIFEST)])
    assert [p["date"] for p in manifest["partitions"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert manifest["partitions"][0]["event_count"] == 3 and manifest["event_count"] == 7
    assert "generated" not in json.dumps(manifest) and "T" not in json.dumps(manifest["partitions"][0]["date"])


async def test_exporting_some_dates_keeps_the_other_partitions_in_the_manifest():
    documents, blobs = await stores()
    await export_window_aggregates(documents, blobs, dates={"2026-11-03"})
    await export_window_aggregates(documents, blobs, dates={"2026-11-01"})

    manifest = json.loads(blobs.blobs[(CONTAINER_ANALYTICS, MANIFEST)])
    assert [p["date"] for p in manifest["partitions"]] == ["2026-11-01", "2026-11-03"]
    full = await export_window_aggregates(documents, blobs)
    assert full.written == ["2026-11-02"] and full.unchanged == ["2026-11-01", "2026-11-03"]


async def test_a_full_export_removes_partitions_of_dates_that_no_longer_have_rows():
    documents, blobs = await stores()
    await export_window_aggregates(documents, blobs)
    await blobs.put(CONTAINER_ANALYTICS, "WindowAggregates/date=2020-01-01/window_aggregates.csv", b"old")
    await blobs.put(CONTAINER_ANALYTICS, "elsewhere/keep.txt", b"not ours")

    summary = await export_window_aggregates(documents, blobs)

    assert summary.deleted == ["2020-01-01"]
    assert not any("2020-01-01" in name for name in blob_names(blobs))
    assert "elsewhere/keep.txt" in blob_names(blobs)


async def test_an_empty_table_exports_an_empty_manifest():
    documents, blobs = await stores([])

    summary = await export_window_aggregates(documents, blobs)

    assert summary.rows == 0 and blob_names(blobs) == [MANIFEST]
    assert json.loads(blobs.blobs[(CONTAINER_ANALYTICS, MANIFEST)])["partitions"] == []


async def test_partitions_hold_exactly_the_table_sums_of_large_exact_values():
    rows = [("t", "order.placed", "2026-11-01T00:00:00Z", f"b{i}", "99999999999999999.995") for i in range(3)]
    documents, _ = await stores(rows)
    docs = await documents.query_all(COSMOS_AGGREGATES)

    (partition,) = build_partitions(docs).values()

    (row,) = read_parquet(partition.parquet).to_pylist()
    assert row["value_sum"] == Decimal("299999999999999999.98")  # exact: no float on the way
    assert csv_row(docs[0])[5] == "299999999999999999.98"


async def test_local_files_mirror_the_blob_layout_and_add_the_whole_table_as_parquet(tmp_path: Path):
    documents, blobs = await stores()
    docs = await documents.query_all(COSMOS_AGGREGATES)
    stale = tmp_path / "analytics" / "WindowAggregates" / "date=2019-01-01"
    stale.mkdir(parents=True)

    written = write_local_files(tmp_path, docs)
    await export_window_aggregates(documents, blobs)

    assert (tmp_path / "analytics" / "aggregates.parquet") in written and not stale.exists()
    for (_container, name), data in blobs.blobs.items():
        assert (tmp_path / "analytics" / name).read_bytes() == data, name
    whole = read_parquet((tmp_path / "analytics" / "aggregates.parquet").read_bytes())
    assert whole.num_rows == 4 and whole.column("tenant_id").to_pylist() == ["acme", "acme", "acme", "globex"]
    assert parquet_bytes(docs) == parquet_bytes(list(reversed(docs)))


class PastDueTimer:
    """What the worker passes for a timer trigger (`func.TimerRequest` is abstract)."""

    past_due = True


async def test_the_timer_function_exports_through_the_runtime_stores():
    app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
    app.register_functions(analytics_functions.bp)
    function = index_app(app).get("analytics_export")
    assert function.trigger_type == "timerTrigger"
    assert function.trigger["schedule"] == "0 */5 * * * *"
    documents, blobs = await stores()
    install_runtime(Runtime(Settings.local_emulators(), blobs, documents, ReferenceCache()))
    try:
        await function.callable(timer=PastDueTimer())
    finally:
        uninstall_runtime()

    assert MANIFEST in blob_names(blobs) and len(blob_names(blobs)) == 7
