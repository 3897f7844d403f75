"""The run report page: self-contained, with every chart, and rendered by a real browser."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.aggregates import contributions, contributions_to_json
from pipeline.analytics.charts import DEAD_LETTER_COLOUR, LATENCY_COLOUR, OUTCOME_COLOURS, TYPE_COLOURS
from pipeline.analytics.scale_check import curated_events
from pipeline.cli import main
from pipeline.runner.html_report import write_html_report
from pipeline.runner.report import write_aggregates_csv

CHROMIUM = Path("/usr/bin/chromium")
CHARTS = (
    "events_per_minute_by_type",
    "events_per_minute_by_tenant",
    "value_per_window",
    "outcomes",
    "processing_latency",
    "dead_letter_reasons",
)


def aggregate_rows(events: int = 6_000) -> list[dict[str, Any]]:
    """Stored-row-shaped aggregates of synthetic events over a day."""
    rows = contributions_to_json(contributions(curated_events(events, seed=3)))
    return [
        {
            "tenant_id": r["tenant_id"],
            "event_type": r["event_type"],
            "window_start": r["window_start"],
            "window_minutes": r["window_minutes"],
            "event_count": r["count"],
            "value_sum": r["sum"],
            "value_min": r["min"],
            "value_max": r["max"],
        }
        for r in rows
    ]


REPORT = {
    "received": 6_400,
    "valid": 6_250,
    "stored": 6_000,
    "duplicates": 250,
    "dead_lettered": 150,
    "dead_letter_reasons": {"malformed_json": 40, "unknown_tenant": 30, "too_large": 5, "business_rule": 75},
    "aggregate_rows": 0,
    "orchestrations": 64,
    "activities": 128,
    "elapsed_s": 12.5,
    "events_per_s": 512.0,
    "via": "eventhub",
    "batch_size": 100,
    "window_minutes": 1,
    "failed_batches": [],
    "batch_latencies_s": [0.2 + (n % 17) / 20 for n in range(64)],
}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    rows = aggregate_rows()
    write_html_report(out, {**REPORT, "aggregate_rows": len(rows)}, rows)
    return out


def test_the_page_and_a_png_per_chart_are_written(page: Path):
    assert (page / "report.html").is_file()
    for name in CHARTS:
        with Image.open(page / "charts" / f"{name}.png") as image:
            assert image.format == "PNG" and image.width >= 700


def test_the_page_is_self_contained_with_every_chart_inline(page: Path):
    text = (page / "report.html").read_text(encoding="utf-8")

    assert "http" not in text and "<script" not in text and "src=" not in text and "@import" not in text
    assert "<style>" in text and text.count("<svg") == len(CHARTS)
    for name in CHARTS:
        assert f'id="{name}"' in text
    for figure in ("6,400", "6,000", "250", "150", "512"):
        assert figure in text
    assert "every received event accounted for" in text


def test_chart_ids_do_not_collide_between_the_inline_svgs(page: Path):
    text = (page / "report.html").read_text(encoding="utf-8")
    clip_ids = re.findall(r'<clipPath id="([^"]+)"', text)

    assert clip_ids and len(clip_ids) == len(set(clip_ids))


def test_a_run_with_no_rows_no_latencies_and_no_dead_letters_still_renders(tmp_path: Path):
    report = {"received": 0, "stored": 0, "duplicates": 0, "dead_lettered": 0, "dead_letter_reasons": {}}

    path = write_html_report(tmp_path, report, [])

    text = path.read_text(encoding="utf-8")
    assert "No aggregate rows to chart" in text and "Nothing was dead-lettered" in text
    assert "No batch latencies recorded" in text
    assert len(list((tmp_path / "charts").glob("*.png"))) == len(CHARTS)


def test_the_report_command_draws_the_page_from_what_the_run_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    rows = aggregate_rows(600)
    (tmp_path / "report.json").write_text(json.dumps({**REPORT, "aggregate_rows": len(rows)}))
    write_aggregates_csv(tmp_path, rows)  # as `pipeline run` writes it: every value a string

    assert main(["report", "--out", str(tmp_path)]) == 0

    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    families = {r["event_type"] for r in rows}
    assert all(f"{sum(r['event_count'] for r in rows if r['event_type'] == f):,}" in text for f in families)
    assert sorted(p.stem for p in (tmp_path / "charts").glob("*.png")) == sorted(CHARTS)
    assert "report.html" in capsys.readouterr().out


def test_the_report_command_says_what_is_missing_and_how_to_make_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    (tmp_path / "report.json").write_text(json.dumps(REPORT))

    assert main(["report", "--out", str(tmp_path)]) == 2

    error = capsys.readouterr().err
    assert "aggregates.csv not found" in error and f"pipeline run --out {tmp_path}" in error
    assert not (tmp_path / "report.html").exists()


def _chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
            (page / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _count_near(pixels: np.ndarray, colour: str, tolerance: int = 24) -> int:
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - target) <= tolerance).all(axis=1).sum())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium) is not installed")
def test_chromium_renders_every_chart_with_its_colours(page: Path, tmp_path: Path):
    dom = _chromium(page, tmp_path, "--dump-dom").stdout
    svgs = re.findall(r"<svg\b.*?</svg>", dom, flags=re.S)
    assert len(svgs) == len(CHARTS)
    assert all(svg.count("<path") >= 5 and "<text" in svg for svg in svgs)

    shot = tmp_path / "page.png"
    _chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,4200", "--hide-scrollbars")
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=int).reshape(-1, 3)
    colours = {
        **{f"type {k}": v for k, v in TYPE_COLOURS.items()},
        **{f"outcome {k}": v for k, v in OUTCOME_COLOURS.items()},
        "dead letters": DEAD_LETTER_COLOUR,
        "latency": LATENCY_COLOUR,
    }
    for label, colour in colours.items():
        assert _count_near(pixels, colour) > 500, f"no {label} ({colour}) pixels on the page"
    assert np.unique(pixels @ np.array([65536, 256, 1])).size > 500, "the screenshot is nearly blank"
