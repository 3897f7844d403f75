"""`startup_s` in the run report is the process's age when its first batch is handed over: it must
count from the process's start, to within a clock tick, not to within the second of the boot time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pipeline.runner.report import process_age_s


@pytest.mark.skipif(process_age_s() is None, reason="no /proc here: the report leaves startup_s out")
def test_a_new_process_knows_its_age_to_a_few_hundredths_of_a_second():
    script = "import time; time.sleep(0.5); from pipeline.runner.report import process_age_s; print(process_age_s())"

    started = time.monotonic()
    age = float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    wall = time.monotonic() - started

    assert 0.5 <= age <= wall + 0.02
