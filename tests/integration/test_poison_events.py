"""An event that makes an activity fail every time is dead-lettered after the retries; its batch completes."""

from __future__ import annotations

import asyncio
import json

import pytest

import pipeline.persist
from pipeline.runner.run import RunOptions, run
from pipeline.runtime import Runtime
from pipeline.settings import Settings
from tests import factories as f
from tests.integration.test_local_runner import REFERENCE


async def dead_letter_records(reason: str) -> list[dict]:
    runtime = Runtime.from_settings(Settings.local_emulators())
    try:
        names = await runtime.blobs.list_names("deadletter", f"{reason}/")
        return [json.loads(await runtime.blobs.get("deadletter", name)) for name in names]
    finally:
        await runtime.close()


def test_a_poison_event_is_dead_lettered_with_its_error_and_the_rest_of_its_batch_is_stored(tmp_path, monkeypatch):
    real_enrich = pipeline.persist.enrich
    calls = {"poison": 0}

    def enrich_that_chokes(event, *args, **kwargs):
        if event.id == "poison":
            calls["poison"] += 1
            raise ValueError("cannot enrich this one")
        return real_enrich(event, *args, **kwargs)

    monkeypatch.setattr(pipeline.persist, "enrich", enrich_that_chokes)
    events = [f.order("o1"), f.page("poison"), f.page("p2"), f.order("o1"), f.reading("r3", tenant="nobody-here")]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(f.raw(e) for e in events))
    options = RunOptions(
        inputs=[path], reference=REFERENCE, out=tmp_path / "out", partitions=1, quiet=True, timer_scale=0.001
    )
    report = asyncio.run(run(options, Settings.local_emulators()))

    assert calls["poison"] == 2, "an event that fails the same way on a second attempt is poison"
    assert (report["stored"], report["duplicates"]) == (2, 1)
    assert report["dead_letter_reasons"] == {"processing_failed": 1, "unknown_tenant": 1}
    (record,) = asyncio.run(dead_letter_records("processing_failed"))
    assert record["errors"][0]["msg"] == "ValueError: cannot enrich this one"
    assert json.loads(record["raw"])["id"] == "poison"
    assert len(report["failed_batches"]) == 1
    assert report["aggregate_rows"] == 2


@pytest.fixture(autouse=True)
def _reference_has_acme():
    assert "acme" in (REFERENCE / "tenants.json").read_text()
