"""The platform's resources are declared with the shapes the code and the operations rely on."""

from __future__ import annotations

import json
from typing import Any

from pipeline.aggregates import AGGREGATES_PARTITION_KEY
from pipeline.persist import EVENTS_PARTITION_KEY
from pipeline.settings import BLOB_CONTAINERS, COSMOS_AGGREGATES, COSMOS_EVENTS

from .bicep_ast import REPO, accessor, body, one_resource, resources_of_type, walk


def _module_params(main_ast: dict[str, Any], symbol: str) -> dict[str, Any]:
    return body(main_ast["modules"][symbol])["params"]


def test_main_declares_every_blob_container_the_code_uses_and_the_deployment_container(
    main_ast: dict[str, Any],
) -> None:
    variables = main_ast["variables"]
    data_containers = variables["dataContainerNames"]["value"]
    assert len(data_containers) == len(set(data_containers))
    assert set(data_containers) == set(BLOB_CONTAINERS)  # pipeline/settings.py
    deployment = variables["deploymentContainerName"]["value"]
    assert isinstance(deployment, str) and deployment
    containers = _module_params(main_ast, "storage")["containerNames"]
    assert containers["function"]["parameters"]["arg_1"] == "dataContainerNames"
    assert _module_params(main_ast, "functionApp")["deploymentContainerName"] == "deploymentContainerName"


def test_storage_creates_every_container_it_is_given(module_ast) -> None:
    container = one_resource(module_ast("storage"), "Microsoft.Storage/storageAccounts/blobServices/containers")
    loop = container["config"]["loop_type"]["detail"]
    assert loop["array_name"] == "containerNames"
    assert body(container)["name"] == loop["item_name"]


def test_event_hubs_namespace_hub_and_consumer_group_follow_the_params(module_ast) -> None:
    ast = module_ast("eventhubs")
    namespace = body(one_resource(ast, "Microsoft.EventHub/namespaces"))
    assert namespace["sku"]["capacity"]["operator"]["operands"]["false_value"] == "throughputUnits"
    hub = body(one_resource(ast, "Microsoft.EventHub/namespaces/eventhubs"))
    assert hub["parent"] == "namespace"
    assert hub["properties"]["partitionCount"] == "partitionCount"
    group = body(one_resource(ast, "Microsoft.EventHub/namespaces/eventhubs/consumergroups"))
    assert group["parent"] == "hub"
    assert group["name"] == "consumerGroupName"


