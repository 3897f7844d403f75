"""The Power BI starting point under `powerbi/`, generated from `pipeline.analytics.table`.

- `WindowAggregates.SemanticModel/`: the semantic model in TMDL (a Power BI project), importing the
  Parquet partitions from the Blob container `analytics` (parameters `StorageAccountUrl`,
  `AnalyticsContainer`), with the table's columns, types and measures;
- `WindowAggregates.Report/` and `WindowAggregates.pbip`: a one-page report on that model, so the
  project opens in Power BI Desktop;
- `push/WindowAggregates.dataset.json`: the optional push model definition (`pipeline.analytics.push`).

`python scripts/powerbi/generate_model.py` rewrites them; a unit test checks that the committed files
equal what this module generates. Lineage tags are derived from names, so regeneration is stable.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from pipeline.analytics.push import push_dataset_definition
from pipeline.analytics.table import COLUMNS, MEASURES, TABLE_NAME, Column, Measure

PROJECT = TABLE_NAME
MODEL_DIR = f"{PROJECT}.SemanticModel"
REPORT_DIR = f"{PROJECT}.Report"
_NAMESPACE = uuid.UUID("6f1d8a52-41f5-4a4e-9d0e-5b8f9c3a7e21")
_SCHEMAS = "https://developer.microsoft.com/json-schemas/fabric"

#: Power Query types applied after the Parquet files are combined.
_M_TYPES = {"string": "type text", "int64": "Int64.Type", "decimal": "Currency.Type"}

PARTITION_M = """let
    Source = AzureStorage.Blobs(StorageAccountUrl),
    Container = Source{[Name = AnalyticsContainer]}[Data],
    Files = Table.SelectRows(
        Container,
        each Text.StartsWith([Name], "WindowAggregates/date=")
            and Text.EndsWith([Name], "/window_aggregates.parquet")
    ),
    Parsed = Table.AddColumn(Files, "Rows", each Parquet.Document([Content]), type table),
    Combined = Table.Combine(Parsed[Rows]),
    // window_start is a UTC timestamp; keep it as a datetime in UTC whichever way the connector reads it
    UtcStart = Table.TransformColumns(
        Combined,
        {{
            "window_start",
            each if _ is datetimezone then DateTimeZone.RemoveZone(DateTimeZone.SwitchZone(_, 0)) else _,
            type datetime
        }}
    ),
    Typed = Table.TransformColumnTypes(UtcStart, {TYPES})
