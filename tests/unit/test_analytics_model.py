"""The Power BI starting point under powerbi/ matches the WindowAggregates table definition."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.aggregates import CSV_COLUMNS
from pipeline.analytics.export import CSV_NAME, PARQUET_NAME, PREFIX
from pipeline.analytics.powerbi_model import MODEL_DIR, project_files
from pipeline.analytics.table import COLUMNS, MEASURES, TABLE_NAME

ROOT = Path(__file__).resolve().parents[2]
POWERBI = ROOT / "powerbi"
TABLE_TMDL = POWERBI / MODEL_DIR / "definition" / "tables" / f"{TABLE_NAME}.tmdl"


def test_the_committed_files_are_exactly_what_the_table_definition_generates():
    expected = project_files()
    committed = {str(p.relative_to(POWERBI)): p.read_text(encoding="utf-8") for p in POWERBI.rglob("*") if p.is_file()}
    assert sorted(committed) == sorted(expected), "run: python scripts/powerbi/generate_model.py"
    for name, text in expected.items():
        assert committed[name] == text, f"{name} is stale: run python scripts/powerbi/generate_model.py"


def test_the_tmdl_table_has_the_contract_columns_with_their_types():
    text = TABLE_TMDL.read_text(encoding="utf-8")
    columns = re.findall(r"^\tcolumn (\w+)\n\t\tdataType: (\w+)$", text, flags=re.M)

    assert [name for name, _ in columns] == list(CSV_COLUMNS)
    assert dict(columns) == {
        "tenant_id": "string",
        "event_type": "string",
        "window_start": "dateTime",
        "window_minutes": "int64",
        "event_count": "int64",
        "value_sum": "decimal",
        "value_min": "decimal",
        "value_max": "decimal",
    }
    assert "column window_date = DATE(" in text
    for measure in ("Total Events", "Total Value", "Average Value per Event", "Events per Minute"):
        assert f"\tmeasure '{measure}' =" in text
    assert "\t\tmode: import" in text and "\t\tsource =" in text


def test_the_model_reads_the_parquet_files_the_export_writes():
    text = TABLE_TMDL.read_text(encoding="utf-8")

    assert f'Text.StartsWith([Name], "{PREFIX}date=")' in text
    assert f'Text.EndsWith([Name], "/{PARQUET_NAME}")' in text
    assert CSV_NAME.endswith(".csv")
    expressions = (POWERBI / MODEL_DIR / "definition" / "expressions.tmdl").read_text(encoding="utf-8")
    assert 'expression AnalyticsContainer = "analytics"' in expressions
    assert "expression StorageAccountUrl =" in expressions
    for column in COLUMNS:
        if column.kind == "decimal":
            assert f'{{"{column.name}", Currency.Type}}' in text


def test_the_push_model_definition_has_the_table_columns_and_measures():
    definition = json.loads((POWERBI / "push" / "WindowAggregates.dataset.json").read_text(encoding="utf-8"))
    (table,) = definition["tables"]

    assert definition["defaultMode"] == "Push" and table["name"] == TABLE_NAME
    assert [c["name"] for c in table["columns"]] == list(CSV_COLUMNS)
    assert {c["dataType"] for c in table["columns"]} <= {"String", "DateTime", "Int64", "Decimal"}
    assert [m["name"] for m in table["measures"]] == [m.name for m in MEASURES]


def test_the_report_is_bound_to_the_model_and_only_uses_its_fields():
    report = POWERBI / f"{TABLE_NAME}.Report"
    pbir = json.loads((report / "definition.pbir").read_text(encoding="utf-8"))
    assert pbir["datasetReference"]["byPath"]["path"] == f"../{MODEL_DIR}"
    known = {c.name for c in COLUMNS} | {m.name for m in MEASURES}
    for visual in report.rglob("visual.json"):
        for match in re.finditer(r'"Property": "([^"]+)"', visual.read_text(encoding="utf-8")):
            assert match.group(1) in known, f"{visual}: {match.group(1)}"


def test_the_guide_says_how_to_connect_each_feed():
    guide = (ROOT / "docs" / "power-bi.md").read_text(encoding="utf-8")
    for needle in (
        "WindowAggregates.pbip",
        "StorageAccountUrl",
        "Azure Cosmos DB",
        "mirroring",
        "31 October 2027",
        "create_push_dataset.py",
        "decimal128(38, 2)",
    ):
        assert needle in guide, needle
