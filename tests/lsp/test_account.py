"""The user's OpenAI sign-in through the language server: ``codex.account``, ``codex.login`` and
``codex.logout``, and the ChatGPT headers and refresh on the turns that follow — against the fake model server
(which checks bearer tokens) and the fake issuer, for each client profile.
"""

from __future__ import annotations

import asyncio
import json
import stat
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from codex_lsp.testing import (
    FakeIssuer,
    FakeResponsesServer,
    access_token,
    jwt,
    write_chatgpt_auth,
    write_chatgpt_home,
)
from tests.lsp.harness import PROFILES, WAIT, Editor, Profile, editor_session, load, say


@pytest_asyncio.fixture
async def model() -> AsyncIterator[FakeResponsesServer]:
    async with FakeResponsesServer() as server:
        yield server


@asynccontextmanager
async def signed_in_editor(
    tmp_path: Path, profile: Profile, issuer: FakeIssuer, fake: FakeResponsesServer
) -> AsyncIterator[Editor]:
    """A language server whose user's provider takes the OpenAI sign-in, pointed at the fake issuer."""
    write_chatgpt_home(tmp_path / "codex-home", fake.chatgpt_base_url)
    env: dict[str, str | None] = {**issuer.env(), "CODEX_LSP_TEST_KEY": None}
    async with editor_session(tmp_path, fake, profile, env=env) as ed:
        yield ed


def auth_path(ed: Editor) -> Path:
    return ed.root.parent / "codex-home" / "auth.json"


