"""`python -m pipeline reference show|diff|upload`: validation, refusal, comparison and replay advice,
against the in-memory Blob store."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from pipeline.cli import build_parser
from pipeline.deadletter import DeadLetter, write_dead_letters
from pipeline.errors import StoreUnavailableError
from pipeline.reference import ReferenceDataError, load_reference
from pipeline.reference_commands import describe_store, run
from pipeline.settings import AZURITE_CONNECTION_STRING, CONTAINER_REFERENCE, BlobSettings
from pipeline.stores.memory import MemoryBlobStore
from schemas import Reason
from tests import factories as f

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "reference"

Doc = dict[str, Any]


def reference_dir(tmp_path: Path, name: str = "reference") -> Path:
    folder = tmp_path / name
    shutil.copytree(SAMPLES, folder)
    return folder


def edit(folder: Path, name: str, change: Callable[[Doc], None]) -> None:
    doc = json.loads((folder / name).read_text())
    change(doc)
    (folder / name).write_text(json.dumps(doc, indent=2))


def reference(store: MemoryBlobStore, *argv: str) -> int:
    return run(build_parser().parse_args(["reference", *argv]), store)


def stored(store: MemoryBlobStore) -> dict[str, bytes]:
    return {name: data for (container, name), data in store.blobs.items() if container == CONTAINER_REFERENCE}


@pytest.fixture
def store_with_samples(tmp_path: Path) -> MemoryBlobStore:
    store = MemoryBlobStore()
    assert reference(store, "upload", str(reference_dir(tmp_path, "samples"))) == 0
    return store


def _append(member: str, entry: Doc) -> Callable[[Doc], None]:
    return lambda doc: doc[member].append(entry)


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _drop(path: tuple[str | int, ...]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        target: Any = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


# (file, change to its document, what the one-line refusal must say)
BROKEN_DOCUMENTS = [
    (
        "tenants.json",
        _append("tenants", {"id": "acme", "name": "A", "region": "r", "tier": "t"}),
        "tenant id 'acme' is listed twice: tenants[0] and tenants[5]",
    ),
    ("tenants.json", _set(("tenants", 1, "id"), "Globex Corp"), "tenants[1].id: String should match pattern"),
    ("tenants.json", _set(("tenants", 1, "id"), "x"), "tenants[1].id: String should match pattern"),
    ("tenants.json", _drop(("tenants", 2, "tier")), "tenants[2].tier: Field required"),
    ("tenants.json", _set(("tenants", 0, "teir"), "gold"), "tenants[0].teir: Extra inputs are not permitted"),
    ("tenants.json", _set(("tenants", 0, "name"), 7), "tenants[0].name: Input should be a valid string (got 7)"),
    ("tenants.json", _set(("tenants",), []), "tenants: List should have at least 1 item"),
    ("tenants.json", _drop(("tenants",)), "tenants: Field required"),
    ("fx_rates.json", _set(("rates", "EUR"), 1.085), "rates.EUR: a rate must be a positive decimal string"),
    ("fx_rates.json", _set(("rates", "EUR"), "0"), "rates.EUR: a rate must be a positive decimal string"),
    ("fx_rates.json", _set(("rates", "EUR"), "0.0000"), "rates.EUR: a rate must be a positive decimal string"),
    ("fx_rates.json", _set(("rates", "EUR"), "-1.0850"), "rates.EUR: a rate must be a positive decimal string"),
    ("fx_rates.json", _set(("rates", "EUR"), "1,0850"), "not '1,0850'"),
    ("fx_rates.json", _set(("rates", "EUR"), "1e3"), "rates.EUR: a rate must be a positive decimal string"),
    ("fx_rates.json", _set(("rates", "EUR"), "NaN"), "rates.EUR: a rate must be a positive decimal string"),
    ("fx_rates.json", _set(("rates", "eur"), "1.0850"), "rates.eur (the key): String should match pattern"),
    ("fx_rates.json", _set(("rates", "USD"), "2"), "rates: the base currency USD converts at 1, not '2'"),
    ("fx_rates.json", _set(("base",), "EUR"), "base: Input should be 'USD'"),
    ("fx_rates.json", _set(("rates",), {}), "rates: Dictionary should have at least 1 item"),
    (
        "devices.json",
        _append("devices", {"id": "dev-001", "tenant_id": "acme", "site": "x"}),
        "device 'acme/dev-001' is listed twice: devices[0] and devices[20]",
    ),
    (
        "devices.json",
        _set(("devices", 3, "tenant_id"), "Umbrella"),
        "devices[3].tenant_id: String should match pattern",
    ),
    ("devices.json", _set(("devices", 0, "site"), ""), "devices[0].site: String should have at least 1 character"),
]

# (file, raw bytes, what the refusal must say)
BROKEN_BYTES = [
    ("tenants.json", b'{"tenants": [{"id": "acme",}]}', "tenants.json is not valid JSON: Expecting property name"),
    ("tenants.json", b"", "tenants.json is not valid JSON"),
    ("fx_rates.json", b'{"base": "USD", "rates": {"EUR": "1.0850", "EUR": "1.09"}}', "the key 'EUR' appears twice"),
    ("fx_rates.json", b"[]", "the file must hold one JSON object, not a list"),
    ("devices.json", b'{"devices": [', "devices.json is not valid JSON"),
    ("devices.json", b"\xff\xfe{}", "devices.json is not valid JSON"),
]


@pytest.mark.parametrize(("name", "change", "problem"), BROKEN_DOCUMENTS)
def test_upload_refuses_a_file_enrichment_cannot_use_naming_it_and_writing_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore, name, change, problem
) -> None:
    folder = reference_dir(tmp_path)
    edit(folder, name, change)
    before = dict(store_with_samples.blobs)
    capsys.readouterr()

    assert reference(store_with_samples, "upload", str(folder)) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"pipeline reference upload: refused, nothing written: {folder / name}: ")
    assert problem in err
    assert store_with_samples.blobs == before


@pytest.mark.parametrize(("name", "content", "problem"), BROKEN_BYTES)
def test_upload_refuses_a_file_that_is_not_the_json_it_should_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name, content, problem
) -> None:
    folder = reference_dir(tmp_path)
    (folder / name).write_bytes(content)
    store = MemoryBlobStore()

    assert reference(store, "upload", str(folder)) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(folder / name) in err and problem in err
    assert store.blobs == {}


@pytest.mark.parametrize(("name", "change", "problem"), BROKEN_DOCUMENTS)
async def test_enrichment_refuses_the_same_files_with_the_same_words(name, change, problem) -> None:
    docs = {n: json.loads((SAMPLES / n).read_text()) for n in ("tenants.json", "fx_rates.json", "devices.json")}
    change(docs[name])
    store = MemoryBlobStore()
    for n, doc in docs.items():
        await store.put(CONTAINER_REFERENCE, n, json.dumps(doc).encode())

    with pytest.raises(ReferenceDataError) as refused:
        await load_reference(store)

    assert str(refused.value).startswith(f"{CONTAINER_REFERENCE}/{name}: ")
    assert problem in str(refused.value)


@pytest.mark.parametrize("missing", ["tenants.json", "fx_rates.json"])
def test_upload_refuses_a_folder_without_a_required_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    folder = reference_dir(tmp_path)
    (folder / missing).unlink()
    store = MemoryBlobStore()

    assert reference(store, "upload", str(folder)) == 2

    assert f"{folder / missing} is missing" in capsys.readouterr().err
    assert store.blobs == {}


def test_upload_and_diff_refuse_a_folder_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    store = MemoryBlobStore()
    assert reference(store, "diff", str(tmp_path / "nope")) == 2
    assert reference(store, "upload", str(tmp_path / "nope")) == 2
    assert capsys.readouterr().err.count("is not a folder") == 2
    assert store.blobs == {}


def test_a_byte_order_mark_and_the_omitted_base_are_accepted(tmp_path: Path) -> None:
    folder = reference_dir(tmp_path)
    edit(folder, "fx_rates.json", _drop(("base",)))
    (folder / "tenants.json").write_bytes(b"\xef\xbb\xbf" + (folder / "tenants.json").read_bytes())
    store = MemoryBlobStore()

    assert reference(store, "upload", str(folder)) == 0

    assert stored(store)["tenants.json"] == (folder / "tenants.json").read_bytes()
    assert "acme" in asyncio.run(load_reference(store)).tenants


def test_upload_stores_the_files_as_written_and_enrichment_reads_them(tmp_path: Path) -> None:
    folder = reference_dir(tmp_path)
    store = MemoryBlobStore()

    assert reference(store, "upload", str(folder)) == 0

    assert stored(store) == {n: (folder / n).read_bytes() for n in ("tenants.json", "fx_rates.json", "devices.json")}
    data = asyncio.run(load_reference(store))
    assert data.tenants["acme"].tier == "gold"
    assert str(data.usd_per_unit["JPY"]) == "0.006710"
    assert data.device_sites[("acme", "dev-001")] == "plant-7"


def _changed_folder(tmp_path: Path) -> Path:
    folder = reference_dir(tmp_path)
    tenants: Callable[[Doc], None] = lambda doc: doc.update(  # noqa: E731
        tenants=[t for t in doc["tenants"] if t["id"] != "initech"]
        + [{"id": "newco", "name": "NewCo", "region": "northeurope", "tier": "bronze"}]
    )
    edit(folder, "tenants.json", tenants)
    edit(folder, "tenants.json", _set(("tenants", 0, "tier"), "platinum"))
    edit(folder, "fx_rates.json", _set(("rates", "BRL"), "0.1790"))
    edit(folder, "fx_rates.json", _set(("rates", "EUR"), "1.0900"))
    edit(folder, "fx_rates.json", _set(("rates", "GBP"), "1.26750"))  # the same rate, written otherwise
    edit(folder, "fx_rates.json", _drop(("rates", "AUD")))
    edit(folder, "devices.json", _set(("devices", 0, "site"), "plant-8"))
    return folder


def test_diff_names_what_is_added_removed_and_changed_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    folder = _changed_folder(tmp_path)
    before = dict(store_with_samples.blobs)
    capsys.readouterr()

    assert reference(store_with_samples, "diff", str(folder)) == 0

    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["tenants:", "1", "added,", "1", "removed,", "1", "changed"] in lines
    assert ["+", "newco", "NewCo,", "northeurope,", "bronze"] in lines
    assert ["-", "initech", "Initech,", "northeurope,", "bronze"] in lines
    assert ["~", "acme", "tier", "gold", "->", "platinum"] in lines
    assert ["currencies:", "1", "added,", "1", "removed,", "1", "changed"] in lines
    assert ["+", "BRL", "0.1790"] in lines and ["-", "AUD", "0.6590"] in lines
    assert ["~", "EUR", "rate", "1.0850", "->", "1.0900"] in lines
    assert not any("GBP" in line for line in lines)
    assert ["devices:", "1", "changed"] in lines and ["~", "acme/dev-001", "site", "plant-7", "->", "plant-8"] in lines
    assert store_with_samples.blobs == before


def test_diff_as_json_lists_the_changes_and_the_reasons_they_cure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    folder = _changed_folder(tmp_path)
    (folder / "devices.json").unlink()
    capsys.readouterr()

    assert reference(store_with_samples, "diff", str(folder), "--json") == 0

    doc = json.loads(capsys.readouterr().out)
    assert doc["cures"] == ["unknown_tenant", "unknown_currency"]
    assert doc["changes"]["tenants"]["added"] == {"newco": {"name": "NewCo", "region": "northeurope", "tier": "bronze"}}
    assert doc["changes"]["currencies"]["changed"] == {"EUR": {"rate": {"from": "1.0850", "to": "1.0900"}}}
    assert len(doc["changes"]["devices"]["removed"]) == 20  # the folder has no devices.json: upload deletes it


def test_diff_of_the_same_files_says_nothing_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    capsys.readouterr()
    assert reference(store_with_samples, "diff", str(reference_dir(tmp_path))) == 0
    assert "no change to tenants, currencies or devices" in capsys.readouterr().out


async def _dead_letter(store: MemoryBlobStore, reason: Reason, count: int) -> None:
    records = [
        DeadLetter(
            reason,
            ({"loc": "tenantid", "msg": "unknown"},),
            "eventhub",
            f"p0/{i}",
            "2026-11-01T00:00:00Z",
            f.raw(f.page(f"{reason.value}-{i}", tenant="newco")),
            f"b-{reason.value}",
            i,
        )
        for i in range(count)
    ]
    await write_dead_letters(store, records)


def test_upload_prints_the_replay_command_for_the_reasons_it_may_cure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    asyncio.run(_dead_letter(store_with_samples, Reason.UNKNOWN_TENANT, 3))
    asyncio.run(_dead_letter(store_with_samples, Reason.MALFORMED_JSON, 2))
    folder = reference_dir(tmp_path)
    edit(folder, "tenants.json", _append("tenants", {"id": "newco", "name": "NewCo", "region": "r", "tier": "t"}))
    capsys.readouterr()

    assert reference(store_with_samples, "upload", str(folder)) == 0

    out = capsys.readouterr().out
    assert "python -m pipeline deadletter replay --reason unknown_tenant  # 3 dead letters now" in out
    assert "unknown_currency" not in out and "malformed_json" not in out
    assert "newco" in asyncio.run(load_reference(store_with_samples)).tenants


def test_upload_that_adds_no_tenant_or_currency_advises_no_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    asyncio.run(_dead_letter(store_with_samples, Reason.UNKNOWN_TENANT, 1))
    folder = reference_dir(tmp_path)
    edit(folder, "fx_rates.json", _set(("rates", "EUR"), "1.1"))
    capsys.readouterr()

    assert reference(store_with_samples, "upload", str(folder)) == 0

    out = capsys.readouterr().out
    assert "deadletter replay" not in out and "no tenant or currency was added" in out


def test_upload_over_stored_data_that_did_not_load_also_advises_replaying_failed_batches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = MemoryBlobStore()
    asyncio.run(store.put(CONTAINER_REFERENCE, "tenants.json", b"{broken"))
    asyncio.run(store.put(CONTAINER_REFERENCE, "fx_rates.json", (SAMPLES / "fx_rates.json").read_bytes()))
    asyncio.run(_dead_letter(store, Reason.PROCESSING_FAILED, 4))

    assert reference(store, "upload", str(reference_dir(tmp_path))) == 0

    out = capsys.readouterr().out
    assert "note: reference/tenants.json is not valid JSON" in out
    assert "tenants: 5 added" in out and "currencies: no change" in out
    assert "--reason unknown_tenant " in out
    assert "--reason processing_failed  # 4 dead letters now" in out


def test_upload_of_a_folder_without_devices_deletes_the_stored_devices(
    tmp_path: Path, store_with_samples: MemoryBlobStore
) -> None:
    folder = reference_dir(tmp_path)
    (folder / "devices.json").unlink()

    assert reference(store_with_samples, "upload", str(folder)) == 0

    assert set(stored(store_with_samples)) == {"tenants.json", "fx_rates.json"}
    assert asyncio.run(load_reference(store_with_samples)).device_sites == {}


def test_show_prints_tenants_currencies_and_devices(
    capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    capsys.readouterr()
    assert reference(store_with_samples, "show") == 0

    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["tenants.json:", "5", "tenants"] in lines
    assert ["stark-industries", "Stark", "Industries", "westus2", "platinum"] in lines
    assert ["fx_rates.json:", "7", "currencies,", "USD", "per", "one", "unit"] in lines
    assert ["JPY", "0.006710"] in lines
    assert ["devices.json:", "20", "devices"] in lines and ["acme/dev-001", "plant-7"] in lines


def test_show_as_json_gives_the_stored_documents(
    capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    capsys.readouterr()
    assert reference(store_with_samples, "show", "--json") == 0

    doc = json.loads(capsys.readouterr().out)
    for name in ("tenants.json", "fx_rates.json", "devices.json"):
        assert doc[name] == json.loads((SAMPLES / name).read_text())
    assert doc["problems"] == []


def test_show_of_stored_data_enrichment_cannot_load_says_why_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    store = MemoryBlobStore()
    asyncio.run(store.put(CONTAINER_REFERENCE, "tenants.json", (SAMPLES / "tenants.json").read_bytes()))
    asyncio.run(store.put(CONTAINER_REFERENCE, "fx_rates.json", b'{"rates": {"EUR": 1.085}}'))

    assert reference(store, "show") == 1

    out, err = capsys.readouterr()
    assert "tenants.json: 5 tenants" in out
    assert "PROBLEM: reference/fx_rates.json: rates.EUR: a rate must be a positive decimal string" in out
    assert err.count("\n") == 1 and "enrichment cannot load the stored reference data" in err


class _UnreachableStore(MemoryBlobStore):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def get(self, container: str, name: str) -> bytes | None:
        raise self.error


@pytest.mark.parametrize("action", [["show"], ["diff", "DIR"], ["upload", "DIR"]])
@pytest.mark.parametrize(
    ("error", "words"),
    [
        (StoreUnavailableError("Blob storage at http://127.0.0.1:10000 is unreachable: refused"), "is unreachable"),
        (ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token\nmore"), "az login"),
        (HttpResponseError("This request is not authorized to perform this operation"), "Blob Data Contributor"),
    ],
)
def test_a_store_that_cannot_be_reached_or_refuses_the_identity_exits_3_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: list[str], error: Exception, words: str
) -> None:
    argv = [str(reference_dir(tmp_path)) if part == "DIR" else part for part in action]
    store = _UnreachableStore(error)

    assert reference(store, *argv) == 3

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
    assert store.blobs == {}


def test_the_store_is_the_one_the_settings_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    built: list[BlobSettings] = []

    class FakeAzureBlobStore(MemoryBlobStore):
        def __init__(self, settings: BlobSettings) -> None:
            super().__init__()
            built.append(settings)

    monkeypatch.setattr("pipeline.stores.blob.AzureBlobStore", FakeAzureBlobStore)
    monkeypatch.delenv("DataStorage", raising=False)
    monkeypatch.setenv("DataStorage__blobServiceUri", "https://evpipe.blob.core.windows.net")
    monkeypatch.setenv("DataStorage__clientId", "00000000-0000-0000-0000-000000000001")

    assert run(build_parser().parse_args(["reference", "show"])) == 1  # nothing stored in the fake

    assert built == [
        BlobSettings(
            account_url="https://evpipe.blob.core.windows.net", client_id="00000000-0000-0000-0000-000000000001"
        )
    ]
    assert "of https://evpipe.blob.core.windows.net (DefaultAzureCredential)" in capsys.readouterr().out


def test_the_local_emulator_is_named_as_such() -> None:
    assert describe_store(BlobSettings(connection_string=AZURITE_CONNECTION_STRING)) == "the local emulator (Azurite)"
    keyed = BlobSettings(connection_string="DefaultEndpointsProtocol=https;AccountName=evpipe;AccountKey=x")
    assert describe_store(keyed) == "storage account evpipe"


def test_show_saves_the_stored_files_to_edit_and_upload_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store_with_samples: MemoryBlobStore
) -> None:
    asyncio.run(store_with_samples.delete(CONTAINER_REFERENCE, "devices.json"))
    capsys.readouterr()

    assert reference(store_with_samples, "show", "--save", str(tmp_path / "saved")) == 0

    assert f"saved tenants.json, fx_rates.json to {tmp_path / 'saved'}" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["fx_rates.json", "tenants.json"]
    assert (tmp_path / "saved" / "tenants.json").read_bytes() == (SAMPLES / "tenants.json").read_bytes()
    assert reference(store_with_samples, "diff", str(tmp_path / "saved")) == 0
    assert "no change to tenants, currencies or devices" in capsys.readouterr().out
