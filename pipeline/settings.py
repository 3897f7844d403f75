"""The platform's settings: read here, and only here, from the environment.

In Azure the Functions app settings arrive as environment variables (the Bicep sets identity-based
connections: `<name>__blobServiceUri`, `<name>__accountEndpoint`, `__credential`, `__clientId`);
locally `local.settings.json` does the same for `func start`, and the local runner falls back to the
emulators when nothing is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

# Well-known, public development credentials of Azurite and the Cosmos DB emulator. Never used in Azure.
AZURITE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
COSMOS_EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


def azurite_connection_string(blob_port: int = 10000) -> str:
    """Azurite's connection string with Blob on `blob_port`, Queue and Table on the next two ports."""
    return (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob_port}/devstoreaccount1;"
        f"QueueEndpoint=http://127.0.0.1:{blob_port + 1}/devstoreaccount1;"
        f"TableEndpoint=http://127.0.0.1:{blob_port + 2}/devstoreaccount1;"
    )


def local_emulator_environment(azurite_port: int = 10000, cosmos_port: int = 8081) -> dict[str, str]:
    """The environment variables that point every process of a local run at emulators on these ports
    (`python emulators/ctl.py up --azurite-port P --cosmos-port Q` starts such a pair)."""
    return {
        "DataStorage": azurite_connection_string(azurite_port),
        "CosmosDB__accountEndpoint": f"https://127.0.0.1:{cosmos_port}",
        "CosmosDB__accountKey": COSMOS_EMULATOR_KEY,
        "CosmosDB__verifyTls": "false",
    }


AZURITE_CONNECTION_STRING = azurite_connection_string()
COSMOS_EMULATOR_ENDPOINT = "https://127.0.0.1:8081"

# Blob containers and Cosmos DB containers named by the contract.
CONTAINER_INCOMING = "incoming"
CONTAINER_BATCHES = "batches"
CONTAINER_DEADLETTER = "deadletter"
CONTAINER_REFERENCE = "reference"
CONTAINER_ANALYTICS = "analytics"
CONTAINER_CONTRIBUTIONS = "contributions"  # what batches add to the aggregates, until it is folded in
BLOB_CONTAINERS = (
    CONTAINER_INCOMING,
    CONTAINER_BATCHES,
    CONTAINER_DEADLETTER,
    CONTAINER_REFERENCE,
    CONTAINER_ANALYTICS,
    CONTAINER_CONTRIBUTIONS,
)
COSMOS_EVENTS = "events"
COSMOS_AGGREGATES = "aggregates"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class BlobSettings:
    """Where the data containers live: a connection string (Azurite) or an endpoint + identity."""

    connection_string: str | None = None
    account_url: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class CosmosSettings:
    """The Cosmos DB account: an endpoint with an identity (Azure) or a key (local emulator only)."""

    endpoint: str
    database: str = "pipeline"
    key: str | None = None
    client_id: str | None = None
    verify_tls: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    blob: BlobSettings
    cosmos: CosmosSettings
    window_minutes: int = 1
    ingest_batch_size: int = 100  # events per orchestration when a file is split (blob trigger)
    log_level: str = "INFO"
    appinsights_connection_string: str | None = None  # None: OpenTelemetry export off
    appinsights_authentication_string: str | None = None  # "Authorization=AAD;ClientId=<identity>"
    trace_azure_sdk: bool = False
    http_max_body_bytes: int = 16 * 1024 * 1024  # POST /api/events answers 413 beyond this
    http_max_batch_events: int = 1000  # and 413 for a batch-mode array with more events
    reconcile_grace_s: int = 600  # the reconciliation sweep leaves batches younger than this to their trigger
    host_instance_id: str = ""  # this Functions host instance (WEBSITE_INSTANCE_ID), recorded on what it ingests

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from app settings; falls back to the local emulators for what is not set."""
        env = os.environ if env is None else env
        return cls(
            blob=_blob_settings(env),
            cosmos=_cosmos_settings(env),
            window_minutes=_positive_int(env, "WINDOW_MINUTES", 1),
            ingest_batch_size=_positive_int(env, "INGEST_BATCH_SIZE", 100),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            appinsights_connection_string=env.get("APPLICATIONINSIGHTS_CONNECTION_STRING") or None,
            appinsights_authentication_string=env.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING") or None,
            trace_azure_sdk=env.get("TRACE_AZURE_SDK", "false").lower() == "true",
            http_max_body_bytes=_positive_int(env, "HTTP_MAX_BODY_BYTES", 16 * 1024 * 1024),
            http_max_batch_events=_positive_int(env, "HTTP_MAX_BATCH_EVENTS", 1000),
            reconcile_grace_s=_positive_int(env, "RECONCILE_GRACE_SECONDS", 600),
            host_instance_id=env.get("WEBSITE_INSTANCE_ID", ""),
        )

    @classmethod
    def local_emulators(cls, window_minutes: int = 1, ingest_batch_size: int = 100) -> Settings:
        return cls(
            blob=BlobSettings(connection_string=AZURITE_CONNECTION_STRING),
            cosmos=_EMULATOR_COSMOS,
            window_minutes=window_minutes,
            ingest_batch_size=ingest_batch_size,
        )


_EMULATOR_COSMOS = CosmosSettings(endpoint=COSMOS_EMULATOR_ENDPOINT, key=COSMOS_EMULATOR_KEY, verify_tls=False)


def _blob_settings(env: Mapping[str, str]) -> BlobSettings:
    connection_string = env.get("DataStorage")
    if connection_string:
        if connection_string.strip() == "UseDevelopmentStorage=true":
            connection_string = AZURITE_CONNECTION_STRING
        return BlobSettings(connection_string=connection_string)
    account_url = env.get("DataStorage__blobServiceUri")
    if account_url:
        return BlobSettings(account_url=account_url, client_id=_client_id(env, "DataStorage"))
    return BlobSettings(connection_string=AZURITE_CONNECTION_STRING)


def _cosmos_settings(env: Mapping[str, str]) -> CosmosSettings:
    database = env.get("COSMOS_DATABASE", "pipeline")
    endpoint = env.get("CosmosDB__accountEndpoint")
    if not endpoint:
        return replace(_EMULATOR_COSMOS, database=database)
    key = env.get("CosmosDB__accountKey")  # the local emulator only; Azure accounts disable keys
    return CosmosSettings(
        endpoint=endpoint,
        database=database,
        key=key,
        client_id=_client_id(env, "CosmosDB"),
        verify_tls=env.get("CosmosDB__verifyTls", "true").lower() != "false",
    )


def _client_id(env: Mapping[str, str], connection: str) -> str | None:
    return env.get(f"{connection}__clientId") or env.get("AZURE_CLIENT_ID")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer; set it to a whole number") from None
    if value < 1:
        raise SettingsError(f"{name}={value} must be at least 1")
    return value
