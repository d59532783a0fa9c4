"""Configured secrets never reach the commands the agent runs, nor — through them, or through the model
echoing them — the model, the editor or the thread file (issue 15, items 13 and 14).

A real ``printenv`` runs through the server (allow-listed, sandboxed where bubblewrap is available)
while the environment carries every kind of configured secret: the provider's ``env_key``, an
Azure-style ``env_http_headers`` ``api-key``, a secret ``http_headers`` value, OpenAI's key variable
(set, though this provider does not use it), and copies of secrets under names nothing configures.
The server logs at debug level meanwhile: its log shows none of them either.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from codex_lsp.testing import FakeIssuer, FakeResponsesServer, write_chatgpt_auth, write_chatgpt_home
from tests.lsp.harness import KEY, Editor, call, editor_session, load, outputs, say

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

AZURE_KEY = "azure-SECRET-api-key-0123456789abcdef"
HEADER_SECRET = "hdr-SECRET-in-config-toml-0123456789"
UNUSED_OPENAI_KEY = "sk-openai-SECRET-other-provider-42"
VISIBLE = "visible-value-of-a-harmless-variable"
SECRET_NAMES = (
    "CODEX_LSP_TEST_KEY",
    "AZURE_TEST_API_KEY",
    "SHORT_HEADER_VAR",
    "OPENAI_API_KEY",
    "KEY_COPY",
    "HEADER_COPY",
)
"""Every variable that must not reach the command. ``SHORT_HEADER_VAR`` is an ``env_http_headers``
variable whose value is too short to be masked by value: only its name keeps it out."""
SHELL = {"shell": {"enabled": True, "allow": ["printenv"]}}


def write_azure_home(home: Path, fake: FakeResponsesServer) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"""model = "gpt-5.5"
model_provider = "azure-like"

[model_providers.azure-like]
name = "Azure-like"
base_url = "{fake.base_url}"
env_key = "CODEX_LSP_TEST_KEY"
env_http_headers = {{ "api-key" = "AZURE_TEST_API_KEY", "x-region" = "SHORT_HEADER_VAR" }}
http_headers = {{ "x-api-key" = "{HEADER_SECRET}" }}
supports_websockets = true
request_max_retries = 1
stream_max_retries = 1
""",
        encoding="utf-8",
    )


def saved_threads(base: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in (base / "state").rglob("*.jsonl"))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fake() -> AsyncIterator[FakeResponsesServer]:
    async with FakeResponsesServer() as server:
        yield server


async def printenv_turn(ed: Editor, fake: FakeResponsesServer, echo: str) -> str:
    """Run ``printenv`` in a turn whose model then says ``echo``; return what the command printed."""
    load(fake, [call("shell", {"command": ["printenv"]}), say(echo)])
    result = await ed.execute("codex.ask", {"prompt": "what is in the environment?"})
    assert result["status"] == "completed", result
    printed = outputs(fake)[-1]
    assert VISIBLE in printed, "the command ran and its output reached the model"
    return printed


async def test_printenv_shows_no_configured_secret_by_name_or_by_value(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    write_azure_home(tmp_path / "codex-home", fake)
    env = {
        "AZURE_TEST_API_KEY": AZURE_KEY,
        "SHORT_HEADER_VAR": "eu",
        "OPENAI_API_KEY": UNUSED_OPENAI_KEY,
        "KEY_COPY": KEY,
        "HEADER_COPY": f"x-api-key: {HEADER_SECRET}",
        "HARMLESS": VISIBLE,
    }
    log = tmp_path / "server.log"
    debug = [sys.executable, "-m", "codex_lsp", "--stdio", "--log-level", "debug", "--log-file", str(log)]
    async with editor_session(tmp_path, fake, "vscode", init_options=SHELL, env=env, command=debug) as ed:
        printed = await printenv_turn(ed, fake, f"the keys: {KEY} {AZURE_KEY} {HEADER_SECRET}")
        received = ed.everything_received()
    request = fake.generating_requests()[0]
    assert request.headers["api-key"] == AZURE_KEY, "the provider still gets its header"
    for name in SECRET_NAMES:
        assert f"{name}=" not in printed, f"{name} reached the command"
    logged = log.read_text(encoding="utf-8")
    assert "Sending data" in logged, "the server logged every message it sent"
    shown = printed + received + saved_threads(tmp_path) + logged
    assert "the keys: ***" in saved_threads(tmp_path), "the model's echo is saved, masked"
    for secret in (KEY, AZURE_KEY, HEADER_SECRET):
        assert secret not in shown


async def test_a_chatgpt_sign_in_s_tokens_never_reach_a_command(tmp_path: Path) -> None:
    async with FakeIssuer() as issuer, FakeResponsesServer() as model:
        written = write_chatgpt_auth(tmp_path / "codex-home", issuer=issuer.url)
        tokens = [written["tokens"][name] for name in ("access_token", "refresh_token", "id_token")]
        model.accepted_tokens = {tokens[0]}
        write_chatgpt_home(tmp_path / "codex-home", model.chatgpt_base_url)
        env = {
            **issuer.env(),
            "CODEX_LSP_TEST_KEY": None,
            "EXPORTED_ACCESS": tokens[0],
            "EXPORTED_REFRESH": tokens[1],
            "HARMLESS": VISIBLE,
        }
        async with editor_session(tmp_path, model, "vscode", init_options=SHELL, env=env) as ed:
            printed = await printenv_turn(ed, model, "token: " + tokens[0])
            received = ed.everything_received()
    assert "EXPORTED_ACCESS=" not in printed
    assert "EXPORTED_REFRESH=" not in printed
    shown = printed + received + saved_threads(tmp_path)
    assert [t for t in tokens if t in shown] == []
