"""``ModelSettings.carries_secrets`` and ``without_credential``: what a request would carry of the user's, and
settings that carry none of it (for a base URL the user has not consented to) and refuse every request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from codex_lsp.model import ModelSettings, ProviderConfig
from codex_lsp.model.errors import ConfigError

BASE = ProviderConfig(base_url="http://127.0.0.1:9/v1")
ENV = {"AZURE_KEY": "azure-secret"}


def secret_bearing(tmp_path: Path) -> dict[str, ModelSettings]:
    """One settings object per kind of thing a request can carry of the user's."""
    return {
        "an API key": ModelSettings(provider=BASE, api_key=SecretStr("sk-x"), key_source="env X"),
        "the OpenAI sign-in": ModelSettings(provider=BASE, account_home=tmp_path, account_mode="chatgpt"),
        "a bearer token": ModelSettings(
            provider=BASE.model_copy(update={"experimental_bearer_token": SecretStr("tok")})
        ),
        "configured headers": ModelSettings(
            provider=BASE.model_copy(update={"http_headers": {"x-key": "v"}})
        ),
        "headers from the environment": ModelSettings(
            provider=BASE.model_copy(update={"env_http_headers": {"api-key": "AZURE_KEY"}})
        ),
    }


def test_each_kind_of_credential_counts(tmp_path: Path) -> None:
    for name, settings in secret_bearing(tmp_path).items():
        assert settings.carries_secrets(ENV), name


def test_nothing_to_withhold_for_a_local_model_server() -> None:
    assert not ModelSettings(provider=BASE).carries_secrets(ENV)
    unset = BASE.model_copy(update={"env_http_headers": {"api-key": "UNSET_VARIABLE"}})
    assert not ModelSettings(provider=unset).carries_secrets(ENV), "an unset variable sends nothing"


@pytest.mark.parametrize(
    "kind",
    [
        "an API key",
        "the OpenAI sign-in",
        "a bearer token",
        "configured headers",
        "headers from the environment",
    ],
)
def test_without_credential_leaves_nothing_and_refuses_every_request(tmp_path: Path, kind: str) -> None:
    withheld = secret_bearing(tmp_path)[kind].without_credential("not without your consent")
    assert not withheld.carries_secrets(ENV)
    assert withheld.resolved_headers(ENV) == {}
    assert withheld.account(ENV).mode is None
    with pytest.raises(ConfigError, match="not without your consent"):
        withheld.require_credentials(ENV)
    credential = withheld.credential(ENV)
    assert credential.kind == "missing"
    with pytest.raises(Exception, match="not without your consent"):
        asyncio.run(credential.headers())
    assert withheld.base_url == "http://127.0.0.1:9/v1"
