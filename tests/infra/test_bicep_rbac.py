"""Role assignments: the identity gets exactly the data roles it needs, each named idempotently."""

from __future__ import annotations

from typing import Any

import pytest

from .bicep_ast import accessor, body, function, resources_of_type

ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
SQL_ROLE_ASSIGNMENT = "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"

ROLE_IDS = {
    "eventHubsDataReceiver": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    "eventHubsDataSender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageBlobDataContributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402"
COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"

# (scope symbol, role) the function app identity must hold.
APP_ROLES = {
    ("storage", "storageBlobDataOwner"),
    ("storage", "storageQueueDataContributor"),
    ("storage", "storageTableDataContributor"),
    ("eventHubNamespace", "eventHubsDataReceiver"),
    ("appInsights", "monitoringMetricsPublisher"),
}


def _all_assignments(asts: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (file, name, body(resource))
        for file, ast in asts.items()
        for kind in (ROLE_ASSIGNMENT, SQL_ROLE_ASSIGNMENT)
        for name, resource in resources_of_type(ast, kind).items()
    ]


def _role_variable(node: Any) -> str | None:
    """`roles.x` -> `x`; a plain variable name stays as it is."""
    path = accessor(node)
    return path.split(".", 1)[1] if path and path.startswith("roles.") else path


def test_role_assignments_exist_in_rbac_and_the_scheduler_module(asts: dict[str, dict[str, Any]]) -> None:
    files = {file for file, _, _ in _all_assignments(asts)}
    assert files == {"modules/rbac.bicep", "modules/durable-scheduler.bicep"}


def test_every_role_assignment_is_named_guid_of_scope_principal_and_role(asts: dict[str, dict[str, Any]]) -> None:
    for file, name, resource in _all_assignments(asts):
        args = function(resource["name"], "guid")
        assert args is not None, f"{file}:{name} is not named with guid()"
        values = list(args.values())
        assert len(values) == 3, f"{file}:{name}: guid(scope.id, principalId, roleDefinitionId)"
        scope, principal, role = values
        scope_symbol = resource.get("scope") or resource.get("parent")
        assert accessor(scope) == f"{scope_symbol}.id", f"{file}:{name}: first guid() argument"
        assert principal == resource["properties"]["principalId"], f"{file}:{name}: second guid() argument"
        if "roleDefinitionId" in resource["properties"] and function(
            resource["properties"]["roleDefinitionId"], "subscription_resource_id"
        ):
            role_in_definition = function(resource["properties"]["roleDefinitionId"], "subscription_resource_id")
            assert role == role_in_definition["resource_name_1"], f"{file}:{name}: third guid() argument"


def test_azure_role_assignments_use_built_in_role_definitions(asts: dict[str, dict[str, Any]], module_ast) -> None:
    known = set(ROLE_IDS.values()) | {DURABLE_TASK_DATA_CONTRIBUTOR}
    rbac_roles = module_ast("rbac")["variables"]["roles"]["value"]
    assert rbac_roles == {key: ROLE_IDS[key] for key in rbac_roles}
    for file, name, resource in _all_assignments(asts):
        if file.endswith("durable-scheduler.bicep"):
            assert asts[file]["variables"]["durableTaskDataContributorRoleId"]["value"] == DURABLE_TASK_DATA_CONTRIBUTOR
            continue
        if "scope" not in resource:  # Cosmos DB SQL role assignment
            continue
        definition = function(resource["properties"]["roleDefinitionId"], "subscription_resource_id")
        assert definition["resource_type"] == "Microsoft.Authorization/roleDefinitions", f"{file}:{name}"
        assert rbac_roles[_role_variable(definition["resource_name_1"])] in known


def _app_grants(module_ast) -> set[tuple[str, str]]:
    ast = module_ast("rbac")
    grants = set()
    for resource in resources_of_type(ast, ROLE_ASSIGNMENT).values():
        config = body(resource)
        if config["properties"]["principalId"] == "principalId":
            assert config["properties"]["principalType"] == "ServicePrincipal"
            definition = function(config["properties"]["roleDefinitionId"], "subscription_resource_id")
            grants.add((config["scope"], _role_variable(definition["resource_name_1"])))
    return grants


def test_function_identity_gets_exactly_its_data_roles(module_ast) -> None:
    assert _app_grants(module_ast) == APP_ROLES


def test_function_identity_gets_cosmos_built_in_data_contributor_on_the_account(module_ast) -> None:
    ast = module_ast("rbac")
    assert ast["variables"]["cosmosDataContributorRoleId"]["value"] == COSMOS_DATA_CONTRIBUTOR
    app = [
        body(resource)
        for resource in resources_of_type(ast, SQL_ROLE_ASSIGNMENT).values()
        if body(resource)["properties"]["principalId"] == "principalId"
    ]
    assert len(app) == 1
    properties = app[0]["properties"]
    assert app[0]["parent"] == "cosmos"
    assert properties["roleDefinitionId"] == "${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}"
    assert accessor(properties["scope"]) == "cosmos.id"


@pytest.mark.parametrize("kind", [ROLE_ASSIGNMENT, SQL_ROLE_ASSIGNMENT])
def test_deployer_roles_are_conditional_on_a_principal_id(module_ast, kind: str) -> None:
    for name, resource in resources_of_type(module_ast("rbac"), kind).items():
        if body(resource)["properties"]["principalId"] == "deployerPrincipalId":
            assert resource["config"]["condition"] == "hasDeployer", name


def test_scheduler_grants_durable_task_data_contributor_to_the_identity(module_ast) -> None:
    assignments = resources_of_type(module_ast("durable-scheduler"), ROLE_ASSIGNMENT)
    principals = {body(resource)["properties"]["principalId"] for resource in assignments.values()}
    assert principals == {"principalId", "deployerPrincipalId"}
    assert all(body(resource)["scope"] == "scheduler" for resource in assignments.values())


def test_main_passes_the_identity_principal_to_rbac(main_ast: dict[str, Any]) -> None:
    params = body(main_ast["modules"]["rbac"])["params"]
    assert accessor(params["principalId"]) == "identity.outputs.principalId"
    assert params["deployerPrincipalId"] == "deployerPrincipalId"
    assert main_ast["parameters"]["deployerPrincipalId"]["default"] == ""


# Built-in blob roles that include read, write, list and delete of blobs (and so suffice for the fold:
# create-only writes of `pending/`, reads, a listing, markers and deletes in `contributions`).
BLOB_READ_WRITE_LIST_DELETE = {"storageBlobDataOwner", "storageBlobDataContributor"}


def test_function_identity_can_read_write_list_and_delete_blobs_in_every_data_container(
    module_ast, main_ast: dict[str, Any]
) -> None:
    # The role is granted on the account the containers are created in, so it covers every one of
    # them (`contributions` included) without an assignment per container.
    blob_roles = {role for scope, role in _app_grants(module_ast) if scope == "storage"} & BLOB_READ_WRITE_LIST_DELETE
    assert blob_roles, "no blob data role with write, list and delete for the identity"
    account = module_ast("rbac")["resources"]["storage"]
    assert account["existing"] and account["type"] == "Microsoft.Storage/storageAccounts"
    assert body(account)["name"] == "storageAccountName"
    passed = body(main_ast["modules"]["rbac"])["params"]["storageAccountName"]
    assert accessor(passed) == "storage.outputs.name"
    assert body(main_ast["modules"]["storage"])["params"]["containerNames"]["function"]["parameters"]["arg_1"] == (
        "dataContainerNames"
    )
