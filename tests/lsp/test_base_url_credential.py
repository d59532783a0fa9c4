"""An editor-supplied ``baseUrl`` gets no credential without the user's consent.

Editor settings can come from a project's own files, so a cloned repository could point the user's key at
its server. Here the "stranger" is a second fake model server on loopback — deliberately: loopback gets no
exemption. Without consent nothing at all reaches it (no handshake, no request: ``attempts`` stays empty),
the turn fails with the reason and the user is shown it; a question (where the editor can ask) lets the
credential go there for the rest of the session; the user's own config.toml needs no question.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from codex_lsp.testing import FakeResponsesServer, write_chatgpt_auth
from tests.lsp.harness import KEY, Editor, Profile, editor_session, load, say, settled, write_codex_home

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

SEND, DONT_SEND = "Send for this session", "Don't send"
AZURE_KEY = "azure-api-key-SECRET-0123456789"
ACCESS = "chatgpt-access-token-SECRET"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stranger() -> AsyncIterator[FakeResponsesServer]:
    """A model endpoint the user never configured (what a repository's settings could point at)."""
    async with FakeResponsesServer() as server:
        yield server


@pytest.fixture(autouse=True)
def forget(stranger: FakeResponsesServer) -> None:
    stranger.attempts.clear()


def shown_errors(ed: Editor) -> list[str]:
    return [m.message for m in ed.client.messages if m.type == types.MessageType.Error]


async def refused_turn(ed: Editor, stranger: FakeResponsesServer, carrying: str) -> dict[str, Any]:
    """Ask, and check the turn failed before anything reached ``stranger``, saying why and what to do."""
    load(stranger, [say("you should never see this")])
    result: dict[str, Any] = await ed.execute("codex.ask", {"prompt": "hi"})
    assert result["status"] == "failed", result
    error = result["error"]
    assert f"codex.baseUrl sends the requests of provider 'fake' to {stranger.base_url}" in error
    assert f"{carrying} is not sent there without your consent" in error
    assert "set that base_url in $CODEX_HOME/config.toml, or remove codex.baseUrl" in error
    await ed.until(lambda: any("codex.baseUrl" in m for m in shown_errors(ed)))
    assert stranger.attempts == [], "nothing may reach an endpoint the user did not consent to"
    return result


@pytest.mark.parametrize("profile", ["minimal", "vscode"])
async def test_an_editor_base_url_gets_no_key_without_consent(
    tmp_path: Path, fake: FakeResponsesServer, stranger: FakeResponsesServer, profile: Profile
) -> None:
    options = {"baseUrl": stranger.base_url}
    async with editor_session(tmp_path, fake, profile, init_options=options) as ed:
        ed.answer = DONT_SEND
        await refused_turn(ed, stranger, "your API key (env CODEX_LSP_TEST_KEY)")
        if profile == "vscode":
            (question,) = ed.questions
            assert [a.title for a in question.actions or []] == [SEND, DONT_SEND]
            assert stranger.base_url in question.message
            assert fake.base_url in question.message, "the question names the configured URL too"
        else:
            assert ed.questions == []
        status = await ed.execute("codex.status", {"probe": True})
        assert "codex.baseUrl" in status["credentialWithheld"]
        assert status["keyFound"] is False
        assert stranger.attempts == [], "a probe must not hand the key over either"
        assert KEY not in ed.everything_received() + json.dumps(status)


async def test_a_dismissed_question_sends_nothing(
    tmp_path: Path, fake: FakeResponsesServer, stranger: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "neovim", init_options={"baseUrl": stranger.base_url}) as ed:
        ed.answer = None
        await refused_turn(ed, stranger, "your API key (env CODEX_LSP_TEST_KEY)")
        ed.answer = "!error"
        await refused_turn(ed, stranger, "your API key (env CODEX_LSP_TEST_KEY)")
        assert len(ed.questions) == 2, "a refusal is not remembered: the next turn asks again"


async def test_consent_sends_the_key_there_for_the_rest_of_the_session(
    tmp_path: Path, fake: FakeResponsesServer, stranger: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "neovim") as ed:
        ed.answer = SEND
        ed.configure({"baseUrl": stranger.base_url})
        await settled(ed, "baseUrl", stranger.base_url)
        load(stranger, [say("one")], [say("two")])
        first = await ed.execute("codex.ask", {"prompt": "hi"})
        assert first["status"] == "completed", first
        second = await ed.execute("codex.ask", {"prompt": "again"})
        assert second["status"] == "completed", second
        assert len(ed.questions) == 1
        assert set(stranger.authorizations) == {f"Bearer {KEY}"}
        assert "credentialWithheld" not in await ed.execute("codex.status")


async def test_a_chatgpt_sign_in_and_its_account_header_are_withheld(
    tmp_path: Path, fake: FakeResponsesServer, stranger: FakeResponsesServer
) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f"""model_provider = "fake"

[model_providers.fake]
base_url = "{fake.chatgpt_base_url}"
requires_openai_auth = true
supports_websockets = true
request_max_retries = 0
stream_max_retries = 0
""",
        encoding="utf-8",
    )
    write_chatgpt_auth(home, access=ACCESS)
    env: dict[str, str | None] = {"CODEX_LSP_TEST_KEY": None}
    options = {"baseUrl": stranger.chatgpt_base_url}
    async with editor_session(tmp_path, fake, "minimal", init_options=options, env=env) as ed:
        load(stranger, [say("you should never see this")])
        result = await ed.execute("codex.ask", {"prompt": "hi"})
        assert result["status"] == "failed"
        assert "your ChatGPT sign-in is not sent there" in result["error"]
        status = await ed.execute("codex.status", {"probe": True})
        assert "your ChatGPT sign-in" in status["credentialWithheld"]
        assert stranger.attempts == [], "neither the turn nor the probe's handshake may carry the token"
        assert ACCESS not in ed.everything_received() + json.dumps(status)


