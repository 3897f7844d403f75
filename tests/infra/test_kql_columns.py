"""Every KQL query in bicep/ and docs/queries.kql uses each column as the type the Azure Monitor table
reference documents (`kql_schema.TABLES`).

No Log Analytics workspace answers here, and the alert rules deploy with `skipQueryValidation: true`,
so a query that compares a string column with numbers would deploy and then never fire. This test
reads each query against the documented column types instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .bicep_ast import MODULES, REPO, body, resources_of_type
from .kql import column_uses, type_problems
from .kql_schema import TABLES

QUERIES_FILE = REPO / "docs" / "queries.kql"
WORKBOOK = MODULES / "workbook.json"


def _alert_queries(asts: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The query of every scheduled query rule in bicep/, resolved through its variable."""
    found = {}
    for file, ast in asts.items():
        for name, rule in resources_of_type(ast, "Microsoft.Insights/scheduledQueryRules").items():
            for n, criterion in enumerate(body(rule)["properties"]["criteria"]["allOf"]):
                query = criterion["query"]
                if isinstance(query, str) and query in ast.get("variables", {}):
                    query = ast["variables"][query]["value"]
                assert isinstance(query, str), f"{file} {name}: a query that is not a string literal or variable"
                found[f"{file}:{name}[{n}]"] = query
    return found


def _workbook_queries() -> dict[str, str]:
    found = {}
    for n, item in enumerate(json.loads(WORKBOOK.read_text(encoding="utf-8"))["items"]):
        content = item.get("content", {})
        if "query" in content:
            # queryType 0 is a Logs (KQL) query, run against the Application Insights resource.
            assert content["queryType"] == 0 and content["resourceType"] == "microsoft.insights/components"
            found[f"workbook.json:{item.get('name', n)}"] = content["query"]
    return found


def _documented_queries() -> dict[str, str]:
    """The numbered queries of docs/queries.kql (each under a `// N. title` line)."""
    parts = re.split(r"^// (\d+)\. .*$", QUERIES_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {f"queries.kql:{number}": text for number, text in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.fixture(scope="module")
def queries(asts: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {**_alert_queries(asts), **_workbook_queries(), **_documented_queries()}


def test_every_kql_source_is_found(queries: dict[str, str]) -> None:
    labels = sorted(queries)
    assert sum(label.startswith("modules/alerts.bicep:") for label in labels) == 2
    assert sum(label.startswith("workbook.json:") for label in labels) == 8
    assert [label for label in labels if label.startswith("queries.kql:")] == sorted(
        f"queries.kql:{n}" for n in range(1, 15)
    )


def test_every_query_uses_its_columns_as_their_documented_types(queries: dict[str, str]) -> None:
    problems = {label: type_problems(query) for label, query in queries.items()}
    assert {label: found for label, found in problems.items() if found} == {}


def test_every_query_reads_at_least_one_documented_column(queries: dict[str, str]) -> None:
    # Guards the checker itself: a query it could not read would otherwise pass with nothing checked.
    for label, query in queries.items():
        uses, _ = column_uses(query)
        assert uses, label


def test_dead_letter_alert_counts_successful_writes_by_converting_the_string_status_code(
    module_ast,
) -> None:
    query = module_ast("alerts")["variables"]["deadLetterQuery"]["value"]
    assert TABLES["StorageBlobLogs"]["StatusCode"] == "string"
    assert "toint(StatusCode) between (200 .. 299)" in query
    assert type_problems(query) == []


# The checker, on the defects it exists for.
@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (
            'StorageBlobLogs | where StatusCode between (200 .. 299) | where ObjectKey startswith "/a/"',
            "StorageBlobLogs.StatusCode is string but is used as int/long/real",
        ),
        ("StorageBlobLogs | where StatusCode == 201", "StorageBlobLogs.StatusCode is string"),
        ("requests | summarize failed = countif(success == false)", "requests.success is string but is used as bool"),
        ('CDBDataPlaneRequests | where StatusCode == "429"', "CDBDataPlaneRequests.StatusCode is int"),
        ('traces | where severityLevel in ("Error")', "traces.severityLevel is int"),
        ("AzureMetrics | summarize sum(MetricName)", "AzureMetrics.MetricName is string"),
        ("customMetrics | where name.x == 1", "customMetrics.name is string but is used as dynamic"),
        ("traces | where timestamp > 5", "traces.timestamp is datetime"),
        ("requests | where Success == true", "'Success' is not a documented column"),
        ("AppRequests | take 1", "table 'AppRequests' has no documented columns"),
    ],
)
def test_checker_reports_a_column_used_against_its_documented_type(query: str, problem: str) -> None:
    assert any(problem in found for found in type_problems(query)), type_problems(query)


@pytest.mark.parametrize(
    "query",
    [
        'StorageBlobLogs | where toint(StatusCode) between (200 .. 299) and StatusText == "Success"',
        "CDBDataPlaneRequests | summarize throttled = countif(StatusCode == 429), ru = sum(RequestCharge)",
        "requests | summarize failed = countif(tobool(success) == false) by bin(timestamp, 5m)",
        'let since = ago(1d); traces | where timestamp > since | where tostring(customDimensions.reason) == "x"',
        'traces | extend state = tostring(customDimensions["prop__state"]) | where state != "Completed"',
    ],
)
def test_checker_accepts_columns_used_as_their_documented_types(query: str) -> None:
    assert type_problems(query) == []
