"""The synthetic event generator and the committed samples agree with validation."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.synthetic import (
    ARRAY_SAFE_KINDS,
    BAD_KINDS,
    FX_RATES,
    SAMPLE_FILES,
    SAMPLE_NOW,
    TENANTS,
    generate_events,
    generate_labelled,
    reference_documents,
    write_samples,
)
from schemas import Rejection, ValidEvent, validate_event

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
VALIDATION_REASONS = set(BAD_KINDS[:11])


def test_the_same_seed_gives_the_same_bytes() -> None:
    first = list(generate_events(300, seed=5, now=NOW, bad_ratio=0.2))
    assert first == list(generate_events(300, seed=5, now=NOW, bad_ratio=0.2))
    assert first != list(generate_events(300, seed=6, now=NOW, bad_ratio=0.2))
    assert len(first) == 300


def test_no_event_holds_a_newline() -> None:
    assert not any(b"\n" in raw or b"\r" in raw for raw in generate_events(2000, seed=1, now=NOW, bad_ratio=0.3))


def test_every_reason_an_input_can_cause_is_produced() -> None:
    labels = Counter(item.label for item in generate_labelled(1000, seed=2, now=NOW, bad_ratio=0.3))
    assert set(BAD_KINDS) | {"valid", "duplicate"} == set(labels)


def test_events_are_what_they_were_made_to_be() -> None:
    tenants = {t[0] for t in TENANTS}
    accepted: dict[tuple[str, str, str], str] = {}
    seen = Counter()
    for item in generate_labelled(3000, seed=3, now=NOW, bad_ratio=0.25, duplicate_ratio=0.1):
        result = validate_event(item.raw, now=NOW)
        seen[item.label] += 1
        if item.label in VALIDATION_REASONS:
            assert isinstance(result, Rejection) and result.reason.value == item.label, (item, result)
            continue
        assert isinstance(result, ValidEvent), (item, result)
        if item.label == "valid":
            assert result.identity not in accepted
            accepted[result.identity] = result.content_key()
        elif item.label == "duplicate":
            assert accepted[result.identity] == result.content_key()
        elif item.label == "conflicting_duplicate":
            assert accepted[result.identity] != result.content_key()
        elif item.label == "unknown_tenant":
            assert result.tenantid not in tenants and result.identity not in accepted
        elif item.label == "unknown_currency":
            assert result.data.currency not in FX_RATES  # type: ignore[union-attr]
    assert seen["duplicate"] > 100 and seen["conflicting_duplicate"] > 20


def test_valid_event_times_lie_in_the_window_before_now() -> None:
    window = timedelta(hours=2)
    for item in generate_labelled(500, seed=4, now=NOW, bad_ratio=0, window=window):
        result = validate_event(item.raw, now=NOW)
        assert isinstance(result, ValidEvent)
        assert NOW - window - timedelta(seconds=1) <= result.timestamp <= NOW - timedelta(seconds=59)


def test_valid_events_use_offsets_fractions_and_all_types() -> None:
    raws = list(generate_events(600, seed=8, now=NOW, bad_ratio=0, duplicate_ratio=0))
    times = [json.loads(r)["time"] for r in raws]
    assert any(t.endswith("Z") for t in times) and any(re.search(r"[+-]\d\d:\d\d$", t) for t in times)
    assert any(re.search(r"\.\d{9}", t) for t in times)
    assert {json.loads(r)["type"] for r in raws} == {
        "com.contoso.order.placed.v1", "com.contoso.order.placed.v2",
        "com.contoso.page.viewed.v1", "com.contoso.device.reading.v1",
    }  # fmt: skip
    assert {json.loads(r)["tenantid"] for r in raws} == {t[0] for t in TENANTS}


def test_oversized_events_can_be_capped() -> None:
    labels = [i.label for i in generate_labelled(800, seed=9, now=NOW, bad_ratio=0.3, max_oversized=1)]
    assert labels.count("too_large") == 1


def test_the_reference_data_has_the_contract_shapes() -> None:
    docs = reference_documents()
    tenants = docs["tenants.json"]["tenants"]
    assert 4 <= len(tenants) <= 6
    assert all(set(t) == {"id", "name", "region", "tier"} for t in tenants)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,38}[a-z0-9]", t["id"]) for t in tenants)
    rates = docs["fx_rates.json"]
    assert rates["base"] == "USD" and rates["rates"]["USD"] == "1"
    assert {"EUR", "GBP", "JPY", "USD"} <= set(rates["rates"])
    assert all(isinstance(v, str) and Decimal(v) > 0 for v in rates["rates"].values())
    devices = docs["devices.json"]["devices"]
    assert len(devices) == 20 and all(set(d) == {"id", "tenant_id", "site"} for d in devices)
    assert {d["tenant_id"] for d in devices} == {t["id"] for t in tenants}


def test_the_committed_samples_are_up_to_date(tmp_path: Path) -> None:
    write_samples(tmp_path)
    for path in sorted(tmp_path.rglob("*.json*")):
        committed = SAMPLES / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), (
            f"regenerate with: python -m pipeline.synthetic ({committed})"
        )


@pytest.mark.parametrize("name", [f[0] for f in SAMPLE_FILES])
def test_the_committed_samples_validate_as_labelled(name: str) -> None:
    expected = json.loads((SAMPLES / "expected.json").read_text())["files"][name]
    content = (SAMPLES / "events" / name).read_bytes()
    if name.endswith(".json"):
        raws = [dict_to_bytes(e) for e in json.loads(content, parse_float=Decimal)]
        assert not set(expected) & {"too_large", "invalid_encoding", "too_deep", "malformed_json"}
        assert set(expected) - {"valid", "duplicate"} <= set(ARRAY_SAFE_KINDS)
    else:
        raws = [line for line in content.split(b"\n") if line.strip()]
    assert len(raws) == sum(expected.values())
    reasons = Counter()
    for raw in raws:
        result = validate_event(raw, now=SAMPLE_NOW + timedelta(days=400))
        if isinstance(result, Rejection):
            reasons[result.reason.value] += 1
    assert dict(reasons) == {k: v for k, v in expected.items() if k in VALIDATION_REASONS}
    assert any(raw.startswith(b"\xef\xbb\xbf") for raw in raws) or name.endswith(".json")


def dict_to_bytes(value: object) -> bytes:
    from schemas.json_text import to_json_text

    return to_json_text(value).encode()
