"""The monthly estimate: line items per service, the options to choose from, and the total.

Cosmos DB (serverless or autoscale) and the Durable backend (Azure Storage or the Durable Task
Scheduler) are priced both ways; the total uses the chosen options (by default the cheaper
viable Cosmos DB mode and the Durable backend the Bicep deploys, Azure Storage).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.cost import workload as w
from pipeline.cost.prices import PriceTable
from pipeline.cost.workload import Workload

SERVERLESS_MAX_RU_S = 5000  # per container up to 250 GB (learn.microsoft.com/azure/cosmos-db/serverless-performance)
AUTOSCALE_MIN_MAX_RU_S = 1000
DTS_CONSUMPTION_MAX_ACTIONS_S = 500
DTS_ACTIONS_PER_CU_S = 2000
DTS_MAX_CUS = 3
EVENT_HUBS_STANDARD_MAX_TUS = 40
COSMOS_OPTIONS = ("serverless", "autoscale")
DURABLE_OPTIONS = ("azure-storage", "scheduler-consumption", "scheduler-dedicated")


@dataclass(frozen=True, slots=True)
class LineItem:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float | None
    monthly_usd: float | None
    basis: str
    option: str | None = None  # "cosmos:serverless", "durable:azure-storage", … (None: always paid)
    note: str = ""


@dataclass
class Estimate:
    workload: Workload
    lines: list[LineItem]
    options: dict[str, dict[str, float | None]]
    viable: dict[str, dict[str, bool]]
    chosen: dict[str, str]
    warnings: list[str]
    figures: dict[str, float]
    price_table: dict[str, str]
    assumptions: tuple[str, ...] = w.ASSUMPTIONS
    totals: dict[str, float] = field(default_factory=dict)

    def counts(self, line: LineItem) -> bool:
        if line.option is None:
            return True
        group, option = line.option.split(":", 1)
        return self.chosen.get(group) == option

    @property
    def total(self) -> float | None:
        """The monthly total of the chosen options; None when one of their prices is unknown."""
        values = [line.monthly_usd for line in self.lines if self.counts(line)]
        return None if any(v is None for v in values) else round(sum(v for v in values if v is not None), 2)

    def to_json(self) -> dict[str, Any]:
        by_service: dict[str, float] = {}
        for line in self.lines:
            if self.counts(line) and line.monthly_usd is not None:
                by_service[line.service] = round(by_service.get(line.service, 0) + line.monthly_usd, 2)
        return {
            "workload": self.workload.to_json(),
            "price_table": self.price_table,
            "figures": {k: round(v, 4) for k, v in self.figures.items()},
            "lines": [asdict(line) for line in self.lines],
            "options": self.options,
            "viable": self.viable,
            "chosen": self.chosen,
            "by_service": by_service,
            "total_usd": self.total,
            "warnings": self.warnings,
            "assumptions": list(self.assumptions),
        }


def _cost(quantity: float, price: float | None, per: float = 1.0) -> float | None:
    return None if price is None else round(quantity / per * price, 2)


def estimate_monthly(
    workload: Workload, prices: PriceTable, *, cosmos: str = "auto", durable: str = "azure-storage"
) -> Estimate:
    """Price one month of `workload`.

    Args:
        workload: The traffic.
        prices: The dated price table (with any overrides applied).
        cosmos: ``serverless``, ``autoscale`` or ``auto`` (the cheaper viable one).
        durable: One of :data:`DURABLE_OPTIONS`.
    """
    p = prices.value
    seconds = prices.seconds_per_month
    hours = prices.hours_per_month
    events = workload.events_per_second * seconds
    batches = events / workload.batch_size
    folds = w.folds_per_month(seconds)
    fold = w.fold(workload)
    lines: list[LineItem] = []
    warnings: list[str] = []

    def add(service: str, item: str, quantity: float, unit: str, key: str, per: float = 1.0, **extra: Any) -> None:
        price = p(key)
        lines.append(
            LineItem(service, item, quantity, unit, price, _cost(quantity, price, per), prices[key].basis, **extra)
        )

    # Event Hubs
    tus = w.event_hubs_throughput_units(workload)
    if tus > EVENT_HUBS_STANDARD_MAX_TUS:
        warnings.append(
            f"{tus} throughput units exceed Standard's {EVENT_HUBS_STANDARD_MAX_TUS}: "
            "use Premium or Dedicated (not priced here)."
        )
    add("Event Hubs", "throughput units, Standard", tus * hours, "TU-hours", "eventhubs.standard.throughput_unit_hour")
    add(
        "Event Hubs",
        "ingress events",
        events * w.ingress_units_per_event(workload),
        "events",
        "eventhubs.standard.ingress_per_million",
        1e6,
    )

    # Functions (Flex Consumption)
    memory_gb = workload.memory_mb / 1024
    busy_s = events * workload.active_ms_per_event / 1000
    ready_s = min(busy_s, workload.always_ready * seconds)
    on_demand_gb_s = (busy_s - ready_s) * memory_gb
    free_gb_s = p("functions.flex.on_demand_free_gb_s") or 0
    add(
        "Functions",
        "on-demand execution time",
        max(0.0, on_demand_gb_s - free_gb_s),
        "GB-s",
        "functions.flex.on_demand_gb_s",
    )
    executions = batches * w.EXECUTIONS_PER_BATCH + folds
    free_executions = p("functions.flex.on_demand_free_executions") or 0
    add(
        "Functions",
        "executions",
        max(0.0, executions - free_executions),
        "executions",
        "functions.flex.executions_per_million",
        1e6,
    )
    if workload.always_ready:
        add(
            "Functions",
            "always-ready baseline",
            workload.always_ready * memory_gb * seconds,
            "GB-s",
            "functions.flex.always_ready_baseline_gb_s",
        )
        add(
            "Functions",
            "always-ready execution time",
            ready_s * memory_gb,
            "GB-s",
            "functions.flex.always_ready_execution_gb_s",
        )

    # Cosmos DB: the events in transactional batches, the aggregate rows by the fold once a minute
    ru = {key: value * batches for key, value in w.ru_per_batch(workload).items()}
    ru["aggregates"] = fold.ru * folds
    ru_month = sum(ru.values())
    ru_s = ru_month / seconds
    serverless_viable = ru_s * workload.peak_factor <= SERVERLESS_MAX_RU_S
    add(
        "Cosmos DB",
        "serverless request units",
        ru_month,
        "RU",
        "cosmos.serverless_per_million_ru",
        1e6,
        option="cosmos:serverless",
        note=""
        if serverless_viable
        else f"needs {ru_s * workload.peak_factor:,.0f} RU/s at peak; serverless serves {SERVERLESS_MAX_RU_S:,}",
    )
    max_ru_s = max(AUTOSCALE_MIN_MAX_RU_S, math.ceil(ru_s * workload.peak_factor / 100) * 100)
    billed_ru_s = max(0.1 * max_ru_s, ru_s * workload.peak_factor)
    manual, multiplier = p("cosmos.provisioned_100_rus_hour"), p("cosmos.autoscale_multiplier")
    autoscale_price = None if manual is None or multiplier is None else manual * multiplier
    lines.append(
        LineItem(
            "Cosmos DB",
            f"autoscale throughput, max {max_ru_s:,} RU/s",
            billed_ru_s / 100 * hours,
            "100 RU/s-hours",
            autoscale_price,
            _cost(billed_ru_s / 100 * hours, autoscale_price),
            "fact",
            option="cosmos:autoscale",
        )
    )
    # No row is hot any more: the fold is the aggregates' only writer and writes each row once a minute
    # (its rows and request units are in the figures).
    stored_gb = w.stored_gb(workload, seconds)
    if workload.retention_days:
        add(
            "Cosmos DB",
            f"storage, {workload.retention_days:g} days of events",
            stored_gb,
            "GB-month",
            "cosmos.storage_gb_month",
            note=f"flat once the events container's TTL ({workload.retention_days:g} days) deletes as much as comes in",
        )
    else:
        add(
            "Cosmos DB",
            "storage added this month",
            stored_gb,
            "GB-month",
            "cosmos.storage_gb_month",
            note="no TTL: grows every month the events are kept",
        )

    # Storage: data containers and the Event Hubs checkpoints (host storage)
    dead_per_batch = workload.batch_size * workload.dead_letter_ratio
    add(
        "Storage",
        "blob writes: batches, dead letters, checkpoints",
        batches * (w.BLOB_WRITES_PER_BATCH + dead_per_batch),
        "operations",
        "storage.blob_hot_zrs.write_per_10k",
        1e4,
    )
    add(
        "Storage",
        "blob writes: contributions and their fold",
        batches * w.CONTRIBUTION_WRITES_PER_BATCH
        + folds * (w.BLOB_WRITES_PER_FOLD + w.blob_list_pages_per_fold(workload)),
        "operations",
        "storage.blob_hot_zrs.write_per_10k",
        1e4,
        note="per batch: pending/ and folded/ blobs; per fold: its record and the listing (deletes are free)",
    )
    add(
        "Storage",
        "blob reads",
        batches * (w.BLOB_READS_PER_BATCH + w.CONTRIBUTION_READS_PER_BATCH) + folds * w.BLOB_READS_PER_FOLD,
        "operations",
        "storage.blob_hot_zrs.read_per_10k",
        1e4,
    )
    add(
        "Storage",
        "blob capacity added this month",
        events * w.blob_bytes_per_event(workload) / 1e9,
        "GB-month",
        "storage.blob_hot_zrs.capacity_gb_month",
        note="claim checks and dead letters; a lifecycle rule on batches/ keeps it flat",
    )

    # The Durable backend
    add(
        "Durable (Azure Storage)",
        "queue operations",
        batches * w.QUEUE_OPS_PER_BATCH + w.DURABLE_BACKGROUND_OPS_PER_S * seconds,
        "operations",
        "storage.queue_zrs.operations_per_10k",
        1e4,
        option="durable:azure-storage",
    )
    add(
        "Durable (Azure Storage)",
        "table transactions",
        batches * w.TABLE_TX_PER_BATCH,
        "transactions",
        "storage.table.transactions_per_10k",
        1e4,
        option="durable:azure-storage",
    )
    actions = batches * w.DTS_ACTIONS_PER_BATCH
    actions_s = actions / seconds
    add(
        "Durable Task Scheduler",
        "actions, Consumption",
        actions,
        "actions",
        "durable_task_scheduler.consumption_per_million_actions",
        1e6,
        option="durable:scheduler-consumption",
        note=""
        if actions_s * workload.peak_factor <= DTS_CONSUMPTION_MAX_ACTIONS_S
        else f"{actions_s * workload.peak_factor:,.0f} actions/s at peak; "
        f"Consumption serves {DTS_CONSUMPTION_MAX_ACTIONS_S}",
    )
    cus = max(1, math.ceil(actions_s * workload.peak_factor / DTS_ACTIONS_PER_CU_S))
    add(
        "Durable Task Scheduler",
        "capacity units, Dedicated",
        cus,
        "CU-months",
        "durable_task_scheduler.dedicated_capacity_unit_month",
        option="durable:scheduler-dedicated",
        note="" if cus <= DTS_MAX_CUS else f"needs {cus} CUs; at most {DTS_MAX_CUS} can be bought",
    )

    # Monitoring
    telemetry_gb = (
        batches * w.telemetry_bytes_per_batch(workload) + folds * w.telemetry_bytes_per_fold(workload)
    ) / 1e9
    free_gb = p("monitoring.free_gb_month") or 0
    add(
        "Monitoring",
        "telemetry ingested" + (" (with dependencies)" if workload.trace_azure_sdk else ""),
        max(0.0, telemetry_gb - free_gb),
        "GB",
        "monitoring.log_analytics_ingestion_gb",
    )

    options, viable = _options(lines, serverless_viable, actions_s * workload.peak_factor, cus)
    chosen = {"cosmos": _choose_cosmos(cosmos, options["cosmos"], viable["cosmos"]), "durable": durable}
    if durable not in DURABLE_OPTIONS:
        raise ValueError(f"durable must be one of {', '.join(DURABLE_OPTIONS)}")
    for group, option in chosen.items():
        if not viable[group][option]:
            warnings.append(f"the chosen {group} option {option} cannot carry this load (see its note)")
        if options[group][option] is None:
            warnings.append(f"no price for {group} option {option}: pass it with --price (see the price table)")
    figures = {
        "events_per_month": events,
        "batches_per_month": batches,
        "executions_per_month": executions,
        "instances_busy": busy_s / seconds,
        "event_hubs_throughput_units": tus,
        "cosmos_ru_per_s": ru_s,
        "cosmos_ru_per_event": ru_month / events,
        "cosmos_ru_per_event_store": ru["store"] / events,
        "cosmos_ru_per_event_duplicates": ru["duplicates"] / events,
        "cosmos_ru_per_event_aggregates": ru["aggregates"] / events,
        "cosmos_ru_per_s_aggregates": ru["aggregates"] / seconds,
        "cosmos_requests_per_event": w.cosmos_requests_per_batch(workload) / workload.batch_size,
        "cosmos_stored_gb": stored_gb,
        "fold_rows": fold.rows,
        "fold_ru": fold.ru,
        "fold_contributions": fold.contributions,
        "aggregate_row_writes_per_row": fold.folds_per_row,
        "durable_actions_per_s": actions_s,
        "telemetry_gb_per_month": telemetry_gb,
    }
    table = {"as_of": prices.as_of, "currency": prices.currency, "region": prices.region, "path": prices.path}
    return Estimate(workload, lines, options, viable, chosen, warnings, figures, table)


def _options(
    lines: list[LineItem], serverless_viable: bool, peak_actions_s: float, cus: int
) -> tuple[dict[str, dict[str, float | None]], dict[str, dict[str, bool]]]:
    options: dict[str, dict[str, float | None]] = {"cosmos": {}, "durable": {}}
    for line in lines:
        if line.option is None:
            continue
        group, option = line.option.split(":", 1)
        current = options[group].get(option, 0.0)
        options[group][option] = (
            None if current is None or line.monthly_usd is None else round(current + line.monthly_usd, 2)
        )
    viable = {
        "cosmos": {"serverless": serverless_viable, "autoscale": True},
        "durable": {
            "azure-storage": True,
            "scheduler-consumption": peak_actions_s <= DTS_CONSUMPTION_MAX_ACTIONS_S,
            "scheduler-dedicated": cus <= DTS_MAX_CUS,
        },
    }
    return options, viable


def _choose_cosmos(requested: str, costs: dict[str, float | None], viable: dict[str, bool]) -> str:
    if requested in COSMOS_OPTIONS:
        return requested
    if requested != "auto":
        raise ValueError(f"cosmos must be auto, {' or '.join(COSMOS_OPTIONS)}")
    candidates = [o for o in COSMOS_OPTIONS if viable[o] and costs[o] is not None]
    return min(candidates, key=lambda o: costs[o] or 0.0) if candidates else "autoscale"