async def test_configured_secret_headers_make_a_redirect_too(
    tmp_path: Path, fake: FakeResponsesServer, stranger: FakeResponsesServer
) -> None:
    """An Azure-style provider: its key is an ``env_http_headers`` header, not an ``env_key``."""
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f"""model_provider = "fake"

[model_providers.fake]
base_url = "{fake.base_url}"
env_http_headers = {{ "api-key" = "AZURE_OPENAI_API_KEY" }}
supports_websockets = true
request_max_retries = 0
stream_max_retries = 0
""",
        encoding="utf-8",
    )
    env = {"AZURE_OPENAI_API_KEY": AZURE_KEY}
    options = {"baseUrl": stranger.base_url}
    async with editor_session(tmp_path, fake, "vscode", init_options=options, env=env) as ed:
        ed.answer = DONT_SEND
        load(stranger, [say("you should never see this")])
        result = await ed.execute("codex.ask", {"prompt": "hi"})
        assert result["status"] == "failed"
        assert "the headers your configuration sets for it is not sent there" in result["error"]
        assert stranger.attempts == []
        ed.answer = SEND
        load(stranger, [say("now with consent")])
        assert (await ed.execute("codex.ask", {"prompt": "hi"}))["status"] == "completed"
        assert {headers.get("api-key") for _, _, headers in stranger.attempts} == {AZURE_KEY}


@pytest.mark.parametrize("spelling", ["{url}/", "{ws}", "{url}"])
async def test_the_configured_endpoint_spelled_otherwise_asks_nothing(
    tmp_path: Path, fake: FakeResponsesServer, spelling: str
) -> None:
    url = spelling.format(url=fake.base_url, ws=fake.base_url.replace("http://", "ws://"))
    async with editor_session(tmp_path, fake, "vscode", init_options={"baseUrl": url}) as ed:
        ed.answer = DONT_SEND
        load(fake, [say("configured")])
        assert (await ed.execute("codex.ask", {"prompt": "hi"}))["status"] == "completed"
        assert ed.questions == []


async def test_an_editor_provider_takes_its_credential_only_to_its_configured_url(
    tmp_path: Path, fake: FakeResponsesServer, stranger: FakeResponsesServer
) -> None:
    """``codex.provider`` alone moves no key: the provider's own config.toml URL gets its own key."""
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(
            f'\n[model_providers.second]\nbase_url = "{stranger.base_url}"\nenv_key = "SECOND_KEY"\n'
            "supports_websockets = true\n"
        )
    env = {"SECOND_KEY": "second-key-0123456789"}
    async with editor_session(tmp_path, fake, "vscode", init_options={"provider": "second"}, env=env) as ed:
        ed.answer = DONT_SEND
        load(stranger, [say("second provider")])
        before = len(fake.attempts)
        assert (await ed.execute("codex.ask", {"prompt": "hi"}))["status"] == "completed"
        assert ed.questions == []
        assert set(stranger.authorizations) == {"Bearer second-key-0123456789"}
        assert len(fake.attempts) == before
