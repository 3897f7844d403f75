"""Retention: what the data account's lifecycle rules delete, and how long Cosmos DB keeps documents.

The ages are parameters, guarded by decorators, and the rules are checked against the blob names the
code writes (`pipeline/contributions.py`, `pipeline/ingest.py`, `pipeline/batch.py`), so a rule that
would delete what the fold still needs, or miss what it leaves behind, fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.batch import result_blob
from pipeline.contributions import CURRENT_FOLD, folded_blob, pending_blob
from pipeline.ingest import events_blob, manifest_blob
from pipeline.settings import (
    BLOB_CONTAINERS,
    CONTAINER_BATCHES,
    CONTAINER_CONTRIBUTIONS,
    CONTAINER_DEADLETTER,
    COSMOS_AGGREGATES,
    COSMOS_EVENTS,
)

from .bicep_ast import body, one_resource, refuses, resources_of_type
from .bicep_eval import Evaluator

MANAGEMENT_POLICY = "Microsoft.Storage/storageAccounts/managementPolicies"
COSMOS_CONTAINER = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"
INT32_MAX = 2**31 - 1  # `defaultTtl` is a 32-bit number of seconds
DAY = 86400


def _rules(module_ast) -> list[dict[str, Any]]:
    policy = body(one_resource(module_ast("storage"), MANAGEMENT_POLICY))
    assert policy["parent"] == "storage"
    assert policy["name"] == "default"  # the only name a management policy takes
    return policy["properties"]["policy"]["rules"]


def _deleting(rules: list[dict[str, Any]], blob_path: str) -> list[dict[str, Any]]:
    """The enabled rules that delete `container/blob` (a prefix match, as the service does)."""
    return [
        rule
        for rule in rules
        if rule["enabled"] is True
        and any(blob_path.startswith(prefix) for prefix in rule["definition"]["filters"]["prefixMatch"])
    ]


def _delete_age(rule: dict[str, Any]) -> Any:
    assert rule["type"] == "Lifecycle"
    assert rule["definition"]["filters"]["blobTypes"] == ["blockBlob"]
    return rule["definition"]["actions"]["baseBlob"]["delete"]["daysAfterModificationGreaterThan"]


def test_folded_markers_are_deleted_after_the_marker_retention(module_ast) -> None:
    rules = _rules(module_ast)
    marker = f"{CONTAINER_CONTRIBUTIONS}/{folded_blob('batch-1@0123456789ab')}"
    matching = _deleting(rules, marker)
    assert len(matching) == 1, "one rule deletes the fold markers"
    assert matching[0]["definition"]["filters"]["prefixMatch"] == [f"{CONTAINER_CONTRIBUTIONS}/folded/"]
    assert _delete_age(matching[0]) == "foldedMarkerRetentionDays"


@pytest.mark.parametrize(
    "blob",
    [
        f"{CONTAINER_CONTRIBUTIONS}/{pending_blob('batch-1@0123456789ab')}",  # not folded yet
        f"{CONTAINER_CONTRIBUTIONS}/{CURRENT_FOLD}",  # a fold in progress
        f"{CONTAINER_DEADLETTER}/unknown_tenant/batch-1/0.json",  # waits for triage and replay
    ],
)
def test_no_rule_deletes_what_is_still_to_be_folded_or_replayed(module_ast, blob: str) -> None:
    assert _deleting(_rules(module_ast), blob) == [], blob


def test_batch_files_are_deleted_after_the_batch_retention(module_ast) -> None:
    rules = _rules(module_ast)
    for name in (events_blob("eh-x-0-1-100"), manifest_blob("eh-x-0-1-100"), result_blob("eh-x-0-1-100")):
        matching = _deleting(rules, f"{CONTAINER_BATCHES}/{name}")
        assert len(matching) == 1, name
        assert matching[0]["definition"]["filters"]["prefixMatch"] == [f"{CONTAINER_BATCHES}/"]
        assert _delete_age(matching[0]) == "batchRetentionDays"


def test_every_rule_names_a_data_container(module_ast) -> None:
    for rule in _rules(module_ast):
        for prefix in rule["definition"]["filters"]["prefixMatch"]:
            assert prefix.partition("/")[0] in BLOB_CONTAINERS, prefix


def test_main_sets_the_lifecycle_ages_from_its_parameters(main_ast: dict[str, Any]) -> None:
    params = body(main_ast["modules"]["storage"])["params"]
    assert params["batchRetentionDays"] == "batchRetentionDays"
    # A marker must outlive the events it stands for (see main.bicep): kept as long as the events.
    assert params["foldedMarkerRetentionDays"] == "eventRetentionDays"


def test_batch_retention_outlasts_the_event_hubs_retention(main_ast: dict[str, Any], module_ast) -> None:
    longest_hub_retention = next(
        d["argument"]
        for d in main_ast["parameters"]["eventHubMessageRetentionInDays"]["decorators"]
        if d["type"] == "max_value"
    )
    for param in (
        main_ast["parameters"]["batchRetentionDays"],
        module_ast("storage")["parameters"]["batchRetentionDays"],
    ):
        assert refuses(param, longest_hub_retention)
        assert not refuses(param, longest_hub_retention + 1)
        assert not refuses(param, param["default"])


def _cosmos_containers(module_ast) -> dict[str, dict[str, Any]]:
    found = resources_of_type(module_ast("cosmos"), COSMOS_CONTAINER)
    return {body(resource)["name"]: body(resource)["properties"]["resource"] for resource in found.values()}


@pytest.mark.parametrize("days", [30, 90, 365, 24855])
def test_events_expire_after_the_event_retention(module_ast, days: int) -> None:
    ast = module_ast("cosmos")
    ttl = Evaluator(ast, {"eventRetentionDays": days}).value(
        _cosmos_containers(module_ast)[COSMOS_EVENTS]["defaultTtl"], {}
    )
    assert ttl == days * DAY
    assert 0 < ttl <= INT32_MAX


@pytest.mark.parametrize(("days", "ttl"), [(0, -1), (30, 30 * DAY), (24855, 24855 * DAY)])
def test_aggregate_rows_are_kept_unless_a_retention_is_set(module_ast, days: int, ttl: int) -> None:
    ast = module_ast("cosmos")
    assert ast["parameters"]["aggregateRetentionDays"]["default"] == 0
    value = Evaluator(ast, {"aggregateRetentionDays": days}).value(
        _cosmos_containers(module_ast)[COSMOS_AGGREGATES]["defaultTtl"], {}
    )
    assert value == ttl  # -1: time to live on, nothing expires
    assert value <= INT32_MAX


@pytest.mark.parametrize("days", [-1, 0, 1, 7, 29, 24856])
def test_an_event_retention_too_short_or_too_long_is_refused(main_ast: dict[str, Any], module_ast, days: int) -> None:
    # Too short: duplicate detection would forget events that can still be delivered again. Too long:
    # the seconds no longer fit `defaultTtl`.
    assert refuses(main_ast["parameters"]["eventRetentionDays"], days)
    assert refuses(module_ast("cosmos")["parameters"]["eventRetentionDays"], days)


def test_event_retention_outlasts_the_event_hubs_and_batch_retention(main_ast: dict[str, Any]) -> None:
    params = main_ast["parameters"]
    event_retention = params["eventRetentionDays"]
    assert not refuses(event_retention, event_retention["default"])
    shortest = next(d["argument"] for d in event_retention["decorators"] if d["type"] == "min_value")
    hub_longest = next(
        d["argument"] for d in params["eventHubMessageRetentionInDays"]["decorators"] if d["type"] == "max_value"
    )
    assert shortest > hub_longest
    assert shortest > params["batchRetentionDays"]["default"]


@pytest.mark.parametrize("days", [-1, 24856])
def test_an_aggregate_retention_out_of_range_is_refused(main_ast: dict[str, Any], module_ast, days: int) -> None:
    assert refuses(main_ast["parameters"]["aggregateRetentionDays"], days)
    assert refuses(module_ast("cosmos")["parameters"]["aggregateRetentionDays"], days)


def test_main_passes_the_retention_parameters_to_cosmos(main_ast: dict[str, Any]) -> None:
    params = body(main_ast["modules"]["cosmos"])["params"]
    assert params["eventRetentionDays"] == "eventRetentionDays"
    assert params["aggregateRetentionDays"] == "aggregateRetentionDays"


@pytest.mark.parametrize("name", ["eventRetentionDays", "aggregateRetentionDays", "batchRetentionDays"])
def test_retention_parameters_say_what_they_delete(main_ast: dict[str, Any], name: str) -> None:
    text = next(d["argument"] for d in main_ast["parameters"][name]["decorators"] if d["type"] == "description")
    assert text.startswith("Optional. Days ")
    if name == "eventRetentionDays":  # the caveat a deployer must know
        assert "delivered again" in text and "stored and counted again" in text
