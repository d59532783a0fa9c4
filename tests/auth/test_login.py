"""Signing in and out as ``codex login`` / ``codex logout`` do: the device code and browser (PKCE) flows
against the fake issuer, the API key, logout's revocation, and the status line."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import socket
import stat
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from codex_lsp.auth import (
    BrowserLogin,
    DeviceLogin,
    LoginCancelled,
    LoginError,
    login_status,
    logout,
    mask_key,
    save_api_key,
)
from codex_lsp.auth import login as login_module
from codex_lsp.auth.store import parse_timestamp
from codex_lsp.testing import FakeIssuer, chatgpt_auth, id_token
from tests.auth.conftest import WAIT, FrozenClock, files_in, put, read_json, write_raw

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
ACCOUNT = "acct-fake-workspace"
SCOPE = "openid profile email offline_access api.connectors.read api.connectors.invoke"
B64URL = re.compile(r"[A-Za-z0-9_-]+")


def b64_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def assert_codex_chatgpt_file(home: Path, issuer: FakeIssuer, api_key: str | None) -> dict[str, Any]:
    """``auth.json`` exactly as ``codex login`` writes it after a sign-in to ``issuer``."""
    path = home / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    saved = read_json(home)
    assert raw == json.dumps(saved, indent=2, ensure_ascii=False).encode(), (
        "Codex's bytes: 2 spaces, no newline"
    )
    assert list(saved) == ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh"]
    assert saved["auth_mode"] == "chatgpt"
    assert saved["OPENAI_API_KEY"] == api_key
    tokens = saved["tokens"]
    assert list(tokens) == [
        "id_token",
        "access_token",
        "refresh_token",
        "oauth_provenance",
        "login_owner_id",
        "account_id",
    ]
    assert {k: tokens[k] for k in ("id_token", "access_token", "refresh_token")} == issuer.issued[-1]
    assert tokens["oauth_provenance"] == {"issuer": issuer.url, "client_id": CLIENT_ID}
    assert len(tokens["login_owner_id"]) == 43
    assert B64URL.fullmatch(tokens["login_owner_id"])
    assert tokens["account_id"] == ACCOUNT, "copied from the id token's chatgpt_account_id"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", saved["last_refresh"])
    assert parse_timestamp(saved["last_refresh"]) is not None
    return saved


async def next_poll(issuer: FakeIssuer) -> None:
    async with asyncio.timeout(WAIT):
        await issuer.device_polled.wait()
    issuer.device_polled.clear()


# -- device code --------------------------------------------------------------------------------------------


async def test_device_login_polls_until_approved_then_writes_codex_file(
    home: Path, issuer: FakeIssuer
) -> None:
    login = DeviceLogin(home, issuer.env())
    code = await login.start()
    (usercode,) = issuer.on("/api/accounts/deviceauth/usercode")
    assert usercode.method == "POST"
    assert usercode.headers["content-type"] == "application/json"
    assert usercode.json() == {"client_id": CLIENT_ID}
    ((device_id, device),) = issuer.devices.items()
    assert code.user_code == device.user_code
    assert code.verification_url == f"{issuer.url}/codex/device"
    assert device_id not in repr(code)

    waiting = asyncio.create_task(login.wait(code))
    for _ in range(3):
        await next_poll(issuer)
    assert not waiting.done(), "the login waits for the user"
    assert not (home / "auth.json").exists()
    issuer.approve(code.user_code)
    async with asyncio.timeout(WAIT):
        saved = await waiting
    polls = issuer.on("/api/accounts/deviceauth/token")
    assert len(polls) >= 4
    assert {json.dumps(p.json(), sort_keys=True) for p in polls} == {
        json.dumps({"device_auth_id": device_id, "user_code": code.user_code}, sort_keys=True)
    }
    (exchange,) = issuer.on("/oauth/token")
    assert exchange.headers["content-type"] == "application/x-www-form-urlencoded"
    assert exchange.form() == {
        "grant_type": "authorization_code",
        "code": exchange.form()["code"],
        "redirect_uri": f"{issuer.url}/deviceauth/callback",
        "client_id": CLIENT_ID,
        "code_verifier": device.verifier,
    }
    assert exchange.form()["code"].startswith("devcode-")
    assert_codex_chatgpt_file(home, issuer, api_key=None)
    assert saved.mode == "chatgpt"
    assert saved.tokens is not None
    assert saved.tokens.account_id == ACCOUNT


class Issuer(FakeIssuer):
    """The fake issuer with device endpoints that answer what a test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.usercode_reply: tuple[int, dict[str, Any]] | None = None
        self.poll_reply: tuple[int, dict[str, Any]] | None = None

    def _usercode(self) -> tuple[int, dict[str, Any]]:
        return self.usercode_reply or super()._usercode()

    def _device_token(self, body: bytes) -> tuple[int, dict[str, Any]]:
        reply = super()._device_token(body)
        return self.poll_reply or reply