def auth_file(ed: Editor) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(auth_path(ed).read_text())
    return data


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_chatgpt_sign_in_is_used_and_reported_without_its_tokens(
    tmp_path: Path, profile: Profile, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    written = write_chatgpt_auth(tmp_path / "codex-home", issuer=issuer.url)
    model.accepted_tokens = {written["tokens"]["access_token"]}
    async with signed_in_editor(tmp_path, profile, issuer, model) as ed:
        account = await ed.execute("codex.account")
        assert account["signedIn"] is True
        assert (account["mode"], account["email"], account["plan"]) == ("chatgpt", "dev@example.com", "plus")
        assert account["accountId"] == "acct-fake-workspace"
        assert account["usesAccount"] is True
        load(model, [say("hello")])
        result = await ed.execute("codex.ask", {"prompt": "hi"})
        assert result["status"] == "completed", result
        request = model.generating_requests()[0]
        assert request.path == "/backend-api/codex/responses"
        assert request.headers["authorization"] == f"Bearer {written['tokens']['access_token']}"
        assert request.headers["chatgpt-account-id"] == "acct-fake-workspace"
        assert "x-openai-fedramp" not in request.headers
        status = await ed.execute("codex.status")
        assert status["account"]["mode"] == "chatgpt"
        for name in ("id_token", "access_token", "refresh_token"):
            secret = written["tokens"][name]
            assert secret not in json.dumps(status) + json.dumps(account) + ed.everything_received()
        assert issuer.refreshes() == [], "a fresh token is not refreshed"


async def sign_in_by_device(ed: Editor, issuer: FakeIssuer, msg_id: str) -> dict[str, Any]:
    """Run ``codex.login {method: device}`` as a user would: read the code the editor shows, enter it."""
    login = ed.start("codex.login", {"method": "device"}, msg_id)
    shown = await ed.until(lambda: [m for m in ed.client.messages if "enter the code" in m.message])
    (code,) = [d.user_code for d in issuer.devices.values() if not d.approved]
    assert code in shown[-1].message
    assert f"{issuer.url}/codex/device" in shown[-1].message
    assert not login.done(), "the login waits for the user"
    issuer.approve(code)
    async with asyncio.timeout(WAIT):
        result: dict[str, Any] = await login
    return result


@pytest.mark.parametrize("profile", PROFILES)
async def test_device_sign_in_from_the_editor_then_the_next_ask_carries_the_new_token(
    tmp_path: Path, profile: Profile, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    async with signed_in_editor(tmp_path, profile, issuer, model) as ed:
        before = await ed.execute("codex.account")
        assert before["signedIn"] is False
        assert "codex-lsp login" in before["problem"]
        load(model, [say("not reached")])
        failed = await ed.execute("codex.ask", {"prompt": "hi"})
        assert failed["status"] == "failed"
        assert "Not signed in" in failed["error"]
        assert model.requests == [], "nothing is sent without a sign-in"

        result = await sign_in_by_device(ed, issuer, "login-1")
        assert result["status"] == "signedIn", result
        assert result["account"]["email"] == "dev@example.com"
        saved = auth_file(ed)
        assert saved["auth_mode"] == "chatgpt"
        new = issuer.issued[-1]
        assert saved["tokens"]["access_token"] == new["access_token"]
        assert stat.S_IMODE(auth_path(ed).stat().st_mode) == 0o600

        model.accepted_tokens = {new["access_token"]}
        load(model, [say("signed in now")])
        done = await ed.execute("codex.ask", {"prompt": "hi again"})
        assert done["status"] == "completed", done
        assert model.generating_requests()[-1].headers["authorization"] == f"Bearer {new['access_token']}"
        received = ed.everything_received()
        assert new["access_token"] not in received
        assert new["refresh_token"] not in received
        if profile == "vscode":
            (started,) = ed.of("codex/login/started")
            assert started.verificationUrl == f"{issuer.url}/codex/device"
            assert ed.of("codex/account/updated")[-1].account.mode == "chatgpt"
            assert [d.uri for d in ed.client.shown_documents] == [f"{issuer.url}/codex/device"]
            assert all(d.external for d in ed.client.shown_documents)
        if profile != "minimal":
            ends = [r[-1] for r in ed.client.progress_reports.values() if r]
            assert any(isinstance(e, types.WorkDoneProgressEnd) and e.message == "signed in" for e in ends)


async def test_cancelling_the_login_request_writes_nothing(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    async with signed_in_editor(tmp_path, "vscode", issuer, model) as ed:
        login = ed.start("codex.login", {"method": "device"}, "login-cancel")
        await ed.until(lambda: ed.of("codex/login/started"))
        ed.client.cancel_request(types.CancelParams(id="login-cancel"))
        with pytest.raises(JsonRpcRequestCancelled):
            async with asyncio.timeout(WAIT):
                await login
        await ed.until(lambda: ed.of("codex/account/updated"))
        issuer.approve()
        assert (await ed.execute("codex.account"))["signedIn"] is False
        assert not auth_path(ed).exists()


async def test_cancelling_the_login_progress_writes_nothing(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    async with signed_in_editor(tmp_path, "neovim", issuer, model) as ed:
        login = ed.start("codex.login", {"method": "device"}, "login-progress")
        (token,) = await ed.until(lambda: [t for t in ed.client.progress_reports if "login" in str(t)])
        ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        async with asyncio.timeout(WAIT):
            result = await login
        assert result["status"] == "cancelled"
        issuer.approve()
        assert not auth_path(ed).exists()


async def test_a_progress_cancelled_as_soon_as_it_is_created_still_cancels_the_login(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    """A client may send the cancel before its answer to ``window/workDoneProgress/create`` has reached
    the server (seen on a loaded machine): the server knows the token from the moment it asks."""
    async with signed_in_editor(tmp_path, "neovim", issuer, model) as ed:
        features = ed.client.protocol.fm.features
        answer_create = features[types.WINDOW_WORK_DONE_PROGRESS_CREATE]

        def cancel_then_answer(params: types.WorkDoneProgressCreateParams) -> Any:
            ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=params.token))
            return answer_create(params)

        features[types.WINDOW_WORK_DONE_PROGRESS_CREATE] = cancel_then_answer
        login = ed.start("codex.login", {"method": "device"}, "login-cancelled-early")
        async with asyncio.timeout(WAIT):
            result = await login
        assert result["status"] == "cancelled"
        issuer.approve()
        assert not auth_path(ed).exists()


async def test_a_language_server_left_running_past_the_expiry_refreshes_once(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    """The access token is valid at the first ask and due at the second (5 minutes before ``exp``). The
    sign-in is written once the server is up, so only the first ask has to fit in the margin."""
    async with signed_in_editor(tmp_path, "neovim", issuer, model) as ed:
        exp = int(time.time()) + 306
        old = jwt({"exp": exp, "jti": "old"})
        written = write_chatgpt_auth(tmp_path / "codex-home", access=old, issuer=issuer.url)
        due_at = exp - 300
        model.accepted_tokens = {old}
        load(model, [say("one")], [say("two")])
        assert (await ed.execute("codex.ask", {"prompt": "one"}))["status"] == "completed"
        assert time.time() < due_at, "the first ask must end before the token is due (a very slow machine)"
        assert issuer.refreshes() == [], "not due yet"
        await asyncio.sleep(max(0.0, due_at - time.time()) + 0.05)  # the clock itself is under test
        model.accepted_tokens = None
        assert (await ed.execute("codex.ask", {"prompt": "two"}))["status"] == "completed"
        (refresh,) = issuer.refreshes()
        assert refresh["refresh_reason"] == "proactive_expiry"
        assert refresh["refresh_token"] == written["tokens"]["refresh_token"]
        new = issuer.issued[-1]
        assert model.generating_requests()[-1].headers["authorization"] == f"Bearer {new['access_token']}"
        assert auth_file(ed)["tokens"]["refresh_token"] == new["refresh_token"]
        assert [h.headers["authorization"] for h in model.handshakes] == [
            f"Bearer {old}",
            f"Bearer {new['access_token']}",
        ]


async def test_logout_revokes_deletes_and_the_next_ask_says_how_to_sign_in(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    write_chatgpt_auth(tmp_path / "codex-home", issuer=issuer.url, refresh="rt-to-revoke")
    async with signed_in_editor(tmp_path, "vscode", issuer, model) as ed:
        result = await ed.execute("codex.logout")
        assert result["signedOut"] is True
        assert result["account"]["signedIn"] is False
        (revoke,) = issuer.on("/oauth/revoke")
        assert revoke.json()["token"] == "rt-to-revoke"
        assert not auth_path(ed).exists()
        load(model, [say("not reached")])
        failed = await ed.execute("codex.ask", {"prompt": "hi"})
        assert failed["status"] == "failed"
        assert "codex-lsp login" in failed["error"]


async def test_an_api_key_sign_in_from_the_editor(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    async with signed_in_editor(tmp_path, "vscode", issuer, model) as ed:
        key = "sk-proj-editor-key-0123456789"
        result = await ed.execute("codex.login", {"method": "apiKey", "apiKey": key})
        assert result["status"] == "signedIn"
        assert result["account"]["mode"] == "apikey"
        assert auth_file(ed) == {"auth_mode": "apikey", "OPENAI_API_KEY": key}
        load(model, [say("ok")])
        assert (await ed.execute("codex.ask", {"prompt": "hi"}))["status"] == "completed"
        assert model.generating_requests()[-1].headers["authorization"] == f"Bearer {key}"
        assert key not in ed.everything_received()


async def test_a_401_mid_session_is_recovered_with_one_refresh(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    """The backend retires the socket and then stops accepting the token (revoked early, say): the next
    ask's handshake is refused, re-reads auth.json, refreshes once and goes through; the editor sees a
    completed turn and no token."""
    written = write_chatgpt_auth(tmp_path / "codex-home", issuer=issuer.url)
    old = written["tokens"]["access_token"]
    model.accepted_tokens = {old}
    async with signed_in_editor(tmp_path, "vscode", issuer, model) as ed:
        load(model, [say("one", close_after=True)], [say("two")])
        assert (await ed.execute("codex.ask", {"prompt": "one"}))["status"] == "completed"
        model.accepted_tokens = issuer.minted()
        result = await ed.execute("codex.ask", {"prompt": "two"})
        assert result["status"] == "completed", result
        (refresh,) = issuer.refreshes()
        assert refresh["refresh_reason"] == "unauthorized_recovery"
        new = issuer.issued[0]["access_token"]
        assert [a.removeprefix("Bearer ") for a in model.authorizations] == [old, old, old, new]
        received = ed.everything_received()
        assert old not in received
        assert new not in received


async def test_a_token_the_model_echoes_is_masked_in_notifications_and_the_thread_file(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    written = write_chatgpt_auth(tmp_path / "codex-home", issuer=issuer.url)
    tokens = [written["tokens"][name] for name in ("access_token", "refresh_token", "id_token")]
    async with signed_in_editor(tmp_path, "vscode", issuer, model) as ed:
        load(model, [say("your tokens: " + " ".join(tokens))])
        result = await ed.execute("codex.ask", {"prompt": "leak"})
        assert result["status"] == "completed"
        assert "***" in result["message"]
        saved = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.jsonl"))
        assert "your tokens" in saved, "the thread was saved"
        shown = ed.everything_received() + json.dumps(result) + saved
        assert [t for t in tokens if t in shown] == []


async def test_a_slow_refresh_never_blocks_the_server(
    tmp_path: Path, issuer: FakeIssuer, model: FakeResponsesServer
) -> None:
    """While the sign-in server takes its time with a refresh, the server answers everything else."""
    write_chatgpt_auth(tmp_path / "codex-home", access=access_token(-1), issuer=issuer.url)
    issuer.refresh_gate = asyncio.Event()
    async with signed_in_editor(tmp_path, "vscode", issuer, model) as ed:
        load(model, [say("after the refresh")])
        ask = ed.start("codex.ask", {"prompt": "hi"}, "slow-refresh")
        async with asyncio.timeout(WAIT):
            await issuer.refresh_arrived.wait()
        account = await ed.execute("codex.account")
        assert account["refreshDue"] == "proactive_expiry"
        assert (await ed.execute("codex.status"))["runningTurns"]
        assert not ask.done()
        issuer.refresh_gate.set()
        async with asyncio.timeout(WAIT):
            result = await ask
        assert result["status"] == "completed", result
        assert model.authorizations == [f"Bearer {issuer.issued[0]['access_token']}"]
