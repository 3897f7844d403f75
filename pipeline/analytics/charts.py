"""The charts of the run report, drawn with matplotlib (Agg): events per minute by type and by tenant,
value per window, where the events went, dead-letter reasons, and processing latency.

Each chart is a `Chart` holding its figure; `svg()` gives inline SVG for the HTML page (text kept as
text, ids salted per chart so several can share a page) and `png()` the file written beside it.
Colours are fixed per event type, tenant and outcome so that they mean the same thing everywhere.
"""

from __future__ import annotations

import io
import math
import re
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from pipeline.analytics.table import parse_window_start
from schemas import Reason

TYPE_COLOURS = {"order.placed": "#3B5BDB", "page.viewed": "#F08C00", "device.reading": "#0CA678"}
TENANT_COLOURS = ("#5F3DC4", "#1098AD", "#E8590C", "#2B8A3E", "#C2255C", "#5C940D", "#1864AB", "#A61E4D")
OTHER_COLOUR = "#868E96"
OUTCOME_COLOURS = {"stored": "#2F9E44", "duplicates": "#F59F00", "dead-lettered": "#E03131"}
DEAD_LETTER_COLOUR = "#E03131"
LATENCY_COLOUR = "#7048E8"
INK, MUTED, GRID = "#212529", "#6C757D", "#E9ECEF"
MAX_POINTS = 72  # time series are averaged into at most this many bins, so that trends stay readable
MAX_TENANTS = 8
WIDTH_IN, HALF_IN, DPI = 10.0, 5.4, 144

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": "#CED4DA",
    "axes.labelcolor": MUTED,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
    "svg.fonttype": "none",
}


@dataclass
class Chart:
    name: str
    title: str
    figure: Figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()

    def svg(self) -> str:
        """Inline SVG: no XML prolog or metadata, ids salted with the chart's name, scalable width."""
        buffer = io.StringIO()
        with plt.rc_context(cast(Any, {"svg.hashsalt": self.name, "svg.fonttype": "none"})):
            self.figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        text = buffer.getvalue()
        text = text[text.index("<svg") :]
        text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
        text = re.sub(r'\s(?:xmlns(?::xlink)?)="[^"]*"', "", text)
        text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r"<svg\1", text, count=1)
        return text.replace("<svg", f'<svg role="img" aria-label="{self.title}" class="chart"', 1)

    def close(self) -> None:
        plt.close(self.figure)


@dataclass
class Binned:
    """Rows of one window length on a regular time axis of `bin_minutes` bins."""

    starts: list[datetime]
    bin_minutes: int

    @property
    def note(self) -> str:
        if self.bin_minutes == 1:
            return "per 1-minute window"
        return f"averaged over {self.bin_minutes}-minute bins"


def chart_window(rows: list[dict[str, Any]], window_minutes: int | None) -> int | None:
    """The window length to chart: the run's, else the most common one in the table."""
    lengths = Counter(int(r["window_minutes"]) for r in rows)
    if not lengths:
        return None
    if window_minutes in lengths:
        return window_minutes
    return lengths.most_common(1)[0][0]


def _axis(rows: list[dict[str, Any]], width: int) -> tuple[Binned, Callable[[dict[str, Any]], int]]:
    starts = [parse_window_start(r["window_start"]) for r in rows]
    first, last = min(starts), max(starts)
    windows = int((last - first) / timedelta(minutes=width)) + 1
    per_bin = max(1, math.ceil(windows / MAX_POINTS))
    bins = math.ceil(windows / per_bin)
    step = timedelta(minutes=width * per_bin)

    def index(row: dict[str, Any]) -> int:
        return int((parse_window_start(row["window_start"]) - first) / step)

    return Binned([first + i * step for i in range(bins)], width * per_bin), index


HEADER_IN = 0.66


def _styled() -> AbstractContextManager[None]:
    return plt.rc_context(cast(Any, STYLE))


