"""Provider settings from $CODEX_HOME/config.toml and auth.json, and the key that never shows."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from codex_lsp.model import ModelClient
from codex_lsp.model.config import codex_home, load_settings
from codex_lsp.model.errors import AuthError, ConfigError, ModelError
from codex_lsp.testing import FakeResponsesServer
from tests.model.helpers import API_KEY, FAST, run, say, script, user

CONFIG = """
model = "gpt-5.5"
model_provider = "fake"
model_reasoning_effort = "high"
model_verbosity = "low"
[model_providers.fake]
name = "loopback"
base_url = "{base_url}"
env_key = "FAKE_KEY"
wire_api = "responses"
query_params = {{ "api-version" = "3" }}
http_headers = {{ "x-static" = "s" }}
env_http_headers = {{ "x-from-env" = "FAKE_HEADER", "x-unset" = "NOT_SET" }}
request_max_retries = 2
stream_max_retries = 3
stream_idle_timeout_ms = 5000
supports_websockets = true
"""


def write_home(tmp_path: Path, config: str, auth: object | None = None) -> Path:
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    if auth is not None:
        (tmp_path / "auth.json").write_text(json.dumps(auth), encoding="utf-8")
    return tmp_path


def test_provider_table_is_read(tmp_path: Path) -> None:
    home = write_home(tmp_path, CONFIG.format(base_url="http://127.0.0.1:9/v1"))
    settings = load_settings(home, {"FAKE_KEY": API_KEY, "FAKE_HEADER": "h"})
    provider = settings.provider
    assert (settings.model, settings.provider_id, settings.reasoning_effort) == ("gpt-5.5", "fake", "high")
    assert provider.query_params == {"api-version": "3"}
    assert (provider.request_max_retries, provider.stream_max_retries) == (2, 3)
    assert provider.stream_idle_timeout_ms == 5000
    assert provider.supports_websockets
    assert settings.resolved_headers({"FAKE_HEADER": "h"}) == {"x-static": "s", "x-from-env": "h"}
    assert settings.key_source == "env FAKE_KEY"
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == API_KEY


def test_defaults_without_files(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.provider_id == "openai"
    assert settings.provider.supports_websockets
    assert settings.base_url == "https://api.openai.com/v1"
    assert settings.api_key is None
    with pytest.raises(AuthError, match=r"Not signed in.*codex-lsp login.*codex login"):
        settings.require_credentials({})


def test_key_sources_in_order(tmp_path: Path) -> None:
    """The OpenAI provider: CODEX_API_KEY, then auth.json, then OPENAI_API_KEY (see tests/auth for more)."""
    home = write_home(tmp_path, 'model = "m"\n', auth={"OPENAI_API_KEY": "from-file", "tokens": None})
    env = {"OPENAI_API_KEY": "from-env"}
    assert load_settings(home, env).account(env).source == str(home / "auth.json")
    both = {**env, "CODEX_API_KEY": "from-codex-env"}
    assert load_settings(home, both).account(both).source == "env CODEX_API_KEY"
    (home / "auth.json").unlink()
    settings = load_settings(home, env)
    assert settings.account(env).source == "env OPENAI_API_KEY"


def test_codex_home_defaults_to_dot_codex() -> None:
    assert codex_home({}) == Path.home() / ".codex"
    assert codex_home({"CODEX_HOME": "/x/y"}) == Path("/x/y")


@pytest.mark.parametrize(
    ("config", "names"),
    [
        (
            'model_provider = "fake"\n[model_providers.fake]\nrequest_max_retries = "many"\n',
            "model_providers.fake.request_max_retries",
        ),
        (
            'model_provider = "fake"\n[model_providers.fake]\nstream_max_retries = 101\n',
            "model_providers.fake.stream_max_retries",
        ),
        ('model_provider = "nope"\n', "model_provider = 'nope'"),
        ('model_reasoning_effort = "extreme"\n', "model_reasoning_effort"),
        ("model = [\n", "not valid TOML"),
        (
            'model_provider = "fake"\n[model_providers.fake]\nbase_url = "localhost:8080/v1"\n',
            "model_providers.fake.base_url",
        ),
        (
            'model_provider = "fake"\n[model_providers.fake]\nwire_api = "chat"\n',
            '`wire_api = "chat"` is no longer supported.',
        ),
    ],
)
def test_bad_values_name_the_key_and_the_file(tmp_path: Path, config: str, names: str) -> None:
    home = write_home(tmp_path, config)
    with pytest.raises(ConfigError) as caught:
        load_settings(home, {})
    assert names in str(caught.value)
    assert str(home / "config.toml") in str(caught.value)


def test_bad_auth_json_never_quotes_its_content(tmp_path: Path) -> None:
    """Read for the OpenAI provider (the default), which takes the user's sign-in."""
    home = write_home(tmp_path, "", auth={"OPENAI_API_KEY": 12345678})
    with pytest.raises(ConfigError, match="OPENAI_API_KEY must be a string") as caught:
        load_settings(home, {})
    assert "12345678" not in str(caught.value)
    (home / "auth.json").write_text('{"OPENAI_API_KEY": "sk-broken')
    with pytest.raises(ConfigError, match=r"auth\.json") as caught:
        load_settings(home, {})
    assert "sk-broken" not in str(caught.value)


def test_missing_env_key_is_a_clear_error(tmp_path: Path) -> None:
    """Codex's own words, and never a fallback to another key (auth.json or OPENAI_API_KEY)."""
    home = write_home(
        tmp_path, CONFIG.format(base_url="http://127.0.0.1:9/v1"), auth={"OPENAI_API_KEY": "sk-x"}
    )
    env = {"OPENAI_API_KEY": "sk-y", "CODEX_API_KEY": "sk-z"}
    settings = load_settings(home, env)
    assert settings.api_key is None
    with pytest.raises(ConfigError, match=r"^Missing environment variable: `FAKE_KEY`\.$"):
        settings.require_credentials(env)


async def test_key_never_appears_in_repr_logs_or_errors(
    tmp_path: Path, fake: FakeResponsesServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Full DEBUG logging (websockets logs handshake headers there), a success and a failure."""
    echo = {"kind": "status", "status": 400, "message": f"bad key Bearer {API_KEY}"}
    fake.load(script([say("ok")], [say("x", fault=echo)]))
    home = write_home(tmp_path, CONFIG.format(base_url=fake.base_url))
    caplog.set_level(logging.DEBUG)
    async with ModelClient.from_codex_home(home, env={"FAKE_KEY": API_KEY}, retry_policy=FAST) as client:
        await run(client.new_turn(), [user("go")])
        with pytest.raises(ModelError) as caught:
            await run(client.new_turn(), [user("again")])
        shown = [
            repr(client),
            repr(client.settings),
            str(client.settings),
            str(caught.value),
            repr(caught.value),
        ]
    assert fake.handshakes[0].headers["authorization"] == f"Bearer {API_KEY}", "the key was really sent"
    assert fake.handshakes[0].headers["x-static"] == "s"
    assert any("Authorization" in r.getMessage() or "authorization" in r.getMessage() for r in caplog.records)
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("codex_lsp.testing"))
    for text in [*shown, ours]:
        assert API_KEY not in text
    assert "***" in str(caught.value)