in
    Typed"""


def lineage_tag(*names: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(names)))


def _quote(name: str) -> str:
    """A TMDL object name, quoted when it is not a plain identifier."""
    return name if name.replace("_", "a").isalnum() and name.isascii() else "'" + name.replace("'", "''") + "'"


def _column_tmdl(column: Column) -> list[str]:
    lines = [f"\t/// {column.description}", f"\tcolumn {_quote(column.name)}", f"\t\tdataType: {column.tmdl_type}"]
    if column.format_string:
        lines.append(f"\t\tformatString: {column.format_string}")
    lines += [
        f"\t\tlineageTag: {lineage_tag(TABLE_NAME, column.name)}",
        f"\t\tsummarizeBy: {column.summarize_by}",
        f"\t\tsourceColumn: {column.name}",
        "",
        "\t\tannotation SummarizationSetBy = User",
        "",
    ]
    return lines


def _measure_tmdl(measure: Measure) -> list[str]:
    if "\n" in measure.expression:  # a multi-line expression goes on its own lines, one level deeper
        head = [f"\tmeasure {_quote(measure.name)} =", *("\t\t\t" + line for line in measure.expression.splitlines())]
    else:
        head = [f"\tmeasure {_quote(measure.name)} = {measure.expression}"]
    return [
        f"\t/// {measure.description}",
        *head,
        f"\t\tformatString: {measure.format_string}",
        f"\t\tlineageTag: {lineage_tag(TABLE_NAME, 'measure', measure.name)}",
        "",
    ]


def table_tmdl() -> str:
    types = ", ".join(f'{{"{c.name}", {_M_TYPES[c.kind]}}}' for c in COLUMNS if c.kind in _M_TYPES)
    source = PARTITION_M.replace("{TYPES}", "{" + types + "}")
    lines = [
        "/// Exact windowed aggregates per tenant, event family and tumbling window (contract §4).",
        f"table {TABLE_NAME}",
        f"\tlineageTag: {lineage_tag(TABLE_NAME)}",
        "",
    ]
    for measure in MEASURES:
        lines += _measure_tmdl(measure)
    for column in COLUMNS:
        lines += _column_tmdl(column)
    lines += [
        "\t/// The UTC date of window_start, for date slicers and relationships to a date table.",
        "\tcolumn window_date = DATE(YEAR([window_start]), MONTH([window_start]), DAY([window_start]))",
        "\t\tdataType: dateTime",
        "\t\tformatString: yyyy-mm-dd",
        f"\t\tlineageTag: {lineage_tag(TABLE_NAME, 'window_date')}",
        "\t\tsummarizeBy: none",
        "",
        f"\tpartition {TABLE_NAME} = m",
        "\t\tmode: import",
        "\t\tsource =",
        *("\t\t\t\t" + line for line in source.splitlines()),
        "",
        "\tannotation PBI_ResultType = Table",
        "",
    ]
    return "\n".join(lines)


def expressions_tmdl() -> str:
    parameters = (
        (
            "StorageAccountUrl",
            "https://<storage-account>.blob.core.windows.net",
            "The Blob endpoint of the data account.",
        ),
        ("AnalyticsContainer", "analytics", "The Blob container the export writes to."),
    )
    lines: list[str] = []
    for name, value, description in parameters:
        lines += [
            f"/// {description}",
            f'expression {name} = "{value}" meta [IsParameterQuery=true, Type="Text", IsParameterQueryRequired=true]',
            f"\tlineageTag: {lineage_tag('expression', name)}",
            "",
            "\tannotation PBI_ResultType = Text",
            "",
        ]
    return "\n".join(lines)


def model_tmdl() -> str:
    return "\n".join(
        [
            "model Model",
            "\tculture: en-US",
            "\tdefaultPowerBIDataSourceVersion: powerBI_V3",
            "\tsourceQueryCulture: en-US",
            "\tdataAccessOptions",
            "\t\tlegacyRedirects",
            "\t\treturnErrorValuesAsNull",
            "",
            "annotation __PBI_TimeIntelligenceEnabled = 0",
            "",
            f'annotation PBI_QueryOrder = ["StorageAccountUrl","AnalyticsContainer","{TABLE_NAME}"]',
            "",
            f"ref table {TABLE_NAME}",
            "",
        ]
    )


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _platform(kind: str) -> str:
    return _json(
        {
            "$schema": f"{_SCHEMAS}/gitIntegration/platformProperties/2.0.0/schema.json",
            "metadata": {"type": kind, "displayName": PROJECT},
            "config": {"version": "2.0", "logicalId": lineage_tag("platform", kind)},
        }
    )


def _field(name: str, *, measure: bool) -> dict[str, Any]:
    kind = "Measure" if measure else "Column"
    return {
        "field": {kind: {"Expression": {"SourceRef": {"Entity": TABLE_NAME}}, "Property": name}},
        "queryRef": f"{TABLE_NAME}.{name}",
        "nativeQueryRef": name,
    }


def _visual(name: str, kind: str, position: tuple[int, int, int, int], state: dict[str, Any]) -> dict[str, Any]:
    x, y, width, height = position
    return {
        "$schema": f"{_SCHEMAS}/item/report/definition/visualContainer/2.0.0/schema.json",
        "name": name,
        "position": {"x": x, "y": y, "z": 0, "width": width, "height": height, "tabOrder": 0},
        "visual": {
            "visualType": kind,
            "query": {"queryState": {role: {"projections": projections} for role, projections in state.items()}},
            "drillFilterOtherVisuals": True,
        },
    }


def _report_visuals() -> dict[str, dict[str, Any]]:
    cards = ("Total Events", "Order Revenue (USD)", "Average Page Duration (s)", "Average Temperature (°C)")
    visuals = {
        f"card{n}": _visual(f"card{n}", "card", (20 + n * 310, 20, 290, 110), {"Values": [_field(m, measure=True)]})
        for n, m in enumerate(cards)
    }
    visuals["eventsPerMinute"] = _visual(
        "eventsPerMinute",
        "lineChart",
        (20, 150, 800, 550),
        {
            "Category": [_field("window_start", measure=False)],
            "Series": [_field("event_type", measure=False)],
            "Y": [_field("Events per Minute", measure=True)],
        },
    )
    visuals["eventsByTenant"] = _visual(
        "eventsByTenant",
        "clusteredBarChart",
        (840, 150, 420, 550),
        {"Category": [_field("tenant_id", measure=False)], "Y": [_field("Total Events", measure=True)]},
    )
    return visuals


def project_files() -> dict[str, str]:
    """Every file of the Power BI starting point, by path relative to `powerbi/`."""
    model = f"{MODEL_DIR}/definition"
    report = f"{REPORT_DIR}/definition"
    page = "overview"
    files = {
        f"{PROJECT}.pbip": _json(
            {
                "$schema": f"{_SCHEMAS}/pbip/pbipProperties/1.0.0/schema.json",
                "version": "1.0",
                "artifacts": [{"report": {"path": REPORT_DIR}}],
                "settings": {"enableAutoRecovery": True},
            }
        ),
        f"{MODEL_DIR}/.platform": _platform("SemanticModel"),
        f"{MODEL_DIR}/definition.pbism": _json(
            {
                "$schema": f"{_SCHEMAS}/item/semanticModel/definitionProperties/1.0.0/schema.json",
                "version": "4.0",
                "settings": {},
            }
        ),
        f"{model}/database.tmdl": "database\n\tcompatibilityLevel: 1567\n",
        f"{model}/model.tmdl": model_tmdl(),
        f"{model}/expressions.tmdl": expressions_tmdl(),
        f"{model}/tables/{TABLE_NAME}.tmdl": table_tmdl(),
        f"{REPORT_DIR}/.platform": _platform("Report"),
        f"{REPORT_DIR}/definition.pbir": _json(
            {
                "$schema": f"{_SCHEMAS}/item/report/definitionProperties/2.0.0/schema.json",
                "version": "4.0",
                "datasetReference": {"byPath": {"path": f"../{MODEL_DIR}"}},
            }
        ),
        f"{report}/version.json": _json(
            {"$schema": f"{_SCHEMAS}/item/report/definition/versionMetadata/1.0.0/schema.json", "version": "2.0.0"}
        ),
        f"{report}/report.json": _json(
            {
                "$schema": f"{_SCHEMAS}/item/report/definition/report/1.2.0/schema.json",
                "themeCollection": {
                    "baseTheme": {"name": "CY24SU10", "reportVersionAtImport": "5.55", "type": "SharedResources"}
                },
                "layoutOptimization": "None",
            }
        ),
        f"{report}/pages/pages.json": _json(
            {
                "$schema": f"{_SCHEMAS}/item/report/definition/pagesMetadata/1.0.0/schema.json",
                "pageOrder": [page],
                "activePageName": page,
            }
        ),
        f"{report}/pages/{page}/page.json": _json(
            {
                "$schema": f"{_SCHEMAS}/item/report/definition/page/1.0.0/schema.json",
                "name": page,
                "displayName": "Overview",
                "displayOption": "FitToPage",
                "height": 720,
                "width": 1280,
            }
        ),
        "push/WindowAggregates.dataset.json": _json(push_dataset_definition()),
    }
    for name, visual in _report_visuals().items():
        files[f"{report}/pages/{page}/visuals/{name}/visual.json"] = _json(visual)
    return files


def write_project(root: Path) -> list[Path]:
    """Write the files under `root` (the repository's `powerbi/`); returns the paths written."""
    written = []
    for relative, text in project_files().items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written
