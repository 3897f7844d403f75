"""How much work one batch of events makes for each service: the quantities the prices apply to.

A batch is what one trigger invocation receives (Event Hubs: up to `maxEventBatchSize`, 100 by
default). Its path is fixed by the code: ingest writes a claim check and a manifest, the
orchestration runs curate (the new documents go to Cosmos DB as transactional batches, one per
tenant and 100 documents) then aggregate (one contribution blob), and each step reads and writes
known blobs. The aggregate rows are written by the fold, a timer that runs once a minute whatever
the event rate: its work is counted per fold. The constants below count those operations; where a
figure is not fixed by the code it is an assumption, named in :data:`ASSUMPTIONS` and printed with
every estimate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.aggregates import APPLIED_KEPT

KB = 1024
DUPLICATE_SHAPES = ("redelivered", "scattered")


@dataclass(frozen=True, slots=True)
class Workload:
    """The traffic to price.

    Attributes:
        events_per_second: Sustained average rate of events received.
        event_bytes: Average size of one event as sent.
        batch_size: Events per trigger invocation (host.json `maxEventBatchSize`; full at load).
        duplicate_ratio: Share of redeliveries (stored once, counted as duplicates).
        dead_letter_ratio: Share of events dead-lettered.
        tenants: Tenants sending, equally (a batch's documents go out as one transactional batch per
            tenant; the fold writes rows per tenant, family and window).
        families: Event families (three are registered).
        window_minutes: Aggregate window length.
        event_spread_minutes: How far back the event times of one minute's arrivals reach: a live
            stream a few minutes, a backfill hours. Sets the windows, so the rows, each fold touches.
        retention_days: Days an event document is kept (the `events` container's TTL); 0 keeps
            them for ever, and the estimate prices the storage one month adds.
        duplicates: How redeliveries arrive: ``redelivered`` (whole batches delivered again, as
            after a crash before the checkpoint) or ``scattered`` (single copies spread over many
            batches, as from a producer that resends): the bulk write pays more for the second.
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
    event_spread_minutes: float = 10.0
    retention_days: float = 90.0
    duplicates: str = "redelivered"
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
        if self.event_spread_minutes <= 0 or self.retention_days < 0:
            raise ValueError("event spread must be above 0 and retention days at least 0")
        if self.duplicates not in DUPLICATE_SHAPES:
            raise ValueError(f"duplicates must be one of {', '.join(DUPLICATE_SHAPES)}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def stored_ratio(self) -> float:
        return 1 - self.duplicate_ratio - self.dead_letter_ratio


# ---- Operation counts fixed by the code -----------------------------------------------------

#: Blob writes per batch: claim check, manifest (ingest); curated.json (curate); result.json
#: (aggregate); the Event Hubs checkpoint of the trigger invocation. Dead letters come on top.
BLOB_WRITES_PER_BATCH = 5
#: Blob reads per batch: claim check (curate); curated.json (aggregate). The result.json probe happens
#: only when a retried or redelivered batch meets its own documents.
BLOB_READS_PER_BATCH = 2
#: A batch's contribution to the aggregates: written once (`pending/`, by aggregate), then in the
#: fold read, its `folded/` marker probed (a 404, billed like any authenticated request) and
#: written; deleting the pending blob is free (Delete Blob on general-purpose v2).
CONTRIBUTION_WRITES_PER_BATCH = 2
CONTRIBUTION_READS_PER_BATCH = 2
#: Per fold: the fold record written, and the probe for an interrupted fold's record (deleting the
#: record is free); one List Blobs page per 5,000 pending contributions (billed as a write).
BLOB_WRITES_PER_FOLD = 1
BLOB_READS_PER_FOLD = 1
LIST_PAGE = 5000
#: Function executions per batch: the trigger, three orchestrator episodes (start, after each of
#: the two activities), the two activities. The fold is one timer execution a minute.
EXECUTIONS_PER_BATCH = 6
FOLDS_PER_MINUTE = 1  # `fold_aggregates` runs at second 15 of every minute
#: Durable Task Scheduler actions per orchestration: a start, and two per activity.
DTS_ACTIONS_PER_BATCH = 5
#: Operations per Cosmos DB transactional batch (the service's limit; `MAX_BATCH_OPERATIONS`).
TRANSACTIONAL_BATCH_OPERATIONS = 100

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
#: A create rejected with 409 costs about one read; so is a transactional batch refused at its
#: first operation.
REJECTED_CREATE_RU = 1.0
#: A replace re-indexes the item (the old version's terms out, the new one's in): taken at twice
#: a create of the same size, about 10 RU for a 1 KB row.
REPLACE_FACTOR = 2.0
#: An aggregate row without its `applied` list, and one fold id in that list.
AGGREGATE_ROW_BYTES = 400
FOLD_ID_BYTES = 32
#: Share of the existing rows a fold writes that it reads first: its instance caches the rows it
#: wrote, but the timer can move to another instance, whose first guess (create) then fails and the
#: rows are read. Taken as every fold: an upper bound.
FOLD_ROW_READ_SHARE = 1.0
#: The claim check keeps each valid event twice (raw text and normalised JSON) with a wrapper.
CLAIM_CHECK_FACTOR = 2.2
DEAD_LETTER_OVERHEAD_BYTES = 300
#: Billed bytes of one telemetry record (a log line, a request, a dependency).
TELEMETRY_RECORD_BYTES = 900
#: Log records per batch at INFO: one per step that logs (ingest, completed) plus one request
#: record per function execution; one more per dead-lettered event. A fold: its request and log line.
LOG_RECORDS_PER_BATCH = 2 + EXECUTIONS_PER_BATCH
LOG_RECORDS_PER_FOLD = 2
#: Azure SDK calls per event when they are traced, besides the Cosmos DB requests and blob calls
#: counted per batch.
SDK_CALLS_PER_EVENT = 0.2

ASSUMPTIONS: tuple[str, ...] = (
    "Cosmos DB request units follow the documented examples (1 KB item: 1 RU to read, 5 RU to write; "
    "100 KB: 10 and 50), interpolated as the square root of the size; a transactional batch costs the sum "
    "of its operations.",
    f"A replace costs {REPLACE_FACTOR:g}x a create of the same size (re-indexing); a rejected create, or a "
    f"transactional batch refused at its first operation, {REJECTED_CREATE_RU:g} RU; a batch refused later is "
    "charged for the creates it ran before the conflict.",
    f"A stored document is the event plus {DOCUMENT_OVERHEAD_BYTES} bytes; storage adds "
    f"{COSMOS_STORAGE_OVERHEAD - 1:.0%} for the (narrow) index; documents are kept for the retention days "
    "(the events container's TTL).",
    "Events are spread evenly over tenants and families, and a minute's event times evenly over the event "
    "spread; a redelivered duplicate fails its tenant's transactional batch, whose documents are then read.",
    "The fold writes each row it touches once a minute; a row's `applied` list holds the ids of the last "
    f"{APPLIED_KEPT} folds that wrote it; {FOLD_ROW_READ_SHARE:.0%} of the existing rows it writes are read "
    "first (a cold cache: an upper bound).",
    f"Durable Functions on Azure Storage: {QUEUE_OPS_PER_BATCH} queue operations and {TABLE_TX_PER_BATCH} "
    f"table transactions per orchestration, plus {DURABLE_BACKGROUND_OPS_PER_S:g} polling/lease operations/s.",
    "Flex Consumption bills instance memory while it executes: events x active ms per event x memory "
    "(executions that overlap on an instance are billed once, so this is an upper bound).",
    f"Telemetry: {LOG_RECORDS_PER_BATCH} records per batch plus one per dead letter and "
    f"{LOG_RECORDS_PER_FOLD} per fold, {TELEMETRY_RECORD_BYTES} billed bytes each.",
)


def read_ru(size_bytes: float) -> float:
    """Request units of a point read of an item of this size."""
    return max(1.0, math.sqrt(size_bytes / KB))


def write_ru(size_bytes: float) -> float:
    """Request units of creating an item of this size (a replace: :data:`REPLACE_FACTOR` times this)."""
    return 5.0 * max(1.0, math.sqrt(size_bytes / KB))


def document_bytes(workload: Workload) -> float:
    return workload.event_bytes + DOCUMENT_OVERHEAD_BYTES


def _distinct(items: float, slots: float) -> float:
    """Expected slots hit by `items` spread evenly at random over `slots` (Poisson)."""
    return slots * -math.expm1(-items / slots) if slots > 0 else 0.0


# ---- Events: transactional batches of creates, one tenant at a time ---------------------------


def creates_per_batch(workload: Workload) -> float:
    """Documents a batch tries to create: the new ones and the redelivered copies."""
    return workload.batch_size * (workload.stored_ratio + workload.duplicate_ratio)


def transactional_batches_per_batch(workload: Workload) -> float:
    """Cosmos DB requests that carry a batch's creates: one per tenant in it and 100 documents."""
    creates = creates_per_batch(workload)
    tenants = max(1.0, _distinct(creates, workload.tenants))
    return tenants * math.ceil(creates / tenants / TRANSACTIONAL_BATCH_OPERATIONS - 1e-9)


def duplicate_ru_per_batch(workload: Workload) -> float:
    """What redeliveries cost a batch on top of its creates.

    A duplicate's create fails its tenant's transactional batch (409, the others 424); the batch's
    other documents are then read (one point read each, in parallel), the duplicate is read too, and
    the rest are sent again (their creates are counted as stored). Redelivered batches fail at their
    first create; a scattered duplicate fails a batch of mostly new documents part-way through.
    """
    if workload.duplicate_ratio == 0:
        return 0.0
    doc = document_bytes(workload)
    if workload.duplicates == "redelivered":  # a redelivered copy of a batch: every document exists
        chunk = creates_per_batch(workload) / transactional_batches_per_batch(workload)
        return workload.batch_size * workload.duplicate_ratio * (read_ru(doc) + REJECTED_CREATE_RU / chunk)
    chunks = transactional_batches_per_batch(workload)
    n = max(1, round(creates_per_batch(workload) / chunks))
    q = workload.duplicate_ratio / (workload.stored_ratio + workload.duplicate_ratio)
    failed = 1 - (1 - q) ** n  # a chunk holds at least one duplicate
    ran_before = sum(k * q * (1 - q) ** k for k in range(n))  # creates run before the first duplicate
    per_failed = REJECTED_CREATE_RU + n * read_ru(doc)
    return chunks * (failed * per_failed + ran_before * write_ru(doc))


def cosmos_requests_per_batch(workload: Workload) -> float:
    """Cosmos DB requests a batch makes: its transactional batches, and the reads redeliveries cause."""
    requests = transactional_batches_per_batch(workload)
    if workload.duplicates == "redelivered":
        return requests + workload.batch_size * workload.duplicate_ratio
    n = creates_per_batch(workload) / requests
    q = workload.duplicate_ratio / (workload.stored_ratio + workload.duplicate_ratio)
    return requests * (1 + (1 - (1 - q) ** n) * (n + 1))  # a failed batch: its reads, and the batch again


def ru_per_batch(workload: Workload) -> dict[str, float]:
    """Request units one batch costs in the events container: storing, and redeliveries."""
    return {
        "store": workload.batch_size * workload.stored_ratio * write_ru(document_bytes(workload)),
        "duplicates": duplicate_ru_per_batch(workload),
    }


# ---- Aggregates: the fold, once a minute ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fold:
    """One run of `fold_aggregates`: what it reads and writes."""

    contributions: float  # pending blobs folded (one per batch)
    rows: float  # aggregate rows written (each once)
    folds_per_row: float  # folds that write one row over its life
    row_bytes: float  # average size of a row when written
    write_ru: float
    read_ru: float

    @property
    def ru(self) -> float:
        return self.write_ru + self.read_ru

    def to_json(self) -> dict[str, float]:
        return {**asdict(self), "ru": self.ru}


def fold(workload: Workload) -> Fold:
    """The work of one fold in a steady stream.

    Each tenant and family touches the windows its minute of events falls in: up to
    `event_spread_minutes / window_minutes` of them, fewer when the events are sparse. Each touched
    row is written once, whatever the number of batches behind it: a create the first time, a replace
    after. So the fold's request units follow the rows, not the event rate.
    """
    minutes = 1 / FOLDS_PER_MINUTE  # of events per fold
    per_series = (
        workload.events_per_second * 60 * minutes * workload.stored_ratio / (workload.tenants * workload.families)
    )
    windows = max(1.0, workload.event_spread_minutes / workload.window_minutes)
    touched = _distinct(per_series, windows)  # rows per tenant and family in this fold
    rows = workload.tenants * workload.families * touched
    ever = -math.expm1(-per_series * workload.window_minutes / minutes)  # a window gets any event
    folds_per_row = max(1.0, touched * workload.window_minutes / minutes / ever) if ever > 0 else 1.0
    row = AGGREGATE_ROW_BYTES + min(0.5 * folds_per_row, APPLIED_KEPT) * FOLD_ID_BYTES  # the list is capped
    creates = 1 / folds_per_row
    write = rows * write_ru(row) * (creates + (1 - creates) * REPLACE_FACTOR)
    existing = 1 - creates  # rows written before: a cold cache reads them (after one refused batch per tenant)
    tenants = _distinct(rows, workload.tenants)
    read = FOLD_ROW_READ_SHARE * existing * (rows * read_ru(row) + tenants * REJECTED_CREATE_RU)
    contributions = workload.events_per_second * 60 * minutes / workload.batch_size
    return Fold(contributions, rows, folds_per_row, row, write, read)


def folds_per_month(seconds_per_month: float) -> float:
    return seconds_per_month / 60 * FOLDS_PER_MINUTE


def blob_list_pages_per_fold(workload: Workload) -> int:
    return max(1, math.ceil(fold(workload).contributions / LIST_PAGE))


def blob_bytes_per_event(workload: Workload) -> float:
    valid = 1 - workload.dead_letter_ratio
    return valid * CLAIM_CHECK_FACTOR * workload.event_bytes + workload.dead_letter_ratio * (
        workload.event_bytes + DEAD_LETTER_OVERHEAD_BYTES
    )


def telemetry_bytes_per_batch(workload: Workload) -> float:
    records = LOG_RECORDS_PER_BATCH + workload.batch_size * workload.dead_letter_ratio
    if workload.trace_azure_sdk:
        records += (
            workload.batch_size * SDK_CALLS_PER_EVENT
            + cosmos_requests_per_batch(workload)
            + BLOB_WRITES_PER_BATCH
            + BLOB_READS_PER_BATCH
            + CONTRIBUTION_WRITES_PER_BATCH
            + CONTRIBUTION_READS_PER_BATCH
        )
    return records * TELEMETRY_RECORD_BYTES


def telemetry_bytes_per_fold(workload: Workload) -> float:
    records: float = LOG_RECORDS_PER_FOLD
    if workload.trace_azure_sdk:  # its blob calls (the delete too) and its Cosmos DB requests
        work = fold(workload)
        reads = work.rows * (1 - 1 / work.folds_per_row) * FOLD_ROW_READ_SHARE
        records += work.contributions * (CONTRIBUTION_READS_PER_BATCH + 2) + workload.tenants + reads
    return records * TELEMETRY_RECORD_BYTES


def stored_gb(workload: Workload, seconds_per_month: float) -> float:
    """Event documents in Cosmos DB, GB: those kept for the retention days, or (retention 0) one month's."""
    seconds = workload.retention_days * 86400 if workload.retention_days else seconds_per_month
    stored = workload.events_per_second * seconds * workload.stored_ratio
    return stored * document_bytes(workload) * COSMOS_STORAGE_OVERHEAD / 1e9


def event_hubs_throughput_units(workload: Workload) -> int:
    """Throughput units to take the ingress: 1,000 events/s or 1 MB/s each, whichever binds."""
    by_events = workload.events_per_second / 1000
    by_bytes = workload.events_per_second * workload.event_bytes / (1024 * 1024)
    return max(1, math.ceil(max(by_events, by_bytes) * workload.peak_factor - 1e-9))


def ingress_units_per_event(workload: Workload) -> int:
    return max(1, math.ceil(workload.event_bytes / (64 * KB)))
