"""Entra ID credentials for identity-based connections (no keys in Azure)."""

from __future__ import annotations

from azure.identity.aio import DefaultAzureCredential


def azure_credential(client_id: str | None) -> DefaultAzureCredential:
    """The app's user-assigned managed identity in Azure; the developer's login elsewhere."""
    return DefaultAzureCredential(managed_identity_client_id=client_id)


__all__ = ["DefaultAzureCredential", "azure_credential"]