@asynccontextmanager
async def custom_issuer() -> AsyncIterator[Issuer]:
    server = Issuer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_device_login_not_enabled_is_codex_text(home: Path) -> None:
    async with custom_issuer() as issuer:
        issuer.usercode_reply = (404, {"error": "not_found"})
        with pytest.raises(LoginError) as caught:
            await DeviceLogin(home, issuer.env()).start()
    assert caught.value.message == (
        "device code login is not enabled for this Codex server. "
        "Use the browser login or verify the server URL."
    )


@pytest.mark.parametrize(
    "reply",
    [
        (200, {"user_code": "ABCD-EFGH"}),
        (500, {"error": "oops"}),
    ],
)
async def test_a_bad_device_code_reply_is_a_login_error(
    home: Path, reply: tuple[int, dict[str, Any]]
) -> None:
    async with custom_issuer() as issuer:
        issuer.usercode_reply = reply
        with pytest.raises(LoginError):
            await DeviceLogin(home, issuer.env()).start()


async def test_the_usercode_alias_and_a_string_interval_are_read(home: Path) -> None:
    async with custom_issuer() as issuer:
        issuer.usercode_reply = (200, {"device_auth_id": "dev-1", "usercode": "WXYZ-1234", "interval": "7"})
        code = await DeviceLogin(home, issuer.env()).start()
    assert (code.user_code, code.interval) == ("WXYZ-1234", 7.0)


async def test_device_login_times_out_after_15_minutes_writing_nothing(
    home: Path, issuer: FakeIssuer
) -> None:
    clock = FrozenClock(1000.0)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += 60

    issuer.device_interval = "5"
    login = DeviceLogin(home, issuer.env(), clock=clock, sleep=sleep)
    code = await login.start()
    with pytest.raises(LoginError) as caught:
        await login.wait(code)
    assert caught.value.message == "device auth timed out after 15 minutes"
    assert clock.now - 1000.0 == 15 * 60, "it polls for the whole 15 minutes, and gives up then"
    assert set(slept) == {5.0}, "every `interval` seconds"
    assert issuer.on("/oauth/token") == []
    assert files_in(home) == []


@pytest.mark.parametrize(
    "reply", [(400, {"error": "expired_token"}), (500, {"error": "server_error"}), (200, {"oops": 1})]
)
async def test_a_refused_device_login_writes_nothing(home: Path, reply: tuple[int, dict[str, Any]]) -> None:
    async with custom_issuer() as issuer:
        login = DeviceLogin(home, issuer.env())
        code = await login.start()
        issuer.poll_reply = reply
        with pytest.raises(LoginError):
            async with asyncio.timeout(WAIT):
                await login.wait(code)
    assert not (home / "auth.json").exists()


