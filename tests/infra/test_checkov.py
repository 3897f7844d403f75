"""checkov parses every template and finds no failed check outside the reviewed skip list."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from .bicep_ast import REPO

SCRIPT = REPO / "scripts" / "infra" / "checkov.sh"
CONFIG = REPO / ".checkov.yaml"


def test_every_skipped_check_has_a_reason() -> None:
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    skips = [line for line in lines if re.match(r"^\s+-\s+CKV", line)]
    assert skips, "no reviewed skip list"
    for line in skips:
        assert re.match(r"^\s+-\s+CKV2?_[A-Z]+_\d+\s+#\s*\S.{10,}", line), f"skip without a reason: {line.strip()}"


def test_inline_skips_carry_a_reason() -> None:
    for path in (REPO / "bicep").rglob("*.bicep"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "checkov:skip" in line:
                assert re.search(r"checkov:skip=CKV2?_[A-Z]+_\d+:\s*\S", line), f"{path.name}: {line.strip()}"


@pytest.mark.skipif(os.environ.get("SKIP_CHECKOV") == "1", reason="SKIP_CHECKOV=1: checkov not run")
def test_checkov_parses_everything_and_fails_nothing_outside_the_skip_list(tmp_path: Path) -> None:
    report = tmp_path / "checkov.json"
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=REPO,
        env={**os.environ, "CHECKOV_REPORT": str(report)},
        capture_output=True,
        text=True,
        timeout=900,  # the first run creates .venv-checkov (pip install checkov, ~45 s)
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    for entry in data if isinstance(data, list) else [data]:
        assert entry["summary"]["parsing_errors"] == 0
        assert entry["summary"]["resource_count"] > 0
        assert entry["results"]["failed_checks"] == []