def _canvas(title: str, subtitle: str, body_in: float, width_in: float = WIDTH_IN) -> tuple[Figure, SubFigure]:
    """A figure with a left-aligned title and subtitle, and the sub-figure to draw the chart in."""
    fig = plt.figure(figsize=(width_in, HEADER_IN + body_in), layout="constrained")
    head, body = cast(Any, fig.subfigures(2, 1, height_ratios=[HEADER_IN, body_in]))
    head.text(0.012, 0.56, title, fontsize=13, fontweight="bold", color=INK, va="bottom")
    head.text(0.012, 0.1, subtitle, fontsize=9.5, color=MUTED, va="bottom")
    return fig, body


def _time_axis(ax: Axes, *, ticks: int = 9, label: str = "window start (UTC)") -> None:
    locator = mdates.AutoDateLocator(minticks=2, maxticks=ticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=ticks > 4))
    ax.set_xlabel(label)
    ax.margins(x=0)


def _empty(name: str, title: str, message: str, width_in: float = WIDTH_IN) -> Chart:
    with _styled():
        fig, body = _canvas(title, "", 1.4, width_in)
        ax = body.subplots()
        ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=12, transform=ax.transAxes)
        ax.set_axis_off()
    return Chart(name, title, fig)


def events_per_minute(rows: list[dict[str, Any]], width: int | None, *, by: str) -> Chart:
    """Events per minute over event time: stacked by event type (`by="event_type"`), or one small
    panel per tenant on a shared scale (`by="tenant_id"`)."""
    per_type = by == "event_type"
    name = f"events_per_minute_by_{'type' if per_type else 'tenant'}"
    title = f"Events per minute by {'event type' if per_type else 'tenant'}"
    rows = [r for r in rows if int(r["window_minutes"]) == width]
    if not rows or width is None:
        return _empty(name, title, "No aggregate rows to chart")
    axis, index = _axis(rows, width)
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r[by]] += int(r["event_count"])
    if per_type:
        keys = [k for k in TYPE_COLOURS if k in totals] + sorted(k for k in totals if k not in TYPE_COLOURS)
        colours = {k: TYPE_COLOURS.get(k, OTHER_COLOUR) for k in keys}
    else:
        keys = sorted(k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TENANTS])
        colours = {k: TENANT_COLOURS[i % len(TENANT_COLOURS)] for i, k in enumerate(keys)}
        if len(totals) > len(keys):
            totals["other"] = sum(v for k, v in totals.items() if k not in colours)
            keys.append("other")
            colours["other"] = OTHER_COLOUR
    series = {k: np.zeros(len(axis.starts)) for k in keys}
    for r in rows:
        series[r[by] if r[by] in series else "other"][index(r)] += int(r["event_count"])
    rates = {k: v / axis.bin_minutes for k, v in series.items()}
    with _styled():
        if per_type:
            fig, body = _canvas(title, f"Unique events by event time, {axis.note}; stacked, with totals", 3.2)
            ax = body.subplots()
            ax.stackplot(
                axis.starts,  # type: ignore[arg-type]  # matplotlib converts datetimes
                [rates[k] for k in keys],
                colors=[colours[k] for k in keys],
                labels=[f"{k}  {totals[k]:,}" for k in keys],
                alpha=0.9,
                linewidth=0,
            )
            ax.set_ylabel("events / minute")
            ax.set_ylim(bottom=0)
            _time_axis(ax)
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, reverse=True)
            return Chart(name, title, fig)
        columns = 3 if len(keys) > 4 else len(keys)
        lines = math.ceil(len(keys) / columns)
        subtitle = f"Unique events by event time, {axis.note}; the same scale in every panel"
        fig, body = _canvas(title, subtitle, 1.9 * lines)
        axes = body.subplots(lines, columns, sharex=True, sharey=True, squeeze=False)
        for ax, key in zip(axes.flat, keys, strict=False):
            ax.fill_between(axis.starts, rates[key], color=colours[key], alpha=0.22, linewidth=0)
            ax.plot(axis.starts, rates[key], color=colours[key], linewidth=1.5)
            ax.set_title(f"{key}  ·  {totals[key]:,} events", loc="left", fontsize=10, color=colours[key])
            ax.set_ylim(0, max(float(max(v.max() for v in rates.values())), 1.0) * 1.1)
            _time_axis(ax, ticks=4, label="")
        for ax in axes.flat[len(keys) :]:
            ax.set_axis_off()
        for ax in axes[:, 0]:
            ax.set_ylabel("events / min")
        for column in range(columns):  # the lowest panel of each column carries the time axis
            lowest = axes[(len(keys) - 1 - column) // columns, column]
            lowest.xaxis.set_tick_params(labelbottom=True)
            lowest.set_xlabel("window start (UTC)")
    return Chart(name, title, fig)


def value_per_window(rows: list[dict[str, Any]], width: int | None) -> Chart:
    """Each family's value over event time: order revenue, mean page duration, temperature range."""
    name, title = "value_per_window", "Value per window"
    rows = [r for r in rows if int(r["window_minutes"]) == width]
    if not rows or width is None:
        return _empty(name, title, "No aggregate rows to chart")
    axis, index = _axis(rows, width)
    n = len(axis.starts)
    sums = {f: np.zeros(n) for f in TYPE_COLOURS}
    counts = {f: np.zeros(n) for f in TYPE_COLOURS}
    lows = {f: np.full(n, np.nan) for f in TYPE_COLOURS}
    highs = {f: np.full(n, np.nan) for f in TYPE_COLOURS}
    for r in rows:
        family, i = r["event_type"], index(r)
        if family not in sums:
            continue
        sums[family][i] += float(Decimal(r["value_sum"]))
        counts[family][i] += int(r["event_count"])
        lows[family][i] = np.fmin(lows[family][i], float(Decimal(r["value_min"])))
        highs[family][i] = np.fmax(highs[family][i], float(Decimal(r["value_max"])))
    revenue_unit = "USD per minute" if axis.bin_minutes > 1 else "USD per window"
    panels = [
        ("order.placed", f"order revenue ({revenue_unit})", "USD", sums["order.placed"] / (axis.bin_minutes / width)),
        ("page.viewed", "mean page view duration", "seconds", _mean(sums["page.viewed"], counts["page.viewed"], 1000)),
        (
            "device.reading",
            "temperature: mean, and min–max band",
            "°C",
            _mean(sums["device.reading"], counts["device.reading"], 1),
        ),
    ]
    panels = [p for p in panels if counts[p[0]].sum() > 0]
    if not panels:
        return _empty(name, title, "No events of a registered family")
    step = timedelta(minutes=axis.bin_minutes)
    with _styled():
        subtitle = f"Exact aggregates by event time, {axis.note}, all tenants"
        fig, body = _canvas(title, subtitle, 2.0 * len(panels))
        axes = np.atleast_1d(body.subplots(len(panels), 1, sharex=True))
        for ax, (family, label, unit, values) in zip(axes, panels, strict=True):
            colour = TYPE_COLOURS[family]
            if family == "order.placed":
                ax.bar(axis.starts, values, width=step * 0.8, align="edge", color=colour)
            else:
                ax.plot([t + step / 2 for t in axis.starts], values, color=colour, linewidth=1.8)
            if family == "device.reading":
                middle = [t + step / 2 for t in axis.starts]
                ax.fill_between(middle, lows[family], highs[family], color=colour, alpha=0.16, linewidth=0)
            else:
                ax.set_ylim(bottom=0)
            ax.set_title(f"{family}  ·  {label}", loc="left", fontsize=10, color=colour)
            ax.set_ylabel(unit)
            ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
            _time_axis(ax, label="")
        axes[-1].set_xlabel("window start (UTC)")
    return Chart(name, title, fig)


def _mean(total: np.ndarray, count: np.ndarray, scale: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1) / scale, np.nan)


