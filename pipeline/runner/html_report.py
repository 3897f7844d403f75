"""`OUT/report.html`: one self-contained page about a run, with its charts as PNG files beside it.

`python -m pipeline report --out OUT` draws it from what `pipeline run` wrote there (`report.json` and
`analytics/aggregates.csv`), so a run does not spend its time on charts nobody asked for; `make run`
draws it after the sample run.

The page has no external references: CSS is inline and every chart is inline SVG (text kept as text,
so it scales and can be searched). The same charts are written as `OUT/charts/<name>.png` for
slides, tickets and the README.
"""

from __future__ import annotations

import csv
import html
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.analytics.charts import TYPE_COLOURS, Chart, chart_window, run_charts
from pipeline.windows import round_cents

UNITS = {"order.placed": "USD (amount_usd)", "page.viewed": "ms (duration_ms)", "device.reading": "°C (temperature_c)"}

CSS = """
:root { --ink:#212529; --muted:#6c757d; --line:#e9ecef; --bg:#f4f6f8; --card:#fff; --ok:#2f9e44; --bad:#e03131; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.45 "Segoe UI", "DejaVu Sans", system-ui, -apple-system, Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { margin: 0; font-size: 26px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: var(--muted); }
.tiles { display:grid; grid-template-columns: repeat(4, 1fr); gap:12px; margin:22px 0 8px; }
.tile { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.tile .label { color:var(--muted); font-size:12.5px; text-transform:uppercase; letter-spacing:.04em; }
.tile .value { font-size:25px; font-weight:650; margin-top:2px; font-variant-numeric: tabular-nums; }
.tile .hint { color:var(--muted); font-size:12.5px; }
.tile.stored { border-top:4px solid var(--ok); } .tile.dup { border-top:4px solid #f59f00; }
.tile.dead { border-top:4px solid var(--bad); }
.badge { display:inline-block; padding:2px 10px; border-radius:999px; font-size:13px; font-weight:600; }
.badge.ok { background:#ebfbee; color:var(--ok); } .badge.bad { background:#fff5f5; color:var(--bad); }
section.card { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:14px 16px;
               margin-top:16px; }
section.card h2 { font-size:16px; margin:2px 0 10px; }
svg.chart { display:block; width:100%; height:auto; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap:16px; }
.grid2 section.card { margin-top:16px; }
@media (max-width: 900px) { .grid2, .tiles { grid-template-columns: 1fr 1fr; } }
table { border-collapse: collapse; width:100%; font-variant-numeric: tabular-nums; }
th, td { text-align:right; padding:7px 10px; border-bottom:1px solid var(--line); }
th:first-child, td:first-child { text-align:left; } th { color:var(--muted); font-weight:600; font-size:13px; }
.swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:8px; }
footer { color:var(--muted); font-size:13px; margin-top:22px; }
code { font-size: 13px; background:#f1f3f5; padding:1px 5px; border-radius:4px; }
"""


