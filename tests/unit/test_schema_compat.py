"""`schemas check`: a breaking change inside a published version fails, a compatible one passes."""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline import schema_commands
from schemas.compat import breaking_changes
from schemas.export import JSON_DIR, all_schemas, render, stale_files
from schemas.narrowing import narrowings

Schemas = dict[str, dict[str, Any]]
ORDER_V2 = "com.contoso.order.placed.v2.schema.json"
PAGE = "com.contoso.page.viewed.v1.schema.json"
READING = "com.contoso.device.reading.v1.schema.json"
CURATED = "documents/curated-event.schema.json"
AGGREGATE = "documents/window-aggregate.schema.json"
PUBLISHED = all_schemas()


def changed(file: str, edit: Callable[[dict[str, Any]], Any]) -> Schemas:
    """A copy of the current schemas with one file edited, as if the models had changed so."""
    out = copy.deepcopy(PUBLISHED)
    edit(out[file])
    return out


def problems(current: Schemas) -> list[str]:
    return [str(p) for p in breaking_changes(PUBLISHED, current)]


def order_data(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["OrderPlacedV2Data"]


def order_line(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["OrderItemWire"]["properties"]


def page_data(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["PageViewed"]


def curated_order(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["CuratedOrderPlaced"]


# -- producers: backward compatibility of the event types -----------------------------------------

BREAKING_FOR_PRODUCERS: dict[str, tuple[str, Callable[[dict[str, Any]], Any], str]] = {
    "a field removed": (ORDER_V2, lambda s: order_data(s)["properties"].pop("total"), "data: field 'total' removed"),
    "an optional field made required": (
        ORDER_V2,
        lambda s: order_data(s)["required"].append("discount"),
        "data: field 'discount' is now required",
    ),
    "a new required field": (
        PAGE,
        lambda s: (
            page_data(s)["properties"].update(locale={"type": "string"}),
            page_data(s)["required"].append("locale"),
        ),
        "data: field 'locale' is now required",
    ),
    "an enum value removed": (
        ORDER_V2,
        lambda s: order_data(s)["properties"]["channel"]["enum"].remove("store"),
        "data.channel: no longer accepts the value 'store'",
    ),
    "a number narrowed to an integer": (
        READING,
        lambda s: s["$defs"]["DeviceReadingWire"]["properties"]["temperature_c"].update(type="integer"),
        "data.temperature_c: no longer accepts number (now: integer)",
    ),
    "money no longer accepted as a number": (
        ORDER_V2,
        lambda s: order_line(s)["unit_price"]["anyOf"].pop(1),
        "data.items[].unit_price: no longer accepts number (now: string)",
    ),
    "null no longer accepted for an optional attribute": (
        PAGE,
        lambda s: s["properties"]["subject"]["anyOf"].pop(1),
        "subject: no longer accepts null (now: string)",
    ),
    "a max length lowered": (
        ORDER_V2,
        lambda s: order_line(s)["sku"].update(maxLength=16),
        "data.items[].sku: maxLength tightened from 32 to 16",
    ),
    "a minimum raised": (
        PAGE,
        lambda s: page_data(s)["properties"]["duration_ms"].update(minimum=1),
        "data.duration_ms: minimum tightened from 0 to 1",
    ),
    "a maximum number of items lowered": (
        ORDER_V2,
        lambda s: order_data(s)["properties"]["items"].update(maxItems=50),
        "data.items: maxItems tightened from 100 to 50",
    ),
    "a pattern changed": (
        ORDER_V2,
        lambda s: order_data(s)["properties"]["currency"].update(pattern="^(EUR|USD)$"),
        "data.currency: pattern changed from '^[A-Z]{3}$' to '^(EUR|USD)$'",
    ),
    "a pattern added": (
        PAGE,
        lambda s: page_data(s)["properties"]["session_id"].update(pattern="^s-"),
        "data.session_id: pattern '^s-' added",
    ),
    "an open value restricted to an enum": (
        PAGE,
        lambda s: s["properties"]["id"].update(enum=["a", "b"]),
        "id: is now restricted to 'a', 'b'",
    ),
    "extension names tightened": (
        PAGE,
        lambda s: s["propertyNames"]["anyOf"][1].update(pattern="^[a-z]{1,10}$"),
        "<member names>: pattern changed",
    ),
    "extension values narrowed": (
        PAGE,
        lambda s: s["additionalProperties"]["anyOf"].pop(1),
        "<other members>: no longer accepts integer",
    ),
    "an attribute declared where extensions were free": (
        PAGE,
        lambda s: s["properties"].update(traceparent={"type": "string", "maxLength": 55}),
        "traceparent: maxLength 55 added",
    ),
    "the type constant changed": (
        PAGE,
        lambda s: s["properties"]["type"].update(const="com.contoso.page.viewed.v9"),
        "type: no longer accepts the value 'com.contoso.page.viewed.v1'",
    ),
    "a published type no longer registered": (
        PAGE,
        lambda s: s.clear(),
        "",
    ),
}


@pytest.mark.parametrize("case", sorted(BREAKING_FOR_PRODUCERS))
def test_a_breaking_change_for_producers_fails_the_check(case: str) -> None:
    file, edit, expected = BREAKING_FOR_PRODUCERS[case]
    current = changed(file, edit)
    if case == "a published type no longer registered":
        del current[file]
        expected = "published type com.contoso.page.viewed.v1.schema.json is no longer registered"
    found = problems(current)
    assert found, case
    assert all(p.startswith(f"{file}: ") for p in found), found
    assert any(expected in p for p in found), found


COMPATIBLE_FOR_PRODUCERS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "an optional field added": (PAGE, lambda s: page_data(s)["properties"].update(locale={"type": "string"})),
    "a required field made optional": (ORDER_V2, lambda s: order_data(s)["required"].remove("channel")),
    "an enum value added": (ORDER_V2, lambda s: order_data(s)["properties"]["channel"]["enum"].append("kiosk")),
    "a max length raised": (ORDER_V2, lambda s: order_line(s)["sku"].update(maxLength=64)),
    "a minimum lowered": (ORDER_V2, lambda s: order_line(s)["quantity"].update(minimum=0)),
    "a pattern removed": (ORDER_V2, lambda s: order_data(s)["properties"]["currency"].pop("pattern")),
    "null accepted": (PAGE, lambda s: page_data(s)["properties"]["duration_ms"].update(type=["integer", "null"])),
    "an integer widened to a number": (PAGE, lambda s: page_data(s)["properties"]["duration_ms"].update(type="number")),
    "descriptions and titles edited": (PAGE, lambda s: s.update(description="new words", title=s["title"])),
    "a case-insensitive group spelt as an inline flag": (
        PAGE,
        lambda s: s["properties"]["datacontenttype"]["anyOf"][0].update(
            pattern=s["properties"]["datacontenttype"]["anyOf"][0]["pattern"].replace(
                "[Aa][Pp][Pp][Ll][Ii][Cc][Aa][Tt][Ii][Oo][Nn]/[Jj][Ss][Oo][Nn]", "(?i:application/json)"
            )
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(COMPATIBLE_FOR_PRODUCERS))
def test_a_compatible_change_for_producers_passes(case: str) -> None:
    file, edit = COMPATIBLE_FOR_PRODUCERS[case]
    current = changed(file, edit)
    assert current != PUBLISHED
    assert problems(current) == []


def test_a_new_type_is_not_a_breaking_change() -> None:
    current = copy.deepcopy(PUBLISHED)
    current["com.contoso.page.viewed.v2.schema.json"] = copy.deepcopy(PUBLISHED[PAGE])
    assert problems(current) == []


# -- readers: the documents the pipeline writes ------------------------------------------------------

BREAKING_FOR_READERS: dict[str, tuple[str, Callable[[dict[str, Any]], Any], str]] = {
    "a field dropped": (
        CURATED,
        lambda s: (curated_order(s)["properties"].pop("amount_usd"), curated_order(s)["required"].remove("amount_usd")),
        "[family=order.placed]: field 'amount_usd' may now be absent",
    ),
    "a field made optional": (
        AGGREGATE,
        lambda s: s["required"].remove("value_sum"),
        "field 'value_sum' may now be absent",
    ),
    "a type widened": (
        CURATED,
        lambda s: curated_order(s)["properties"]["item_count"].update(type="number"),
        "[family=order.placed].item_count: may now hold number",
    ),
    "null allowed": (
        AGGREGATE,
        lambda s: s["properties"]["event_count"].update(type=["integer", "null"]),
        "event_count: may now hold null",
    ),
    "a bound widened": (
        AGGREGATE,
        lambda s: s["properties"]["event_count"].update(minimum=0),
        "event_count: minimum is now 0, outside the published 1",
    ),
    "a pattern changed": (
        AGGREGATE,
        lambda s: s["properties"]["value_sum"].update(pattern="^.*$"),
        "value_sum: pattern changed from the published",
    ),
    "an enum lifted": (
        AGGREGATE,
        lambda s: s["properties"]["event_type"].pop("enum"),
        "event_type: may now hold values other than",
    ),
}


@pytest.mark.parametrize("case", sorted(BREAKING_FOR_READERS))
def test_a_breaking_change_for_readers_fails_the_check(case: str) -> None:
    file, edit, expected = BREAKING_FOR_READERS[case]
    found = problems(changed(file, edit))
    assert any(p.startswith(f"{file}: ") and expected in p for p in found), found


COMPATIBLE_FOR_READERS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "a new optional field": (CURATED, lambda s: curated_order(s)["properties"].update(coupon={"type": "string"})),
    "a new required field": (
        AGGREGATE,
        lambda s: (s["properties"].update(value_avg={"type": "string"}), s["required"].append("value_avg")),
    ),
    "a new enum value (a new channel)": (
        CURATED,
        lambda s: s["$defs"]["OrderPlaced"]["properties"]["channel"]["enum"].append("marketplace"),
    ),
    "a new family": (AGGREGATE, lambda s: s["properties"]["event_type"]["enum"].append("parcel.shipped")),
    "a new variant of the curated document": (
        CURATED,
        lambda s: (
            s["oneOf"].append({"$ref": "#/$defs/CuratedParcelShipped"}),
            s["$defs"].update(
                CuratedParcelShipped={"type": "object", "properties": {"family": {"const": "parcel.shipped"}}}
            ),
        ),
    ),
    "a bound tightened": (AGGREGATE, lambda s: s["properties"]["window_minutes"].update(maximum=1440)),
}


@pytest.mark.parametrize("case", sorted(COMPATIBLE_FOR_READERS))
def test_a_compatible_change_for_readers_passes(case: str) -> None:
    file, edit = COMPATIBLE_FOR_READERS[case]
    assert problems(changed(file, edit)) == []


def test_the_comparison_follows_references_and_unions() -> None:
    first = {
        "$defs": {"A": {"type": "object", "properties": {"n": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}},
        "$ref": "#/$defs/A",
    }
    second = {"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}}
    kinds = sorted((c.kind, c.path) for c in narrowings(first, second))
    assert kinds == [("bound", "n"), ("kind-narrowed", "n")]


# -- the command ---------------------------------------------------------------------------------------


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipeline")
    schema_commands.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_the_committed_schemas_pass_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_commands.run(_parse("schemas", "check")) == 0
    assert "no breaking change" in capsys.readouterr().out
    assert stale_files() == []


def _published_copy(tmp_path: Path, file: str, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of schemas/json in which one published file is edited (the models are then "changed")."""
    directory = tmp_path / "json"
    shutil.copytree(JSON_DIR, directory)
    schema = json.loads((directory / file).read_text(encoding="utf-8"))
    edit(schema)
    (directory / file).write_text(render(schema), encoding="utf-8")
    return directory


def test_the_check_fails_with_one_clear_line_per_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Published: sku up to 64 characters and a fax channel; the models now say 32 and no fax.
    def widen(schema: dict[str, Any]) -> None:
        order_line(schema)["sku"]["maxLength"] = 64
        order_data(schema)["properties"]["channel"]["enum"].append("fax")

    directory = _published_copy(tmp_path, ORDER_V2, widen)
    assert schema_commands.check(directory=directory) == 1
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines() if "BREAKING" in line]
    assert lines == [
        f"BREAKING {ORDER_V2}: data.items[].sku: maxLength tightened from 64 to 32",
        f"BREAKING {ORDER_V2}: data.channel: no longer accepts the value 'fax'",
    ]
    assert "2 breaking change(s)" in out


def test_export_refuses_to_overwrite_a_published_schema_with_a_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _published_copy(tmp_path, PAGE, lambda s: page_data(s)["required"].remove("session_id"))
    before = (directory / PAGE).read_text(encoding="utf-8")
    assert schema_commands.export(directory, docs=None) == 1
    assert "field 'session_id' is now required" in capsys.readouterr().err
    assert (directory / PAGE).read_text(encoding="utf-8") == before
    assert schema_commands.export(directory, allow_breaking=True, docs=None) == 0
    assert stale_files(directory) == []


def test_export_writes_what_is_stale_and_nothing_else(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = _published_copy(tmp_path, PAGE, lambda s: s.update(description="old words"))
    (directory / "documents" / "window-aggregate.schema.json").unlink()
    assert schema_commands.export(directory, docs=None) == 0
    out = capsys.readouterr().out
    assert out.count("wrote ") == 2 and PAGE in out and "window-aggregate" in out
    assert stale_files(directory) == []
    assert schema_commands.export(directory, docs=None) == 0
    assert "every schema is current" in capsys.readouterr().out


def test_compatible_changes_pass_the_check_and_ask_for_an_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _published_copy(tmp_path, ORDER_V2, lambda s: order_line(s)["sku"].update(maxLength=16))
    assert schema_commands.check(directory=directory) == 0
    assert "run `python -m pipeline schemas export`" in capsys.readouterr().out


def test_the_check_against_a_git_revision(capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("git") is None or not (JSON_DIR.parents[1] / ".git").exists():
        pytest.skip("not a git checkout")
    try:
        committed = schema_commands.git_schemas("HEAD")
    except schema_commands.BaselineError as error:
        pytest.skip(str(error))
    assert {name for name in committed if "/" not in name} >= {PAGE, ORDER_V2}
    assert schema_commands.run(_parse("schemas", "check", "--against", "HEAD")) in (0, 1)
    assert schema_commands.check(against="no-such-revision") == 2
    assert "no-such-revision" in capsys.readouterr().err
