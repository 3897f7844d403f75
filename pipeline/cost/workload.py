"""How much work one batch of events makes for each service: the quantities the prices apply to.

A batch is what one trigger invocation receives (Event Hubs: up to `maxEventBatchSize`, 100 by
default). Its path is fixed by the code: ingest writes a claim check and a manifest, the
orchestration runs curate then aggregate, and each step reads and writes known blobs and
documents. The constants below count those operations; where a figure is not fixed by the code
it is an assumption, named in :data:`ASSUMPTIONS` and printed with every estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

KB = 1024


@dataclass(frozen=True, slots=True)
class Workload:
    """The traffic to price.

    Attributes:
        events_per_second: Sustained average rate of events received.
        event_bytes: Average size of one event as sent.
        batch_size: Events per trigger invocation (host.json `maxEventBatchSize`; full at load).
        duplicate_ratio: Share of redeliveries (stored once, counted as duplicates).
        dead_letter_ratio: Share of events dead-lettered.
        tenants: Tenants sending (each batch touches one aggregate row per tenant and family).
        families: Event families (three are registered).
        window_minutes: Aggregate window length.
        memory_mb: Flex Consumption instance memory (the Bicep default is 2048).
        active_ms_per_event: Instance time each event keeps an instance busy, all functions
            together (trigger, orchestrator, activities); calibrate it from Application
            Insights (docs/cost.md).
        always_ready: Always-ready instances (0: on-demand only, the Bicep default).
        peak_factor: Highest hourly rate over the average, for provisioned throughput.
        trace_azure_sdk: Whether every Azure SDK call is traced as a dependency.
    """

    events_per_second: float
    event_bytes: int
    batch_size: int = 100
    duplicate_ratio: float = 0.03
    dead_letter_ratio: float = 0.05
    tenants: int = 5
    families: int = 3
    window_minutes: int = 1
    memory_mb: int = 2048
    active_ms_per_event: float = 2.0
    always_ready: int = 0
    peak_factor: float = 1.5
    trace_azure_sdk: bool = False

    def __post_init__(self) -> None:
        if self.events_per_second <= 0 or self.event_bytes <= 0 or self.batch_size <= 0:
            raise ValueError("events per second, event bytes and batch size must be above 0")
        if not 0 <= self.duplicate_ratio + self.dead_letter_ratio <= 1:
            raise ValueError("duplicate and dead-letter ratios must be between 0 and 1 together")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def stored_ratio(self) -> float:
        return 1 - self.duplicate_ratio - self.dead_letter_ratio


# ---- Per-batch operation counts fixed by the code -------------------------------------------

#: Blob writes per batch: claim check, manifest (ingest); curated.json (curate); result.json
#: (aggregate); the Event Hubs checkpoint of the trigger invocation. Dead letters come on top.
BLOB_WRITES_PER_BATCH = 5
#: Blob reads per batch: claim check (curate); curated.json (aggregate). The result.json probe happens
#: only when a retried or redelivered batch meets its own documents.
BLOB_READS_PER_BATCH = 2
#: Function executions per batch: the trigger, three orchestrator episodes (start, after each of
#: the two activities), the two activities.
EXECUTIONS_PER_BATCH = 6
#: Durable Task Scheduler actions per orchestration: a start, and two per activity.
DTS_ACTIONS_PER_BATCH = 5

# ---- Assumptions -----------------------------------------------------------------------------

#: Durable Functions on Azure Storage per orchestration: 5 messages (start, 2 activity work
#: items, 2 completions), each put + get + delete; plus table writes and history reads per episode.
QUEUE_OPS_PER_BATCH = 15
TABLE_TX_PER_BATCH = 10
#: Queue polling and partition lease renewals while the app runs, operations per second.
DURABLE_BACKGROUND_OPS_PER_S = 2.0
#: Bytes a stored document adds to the event (identity digest, content key, tenant details,
#: dates, enrichment fields, Cosmos system properties).
DOCUMENT_OVERHEAD_BYTES = 600
#: Index and storage overhead of the events container (it indexes only tenant and date).
COSMOS_STORAGE_OVERHEAD = 1.1
#: A duplicate costs a rejected create (about 1 RU) and a point read of the stored version.
DUPLICATE_CREATE_RU = 1.0
#: An aggregate row without its batch list, and one batch id in that list.
AGGREGATE_ROW_BYTES = 400
AGGREGATE_BATCH_ID_BYTES = 28
#: The claim check keeps each valid event twice (raw text and normalised JSON) with a wrapper.
CLAIM_CHECK_FACTOR = 2.2
DEAD_LETTER_OVERHEAD_BYTES = 300
#: Billed bytes of one telemetry record (a log line, a request, a dependency).
TELEMETRY_RECORD_BYTES = 900
#: Log records per batch at INFO: one per step that logs (ingest, completed) plus one request
#: record per function execution; one more per dead-lettered event.
LOG_RECORDS_PER_BATCH = 2 + EXECUTIONS_PER_BATCH
#: Azure SDK calls per event when they are traced (a Cosmos create, and its share of blob calls).
SDK_CALLS_PER_EVENT = 1.2

ASSUMPTIONS: tuple[str, ...] = (
    "Cosmos DB request units follow the documented examples (1 KB item: 1 RU to read, 5 RU to write; "
    "100 KB: 10 and 50), interpolated as the square root of the size.",
    f"A stored document is the event plus {DOCUMENT_OVERHEAD_BYTES} bytes; storage adds "
    f"{COSMOS_STORAGE_OVERHEAD - 1:.0%} for the (narrow) index.",
    f"A duplicate costs a rejected create ({DUPLICATE_CREATE_RU:g} RU) and a point read.",
    "Each batch merges into one aggregate row per tenant and family; a row holds the ids of every batch "
    "it absorbed in its window, so its size grows with batches per window.",
    f"Durable Functions on Azure Storage: {QUEUE_OPS_PER_BATCH} queue operations and {TABLE_TX_PER_BATCH} "
    f"table transactions per orchestration, plus {DURABLE_BACKGROUND_OPS_PER_S:g} polling/lease operations/s.",
    "Flex Consumption bills instance memory while it executes: events x active ms per event x memory "
    "(executions that overlap on an instance are billed once, so this is an upper bound).",
    f"Telemetry: {LOG_RECORDS_PER_BATCH} records per batch plus one per dead letter, "
    f"{TELEMETRY_RECORD_BYTES} billed bytes each.",
)


def read_ru(size_bytes: float) -> float:
    """Request units of a point read of an item of this size."""
    return max(1.0, math.sqrt(size_bytes / KB))


def write_ru(size_bytes: float) -> float:
    """Request units of creating or replacing an item of this size."""
    return 5.0 * max(1.0, math.sqrt(size_bytes / KB))


def document_bytes(workload: Workload) -> float:
    return workload.event_bytes + DOCUMENT_OVERHEAD_BYTES


def batches_per_window(workload: Workload) -> float:
    """How many batches each aggregate row absorbs in one window."""
    return workload.events_per_second * 60 * workload.window_minutes / workload.batch_size


def aggregate_rows_per_batch(workload: Workload) -> float:
    return min(workload.batch_size * workload.stored_ratio, workload.tenants * workload.families)


def aggregate_row_bytes(workload: Workload) -> float:
    """The average size of an aggregate row over its window (its batch list grows through it)."""
    return AGGREGATE_ROW_BYTES + 0.5 * batches_per_window(workload) * AGGREGATE_BATCH_ID_BYTES


def ru_per_batch(workload: Workload) -> dict[str, float]:
    """Request units one batch costs: storing, duplicates, and merging aggregates."""
    doc = document_bytes(workload)
    row = aggregate_row_bytes(workload)
    size = workload.batch_size
    return {
        "store": size * workload.stored_ratio * write_ru(doc),
        "duplicates": size * workload.duplicate_ratio * (DUPLICATE_CREATE_RU + read_ru(doc)),
        "aggregates": aggregate_rows_per_batch(workload) * (read_ru(row) + write_ru(row)),
    }


def blob_bytes_per_event(workload: Workload) -> float:
    valid = 1 - workload.dead_letter_ratio
    return valid * CLAIM_CHECK_FACTOR * workload.event_bytes + workload.dead_letter_ratio * (
        workload.event_bytes + DEAD_LETTER_OVERHEAD_BYTES
    )


def telemetry_bytes_per_batch(workload: Workload) -> float:
    records = LOG_RECORDS_PER_BATCH + workload.batch_size * workload.dead_letter_ratio
    if workload.trace_azure_sdk:
        records += workload.batch_size * SDK_CALLS_PER_EVENT + BLOB_WRITES_PER_BATCH + BLOB_READS_PER_BATCH
    return records * TELEMETRY_RECORD_BYTES


def event_hubs_throughput_units(workload: Workload) -> int:
    """Throughput units to take the ingress: 1,000 events/s or 1 MB/s each, whichever binds."""
    by_events = workload.events_per_second / 1000
    by_bytes = workload.events_per_second * workload.event_bytes / (1024 * 1024)
    return max(1, math.ceil(max(by_events, by_bytes) * workload.peak_factor - 1e-9))


def ingress_units_per_event(workload: Workload) -> int:
    return max(1, math.ceil(workload.event_bytes / (64 * KB)))
