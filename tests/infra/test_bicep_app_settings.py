"""The function app gets exactly the identity-based settings the Python code and host.json read."""

from __future__ import annotations

import re
from typing import Any

from .bicep_ast import REPO, body, function, one_resource, strip_comments

REQUIRED_SETTINGS = {
    "AzureWebJobsStorage__blobServiceUri": "storageBlobEndpoint",
    "AzureWebJobsStorage__queueServiceUri": "storageQueueEndpoint",
    "AzureWebJobsStorage__tableServiceUri": "storageTableEndpoint",
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": "identityClientId",
    "EventHubConnection__fullyQualifiedNamespace": "eventHubFullyQualifiedNamespace",
    "EventHubConnection__credential": "managedidentity",
    "EventHubConnection__clientId": "identityClientId",
    "EVENTHUB_NAME": "eventHubName",
    "EVENTHUB_CONSUMER_GROUP": "eventHubConsumerGroupName",
    "DataStorage__blobServiceUri": "storageBlobEndpoint",
    "DataStorage__queueServiceUri": "storageQueueEndpoint",
    "DataStorage__credential": "managedidentity",
    "DataStorage__clientId": "identityClientId",
    "CosmosDB__accountEndpoint": "cosmosEndpoint",
    "CosmosDB__credential": "managedidentity",
    "CosmosDB__clientId": "identityClientId",
    "COSMOS_DATABASE": "cosmosDatabaseName",
    "AZURE_CLIENT_ID": "identityClientId",
    "WINDOW_MINUTES": {"function": {"type": "string", "parameters": {"value_to_convert": "windowMinutes"}}},
    "APPLICATIONINSIGHTS_CONNECTION_STRING": None,  # checked below: the component's endpoint
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD;ClientId=${identityClientId}",
}

SCHEDULER_SETTINGS = {
    "AzureFunctionsJobHost__extensions__durableTask__storageProvider__type": "azureManaged",
    "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName": (
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"
    ),
    "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": (
        "Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}"
    ),
}

# Flex Consumption rejects these; identity-based connections replace the others.
FORBIDDEN_SETTINGS = re.compile(
    r"^(FUNCTIONS_WORKER_RUNTIME|FUNCTIONS_EXTENSION_VERSION|WEBSITE_RUN_FROM_PACKAGE|WEBSITE_CONTENT.*|"
    r"WEBSITE_NODE_DEFAULT_VERSION|AzureWebJobsStorage|AzureWebJobsDashboard|.*__accountKey|.*ConnectionString|"
    r"APPINSIGHTS_INSTRUMENTATIONKEY)$"
)


def _settings(ast: dict[str, Any], variable: str) -> dict[str, Any]:
    value = ast["variables"][variable]["value"]
    if isinstance(value, dict):  # `condition ? [...] : []`
        value = value["operator"]["operands"]["true_value"]
    names = [entry["name"] for entry in value]
    assert len(names) == len(set(names)), f"duplicate settings in {variable}"
    return {entry["name"]: entry["value"] for entry in value}


def test_app_settings_are_wired_from_the_base_and_the_scheduler_lists(module_ast) -> None:
    site = body(one_resource(module_ast("functionapp"), "Microsoft.Web/sites"))
    concat = function(site["properties"]["siteConfig"]["appSettings"], "concat")
    assert concat == {"arg_1": "baseAppSettings", "arg_2": "durableTaskSchedulerAppSettings"}
    condition = module_ast("functionapp")["variables"]["durableTaskSchedulerAppSettings"]["value"]
    assert condition["operator"]["operands"]["condition"] == "useDurableTaskScheduler"
    assert condition["operator"]["operands"]["false_value"] == []


def test_app_settings_have_exactly_the_names_the_code_reads(module_ast) -> None:
    assert set(_settings(module_ast("functionapp"), "baseAppSettings")) == set(REQUIRED_SETTINGS)


def test_every_connection_is_identity_based_with_the_user_assigned_client_id(module_ast) -> None:
    settings = _settings(module_ast("functionapp"), "baseAppSettings")
    for name, expected in REQUIRED_SETTINGS.items():
        if expected is not None:
            assert settings[name] == expected, name
    for connection in ("AzureWebJobsStorage", "EventHubConnection", "DataStorage", "CosmosDB"):
        assert settings[f"{connection}__credential"] == "managedidentity"
        assert settings[f"{connection}__clientId"] == "identityClientId"