@pytest.mark.parametrize(("allowed", "ok"), [((ACCOUNT,), True), (("acct-other", "acct-third"), False)])
async def test_device_login_is_refused_outside_the_forced_workspace(
    home: Path, issuer: FakeIssuer, allowed: tuple[str, ...], ok: bool
) -> None:
    """Codex's ``ensure_workspace_allowed`` after the code exchange: nothing written for another workspace."""
    issuer.auto_approve = True
    login = DeviceLogin(home, issuer.env(), workspace_ids=allowed)
    code = await login.start()
    if ok:
        await login.wait(code)
        assert read_json(home)["tokens"]["account_id"] == ACCOUNT
        return
    with pytest.raises(LoginError) as caught:
        await login.wait(code)
    assert caught.value.message == "Login is restricted to workspace id acct-other, acct-third."
    assert not (home / "auth.json").exists()


# -- browser ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def browse(url: str) -> httpx.Response:
    """The user's browser: follows the issuer's redirect back to the callback."""
    async with httpx.AsyncClient(follow_redirects=True, trust_env=False, timeout=WAIT) as client:
        return await client.get(url)


def query_of(url: str) -> dict[str, str]:
    values = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in values.values()), "no parameter repeated"
    return {k: v[0] for k, v in values.items()}


async def test_browser_login_signs_in_with_pkce_and_an_exchanged_key(home: Path, issuer: FakeIssuer) -> None:
    port = free_port()
    login = BrowserLogin(home, issuer.env(), ports=(port,))
    url = await login.start()
    assert login.port == port
    assert url.startswith(f"{issuer.url}/oauth/authorize?")
    query = query_of(url)
    assert query == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": f"http://127.0.0.1:{port}/auth/callback",
        "code_challenge": query["code_challenge"],
        "code_challenge_method": "S256",
        "state": query["state"],
        "scope": SCOPE,
        "id_token_add_organizations": "true",
        "codex_cli_simplified_flow": "true",
        "originator": "codex_cli_rs",
    }
    assert len(query["state"]) == 43
    assert B64URL.fullmatch(query["state"])
    assert len(query["code_challenge"]) == 43

    page = await browse(url)
    assert page.status_code == 200
    assert page.url.path == "/auth/callback"
    async with asyncio.timeout(WAIT):
        saved = await login.wait()
    exchange, key_exchange = issuer.on("/oauth/token")
    form = exchange.form()
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == f"http://127.0.0.1:{port}/auth/callback"
    assert form["client_id"] == CLIENT_ID
    assert len(form["code_verifier"]) == 86
    assert b64_sha256(form["code_verifier"]) == query["code_challenge"], "S256 of the verifier"
    assert key_exchange.form() == {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "client_id": CLIENT_ID,
        "requested_token": "openai-api-key",
        "subject_token": issuer.issued[-1]["id_token"],
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    }
    written = assert_codex_chatgpt_file(home, issuer, api_key=saved.api_key)
    assert written["OPENAI_API_KEY"].startswith("sk-exchanged-")
    assert issuer.issued[-1]["access_token"] not in page.text
    with pytest.raises(httpx.ConnectError):
        await browse(f"http://127.0.0.1:{port}/cancel")  # the listener is closed


async def test_a_failed_key_exchange_still_signs_in_with_a_null_key(home: Path, issuer: FakeIssuer) -> None:
    issuer.key_exchange_status = 401
    login = BrowserLogin(home, issuer.env(), ports=(free_port(),))
    await browse(await login.start())
    async with asyncio.timeout(WAIT):
        await login.wait()
    assert_codex_chatgpt_file(home, issuer, api_key=None)


async def test_allowed_workspace_id_is_sent_and_enforced(home: Path, issuer: FakeIssuer) -> None:
    login = BrowserLogin(home, issuer.env(), ports=(free_port(),), workspace_ids=("acct-a", "acct-b"))
    url = await login.start()
    assert query_of(url)["allowed_workspace_id"] == "acct-a,acct-b"
    page = await browse(url)
    with pytest.raises(LoginError) as caught:
        async with asyncio.timeout(WAIT):
            await login.wait()
    assert caught.value.message == "Login is restricted to workspace id acct-a, acct-b."
    assert "restricted" in page.text
    assert not (home / "auth.json").exists()
    assert len(issuer.on("/oauth/token")) == 1, "no API key is asked for a refused sign-in"


