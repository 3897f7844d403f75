"""The operator's fix for `unknown_tenant`, through the command line on the emulators: a broken
reference folder is refused and changes nothing; the corrected one is uploaded; the replay it prints
stores exactly the events of the tenant it added, and nothing else."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.runner.run import RunOptions, run
from pipeline.runtime import Runtime
from pipeline.settings import CONTAINER_DEADLETTER, CONTAINER_REFERENCE, COSMOS_EVENTS, Settings
from tests import factories as f
from tests.integration.test_local_runner import REFERENCE

REPLAY = "python -m pipeline deadletter replay --reason unknown_tenant"


async def _stored_and_dead_lettered(settings: Settings) -> tuple[set[tuple[str, str]], dict[str, set[str]]]:
    """The (tenant, event id) of every stored event, and the event ids dead-lettered by reason."""
    runtime = Runtime.from_settings(settings)
    try:
        stored = {(doc["tenantid"], doc["event_id"]) for doc in await runtime.documents.query_all(COSMOS_EVENTS)}
        dead: dict[str, set[str]] = {}
        for name in await runtime.blobs.list_names(CONTAINER_DEADLETTER):
            record = json.loads(await runtime.blobs.get(CONTAINER_DEADLETTER, name) or b"{}")
            event_id = json.loads(record["raw"])["id"] if record["reason"] != "malformed_json" else "?"
            dead.setdefault(record["reason"], set()).add(event_id)
        return stored, dead
    finally:
        await runtime.close()


async def _reference_blobs(settings: Settings) -> dict[str, bytes | None]:
    runtime = Runtime.from_settings(settings)
    try:
        names = ("tenants.json", "fx_rates.json", "devices.json")
        return {name: await runtime.blobs.get(CONTAINER_REFERENCE, name) for name in names}
    finally:
        await runtime.close()


def test_a_reference_upload_then_the_replay_it_prints_stores_exactly_the_added_tenants_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DataStorage", "DataStorage__blobServiceUri", "CosmosDB__accountEndpoint", "COSMOS_DATABASE"):
        monkeypatch.delenv(name, raising=False)  # the commands' settings: the local emulators
    settings = Settings.local_emulators()
    reference = tmp_path / "reference"
    shutil.copytree(REFERENCE, reference)
    events = [
        f.order("k1"),
        f.page("k2", tenant="globex"),
        f.order("n1", tenant="newco"),
        f.page("n2", tenant="newco"),
        f.reading("n3", tenant="newco"),
        f.page("g1", tenant="ghostco"),
        f.order("c1", currency="BRL"),
    ]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(f.raw(e) for e in events) + b"\nnot json\n")
    report = asyncio.run(run(RunOptions(inputs=[path], reference=reference, out=tmp_path / "a", quiet=True), settings))
    assert report["dead_letter_reasons"] == {"malformed_json": 1, "unknown_tenant": 4, "unknown_currency": 1}
    stored_before, dead_before = asyncio.run(_stored_and_dead_lettered(settings))
    assert stored_before == {("acme", "k1"), ("globex", "k2")}
    assert dead_before["unknown_tenant"] == {"n1", "n2", "n3", "g1"}

    # a broken correction is refused, with the file and the problem, and nothing is written
    broken = tmp_path / "broken"
    shutil.copytree(REFERENCE, broken)
    tenants = json.loads((broken / "tenants.json").read_text())
    tenants["tenants"].append({"id": "NewCo", "name": "NewCo", "region": "northeurope", "tier": "bronze"})
    (broken / "tenants.json").write_text(json.dumps(tenants))
    stored_reference = asyncio.run(_reference_blobs(settings))
    capsys.readouterr()
    assert main(["reference", "upload", str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"refused, nothing written: {broken / 'tenants.json'}: tenants[5].id: String should match pattern" in err
    assert asyncio.run(_reference_blobs(settings)) == stored_reference

    # the corrected folder: diff shows the tenant added, upload prints the replay to run
    fixed = tmp_path / "fixed"
    shutil.copytree(REFERENCE, fixed)
    tenants = json.loads((fixed / "tenants.json").read_text())
    tenants["tenants"].append({"id": "newco", "name": "NewCo", "region": "northeurope", "tier": "bronze"})
    (fixed / "tenants.json").write_text(json.dumps(tenants))
    assert main(["reference", "diff", str(fixed)]) == 0
    diff = capsys.readouterr().out
    assert "tenants: 1 added" in diff and "currencies: no change" in diff and "devices: no change" in diff
    assert main(["reference", "upload", str(fixed)]) == 0
    upload = capsys.readouterr().out
    assert f"{REPLAY}  # 4 dead letters now" in upload
    assert "--reason unknown_currency" not in upload
    assert main(["reference", "show"]) == 0
    assert "newco" in capsys.readouterr().out

    assert main(["deadletter", "replay", "--reason", "unknown_tenant"]) == 0
    assert "stored 3, duplicates 0, dead-lettered again: unknown_tenant 1" in capsys.readouterr().out

    stored_after, dead_after = asyncio.run(_stored_and_dead_lettered(settings))
    assert stored_after == stored_before | {("newco", "n1"), ("newco", "n2"), ("newco", "n3")}
    assert dead_after == {"unknown_tenant": {"g1"}, "unknown_currency": {"c1"}, "malformed_json": {"?"}}
    docs = asyncio.run(_newco_documents(settings))
    assert {doc["tenant"]["name"] for doc in docs} == {"NewCo"}


async def _newco_documents(settings: Settings) -> list[dict]:
    runtime = Runtime.from_settings(settings)
    try:
        return [doc for doc in await runtime.documents.query_all(COSMOS_EVENTS) if doc["tenantid"] == "newco"]
    finally:
        await runtime.close()