def outcomes(report: dict[str, Any]) -> Chart:
    """Where every received event went: stored, duplicate or dead-lettered."""
    name, title = "outcomes", "Where the received events went"
    parts = {
        "stored": int(report.get("stored", 0)),
        "duplicates": int(report.get("duplicates", 0)),
        "dead-lettered": int(report.get("dead_lettered", 0)),
    }
    received = int(report.get("received", 0))
    if received == 0:
        return _empty(name, title, "No events received", HALF_IN)
    holds = "conservation holds" if received == sum(parts.values()) else "conservation DOES NOT hold"
    with _styled():
        fig, body = _canvas(
            title, f"{received:,} received = stored + duplicates + dead-lettered ({holds})", 2.5, HALF_IN
        )
        ax = body.subplots()
        labels = list(parts)
        values = [parts[k] for k in labels]
        bars = ax.barh(labels, values, color=[OUTCOME_COLOURS[k] for k in labels], height=0.62)
        ax.bar_label(bars, labels=[f"{v:,}  ({v / received:.1%})" for v in values], padding=4, color=INK, fontsize=9.5)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlim(0, max(values) * 1.35)
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_xlabel("events")
    return Chart(name, title, fig)


def dead_letter_reasons(report: dict[str, Any]) -> Chart:
    """Dead-lettered events per reason code, in the contract's order."""
    name, title = "dead_letter_reasons", "Dead-letter reasons"
    reasons = {k: int(v) for k, v in (report.get("dead_letter_reasons") or {}).items() if int(v) > 0}
    if not reasons:
        return _empty(name, title, "Nothing was dead-lettered")
    order = [r.value for r in Reason]
    codes = sorted(reasons, key=lambda c: (order.index(c) if c in order else len(order), c))
    values = [reasons[c] for c in codes]
    with _styled():
        subtitle = f"{sum(values):,} events, by the first check that failed, in the contract's order"
        fig, body = _canvas(title, subtitle, 0.6 + 0.24 * len(codes))
        ax = body.subplots()
        bars = ax.barh(codes, values, color=DEAD_LETTER_COLOUR, height=0.68)
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=4, color=INK, fontsize=9)
        ax.set_ylim(len(codes) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_xlim(0, max(values) * 1.1)
        ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        ax.set_xlabel("events")
    return Chart(name, title, fig)


def latency(report: dict[str, Any]) -> Chart:
    """Seconds from trigger to orchestration completion per batch: histogram with percentiles."""
    name, title = "processing_latency", "Processing latency per batch"
    values = np.array([float(v) for v in report.get("batch_latencies_s") or []])
    if values.size == 0:
        return _empty(name, title, "No batch latencies recorded in this run", HALF_IN)
    p50, p95, top = np.percentile(values, 50), np.percentile(values, 95), values.max()
    with _styled():
        subtitle = f"{values.size:,} batches, from trigger to orchestration completion"
        fig, body = _canvas(title, subtitle, 2.5, HALF_IN)
        ax = body.subplots()
        ax.hist(values, bins=min(30, max(6, values.size // 3)), color=LATENCY_COLOUR, alpha=0.85, edgecolor="white")
        for value, label, style in ((p50, "p50", "-"), (p95, "p95", "--"), (top, "max", ":")):
            ax.axvline(value, color=INK, linestyle=style, linewidth=1.2, label=f"{label}  {value:.2f} s")
        ax.set_xlabel("seconds")
        ax.set_ylabel("batches")
        ax.set_xlim(left=0)
        ax.yaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        ax.legend(loc="best", fontsize=9, frameon=True, framealpha=0.92, edgecolor="none")
    return Chart(name, title, fig)


def run_charts(report: dict[str, Any], rows: list[dict[str, Any]]) -> list[Chart]:
    """Every chart of the run report, in page order."""
    width = chart_window(rows, report.get("window_minutes"))
    return [
        events_per_minute(rows, width, by="event_type"),
        events_per_minute(rows, width, by="tenant_id"),
        value_per_window(rows, width),
        outcomes(report),
        latency(report),
        dead_letter_reasons(report),
    ]
