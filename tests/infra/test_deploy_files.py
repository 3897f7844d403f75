"""azd project, CI workflow and the post-deployment Event Grid script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .bicep_ast import REPO

EVENTGRID_SCRIPT = REPO / "scripts" / "infra" / "create-eventgrid-subscription.sh"


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_azure_yaml_provisions_bicep_and_deploys_the_python_function_app() -> None:
    project = _yaml(REPO / "azure.yaml")
    assert project["infra"]["provider"] == "bicep"
    assert project["infra"]["path"] == "bicep"
    assert project["services"]["api"] == {"project": ".", "language": "python", "host": "function"}


def test_azure_yaml_creates_the_event_grid_subscription_after_deploy() -> None:
    hooks = _yaml(REPO / "azure.yaml")["hooks"]["postdeploy"]
    for platform in ("posix", "windows"):
        assert "scripts/infra/create-eventgrid-subscription.sh" in hooks[platform]["run"]


def _workflow() -> dict[str, Any]:
    return _yaml(REPO / ".github" / "workflows" / "ci.yml")


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_ci_lints_tests_builds_bicep_and_runs_what_if() -> None:
    runs = "\n".join(step.get("run", "") for step in _steps(_workflow()))
    assert "make lint" in runs
    assert "make test" in runs
    assert "az bicep build" in runs
    assert "what-if" in runs


def test_ci_deploys_with_oidc_and_no_stored_secret() -> None:
    workflow = _workflow()
    logins = [step for step in _steps(workflow) if str(step.get("uses", "")).startswith("azure/login@")]
    assert logins
    for login in logins:
        assert set(login["with"]) >= {"client-id", "tenant-id", "subscription-id"}
        assert "creds" not in login["with"]
    for name, job in workflow["jobs"].items():
        if any(step in logins for step in job.get("steps", [])):
            assert job["permissions"]["id-token"] == "write", name


def _fake_az(tmp_path: Path) -> Path:
    """An `az` that answers the script's queries and records every call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(
        "#!/usr/bin/env bash\n"
        'echo "$*" >> "$AZ_LOG"\n'
        'case "$*" in\n'
        '  "functionapp show"*) echo "func-x.azurewebsites.net" ;;\n'
        '  "functionapp keys list"*) echo "s3cr3t-key" ;;\n'
        '  "eventgrid system-topic list"*) echo "evgt-x" ;;\n'
        "esac\n",
        encoding="utf-8",
    )
    az.chmod(0o755)
    return bin_dir


def test_eventgrid_script_subscribes_blob_ingest_to_blob_created_under_incoming(tmp_path: Path) -> None:
    log = tmp_path / "az.log"
    env = {
        **os.environ,
        "PATH": f"{_fake_az(tmp_path)}:{os.environ['PATH']}",
        "AZ_LOG": str(log),
        "AZURE_RESOURCE_GROUP": "rg-x",
        "AZURE_FUNCTION_APP_NAME": "func-x",
    }
    env.pop("AZURE_EVENTGRID_SYSTEM_TOPIC_NAME", None)
    result = subprocess.run(
        ["bash", str(EVENTGRID_SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "s3cr3t-key" not in result.stdout + result.stderr
    create = [line for line in log.read_text().splitlines() if "event-subscription create" in line]
    assert len(create) == 1
    call = create[0]
    assert "--system-topic-name evgt-x" in call
    assert "--included-event-types Microsoft.Storage.BlobCreated" in call
    assert "--subject-begins-with /blobServices/default/containers/incoming/" in call
    assert "--endpoint-type webhook" in call
    assert (
        "--endpoint https://func-x.azurewebsites.net/runtime/webhooks/blobs"
        "?functionName=Host.Functions.blob_ingest&code=s3cr3t-key" in call
    )


def test_eventgrid_script_refuses_to_run_without_an_app(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AZURE_")}
    result = subprocess.run(
        ["bash", str(EVENTGRID_SCRIPT), "-g", "rg-x"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "AZURE_FUNCTION_APP_NAME" in result.stderr


def test_scripts_are_valid_bash() -> None:
    for script in sorted((REPO / "scripts" / "infra").glob("*.sh")):
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{script.name}: {result.stderr}"