def test_cosmos_is_serverless_by_default_with_autoscale_as_an_option(module_ast, main_ast) -> None:
    ast = module_ast("cosmos")
    assert ast["parameters"]["capacityMode"]["default"] == "serverless"
    assert main_ast["parameters"]["cosmosCapacityMode"]["default"] == "serverless"
    account = body(one_resource(ast, "Microsoft.DocumentDB/databaseAccounts"))
    capabilities = account["properties"]["capabilities"]["operator"]["operands"]
    assert capabilities["true_value"] == [{"name": "EnableServerless"}]
    database = body(one_resource(ast, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases"))
    options = database["properties"]["options"]["operator"]["operands"]
    assert options["false_value"]["autoscaleSettings"]["maxThroughput"] == "autoscaleMaxThroughput"
    assert main_ast["parameters"]["cosmosDatabaseName"]["default"] == "pipeline"


def _containers(ast: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources_of_type(ast, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers")
    return {body(resource)["name"]: body(resource)["properties"]["resource"] for resource in found.values()}


def _index(resource: dict[str, Any]) -> tuple[list[str], list[str]]:
    policy = resource["indexingPolicy"]
    return [p["path"] for p in policy["includedPaths"]], [p["path"] for p in policy["excludedPaths"]]


def test_cosmos_events_container_has_the_partition_key_the_code_writes_with(module_ast) -> None:
    # pipeline/persist.py sends a tenant's new documents as transactional batches on this key: a
    # container on any other key refuses every batch.
    events = _containers(module_ast("cosmos"))[COSMOS_EVENTS]
    assert events["partitionKey"] == {"paths": [EVENTS_PARTITION_KEY], "kind": "Hash"}


def test_cosmos_events_container_indexes_only_tenant_and_date(module_ast) -> None:
    events = _containers(module_ast("cosmos"))[COSMOS_EVENTS]
    assert _index(events) == (["/tenantid/?", "/event_date/?"], ["/*"])


def test_cosmos_aggregates_container_has_the_partition_key_the_code_writes_with(module_ast) -> None:
    aggregates = _containers(module_ast("cosmos"))[COSMOS_AGGREGATES]
    assert aggregates["partitionKey"] == {"paths": [AGGREGATES_PARTITION_KEY], "kind": "Hash"}
    assert _index(aggregates) == (["/event_type/?", "/window_start/?", "/window_minutes/?"], ["/*"])


def test_cosmos_declares_exactly_the_containers_the_code_uses(module_ast) -> None:
    assert set(_containers(module_ast("cosmos"))) == {COSMOS_EVENTS, COSMOS_AGGREGATES}


def test_flex_consumption_plan_is_fc1(module_ast) -> None:
    plan = body(one_resource(module_ast("functionapp"), "Microsoft.Web/serverfarms"))
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True


def test_function_app_config_runs_python_311_from_identity_deployment_storage(module_ast, main_ast) -> None:
    ast = module_ast("functionapp")
    site = body(one_resource(ast, "Microsoft.Web/sites"))
    assert site["kind"] == "functionapp,linux"
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "pythonVersion"}
    assert ast["parameters"]["pythonVersion"]["default"] == "3.11"
    assert _module_params(main_ast, "functionApp")["pythonVersion"] == "3.11"
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["value"] == "${storageBlobEndpoint}${deploymentContainerName}"
    assert storage["authentication"] == {
        "type": "UserAssignedIdentity",
        "userAssignedIdentityResourceId": "identityResourceId",
    }
    scale = config["scaleAndConcurrency"]
    assert scale == {"instanceMemoryMB": "instanceMemoryMB", "maximumInstanceCount": "maximumInstanceCount"}
    assert _module_params(main_ast, "functionApp")["instanceMemoryMB"] == "functionInstanceMemoryMB"
    assert _module_params(main_ast, "functionApp")["maximumInstanceCount"] == "functionMaximumInstanceCount"


def test_function_app_is_tagged_for_azd(module_ast) -> None:
    site = body(one_resource(module_ast("functionapp"), "Microsoft.Web/sites"))
    # pycep keeps the quotes of a quoted object key.
    assert {"'azd-service-name'": "api"} in walk(site["tags"])


def test_event_grid_system_topic_watches_the_storage_account(module_ast, main_ast) -> None:
    topic = body(one_resource(module_ast("eventgrid"), "Microsoft.EventGrid/systemTopics"))
    assert topic["properties"] == {"source": "storageAccountId", "topicType": "Microsoft.Storage.StorageAccounts"}
    assert accessor(_module_params(main_ast, "eventGrid")["storageAccountId"]) == "storage.outputs.resourceId"
    # The subscription needs the app's blobs_extension key: it is created after deployment, not here.
    for ast in (module_ast("eventgrid"), main_ast):
        assert not resources_of_type(ast, "Microsoft.EventGrid/systemTopics/eventSubscriptions")


def test_durable_task_scheduler_is_optional_and_uses_the_host_json_hub(module_ast, main_ast) -> None:
    assert main_ast["parameters"]["durableBackend"]["default"] == "azureStorage"
    module = main_ast["modules"]["durableTaskScheduler"]
    assert module["config"]["condition"] == "useDurableTaskScheduler"
    assert body(module)["params"]["taskHubName"] == "durableTaskHubName"
    hub_name = main_ast["variables"]["durableTaskHubName"]["value"]
    host = json.loads((REPO / "host.json").read_text(encoding="utf-8"))
    assert host["extensions"]["durableTask"]["hubName"] == hub_name == "EventPipeline"
    ast = module_ast("durable-scheduler")
    one_resource(ast, "Microsoft.DurableTask/schedulers")
    assert body(one_resource(ast, "Microsoft.DurableTask/schedulers/taskHubs"))["name"] == "taskHubName"


def test_diagnostic_settings_cover_storage_event_hubs_cosmos_and_the_app(module_ast) -> None:
    settings = resources_of_type(module_ast("diagnostics"), "Microsoft.Insights/diagnosticSettings")
    scopes = {body(setting)["scope"] for setting in settings.values()}
    assert scopes == {"blobService", "eventHubNamespace", "cosmos", "functionApp"}
    for setting in settings.values():
        assert body(setting)["properties"]["workspaceId"] == "workspaceResourceId"


def test_alerts_cover_function_failures_dead_letters_and_event_hubs_backlog(module_ast) -> None:
    ast = module_ast("alerts")
    metrics = resources_of_type(ast, "Microsoft.Insights/metricAlerts")
    metric_names = {
        criterion["metricName"]
        for alert in metrics.values()
        for criterion in body(alert)["properties"]["criteria"]["allOf"]
    }
    assert {"requests/failed", "ThrottledRequests"} <= metric_names
    queries = resources_of_type(ast, "Microsoft.Insights/scheduledQueryRules")
    query_vars = {body(rule)["properties"]["criteria"]["allOf"][0]["query"] for rule in queries.values()}
    texts = [ast["variables"][name]["value"] for name in query_vars]
    assert any("StorageBlobLogs" in text and "/deadletter/" in text for text in texts)
    assert any("IncomingMessages" in text and "OutgoingMessages" in text for text in texts)