def test_application_insights_uses_its_endpoint_and_entra_authentication(module_ast) -> None:
    settings = _settings(module_ast("functionapp"), "baseAppSettings")
    value = settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]
    operands = value["operator"]["operands"]
    assert operands["operand_1"] == "appInsights"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD;ClientId=${identityClientId}"


def test_no_legacy_or_key_based_setting(module_ast) -> None:
    ast = module_ast("functionapp")
    names = set(_settings(ast, "baseAppSettings")) | set(_settings(ast, "durableTaskSchedulerAppSettings"))
    allowed_names = {"APPLICATIONINSIGHTS_CONNECTION_STRING", "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"}
    for name in names - allowed_names:
        assert not FORBIDDEN_SETTINGS.match(name), name
    text = strip_comments((REPO / "bicep" / "modules" / "functionapp.bicep").read_text(encoding="utf-8"))
    for legacy in ("FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENT", "linuxFxVersion"):
        assert legacy not in text, legacy


def test_durable_task_scheduler_settings_switch_the_backend_with_the_identity(module_ast) -> None:
    assert _settings(module_ast("functionapp"), "durableTaskSchedulerAppSettings") == SCHEDULER_SETTINGS


def test_main_passes_the_real_endpoints_and_names_to_the_app(main_ast: dict[str, Any]) -> None:
    params = body(main_ast["modules"]["functionApp"])["params"]
    assert params["identityClientId"]["operator"]["operands"]["operand_1"] == "identity"
    expected_sources = {
        "storageBlobEndpoint": "storage",
        "storageQueueEndpoint": "storage",
        "storageTableEndpoint": "storage",
        "eventHubFullyQualifiedNamespace": "eventHubs",
        "eventHubName": "eventHubs",
        "eventHubConsumerGroupName": "eventHubs",
        "cosmosEndpoint": "cosmos",
        "appInsightsName": "monitoring",
    }
    for param, module in expected_sources.items():
        assert params[param]["operator"]["operands"]["operand_1"] == module, param
    assert main_ast["parameters"]["windowMinutes"]["default"] == 1


# ---- the Python side reads what the Bicep sets ----

# Names the code may read that the Bicep deliberately does not set: local-only values
# (emulator connection strings and keys), optional tuning with a default in code, and variables the
# platform sets on each instance.
LOCAL_OR_OPTIONAL = {
    "DataStorage",
    "CosmosDB__accountKey",
    "CosmosDB__verifyTls",
    "INGEST_BATCH_SIZE",
    "LOG_LEVEL",
    "TRACE_AZURE_SDK",
    "HTTP_MAX_BODY_BYTES",
    "HTTP_MAX_BATCH_EVENTS",
    "RECONCILE_GRACE_SECONDS",
    # Set by App Service on each instance; where it is missing, the reconciliation sweep judges a
    # batch by its grace period alone.
    "WEBSITE_INSTANCE_ID",
    # The HTTP stack's own: where a netrc file is (`pipeline/stores/http.py` asks as aiohttp would).
    "NETRC",
}


def _python_sources() -> str:
    files = [REPO / "function_app.py", *sorted((REPO / "orchestrations").glob("*.py"))]
    files += sorted((REPO / "pipeline").rglob("*.py"))
    return "\n".join(path.read_text(encoding="utf-8") for path in files if path.is_file())


def test_trigger_bindings_resolve_against_the_app_settings(module_ast) -> None:
    settings = set(_settings(module_ast("functionapp"), "baseAppSettings"))
    code = _python_sources()
    for name in set(re.findall(r'"%([A-Za-z0-9_]+)%"', code)):
        assert name in settings, f"binding expression %{name}% has no app setting"
    for connection in set(re.findall(r'connection\s*=\s*"([A-Za-z0-9_]+)"', code)):
        assert any(setting.startswith(f"{connection}__") for setting in settings), connection


def test_settings_the_code_reads_are_set_by_the_bicep(module_ast) -> None:
    settings = set(_settings(module_ast("functionapp"), "baseAppSettings"))
    code = _python_sources()
    read = set(re.findall(r'env(?:iron)?\.get\(\s*"([A-Za-z0-9_]+)"', code))
    read |= set(re.findall(r'_positive_int\(\s*env,\s*"([A-Za-z0-9_]+)"', code))
    missing = read - settings - LOCAL_OR_OPTIONAL
    assert not missing, f"the code reads settings the Bicep does not set: {sorted(missing)}"
