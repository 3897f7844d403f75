"""The cost of one run: what the run report observed, priced as if it had run in Azure.

`estimate_run_cost(report)` takes the local runner's report (`received`, `orchestrations`,
`activities`, `elapsed_s`, …) and returns the observed invocations and durations with the
marginal cost of the same work in Azure (no free grants, no fixed capacity such as throughput
units), and the cost per million events at this run's mix of duplicates and dead letters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pipeline.cost import workload as w
from pipeline.cost.prices import PriceTable, load_prices

DEFAULT_EVENT_BYTES = 700  # about the size of the synthetic sample events


def estimate_run_cost(
    report: Mapping[str, Any],
    *,
    prices: PriceTable | None = None,
    event_bytes: int | None = None,
    memory_mb: int = 2048,
    tenants: int = 5,
) -> dict[str, Any]:
    """Observed invocations and durations of a run, and its estimated cost in Azure (USD).

    Args:
        report: The run report; `received`, `orchestrations`, `activities` and `elapsed_s` are
            required; `stored`, `duplicates`, `dead_lettered`, `batch_size`, `window_minutes`,
            `trigger_invocations`, `aggregate_rows` and `event_bytes` are used when present.
        prices: The price table (default: the newest shipped).
        event_bytes: Average event size (default: the report's, else 700 bytes).
        memory_mb: Flex Consumption instance memory for the execution-time estimate.
        tenants: Tenants in the data (transactional batches per batch, aggregate rows per fold).
    """
    prices = prices or load_prices()
    received = int(report["received"])
    orchestrations = int(report["orchestrations"])
    activities = int(report["activities"])
    elapsed_s = float(report["elapsed_s"])
    batch_size = int(report.get("batch_size") or 100)
    stored = int(report.get("stored", received))
    duplicates = int(report.get("duplicates", 0))
    dead = int(report.get("dead_lettered", 0))
    size = int(event_bytes or report.get("event_bytes") or DEFAULT_EVENT_BYTES)

    triggers = int(report.get("trigger_invocations") or max(orchestrations, math.ceil(received / batch_size)))
    episodes = orchestrations + activities
    folds = max(1, math.ceil(elapsed_s / 60 * w.FOLDS_PER_MINUTE))  # the fold timer's runs in Azure
    executions = triggers + episodes + activities + folds
    memory_gb = memory_mb / 1024
    observed = {
        "events": received,
        "trigger_invocations": triggers,
        "orchestrations": orchestrations,
        "orchestrator_episodes": episodes,
        "activities": activities,
        "folds": folds,
        "executions": executions,
        "elapsed_s": round(elapsed_s, 3),
        "events_per_s": round(received / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        "ms_per_event": round(elapsed_s * 1000 / received, 3) if received else 0.0,
        "gb_s_one_instance": round(elapsed_s * memory_gb, 1),
    }

    mix = w.Workload(
        events_per_second=max(1.0, received / elapsed_s if elapsed_s > 0 else 1.0),
        event_bytes=size,
        batch_size=batch_size,
        duplicate_ratio=duplicates / received if received else 0.0,
        dead_letter_ratio=dead / received if received else 0.0,
        tenants=tenants,
        window_minutes=int(report.get("window_minutes") or 1),
    )
    fold = w.fold(mix)
    # Each row the run touched is written at least once; a long run rewrites the current rows every fold.
    row_writes = max(float(report.get("aggregate_rows") or 0), folds * fold.rows)
    ru = (
        stored * w.write_ru(w.document_bytes(mix))
        + w.duplicate_ru_per_batch(mix) * received / batch_size
        + (row_writes * fold.ru / fold.rows if fold.rows else 0.0)
    )
    blob_writes = triggers * w.BLOB_WRITES_PER_BATCH + dead + orchestrations * w.CONTRIBUTION_WRITES_PER_BATCH
    blob_reads = orchestrations * (w.BLOB_READS_PER_BATCH + w.CONTRIBUTION_READS_PER_BATCH)
    blob_writes += folds * (w.BLOB_WRITES_PER_FOLD + 1)  # the fold record and one listing
    blob_reads += folds * w.BLOB_READS_PER_FOLD
    p = prices.value
    costs: dict[str, float | None] = {
        "functions_executions": _usd(executions, p("functions.flex.executions_per_million"), 1e6),
        "functions_execution_time": _usd(elapsed_s * memory_gb, p("functions.flex.on_demand_gb_s")),
        "event_hubs_ingress": _usd(
            received * w.ingress_units_per_event(mix), p("eventhubs.standard.ingress_per_million"), 1e6
        ),
        "cosmos_serverless_ru": _usd(ru, p("cosmos.serverless_per_million_ru"), 1e6),
        "storage_blob_operations": _sum(
            _usd(blob_writes, p("storage.blob_hot_zrs.write_per_10k"), 1e4),
            _usd(blob_reads, p("storage.blob_hot_zrs.read_per_10k"), 1e4),
        ),
        "durable_azure_storage": _sum(
            _usd(orchestrations * w.QUEUE_OPS_PER_BATCH, p("storage.queue_zrs.operations_per_10k"), 1e4),
            _usd(orchestrations * w.TABLE_TX_PER_BATCH, p("storage.table.transactions_per_10k"), 1e4),
        ),
        "monitoring": _usd(
            (triggers * w.LOG_RECORDS_PER_BATCH + dead + folds * w.LOG_RECORDS_PER_FOLD)
            * w.TELEMETRY_RECORD_BYTES
            / 1e9,
            p("monitoring.log_analytics_ingestion_gb"),
        ),
    }
    known = [v for v in costs.values() if v is not None]
    total = round(sum(known), 6)
    return {
        "observed": observed,
        "estimated_usd": {k: (round(v, 6) if v is not None else None) for k, v in costs.items()} | {"total": total},
        "per_million_events_usd": round(total / received * 1e6, 2) if received else 0.0,
        "cosmos_ru": round(ru, 1),
        "basis": (
            "marginal Azure cost of this run's work: Flex Consumption executions and one instance busy for the "
            f"run's wall time at {memory_mb} MB (an upper bound), Cosmos DB serverless request units, Storage and "
            "Durable (Azure Storage) operations, Event Hubs ingress and telemetry; no free grants and no fixed "
            "capacity (throughput units, provisioned RU/s)"
        ),
        "price_table": prices.as_of,
    }


def _usd(quantity: float, price: float | None, per: float = 1.0) -> float | None:
    return None if price is None else quantity / per * price


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)
