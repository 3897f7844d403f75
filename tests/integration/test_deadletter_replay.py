"""Dead letters are listed by reason and replayed once their cause is fixed: stored once, counted once."""

from __future__ import annotations

import asyncio
import json
import shutil

from pipeline.runner.deadletters import list_command, replay_command
from pipeline.runner.run import RunOptions, run
from pipeline.settings import Settings
from tests import factories as f
from tests.integration.test_local_runner import REFERENCE


def test_replay_after_adding_the_tenant_stores_the_events_and_updates_the_aggregates(tmp_path):
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE, reference)
    events = [f.order("1", tenant="newco"), f.page("2", tenant="newco"), f.page("3"), f.reading("4", tenant="newco")]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(f.raw(e) for e in events) + b"\nnot json\n")
    settings = Settings.local_emulators()
    report = asyncio.run(run(RunOptions(inputs=[path], reference=reference, out=tmp_path / "a", quiet=True), settings))
    assert report["dead_letter_reasons"] == {"malformed_json": 1, "unknown_tenant": 3}

    listing = json.loads(asyncio.run(list_command(None, True, settings)))
    assert listing["counts"] == {"malformed_json": 1, "unknown_tenant": 3}
    only_tenants = json.loads(asyncio.run(list_command("unknown_tenant", True, settings)))
    assert {json.loads(r["raw"])["id"] for r in only_tenants["records"]} == {"1", "2", "4"}

    nothing_fixed = asyncio.run(replay_command(None, settings))
    assert (nothing_fixed["replayed"], nothing_fixed["stored"]) == (3, 0)
    assert nothing_fixed["rejected_again"] == {"unknown_tenant": 3}
    assert json.loads(asyncio.run(list_command(None, True, settings)))["counts"] == listing["counts"]

    tenants = json.loads((reference / "tenants.json").read_text())
    tenants["tenants"].append({"id": "newco", "name": "NewCo", "region": "northeurope", "tier": "bronze"})
    (reference / "tenants.json").write_text(json.dumps(tenants))
    from pipeline.reference import upload_reference
    from pipeline.runtime import Runtime

    async def upload() -> None:
        runtime = Runtime.from_settings(settings)
        try:
            await upload_reference(runtime.blobs, reference)
        finally:
            await runtime.close()

    asyncio.run(upload())
    fixed = asyncio.run(replay_command(None, settings))
    assert (fixed["replayed"], fixed["stored"], fixed["rejected_again"]) == (3, 3, {})
    assert json.loads(asyncio.run(list_command(None, True, settings)))["counts"] == {"malformed_json": 1}
    assert asyncio.run(replay_command(None, settings))["replayed"] == 0

    # the replayed events count in the aggregates once; a rerun of the input finds them duplicates
    again = asyncio.run(run(RunOptions(inputs=[path], reference=reference, out=tmp_path / "b", quiet=True), settings))
    assert (again["stored"], again["duplicates"]) == (0, 4)
    rows = (tmp_path / "b" / "analytics" / "aggregates.csv").read_text().splitlines()[1:]
    assert sum(int(r.split(",")[4]) for r in rows) == 4