def report_from_run(out: Path) -> Path:
    """Write `OUT/report.html` from the run output in OUT; ReportInputMissing names what is missing."""
    report_path, rows_path = out / "report.json", out / "analytics" / "aggregates.csv"
    missing = [str(p) for p in (report_path, rows_path) if not p.is_file()]
    if missing:
        raise ReportInputMissing(
            f"{' and '.join(missing)} not found: `python -m pipeline run --out {out}` writes them first"
        )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    with rows_path.open(newline="", encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = list(csv.DictReader(handle))
    return write_html_report(out, report, rows)


class ReportInputMissing(Exception):
    """The run output the report is drawn from is not there."""


def write_html_report(out: Path, report: dict[str, Any], rows: list[dict[str, Any]]) -> Path:
    """Write `OUT/report.html` and `OUT/charts/*.png` for a run's report and aggregate rows."""
    charts = run_charts(report, rows)
    try:
        chart_dir = out / "charts"
        chart_dir.mkdir(parents=True, exist_ok=True)
        for chart in charts:
            (chart_dir / f"{chart.name}.png").write_bytes(chart.png())
        page = render_page(report, rows, charts)
    finally:
        for chart in charts:
            chart.close()
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def render_page(report: dict[str, Any], rows: list[dict[str, Any]], charts: list[Chart]) -> str:
    by_name = {c.name: c for c in charts}

    def card(name: str) -> str:
        return f'<section class="card" id="{name}">{by_name[name].svg()}</section>'

    e = html.escape
    width = chart_window(rows, report.get("window_minutes"))
    subtitle = " · ".join(
        part
        for part in (
            f"via {e(str(report['via']))}" if report.get("via") else "",
            f"batch size {report['batch_size']}" if report.get("batch_size") else "",
            f"{report['window_minutes']}-minute windows" if report.get("window_minutes") else "",
            f"{report.get('elapsed_s', 0):,.1f} s" if "elapsed_s" in report else "",
            _event_time_range(rows),
        )
        if part
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pipeline run report</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<h1>Pipeline run report</h1>
<p>{subtitle} {_conservation_badge(report)}</p>
</header>
{_tiles(report)}
{card("events_per_minute_by_type")}
{card("events_per_minute_by_tenant")}
{card("value_per_window")}
{_family_table(rows, width)}
<div class="grid2">
{card("outcomes")}
{card("processing_latency")}
</div>
{card("dead_letter_reasons")}
{_failed_batches(report)}
<footer>Charts are also in <code>charts/*.png</code>; the numbers are in <code>report.json</code> and
<code>analytics/aggregates.csv</code>. Event times and windows are in UTC.</footer>
</main>
</body>
</html>
"""


def _event_time_range(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    starts = sorted(str(r["window_start"]) for r in rows)
    first, last = starts[0], starts[-1]
    end = last[11:16] if first[:10] == last[:10] else f"{last[:10]} {last[11:16]}"
    return f"event time {first[:10]} {first[11:16]} – {end} UTC"


def _conservation_badge(report: dict[str, Any]) -> str:
    keys = ("received", "stored", "duplicates", "dead_lettered")
    if not all(k in report for k in keys):
        return ""
    if report["received"] == report["stored"] + report["duplicates"] + report["dead_lettered"]:
        return '<span class="badge ok">✓ every received event accounted for</span>'
    return '<span class="badge bad">✗ received ≠ stored + duplicates + dead-lettered</span>'


def _tiles(report: dict[str, Any]) -> str:
    received = int(report.get("received", 0)) or 1

    def share(key: str) -> str:
        return f"{int(report.get(key, 0)) / received:.1%} of received" if report.get("received") else ""

    tiles = [
        ("", "Received", f"{report.get('received', 0):,}", f"{report.get('valid', 0):,} valid"),
        ("stored", "Stored", f"{report.get('stored', 0):,}", share("stored")),
        ("dup", "Duplicates", f"{report.get('duplicates', 0):,}", share("duplicates")),
        ("dead", "Dead-lettered", f"{report.get('dead_lettered', 0):,}", share("dead_lettered")),
        ("", "Aggregate rows", f"{report.get('aggregate_rows', 0):,}", "WindowAggregates"),
        ("", "Orchestrations", f"{report.get('orchestrations', 0):,}", f"{report.get('activities', 0):,} activities"),
        ("", "Throughput", f"{report.get('events_per_s', 0):,.0f}", "events / s"),
        ("", "Elapsed", f"{report.get('elapsed_s', 0):,.1f} s", "wall clock"),
    ]
    cells = "\n".join(
        f'<div class="tile {cls}"><div class="label">{label}</div><div class="value">{value}</div>'
        f'<div class="hint">{html.escape(hint)}</div></div>'
        for cls, label, value, hint in tiles
    )
    return f'<div class="tiles">\n{cells}\n</div>'


def _family_table(rows: list[dict[str, Any]], width: int | None) -> str:
    """Per event family: events, windows, and the exact value statistics (rounded for display)."""
    stats: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), None, None])
    for row in rows:
        if int(row["window_minutes"]) != width:
            continue
        s = stats[row["event_type"]]
        low, high = Decimal(row["value_min"]), Decimal(row["value_max"])
        s[0] += int(row["event_count"])
        s[1] += 1
        s[2] += Decimal(row["value_sum"])
        s[3] = low if s[3] is None else min(s[3], low)
        s[4] = high if s[4] is None else max(s[4], high)
    if not stats:
        return ""
    body = []
    for family in sorted(stats, key=lambda f: (list(TYPE_COLOURS).index(f) if f in TYPE_COLOURS else 9, f)):
        count, windows, total, low, high = stats[family]
        colour = TYPE_COLOURS.get(family, "#868e96")
        body.append(
            f'<tr><td><span class="swatch" style="background:{colour}"></span>{html.escape(family)}</td>'
            f"<td>{count:,}</td><td>{windows:,}</td><td>{html.escape(UNITS.get(family, ''))}</td>"
            f"<td>{round_cents(total):,.2f}</td><td>{round_cents(total / count):,.2f}</td>"
            f"<td>{round_cents(low):,.2f}</td><td>{round_cents(high):,.2f}</td></tr>"
        )
    return (
        '<section class="card" id="families"><h2>Aggregates by event family'
        f' <span style="color:var(--muted);font-weight:400">({width}-minute windows)</span></h2>'
        "<table><thead><tr><th>event type</th><th>events</th><th>windows</th><th>unit</th><th>sum</th>"
        "<th>mean</th><th>min</th><th>max</th></tr></thead><tbody>" + "".join(body) + "</tbody></table></section>"
    )


def _failed_batches(report: dict[str, Any]) -> str:
    failed = report.get("failed_batches") or []
    if not failed:
        return ""
    items = "".join(
        f"<tr><td><code>{html.escape(str(f.get('batch_id')))}</code></td>"
        f'<td style="text-align:left">{html.escape(str(f.get("error")))}</td></tr>'
        for f in failed
    )
    return (
        '<section class="card" id="failed"><h2>Batches that failed after their retries</h2>'
        f"<table><tbody>{items}</tbody></table></section>"
    )
