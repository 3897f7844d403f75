"""Parameter values that Azure would reject are refused by a decorator or cleaned by a derivation
before any resource is deployed: bad names, Premium capacities, an auto-inflate maximum of 0 and
azd environment names longer than the resource names can carry."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .bicep_ast import body, refuses
from .bicep_eval import Evaluator

# Name rules of the resource types (Azure resource naming rules): characters, first and last
# character, and maximum length. Storage accounts take lowercase letters and digits only.
_HYPHENATED = r"[a-z][a-z0-9-]*[a-z0-9]"
NAME_RULES: dict[tuple[str, str], tuple[str, int]] = {
    ("storage", "name"): (r"[a-z0-9]{3,24}", 24),
    ("cosmos", "accountName"): (_HYPHENATED, 44),
    ("eventHubs", "namespaceName"): (_HYPHENATED, 50),
    ("functionApp", "name"): (_HYPHENATED, 60),
    ("functionApp", "planName"): (_HYPHENATED, 60),
    ("monitoring", "logAnalyticsName"): (_HYPHENATED, 63),
    ("monitoring", "appInsightsName"): (_HYPHENATED, 255),
    ("durableTaskScheduler", "name"): (_HYPHENATED, 64),
    ("identity", "name"): (_HYPHENATED, 128),
    ("eventGrid", "name"): (_HYPHENATED, 128),
}

AZD_LONGEST = "x" * 64  # azd environment names: ^[a-zA-Z0-9-()_.]{1,64}$


@pytest.mark.parametrize(
    ("workload", "environment"),
    [
        ("evpipe", "dev"),
        ("Ev-Pipe", "prod"),  # upper case and a hyphen: not a storage account name
        ("my_app.1", "test"),
        ("evpipe", "feature-login-page-westeurope"),  # an azd environment name over 12 characters
        ("evpipe", "Dev_EU.(2)"),  # characters azd allows and resource names do not
        ("abcdefghi", AZD_LONGEST),
    ],
)
def test_workload_and_environment_names_always_give_valid_resource_names(
    main_ast: dict[str, Any], workload: str, environment: str
) -> None:
    params = main_ast["parameters"]
    assert not refuses(params["workloadName"], workload)
    assert not refuses(params["environmentName"], environment)
    evaluator = Evaluator(main_ast, {"workloadName": workload, "environmentName": environment})
    for (module, param), (pattern, longest) in NAME_RULES.items():
        name = evaluator.value(body(main_ast["modules"][module])["params"][param], {})
        assert re.fullmatch(pattern, name) and len(name) <= longest, f"{module}.{param} = {name!r}"


def test_valid_names_are_unchanged_by_the_derivation(main_ast: dict[str, Any]) -> None:
    # A workload and environment that were already valid name the same resources as before.
    evaluator = Evaluator(main_ast, {"workloadName": "evpipe", "environmentName": "dev-eu"})
    assert evaluator.variable("prefix") == "evpipe-dev-eu"
    token = evaluator.variable("token")
    assert evaluator.value(body(main_ast["modules"]["storage"])["params"]["name"], {}) == f"stevpipe{token}"[:24]


def test_environment_name_takes_every_azd_environment_name(main_ast: dict[str, Any]) -> None:
    environment = main_ast["parameters"]["environmentName"]
    assert not refuses(environment, AZD_LONGEST)
    assert refuses(environment, "")
    assert main_ast["parameters"]["workloadName"]["decorators"][1:] == [
        {"type": "min_length", "argument": 3},
        {"type": "max_length", "argument": 9},
    ]


@pytest.mark.parametrize("units", [0, 3, 5, 6, 12, 20, 32, 40])
def test_premium_processing_units_outside_1_2_4_8_16_are_refused(
    main_ast: dict[str, Any], module_ast, units: int
) -> None:
    assert refuses(main_ast["parameters"]["eventHubProcessingUnits"], units)
    assert refuses(module_ast("eventhubs")["parameters"]["processingUnits"], units)


def test_premium_namespace_is_sized_in_processing_units_and_standard_in_throughput_units(
    main_ast: dict[str, Any], module_ast
) -> None:
    for units in (1, 2, 4, 8, 16):
        assert not refuses(main_ast["parameters"]["eventHubProcessingUnits"], units)
    ast = module_ast("eventhubs")
    assert ast["variables"]["isPremium"]["value"] == {
        "operator": {"type": "equals", "operands": {"operand_1": "skuName", "operand_2": "Premium"}}
    }
    namespace = body(ast["resources"]["namespace"])
    assert namespace["sku"]["capacity"] == {
        "operator": {
            "type": "conditional",
            "operands": {"condition": "isPremium", "true_value": "processingUnits", "false_value": "throughputUnits"},
        }
    }
    params = body(main_ast["modules"]["eventHubs"])["params"]
    assert params["throughputUnits"] == "eventHubThroughputUnits"
    assert params["processingUnits"] == "eventHubProcessingUnits"


def test_auto_inflate_maximum_of_zero_is_refused_and_never_below_the_throughput_units(module_ast) -> None:
    ast = module_ast("eventhubs")
    maximum = ast["parameters"]["maximumThroughputUnits"]
    assert refuses(maximum, 0)
    assert not refuses(maximum, maximum["default"])
    properties = body(ast["resources"]["namespace"])["properties"]
    assert properties["isAutoInflateEnabled"] == "autoInflate"
    assert properties["maximumThroughputUnits"] == {
        "operator": {
            "type": "conditional",
            "operands": {
                "condition": "autoInflate",
                "true_value": {
                    "function": {
                        "type": "max",
                        "parameters": {"arg_1": "throughputUnits", "arg_2": "maximumThroughputUnits"},
                    }
                },
                "false_value": 0,
            },
        }
    }