async def test_a_forced_workspace_that_matches_signs_in(home: Path, issuer: FakeIssuer) -> None:
    login = BrowserLogin(home, issuer.env(), ports=(free_port(),), workspace_ids=("acct-a", ACCOUNT))
    await browse(await login.start())
    async with asyncio.timeout(WAIT):
        await login.wait()
    assert read_json(home)["tokens"]["account_id"] == ACCOUNT


async def test_an_unwritable_home_ends_the_browser_login_instead_of_hanging(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    """auth.json cannot be written (here ``CODEX_HOME`` is a file): the login fails with the OSError, as the
    device flow's does, and the browser is told; before, the callback died and ``wait()`` never returned."""
    home = write_raw(tmp_path / "home", {})  # a file where the home should be
    login = BrowserLogin(home, issuer.env(), ports=(free_port(),))
    page = await browse(await login.start())
    assert page.status_code == 500
    assert "cannot write" in page.text
    with pytest.raises(OSError, match="File exists"):
        async with asyncio.timeout(WAIT):
            await login.wait()


async def test_a_wrong_state_is_refused_and_the_login_goes_on(home: Path, issuer: FakeIssuer) -> None:
    port = free_port()
    login = BrowserLogin(home, issuer.env(), ports=(port,))
    url = await login.start()
    forged = await browse(f"http://127.0.0.1:{port}/auth/callback?code=attacker-code&state=forged")
    assert forged.status_code == 400
    assert forged.text == "State mismatch"
    no_state = await browse(f"http://127.0.0.1:{port}/auth/callback?code=attacker-code")
    assert no_state.status_code == 400
    assert issuer.on("/oauth/token") == [], "a forged callback's code is never exchanged"
    waiting = asyncio.create_task(login.wait())
    await browse(url)
    async with asyncio.timeout(WAIT):
        await waiting
    assert read_json(home)["auth_mode"] == "chatgpt"


@pytest.mark.parametrize("how", ["get", "method"])
async def test_cancel_ends_the_login_writing_nothing(home: Path, issuer: FakeIssuer, how: str) -> None:
    port = free_port()
    login = BrowserLogin(home, issuer.env(), ports=(port,))
    await login.start()
    waiting = asyncio.create_task(login.wait())
    if how == "get":
        page = await browse(f"http://127.0.0.1:{port}/cancel")
        assert page.status_code == 200
    else:
        login.cancel()
    with pytest.raises(LoginCancelled):
        async with asyncio.timeout(WAIT):
            await waiting
    assert not (home / "auth.json").exists()


@pytest.mark.parametrize(
    ("description", "shown"),
    [
        ("missing_codex_entitlement", "Codex is not enabled for your workspace"),
        ("The user denied access", "The user denied access"),
    ],
)
async def test_an_error_callback_fails_the_login(
    home: Path, issuer: FakeIssuer, description: str, shown: str
) -> None:
    port = free_port()
    login = BrowserLogin(home, issuer.env(), ports=(port,))
    state = query_of(await login.start())["state"]
    callback = f"http://127.0.0.1:{port}/auth/callback"
    page = await browse(f"{callback}?state={state}&error=access_denied&error_description={description}")
    assert shown in page.text
    with pytest.raises(LoginError) as caught:
        async with asyncio.timeout(WAIT):
            await login.wait()
    assert shown in caught.value.message
    assert not isinstance(caught.value, LoginCancelled)
    assert not (home / "auth.json").exists()


class PortHolder:
    """Another login holding a callback port: it answers ``/cancel`` (keeping or freeing the port) or
    drops the connection without a word."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.paths: list[str] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, port: int) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.paths.append(head.split(b" ")[1].decode())
        if self.behaviour == "release" and self.server is not None:
            self.server.close()
        if self.behaviour != "silent":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\nconnection: close\r\n\r\nLogin cancelled")
            await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_module, "PORT_RETRY_DELAY", 0.0)


@pytest.mark.usefixtures("no_retry_delay")
@pytest.mark.parametrize(("behaviour", "used"), [("answer", 1), ("silent", 1), ("release", 0)])
async def test_a_busy_first_port_is_asked_to_cancel_then_the_fallback_is_used(
    home: Path, issuer: FakeIssuer, behaviour: str, used: int
) -> None:
    first, fallback = free_port(), free_port()
    holder = PortHolder(behaviour)
    await holder.start(first)
    try:
        login = BrowserLogin(home, issuer.env(), ports=(first, fallback))
        url = await login.start()
        assert holder.paths == ["/cancel"], "the other login is asked once to give the port up"
        assert login.port == (first, fallback)[used]
        assert query_of(url)["redirect_uri"] == f"http://127.0.0.1:{login.port}/auth/callback"
        await browse(url)
        async with asyncio.timeout(WAIT):
            await login.wait()
        assert read_json(home)["auth_mode"] == "chatgpt"
    finally:
        await holder.stop()


@pytest.mark.usefixtures("no_retry_delay")
async def test_both_ports_busy_is_a_login_error(home: Path, issuer: FakeIssuer) -> None:
    holders = [PortHolder("answer"), PortHolder("answer")]
    ports = (free_port(), free_port())
    for holder, port in zip(holders, ports, strict=True):
        await holder.start(port)
    try:
        login = BrowserLogin(home, issuer.env(), ports=ports)
        with pytest.raises(LoginError) as caught:
            await login.start()
        assert str(ports[0]) in caught.value.message
        assert str(ports[1]) in caught.value.message
        assert [h.paths for h in holders] == [["/cancel"], ["/cancel"]]
    finally:
        for holder in holders:
            await holder.stop()


def test_the_ports_are_codex_registered_ones_unless_the_test_variable_says() -> None:
    assert BrowserLogin(Path("/nonexistent"), {}).ports == (1455, 1457)
    env = {"CODEX_LSP_AUTH_CALLBACK_PORTS": "2001, 2002"}
    assert BrowserLogin(Path("/nonexistent"), env).ports == (2001, 2002)


# -- API key, logout, status --------------------------------------------------------------------------------


async def test_an_api_key_is_saved_exactly_as_codex_does(home: Path) -> None:
    saved = await save_api_key(home, "  sk-proj-abcdefghijklmnop12345\n")
    path = home / "auth.json"
    assert (
        path.read_bytes()
        == b'{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-proj-abcdefghijklmnop12345"\n}'
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (saved.mode, saved.api_key) == ("apikey", "sk-proj-abcdefghijklmnop12345")


@pytest.mark.parametrize("key", ["", "  \n", "\t"])
async def test_an_empty_api_key_is_refused_and_nothing_written(home: Path, key: str) -> None:
    write_raw(home, chatgpt_auth())
    before = (home / "auth.json").read_bytes()
    with pytest.raises(LoginError):
        await save_api_key(home, key)
    assert (home / "auth.json").read_bytes() == before


class RevokeIssuer(FakeIssuer):
    """Records whether auth.json still existed when the revocation arrived; answers ``revoke_status``."""

    def __init__(self, home: Path, revoke_status: int = 200) -> None:
        super().__init__()
        self.home = home
        self.revoke_status = revoke_status
        self.file_at_revoke: list[bool] = []

    def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | bytes, dict[str, str]]:
        if path == "/oauth/revoke":
            self.file_at_revoke.append((self.home / "auth.json").exists())
            return self.revoke_status, {}, {}
        return super()._route(method, path, headers, body)


@pytest.mark.parametrize("revoke_status", [200, 500])
async def test_logout_revokes_the_refresh_token_then_deletes(home: Path, revoke_status: int) -> None:
    issuer = RevokeIssuer(home, revoke_status)
    await issuer.start()
    try:
        write_raw(home, chatgpt_auth(refresh="rt-to-revoke"))
        assert await logout(home, issuer.env()) is True
    finally:
        await issuer.stop()
    (revoke,) = issuer.on("/oauth/revoke")
    assert revoke.method == "POST"
    assert revoke.headers["content-type"] == "application/json"
    assert revoke.json() == {
        "token": "rt-to-revoke",
        "token_type_hint": "refresh_token",
        "client_id": CLIENT_ID,
    }
    assert issuer.file_at_revoke == [True], "revoked first, deleted after"
    assert not (home / "auth.json").exists()


async def test_logout_with_an_unreachable_issuer_still_deletes(home: Path) -> None:
    write_raw(home, chatgpt_auth())
    dead = f"http://127.0.0.1:{free_port()}"
    env = {"CODEX_LSP_AUTH_ISSUER": dead, "CODEX_REVOKE_TOKEN_URL_OVERRIDE": f"{dead}/oauth/revoke"}
    assert await logout(home, env) is True
    assert not (home / "auth.json").exists()


@pytest.mark.parametrize(
    "content",
    [b"{broken", json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-k"}).encode()],
    ids=["unreadable", "apikey"],
)
async def test_logout_without_a_refresh_token_deletes_without_revoking(
    home: Path, issuer: FakeIssuer, content: bytes
) -> None:
    put(home, content)
    assert await logout(home, issuer.env()) is True
    assert issuer.requests == []
    assert not (home / "auth.json").exists()


async def test_logout_when_not_signed_in(home: Path, issuer: FakeIssuer) -> None:
    """Nothing to revoke or delete, and a ``CODEX_HOME`` that does not exist is not created."""
    assert await logout(home, issuer.env()) is False
    assert issuer.requests == []
    assert files_in(home) == []
    assert not await asyncio.to_thread(home.exists)
    write_raw(home, chatgpt_auth())
    assert await logout(home, issuer.env()) is True
    assert await logout(home, issuer.env()) is False


STATUS_CASES: list[tuple[Callable[[Path], object], str, bool]] = [
    (lambda home: None, "Not logged in", False),
    (
        lambda home: write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-proj-abcdefghij12345"}),
        "API key configured - sk-proj-***12345",
        True,
    ),
    (lambda home: write_raw(home, chatgpt_auth()), "Logged in using ChatGPT (dev@example.com)", True),
]


@pytest.mark.parametrize(("setup", "text", "signed_in"), STATUS_CASES, ids=["none", "apikey", "chatgpt"])
def test_login_status_texts(home: Path, setup: Callable[[Path], object], text: str, signed_in: bool) -> None:
    setup(home)
    assert login_status(home) == (text, signed_in)


def test_login_status_without_an_email_and_with_a_bad_file(home: Path) -> None:
    data = chatgpt_auth()
    data["tokens"]["id_token"] = "not-a-jwt"
    write_raw(home, data)
    assert login_status(home) == ("Logged in using ChatGPT", True)
    (home / "auth.json").write_text('{"auth_mode": "apikey", "OPENAI_API_KEY": ["sk-secret-value"]}')
    text, signed_in = login_status(home)
    assert not signed_in
    assert text.startswith("Not logged in: ")
    assert "sk-secret" not in text


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("sk-proj-abcdefghij12345", "sk-proj-***12345"),
        ("sk-abcdefghijklmnop", "sk-abcde***lmnop"),
        ("sk-12345678901", "sk-12345***78901"),
        ("sk-1234567890", "***"),
        ("", "***"),
    ],
)
def test_mask_key_first_8_last_5(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_an_id_token_without_account_keeps_a_null_account_id() -> None:
    from codex_lsp.auth.login import signed_in_auth
    from codex_lsp.auth.oauth import TokenReply

    data = signed_in_auth(
        TokenReply(id_token(account_id=None), "at", "rt"), api_key=None, issuer="http://i", client_id="c"
    )
    assert data["tokens"]["account_id"] is None
    assert list(data["tokens"]) == [
        "id_token",
        "access_token",
        "refresh_token",
        "oauth_provenance",
        "login_owner_id",
        "account_id",
    ]
