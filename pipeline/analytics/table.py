"""The `WindowAggregates` table as Power BI sees it: columns, types and measures, defined once.

The exported files, the TMDL semantic model, the push model definition and the pushed rows are all
derived from this module, so a column cannot drift between them. Values come from the stored rows of
the Cosmos DB container `aggregates` through `pipeline.aggregates.csv_row`: the decimals are the exact
stored values rounded half-even to two places, the same numbers as in `aggregates.csv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pipeline.aggregates import CSV_COLUMNS, csv_row, sort_key

TABLE_NAME = "WindowAggregates"

#: Decimal columns in Parquet: 38 digits, 2 after the point. 36 integer digits hold any realistic sum
#: (a window of a million page views of 24 h each is 8.64e13 ms); 38 is the widest decimal128.
DECIMAL_PRECISION = 38
DECIMAL_SCALE = 2


@dataclass(frozen=True, slots=True)
class Column:
    """One column, with its type in each place it appears.

    Attributes:
        name: the column name (as in contract §4 and `aggregates.csv`).
        kind: `string`, `timestamp` (UTC), `int64` or `decimal` (precision 38, scale 2).
        tmdl_type: the TMDL `dataType` (`decimal` is Power BI's fixed decimal number).
        push_type: the push dataset `dataType`.
        format_string: the Power BI format string, if any.
        summarize_by: the TMDL default aggregation.
        description: what the column holds.
    """

    name: str
    kind: str
    tmdl_type: str
    push_type: str
    format_string: str | None
    summarize_by: str
    description: str


COLUMNS: tuple[Column, ...] = (
    Column("tenant_id", "string", "string", "String", None, "none", "The tenant the events belong to."),
    Column(
        "event_type",
        "string",
        "string",
        "String",
        None,
        "none",
        "The event family: order.placed, page.viewed or device.reading.",
    ),
    Column(
        "window_start",
        "timestamp",
        "dateTime",
        "DateTime",
        "yyyy-mm-dd hh:nn",
        "none",
        "Start of the tumbling window, in UTC, aligned to the epoch.",
    ),
    Column("window_minutes", "int64", "int64", "Int64", "0", "none", "Length of the window in minutes."),
    Column("event_count", "int64", "int64", "Int64", "#,0", "sum", "Unique events in the window."),
    Column(
        "value_sum",
        "decimal",
        "decimal",
        "Decimal",
        "#,0.00",
        "sum",
        "Sum of the family's value (order: amount_usd in USD; page: duration_ms in ms; device: temperature_c in °C).",
    ),
    Column("value_min", "decimal", "decimal", "Decimal", "#,0.00", "min", "Smallest value in the window."),
    Column("value_max", "decimal", "decimal", "Decimal", "#,0.00", "max", "Largest value in the window."),
)
assert tuple(c.name for c in COLUMNS) == CSV_COLUMNS, "the table's columns are those of contract §4"


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    expression: str
    format_string: str
    description: str


_T = TABLE_NAME
MEASURES: tuple[Measure, ...] = (
    Measure("Total Events", f"SUM('{_T}'[event_count])", "#,0", "Unique events in the selected windows."),
    Measure(
        "Total Value",
        f"SUM('{_T}'[value_sum])",
        "#,0.00",
        "Sum of the family's value; slice by event_type, the families have different units.",
    ),
    Measure(
        "Average Value per Event",
        "DIVIDE([Total Value], [Total Events])",
        "#,0.00",
        "Total Value divided by Total Events.",
    ),
    Measure("Minimum Value", f"MIN('{_T}'[value_min])", "#,0.00", "Smallest value in the selected windows."),
    Measure("Maximum Value", f"MAX('{_T}'[value_max])", "#,0.00", "Largest value in the selected windows."),
    Measure(
        "Events per Minute",
        (
            f"VAR FirstStart = MIN('{_T}'[window_start])\n"
            f"VAR LastStart = MAX('{_T}'[window_start])\n"
            f"VAR Width = MAX('{_T}'[window_minutes])\n"
            "VAR Minutes = DATEDIFF(FirstStart, LastStart, MINUTE) + Width\n"
            "RETURN DIVIDE([Total Events], Minutes)"
        ),
        "#,0.00",
        "Total Events over the minutes from the first selected window's start to the last one's end.",
    ),
    Measure(
        "Order Revenue (USD)",
        f"CALCULATE([Total Value], '{_T}'[event_type] = \"order.placed\")",
        "\\$#,0.00",
        "Sum of amount_usd over order.placed events.",
    ),
    Measure(
        "Average Page Duration (s)",
        (
            f"DIVIDE(CALCULATE([Total Value], '{_T}'[event_type] = \"page.viewed\"), "
            f"CALCULATE([Total Events], '{_T}'[event_type] = \"page.viewed\") * 1000)"
        ),
        "#,0.0",
        "Average duration_ms of page.viewed events, in seconds.",
    ),
    Measure(
        "Average Temperature (°C)",
        (
            f"DIVIDE(CALCULATE([Total Value], '{_T}'[event_type] = \"device.reading\"), "
            f"CALCULATE([Total Events], '{_T}'[event_type] = \"device.reading\"))"
        ),
        "#,0.00",
        "Average temperature_c of device.reading events.",
    ),
    Measure("Active Tenants", f"DISTINCTCOUNT('{_T}'[tenant_id])", "#,0", "Tenants with events in the selection."),
)


def partition_date(doc: dict[str, Any]) -> str:
    """The UTC date (`YYYY-MM-DD`) a row is filed under: the date of its window's start."""
    return str(doc["window_start"])[:10]


def parse_window_start(text: str) -> datetime:
    """`YYYY-MM-DDTHH:MM:00Z` as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def typed_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored row as typed values: str, aware datetime, int, and Decimal with two places.

    The decimals are those of `csv_row` (half-even to two places), so the CSV, the Parquet and the
    pushed rows carry the same numbers.
    """
    text = dict(zip(CSV_COLUMNS, csv_row(doc), strict=True))
    return {
        "tenant_id": text["tenant_id"],
        "event_type": text["event_type"],
        "window_start": parse_window_start(text["window_start"]),
        "window_minutes": int(text["window_minutes"]),
        "event_count": int(text["event_count"]),
        "value_sum": Decimal(text["value_sum"]),
        "value_min": Decimal(text["value_min"]),
        "value_max": Decimal(text["value_max"]),
    }


def sorted_rows(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored rows in the table's order: tenant, event type, window start, window length."""
    return sorted(docs, key=sort_key)
