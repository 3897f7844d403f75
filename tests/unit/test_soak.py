"""The soak's pieces that need no emulators: /proc parsing, the verdict, the independent computation,
the runner's status file and the emulators' ports."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.runner.status import StatusFile
from pipeline.settings import Settings, local_emulator_environment
from pipeline.soak import procfs
from pipeline.soak.command import process_memory
from pipeline.soak.expected import expected, ndjson_events
from pipeline.soak.verdict import cumulative_at, describe, judge, memory_growth, server_slope, throughput
from pipeline.synthetic import generate_events
from tests.oracle import expected as oracle

ROOT = Path(__file__).resolve().parents[2]
STATUS = """Name:\tpython
State:\tS (sleeping)
Pid:\t4242
VmPeak:\t 2100000 kB
VmSize:\t 2000000 kB
VmHWM:\t  310512 kB
VmRSS:\t  204800 kB
RssAnon:\t  150000 kB
Threads:\t7
"""


# -- /proc ---------------------------------------------------------------------------------------


def test_status_gives_the_resident_memory_and_its_peak():
    assert procfs.parse_status(STATUS) == procfs.Memory(rss_kib=204800, peak_kib=310512)


def test_a_kernel_thread_or_an_exiting_process_has_no_memory():
    assert procfs.parse_status("Name:\tkworker/0:1\nState:\tI (idle)\nPid:\t12\n") is None


def test_a_peak_below_the_current_rss_reads_as_the_rss():
    assert procfs.parse_status("VmRSS:\t 100 kB\nVmHWM:\t 90 kB\n") == procfs.Memory(100, 100)


def _fake_process(proc: Path, pid: int, children: list[int], rss_kib: int, command: str) -> None:
    task = proc / str(pid) / "task" / str(pid)
    task.mkdir(parents=True)
    (task / "children").write_text(" ".join(map(str, children)) + (" " if children else ""))
    (proc / str(pid) / "status").write_text(f"VmHWM:\t{rss_kib} kB\nVmRSS:\t{rss_kib} kB\n")
    (proc / str(pid) / "cmdline").write_bytes(command.replace(" ", "\0").encode() + b"\0")


def test_a_process_tree_is_walked_from_the_children_files(tmp_path):
    _fake_process(tmp_path, 10, [11, 13], 1000, "python -m pipeline run")
    _fake_process(tmp_path, 11, [12], 500, "python -c from multiprocessing.spawn import spawn_main")
    _fake_process(tmp_path, 12, [], 100, "sleep 1")
    _fake_process(tmp_path, 13, [], 50, "python -c from multiprocessing.resource_tracker import main")
    assert procfs.descendants(10, tmp_path) == [11, 13, 12]
    assert procfs.memory(11, tmp_path) == procfs.Memory(500, 500)
    assert procfs.command_line(13, tmp_path).endswith("resource_tracker import main")


def test_the_runner_s_processes_are_named_by_what_they_are(tmp_path):
    server = "python -c from multiprocessing.forkserver import main; main(8, 9, ['function_app'])"
    _fake_process(tmp_path, 10, [11, 12], 1000, "python -m pipeline run")
    _fake_process(tmp_path, 11, [], 50, "python -c from multiprocessing.resource_tracker import main")
    _fake_process(tmp_path, 12, [14, 13], 300, server)
    _fake_process(tmp_path, 13, [], 400, server)  # forked from the server: the same command line
    _fake_process(tmp_path, 14, [], 500, server)
    named = process_memory(10, tmp_path)
    assert {name: p["pid"] for name, p in named.items()} == {
        "runner": 10,
        "resource-tracker": 11,
        "worker-server": 12,
        "activity-worker-0": 13,
        "activity-worker-1": 14,
    }


def test_a_process_that_is_gone_has_no_memory_and_no_children(tmp_path):
    assert procfs.memory(99, tmp_path) is None
    assert procfs.descendants(99, tmp_path) == []


def test_this_process_reads_from_the_real_proc():
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc here")
    memory = procfs.memory(os.getpid())
    assert memory is not None and 0 < memory.rss_kib <= memory.peak_kib


# -- the verdict ---------------------------------------------------------------------------------


def test_progress_is_interpolated_between_points_and_from_zero_before_the_first():
    points = [(10.0, 1000), (20.0, 3000)]
    assert cumulative_at(points, 5) == 500
    assert cumulative_at(points, 15) == 2000
    assert cumulative_at(points, 20) == 3000
    assert cumulative_at(points, 25) == 3000


def test_a_steady_run_is_flat():
    points = [(float(t), 100 * t) for t in range(1, 101)]
    speed = throughput(points)
    assert speed["first_tenth_events_per_s"] == speed["last_tenth_events_per_s"] == 100
    assert speed["within"]


def test_a_run_that_slows_by_more_than_fifteen_percent_is_not_flat():
    # 100 events/s for 90 s, then 80 events/s for the last 10 s: the last tenth is 20% slower
    points = [(float(t), 100 * t) for t in range(1, 91)] + [(90.0 + t, 9000 + 80 * t) for t in range(1, 11)]
    speed = throughput(points)
    assert speed["last_vs_first"] == pytest.approx(0.8, abs=0.01)
    assert not speed["within"]


def test_a_slowdown_of_ten_percent_is_within_tolerance():
    points = [(float(t), 100 * t) for t in range(1, 91)] + [(90.0 + t, 9000 + 90 * t) for t in range(1, 11)]
    assert throughput(points)["within"]


def test_memory_that_settles_after_the_first_tenth_is_bounded():
    series = [(0.0, 400.0), (5.0, 500.0), (10.0, 520.0), (50.0, 540.0), (100.0, 545.0)]
    growth = memory_growth(series, duration=100)
    assert growth["first_tenth_mib"] == 520 and growth["highest_after_mib"] == 545
    assert growth["bounded"]


def test_memory_that_keeps_growing_is_not_bounded():
    series = [(float(t), 500 + 2.0 * t) for t in range(0, 101, 10)]
    growth = memory_growth(series, duration=100)
    assert growth["growth"] == pytest.approx(700 / 520 - 1, abs=0.001)
    assert not growth["bounded"]


def test_a_short_run_takes_its_first_sample_as_the_baseline():
    growth = memory_growth([(30.0, 600.0), (60.0, 630.0)], duration=60)
    assert growth["first_tenth_mib"] == 600 and growth["bounded"]


def test_a_slowdown_the_floor_shares_is_the_servers_not_the_pipelines():
    slope = server_slope(floor_start=1000, floor_end=750, last_vs_first=0.78, tolerance=0.15)
    assert slope["floor_end_vs_start"] == 0.75
    assert slope["pipeline_vs_floor_slope"] == pytest.approx(1.04)
    assert slope["within"]


def test_a_slowdown_the_floor_does_not_share_is_the_pipelines():
    slope = server_slope(floor_start=1000, floor_end=1000, last_vs_first=0.7, tolerance=0.15)
    assert not slope["within"]


def test_the_verdict_names_each_process_and_says_what_held():
    points = [(float(t), 100 * t) for t in range(1, 101)]
    memory = {"runner": [(10.0, 200.0), (100.0, 205.0)], "activity-worker-0": [(10.0, 180.0), (100.0, 260.0)]}
    verdict = judge(points, memory, floor_start=900, floor_end=880)
    assert verdict["flat"] and verdict["flat_apart_from_server"]
    assert verdict["memory"]["runner"]["bounded"] and not verdict["memory"]["activity-worker-0"]["bounded"]
    assert not verdict["memory_bounded"]
    text = "\n".join(describe(verdict))
    assert "within 15%" in text and "NOT bounded" in text and "activity-worker-0 180 -> 260 MiB" in text


# -- the independent computation -----------------------------------------------------------------


def test_the_streaming_computation_agrees_with_the_test_oracle(tmp_path):
    now = datetime.now(UTC)
    lines = list(generate_events(1500, seed=5, now=now, bad_ratio=0.08, duplicate_ratio=0.05))
    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_bytes(b"\n".join(lines[:700]) + b"\n")
    second.write_bytes(b"\n".join(lines[700:]) + b"\n\n")
    reference = ROOT / "samples" / "reference"
    mine = expected(ndjson_events([first, second]), reference, 1, now)
    theirs = oracle(lines, reference, 1, now)
    assert (mine.received, mine.stored, mine.duplicates) == (theirs.received, theirs.stored, theirs.duplicates)
    assert mine.reasons == theirs.reasons and mine.dead_lettered == sum(theirs.reasons.values())
    assert mine.csv_lines(1) == theirs.csv_lines(1)
    quarter_hours = expected(ndjson_events([first, second]), reference, 15, now)
    assert quarter_hours.csv_lines(15) == oracle(lines, reference, 15, now).csv_lines(15)


# -- the runner's status file and the emulators' ports -------------------------------------------


def test_the_status_file_is_replaced_whole_and_says_when_the_run_is_done(tmp_path):
    count = iter(range(100))
    status = StatusFile(tmp_path / "run" / "status.json", lambda: {"received": next(count)}, interval_s=0.01)

    async def briefly() -> None:
        writer = asyncio.create_task(status.keep_writing())
        await asyncio.sleep(0.05)
        writer.cancel()

    asyncio.run(briefly())
    assert json.loads((tmp_path / "run" / "status.json").read_text())["done"] is False
    status.write(done=True)
    final = json.loads((tmp_path / "run" / "status.json").read_text())
    assert final["done"] is True and final["received"] > 1
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["status.json"]


def test_settings_point_at_emulators_on_other_ports():
    settings = Settings.from_env(local_emulator_environment(20000, 18081))
    assert "BlobEndpoint=http://127.0.0.1:20000/" in (settings.blob.connection_string or "")
    assert "TableEndpoint=http://127.0.0.1:20002/" in (settings.blob.connection_string or "")
    assert settings.cosmos.endpoint == "https://127.0.0.1:18081" and not settings.cosmos.verify_tls


def test_emulators_on_other_ports_keep_their_pid_files_apart():
    spec = importlib.util.spec_from_file_location("emulators_ctl", ROOT / "emulators" / "ctl.py")
    assert spec and spec.loader
    ctl = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = ctl  # its dataclasses look their module up
    try:
        spec.loader.exec_module(ctl)
    finally:
        del sys.modules[spec.name]
    assert ctl.state_dir() == ctl.STATE
    assert ctl.state_dir(20000, 18081) == ctl.STATE / "ports-20000-18081"
    azurite, cosmos = ctl.emulators(20000, 18081)
    assert azurite.ports == (20000, 20001, 20002) and cosmos.ports == (18081,)
    assert "18081" in cosmos.command and ctl.emulators() == ctl.EMULATORS
