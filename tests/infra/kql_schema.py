"""Documented types of the table columns that the project's KQL uses.

Only the columns a query in `bicep/` or `docs/queries.kql` reads are listed, each with the type the
Azure Monitor reference gives it. A query that reads a column missing here fails its test: look the
column up in the reference and add it with its documented type.

Sources:
- Log Analytics tables, Azure Monitor Logs table reference
  (https://learn.microsoft.com/azure/azure-monitor/reference/tables/<table>): StorageBlobLogs,
  AzureMetrics, CDBDataPlaneRequests.
- Application Insights tables as the Application Insights resource shows them (the classic names the
  workbook and most of `docs/queries.kql` use), from the classic-to-workspace column mapping
  ("Workspace-based resource changes" / "Migrate to workspace-based Application Insights
  resources", table schemas). It documents `success` as a string in the classic tables (the
  workspace tables' `Success` is a bool), so the queries convert it with `tobool()`.
"""

from __future__ import annotations

STRING = "string"
INT = "int"
LONG = "long"
REAL = "real"
BOOL = "bool"
DATETIME = "datetime"
DYNAMIC = "dynamic"

NUMERIC = frozenset({INT, LONG, REAL})

TABLES: dict[str, dict[str, str]] = {
    # Log Analytics workspace (diagnostic settings).
    "StorageBlobLogs": {
        "AccountName": STRING,
        "ObjectKey": STRING,
        "OperationName": STRING,
        "StatusCode": STRING,  # "The HTTP status code for the request ... might be set to Unknown."
        "StatusText": STRING,
        "TimeGenerated": DATETIME,
    },
    "AzureMetrics": {
        "MetricName": STRING,
        "Resource": STRING,
        "ResourceProvider": STRING,
        "TimeGenerated": DATETIME,
        "Total": REAL,
    },
    "CDBDataPlaneRequests": {
        "CollectionName": STRING,
        "RequestCharge": REAL,
        "StatusCode": INT,
        "TimeGenerated": DATETIME,
    },
    # Application Insights resource (classic names).
    "traces": {
        "customDimensions": DYNAMIC,
        "message": STRING,
        "operation_Id": STRING,
        "severityLevel": INT,
        "timestamp": DATETIME,
    },
    "customMetrics": {
        "customDimensions": DYNAMIC,
        "name": STRING,
        "timestamp": DATETIME,
        "valueCount": INT,
        "valueMax": REAL,
        "valueSum": REAL,
    },
    "requests": {
        "duration": REAL,
        "name": STRING,
        "success": STRING,
        "timestamp": DATETIME,
    },
    "availabilityResults": {
        "duration": REAL,
        "name": STRING,
        "success": STRING,
        "timestamp": DATETIME,
    },
}
