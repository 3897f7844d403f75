"""No keys anywhere: local auth is disabled on every service and nothing reads or writes a secret."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .bicep_ast import BICEP, MODULES, bicep_files, body, one_resource, resources_of_type, strip_comments, walk

# Calls and literals that would put a key or a key-bearing connection string into a deployment.
FORBIDDEN = [
    r"\blist[A-Za-z]*\(",  # listKeys(), listConnectionStrings(), listAccountSas(), listSecrets() ...
    r"\.list[A-Za-z]*\(",
    r"AccountKey=",
    r"SharedAccessKey",
    r"SharedAccessSignature",
    r"InstrumentationKey",
    r"primaryKey",
    r"secondaryKey",
    r"primaryMasterKey",
    r"primaryConnectionString",
    r"connectionStrings\s*:",
    r"DefaultEndpointsProtocol",
    r"@secure\(\)",  # nothing here is secret: there is nothing to pass
]


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_no_key_calls_or_key_literals(path: Path) -> None:
    text = strip_comments(path.read_text(encoding="utf-8"))
    for pattern in FORBIDDEN:
        assert not re.search(pattern, text), f"{path.name}: {pattern}"


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(BICEP).as_posix())
def test_connection_string_appears_only_as_the_app_insights_endpoint_or_a_setting_name(path: Path) -> None:
    # Allowed: Application Insights' ConnectionString (an ingestion endpoint, no key when local auth is
    # off) and the host.json `connectionStringName` override that points at the scheduler setting.
    for line in strip_comments(path.read_text(encoding="utf-8")).splitlines():
        if re.search("connectionstring", line, re.IGNORECASE):
            assert "appInsights.properties.ConnectionString" in line or "connectionStringName" in line, line


def test_storage_account_is_entra_only_https_only_tls12(module_ast) -> None:
    props = body(one_resource(module_ast("storage"), "Microsoft.Storage/storageAccounts"))["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["defaultToOAuthAuthentication"] is True
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["allowCrossTenantReplication"] is False


def test_blob_containers_are_private(module_ast) -> None:
    ast = module_ast("storage")
    container = one_resource(ast, "Microsoft.Storage/storageAccounts/blobServices/containers")
    assert body(container)["properties"]["publicAccess"] == "None"


def test_event_hubs_namespace_disables_local_auth(module_ast) -> None:
    props = body(one_resource(module_ast("eventhubs"), "Microsoft.EventHub/namespaces"))["properties"]
    assert props["disableLocalAuth"] is True
    assert props["minimumTlsVersion"] == "1.2"


def test_cosmos_account_disables_local_auth_and_key_metadata_writes(module_ast) -> None:
    props = body(one_resource(module_ast("cosmos"), "Microsoft.DocumentDB/databaseAccounts"))["properties"]
    assert props["disableLocalAuth"] is True
    assert props["disableKeyBasedMetadataWriteAccess"] is True
    assert props["minimalTlsVersion"] == "Tls12"


def test_application_insights_and_workspace_disable_local_auth(module_ast) -> None:
    ast = module_ast("monitoring")
    insights = body(one_resource(ast, "Microsoft.Insights/components"))["properties"]
    assert insights["DisableLocalAuth"] is True
    assert insights["WorkspaceResourceId"] is not None
    workspace = body(one_resource(ast, "Microsoft.OperationalInsights/workspaces"))["properties"]
    assert workspace["features"]["disableLocalAuth"] is True


def _publishing_policies(ast: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources_of_type(ast, "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    return {body(resource)["name"]: body(resource) for resource in found.values()}


def test_function_app_is_https_only_and_has_no_basic_publishing_credentials(module_ast) -> None:
    ast = module_ast("functionapp")
    site = body(one_resource(ast, "Microsoft.Web/sites"))
    assert site["properties"]["httpsOnly"] is True
    assert site["properties"]["siteConfig"]["minTlsVersion"] == "1.2"
    policies = _publishing_policies(ast)
    assert sorted(policies) == ["ftp", "scm"]
    assert all(policy["parent"] == "site" and policy["properties"]["allow"] is False for policy in policies.values())


def test_ftp_is_off_through_the_ftp_publishing_policy_not_site_config(module_ast) -> None:
    # Flex Consumption rejects `siteConfig.ftpsState` (ARM error 51021): the FTP/FTPS endpoint is
    # closed by the `ftp` basic publishing credentials policy instead, and that is what checkov's
    # CKV_AZURE_78 (which reads ftpsState) is skipped for, inline on the site.
    ast = module_ast("functionapp")
    ftp = _publishing_policies(ast)["ftp"]
    assert ftp["parent"] == "site"
    assert ftp["properties"] == {"allow": False}
    text = (MODULES / "functionapp.bicep").read_text(encoding="utf-8")
    assert re.search(r"checkov:skip=CKV_AZURE_78:\s*\S", text), "the reviewed CKV_AZURE_78 skip and its reason"
    for path in bicep_files():
        if path.name != "functionapp.bicep":
            assert "CKV_AZURE_78" not in path.read_text(encoding="utf-8"), path.name


# Site properties the Flex Consumption plan does not support ("Flex Consumption plan deprecations",
# Azure Functions app settings reference). Newer regions reject the whole site PUT when one is set:
# "The following site configuration property (Site.SiteConfig.FtpsState) for Flex Consumption sites
# is invalid" (ARM error 51021). Compared case-insensitively, as ARM does.
FLEX_UNSUPPORTED_SITE_PROPERTIES = {
    "ftpsstate",  # FTPS not supported
    "use32bitworkerprocess",  # 32-bit not supported
    "isreserved",
    "isxenon",
    "windowsfxversion",
    "alwayson",
    "prewarmedinstancecount",  # always-ready instances in functionAppConfig.scaleAndConcurrency
    "functionappscalelimit",  # functionAppConfig.scaleAndConcurrency.maximumInstanceCount
    "containersize",  # functionAppConfig.scaleAndConcurrency.instanceMemoryMB
    "javaversion",  # functionAppConfig.runtime.version
    "powershellversion",
    "netframeworkversion",
    "linuxfxversion",  # functionAppConfig.runtime
}


def test_flex_site_sets_no_site_property_flex_consumption_rejects(module_ast) -> None:
    site = body(one_resource(module_ast("functionapp"), "Microsoft.Web/sites"))
    properties = site["properties"]
    keys = {key.strip("'").lower() for key in properties} | {key.strip("'").lower() for key in properties["siteConfig"]}
    assert not keys & FLEX_UNSUPPORTED_SITE_PROPERTIES, sorted(keys & FLEX_UNSUPPORTED_SITE_PROPERTIES)
    # What is left was checked against that list: TLS floors, HTTP/2 and the app settings. A new
    # siteConfig property is added here only after checking it against the list.
    assert set(properties["siteConfig"]) == {"minTlsVersion", "scmMinTlsVersion", "http20Enabled", "appSettings"}


def test_function_app_uses_only_the_user_assigned_identity(module_ast) -> None:
    site = body(one_resource(module_ast("functionapp"), "Microsoft.Web/sites"))
    assert site["identity"]["type"] == "UserAssigned"
    assert list(site["identity"]["userAssignedIdentities"]) == ["'${identityResourceId}'"]  # quoted key


def test_no_output_exposes_anything_but_names_ids_and_endpoints(asts: dict[str, dict[str, Any]]) -> None:
    for file, ast in asts.items():
        for name, output in ast.get("outputs", {}).items():
            text = str(list(walk(output["value"]))).lower()
            assert "key" not in name.lower() and "secret" not in name.lower(), f"{file}: output {name}"
            assert "connectionstring" not in text, f"{file}: output {name}"
