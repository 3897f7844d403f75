"""The store clients skip aiohttp's per-request proxy and netrc lookups only when the environment has
neither to offer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.stores import http

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NETRC")


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    http.environment_has_http_settings.cache_clear()
    yield tmp_path
    http.environment_has_http_settings.cache_clear()


def test_without_proxy_or_netrc_the_clients_do_not_look_them_up(bare_environment: Path) -> None:
    assert http.transport_options() == {"use_env_settings": False}


def test_a_proxy_variable_keeps_the_sdk_behaviour(bare_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert http.transport_options() == {"use_env_settings": True}


def test_a_netrc_file_keeps_the_sdk_behaviour(bare_environment: Path) -> None:
    (bare_environment / ".netrc").write_text("machine example.com login me password secret\n")
    assert http.transport_options() == {"use_env_settings": True}
