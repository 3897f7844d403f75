"""Regenerate the Power BI starting point under `powerbi/` from `pipeline.analytics.table`.

    python scripts/powerbi/generate_model.py

Run it after changing a column or a measure; a unit test fails while the committed files differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.analytics.powerbi_model import write_project  # noqa: E402

if __name__ == "__main__":
    for path in write_project(ROOT / "powerbi"):
        print(path.relative_to(ROOT))
