"""`python -m pipeline cost --events-per-second N --event-bytes B [...]`: a month, priced."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pipeline.cost.model import COSMOS_OPTIONS, DURABLE_OPTIONS, Estimate, LineItem, estimate_monthly
from pipeline.cost.prices import PriceError, load_prices, parse_override
from pipeline.cost.workload import DUPLICATE_SHAPES, Workload


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
        return value

    return parse


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def add_cost_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("cost", help="estimate the monthly Azure cost of a workload")
    parser.add_argument("--events-per-second", type=_positive(float), required=True, metavar="N")
    parser.add_argument("--event-bytes", type=_positive(int), required=True, metavar="B", help="average event size")
    parser.add_argument("--batch-size", type=_positive(int), default=100, help="events per trigger invocation (100)")
    parser.add_argument("--duplicate-ratio", type=float, default=0.03, help="share of redeliveries (0.03)")
    parser.add_argument("--dead-letter-ratio", type=float, default=0.05, help="share dead-lettered (0.05)")
    parser.add_argument("--tenants", type=_positive(int), default=5, help="tenants sending (5)")
    parser.add_argument("--window-minutes", type=_positive(int), default=1, help="aggregate window (1)")
    parser.add_argument(
        "--event-spread-minutes",
        type=_positive(float),
        default=10.0,
        metavar="M",
        help="how far back one minute's event times reach: a live stream ~10, a backfill of 3 hours 180 (10)",
    )
    parser.add_argument(
        "--retention-days",
        type=_non_negative,
        default=90.0,
        metavar="D",
        help="days the events container keeps a document (its TTL); 0: for ever, priced as one month's growth (90)",
    )
    parser.add_argument(
        "--duplicates",
        choices=DUPLICATE_SHAPES,
        default="redelivered",
        help="redeliveries arrive as whole batches, or scattered single copies (redelivered)",
    )
    parser.add_argument("--memory-mb", type=int, choices=(512, 2048, 4096), default=2048, help="instance memory")
    parser.add_argument(
        "--active-ms-per-event",
        type=_positive(float),
        default=2.0,
        metavar="MS",
        help="instance time per event, all functions (2.0; calibrate from Application Insights)",
    )
    parser.add_argument("--always-ready", type=int, default=0, metavar="N", help="always-ready instances (0)")
    parser.add_argument("--peak-factor", type=_positive(float), default=1.5, help="peak hour over average (1.5)")
    parser.add_argument("--trace-azure-sdk", action="store_true", help="price tracing every Azure SDK call")
    parser.add_argument("--cosmos", choices=("auto", *COSMOS_OPTIONS), default="auto", help="capacity mode (auto)")
    parser.add_argument("--durable", choices=DURABLE_OPTIONS, default="azure-storage", help="Durable backend")
    parser.add_argument("--prices", metavar="FILE", help="another dated price table (JSON)")
    parser.add_argument(
        "--price", action="append", default=[], metavar="KEY=VALUE", help="override one price (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    return parser


def run_cost(args: argparse.Namespace) -> int:
    try:
        prices = load_prices(args.prices).with_overrides(dict(parse_override(text) for text in args.price))
        workload = Workload(
            events_per_second=args.events_per_second,
            event_bytes=args.event_bytes,
            batch_size=args.batch_size,
            duplicate_ratio=args.duplicate_ratio,
            dead_letter_ratio=args.dead_letter_ratio,
            tenants=args.tenants,
            window_minutes=args.window_minutes,
            event_spread_minutes=args.event_spread_minutes,
            retention_days=args.retention_days,
            duplicates=args.duplicates,
            memory_mb=args.memory_mb,
            active_ms_per_event=args.active_ms_per_event,
            always_ready=args.always_ready,
            peak_factor=args.peak_factor,
            trace_azure_sdk=args.trace_azure_sdk,
        )
        estimate = estimate_monthly(workload, prices, cosmos=args.cosmos, durable=args.durable)
    except (PriceError, ValueError) as error:
        print(f"pipeline cost: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(estimate.to_json(), indent=2))
    else:
        print(render(estimate))
    return 0


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def _unit_price(line: LineItem) -> str:
    if line.unit_price is None:
        return "no price"
    text = f"${line.unit_price:.6f}".rstrip("0").rstrip(".") if line.unit_price < 1 else f"${line.unit_price:,.2f}"
    return text if line.basis in ("fact", "override") else f"{text} ({line.basis[0]})"


def _quantity(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:,.2f} bn"
    if value >= 1e6:
        return f"{value / 1e6:,.2f} M"
    return f"{value:,.1f}" if value < 100 and value != int(value) else f"{value:,.0f}"


ROW = "{:<24}{:<48}{:>12} {:<20}{:>16}{:>14}"


def render(estimate: Estimate) -> str:
    """The estimate as a table for people."""
    wl, figures, table = estimate.workload, estimate.figures, estimate.price_table
    rule = "-" * 134
    out = [
        f"Monthly cost of {wl.events_per_second:,.0f} events/s x {wl.event_bytes:,} bytes "
        f"({_quantity(figures['events_per_month'])} events a month, batches of {wl.batch_size}; event times spread "
        f"over {wl.event_spread_minutes:g} min; {_retention(wl.retention_days)})",
        f"Prices as of {table['as_of']}, {table['currency']}: {table['region']}",
        "",
        ROW.format("service", "item", "quantity", "unit", "unit price", "per month"),
        rule,
    ]
    for line in estimate.lines:
        item = line.item
        out.append(
            ROW.format(
                line.service[:23],
                item[:47],
                _quantity(line.quantity),
                line.unit[:19],
                _unit_price(line),
                _money(line.monthly_usd),
            )
            + ("" if estimate.counts(line) else "  not chosen")
        )
        if line.note:
            out.append(f"{'':<26}{line.note}")
    out += [rule, ROW.format("Total", _choice_text(estimate), "", "", "", _money(estimate.total)), ""]
    out.append("Unit prices marked (a) are assumptions, (d) derived from facts: see the price table's notes.")
    out += ["", "Options (per month):"]
    names = {"cosmos": "Cosmos DB", "durable": "Durable backend"}
    for group, costs in estimate.options.items():
        parts = []
        for option, cost in costs.items():
            flags = [] if estimate.viable[group][option] else ["cannot carry this load"]
            if estimate.chosen[group] == option:
                flags.append("chosen")
            parts.append(f"{option} {_money(cost)}" + (f" ({', '.join(flags)})" if flags else ""))
        out.append(f"  {names[group]}: " + "; ".join(parts))
    out += [
        "",
        "Figures:",
        f"  Cosmos DB {figures['cosmos_ru_per_s']:,.0f} RU/s on average, {figures['cosmos_ru_per_event']:.2f} RU per "
        f"event: {figures['cosmos_ru_per_event_store']:.2f} to store, {figures['cosmos_ru_per_event_duplicates']:.2f} "
        f"for {wl.duplicates} duplicates, {figures['cosmos_ru_per_event_aggregates']:.2f} for the aggregates; "
        f"{figures['cosmos_requests_per_event']:.2f} requests per event",
        f"  Aggregates: one fold a minute, the rows' only writer, folds {figures['fold_contributions']:,.0f} "
        f"contributions into {figures['fold_rows']:,.0f} rows, each written once ({figures['fold_ru']:,.0f} RU, "
        f"{figures['cosmos_ru_per_s_aggregates']:,.0f} RU/s); a row is written by "
        f"{figures['aggregate_row_writes_per_row']:,.0f} folds in all",
        f"  Event Hubs {figures['event_hubs_throughput_units']:.0f} throughput units; "
        f"{figures['instances_busy']:.1f} Functions instances busy on average; "
        f"{figures['durable_actions_per_s']:,.0f} orchestration actions/s; "
        f"{figures['telemetry_gb_per_month']:,.1f} GB of telemetry",
    ]
    if estimate.warnings:
        out += ["", "Warnings:", *(f"  - {text}" for text in estimate.warnings)]
    out += ["", "Assumptions (docs/cost.md):", *(f"  - {text}" for text in estimate.assumptions)]
    return "\n".join(out)


def _retention(days: float) -> str:
    return f"events kept {days:g} days" if days else "events kept for ever"


def _choice_text(estimate: Estimate) -> str:
    return f"Cosmos DB {estimate.chosen['cosmos']}, Durable backend {estimate.chosen['durable']}"
