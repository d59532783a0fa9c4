"""``codex-lsp exec`` signed in with ChatGPT, as a real process: the sign-in cases a terminal user meets.

The same cases as the model layer's (tests/model/test_chatgpt_auth.py), through the host a user runs, over
WebSocket and HTTP: what goes out, what is refreshed, what the user reads on a failure (one line, no
traceback, never a token), and the exit status.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import (
    FakeIssuer,
    FakeResponsesServer,
    Script,
    access_token,
    write_chatgpt_auth,
    write_chatgpt_home,
)
from tests.agent.exec_process import ours_exec


def answer(text: str) -> Script:
    """The fake model's script: one turn, one request answered with ``text``."""
    return Script.model_validate({"turns": [{"requests": [{"output": [{"type": "message", "text": text}]}]}]})


TRANSPORTS = pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
TIMEOUT = 60


@pytest.fixture
async def model() -> AsyncIterator[FakeResponsesServer]:
    async with FakeResponsesServer() as server:
        yield server


def setup_home(tmp_path: Path, model: FakeResponsesServer, websockets: bool, **auth: Any) -> dict[str, Any]:
    home = write_chatgpt_home(tmp_path / "codex-home", model.chatgpt_base_url, websockets=websockets)
    return write_chatgpt_auth(home, **auth) if auth.get("write", True) else {}


async def run_exec(tmp_path: Path, issuer: FakeIssuer) -> tuple[int, str, str]:
    """``codex-lsp exec`` on ``tmp_path/ws`` with the home ``setup_home`` wrote, signing in at ``issuer``."""
    (tmp_path / "ws").mkdir(exist_ok=True)
    done = await ours_exec(
        tmp_path / "codex-home",
        tmp_path / "ws",
        "say hi",
        "--skip-git-repo-check",
        env={**issuer.env(), "CODEX_LSP_STATE_DIR": str(tmp_path / "state")},
        json_events=False,
    )
    return done.code, done.stdout, done.stderr


def no_secret(written: dict[str, Any], issuer: FakeIssuer, *texts: str) -> None:
    secrets = [written["tokens"][n] for n in ("id_token", "access_token", "refresh_token")]
    secrets += [value for tokens in issuer.issued for value in tokens.values()]
    shown = "\n".join(texts)
    assert [s for s in secrets if s in shown] == []
    assert "Traceback" not in shown


@TRANSPORTS
async def test_signed_in_with_chatgpt_a_turn_goes_out_with_the_account(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer, websockets: bool
) -> None:
    written = setup_home(tmp_path, model, websockets, fedramp=True)
    model.load(answer("hi there"))
    code, out, err = await run_exec(tmp_path, issuer)
    assert code == 0, err
    assert "hi there" in out
    (request,) = model.generating_requests()
    assert request.path == "/backend-api/codex/responses"
    assert request.headers["authorization"] == f"Bearer {written['tokens']['access_token']}"
    assert request.headers["chatgpt-account-id"] == "acct-fake-workspace"
    assert request.headers["x-openai-fedramp"] == "true"
    no_secret(written, issuer, out, err)


@TRANSPORTS
async def test_an_expired_token_is_refreshed_first_and_saved(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer, websockets: bool
) -> None:
    written = setup_home(tmp_path, model, websockets, access=access_token(-30))
    model.accepted_tokens = issuer.minted()
    model.load(answer("fresh"))
    code, out, err = await run_exec(tmp_path, issuer)
    assert code == 0, err
    assert [r["refresh_reason"] for r in issuer.refreshes()] == ["proactive_expiry"]
    saved = json.loads((tmp_path / "codex-home" / "auth.json").read_text())
    assert saved["tokens"]["refresh_token"] == issuer.issued[0]["refresh_token"]
    no_secret(written, issuer, out, err)


@TRANSPORTS
async def test_a_401_is_recovered_once(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer, websockets: bool
) -> None:
    written = setup_home(tmp_path, model, websockets)
    model.accepted_tokens = issuer.minted()
    model.load(answer("recovered"))
    code, out, err = await run_exec(tmp_path, issuer)
    assert code == 0, err
    assert [r["refresh_reason"] for r in issuer.refreshes()] == ["unauthorized_recovery"]
    no_secret(written, issuer, out, err)


@TRANSPORTS
async def test_a_dead_refresh_token_fails_with_codexs_words(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer, websockets: bool
) -> None:
    written = setup_home(tmp_path, model, websockets)
    before = (tmp_path / "codex-home" / "auth.json").read_bytes()
    model.accepted_tokens = set()
    issuer.refresh_replies.append((401, {"error": {"code": "refresh_token_reused"}}))
    code, out, err = await run_exec(tmp_path, issuer)
    assert code == 1
    assert (
        "Your access token could not be refreshed because your refresh token was already used. "
        "Please log out and sign in again."
    ) in err
    assert (tmp_path / "codex-home" / "auth.json").read_bytes() == before
    no_secret(written, issuer, out, err)


@TRANSPORTS
async def test_refused_even_after_a_refresh_says_to_sign_in_again(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer, websockets: bool
) -> None:
    written = setup_home(tmp_path, model, websockets)
    model.accepted_tokens = set()
    code, out, err = await run_exec(tmp_path, issuer)
    assert code == 1
    assert "Sign in again: run `codex-lsp login`" in err
    assert len(issuer.refreshes()) == 1
    no_secret(written, issuer, out, err)


async def test_not_signed_in_says_how_and_sends_nothing(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    setup_home(tmp_path, model, True, write=False)
    code, _, err = await run_exec(tmp_path, issuer)
    assert code == 1
    assert "Not signed in" in err
    assert "codex-lsp login" in err
    assert "codex login" in err
    assert model.attempts == []
