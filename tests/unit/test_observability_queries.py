"""The operator's queries (docs/queries.kql) and the workbook read only fields and metrics the code emits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.observability import CONTEXT_FIELDS, INSTRUMENTS

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "docs" / "queries.kql"
WORKBOOK = ROOT / "bicep" / "modules" / "workbook.json"

#: Fields the pipeline's log records carry besides the correlation context (pipeline/observability/recording.py).
RECORD_FIELDS = {
    "received", "valid", "stored", "duplicates", "dead_lettered", "dead_letter_reasons", "outcome",
    "batch_duration_s", "error", "reason", "stage", "source_ref", "deadletter_blob", "error_loc",
    "event_time", "family",
}  # fmt: skip
#: Fields of the Functions host's own records (Durable Functions tracking events).
HOST_FIELDS = {"Category", "prop__instanceId", "prop__state", "prop__functionName"}
#: Metric attributes the code records.
METRIC_ATTRIBUTES = {"source_kind", "reason", "stage", "outcome", "step"}


def workbook_queries() -> list[str]:
    data = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    return [item["content"]["query"] for item in data["items"] if item["type"] == 3]


def sources() -> list[tuple[str, str]]:
    return [("queries.kql", QUERIES.read_text(encoding="utf-8"))] + [
        (f"workbook item {i}", query) for i, query in enumerate(workbook_queries())
    ]


@pytest.mark.parametrize("name, text", sources(), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_every_custom_dimension_is_one_the_code_emits(name: str, text: str) -> None:
    used = set(re.findall(r"customDimensions\.(\w+)", text)) | set(re.findall(r'customDimensions\["(\w+)"\]', text))
    known = set(CONTEXT_FIELDS) | RECORD_FIELDS | HOST_FIELDS | METRIC_ATTRIBUTES
    assert used <= known, f"{name}: unknown fields {sorted(used - known)}"


@pytest.mark.parametrize("name, text", sources(), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_every_metric_name_is_an_instrument(name: str, text: str) -> None:
    used = set(re.findall(r'"(pipeline\.[a-z_.]+)"', text)) - {"pipeline.events."}
    assert used <= set(INSTRUMENTS), f"{name}: unknown metrics {sorted(used - set(INSTRUMENTS))}"


def test_the_workbook_is_bound_to_application_insights_and_uses_the_time_range() -> None:
    data = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    assert data["version"] == "Notebook/1.0"
    assert data["fallbackResourceIds"] == ["__APP_INSIGHTS_RESOURCE_ID__"]  # replaced by workbook.bicep
    for query in workbook_queries():
        assert "{TimeRange}" in query
    bicep = (ROOT / "bicep" / "modules" / "workbook.bicep").read_text(encoding="utf-8")
    assert "loadTextContent('workbook.json')" in bicep and "__APP_INSIGHTS_RESOURCE_ID__" in bicep
