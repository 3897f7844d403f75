"""Analytics for Power BI: the `WindowAggregates` table as files, as a semantic model, and as pushed rows.

- `table`: the table's columns, types and measures, shared by every feed below;
- `export`: CSV and Parquet files in the Blob container `analytics`, partitioned by date;
- `powerbi_model`: the TMDL semantic model and the push model definition, generated from `table`;
- `push`: the optional push semantic model client (off by default);
- `charts`: the charts of the run report (`pipeline/runner/html_report.py`);
- `scale_check`: the aggregates against an independent computation at scale.
"""
