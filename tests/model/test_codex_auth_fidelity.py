"""The ChatGPT sign-in, codex-lsp against the pinned Codex 0.169: same CODEX_HOME, same fakes, field by field.

For each case both run once against their own fake model server (which checks bearer tokens like the real
backend) and one shared fake issuer: the real ``codex exec`` and our ``codex-lsp exec``, each with a
throwaway ``CODEX_HOME`` holding the same ``config.toml`` (a provider taking the OpenAI sign-in) and the same
``auth.json``. Compared:

- the credential headers of every attempt (``authorization``, ``chatgpt-account-id``, ``x-openai-fedramp``)
  and the path, over WebSocket and HTTP;
- on a 401: the sequence of tokens sent (the request, its resend after re-reading auth.json, the resend after
  one refresh), the refresh request (JSON body field by field, content type), and the rewritten auth.json
  (keys and their order, each kept value, ``last_refresh``'s format, mode 0600, the lock files beside it);
- proactive refreshes (when, and the ``refresh_reason``);
- the user-facing text of a dead refresh token, a missing ``env_key`` variable and ``forced_login_method``;
- the device-code login (Codex's app-server, the only Codex login whose issuer can be pointed at a fake):
  the requests to the issuer and the auth.json written.

Differences by design, each asserted as such below (anything else fails):

- ``originator`` / ``user-agent`` name codex-lsp (as on every request; see test_codex_fidelity.py).
- A persistent 401: Codex refreshes again at each reconnect; we refresh once, then stop with "sign in
  again" (test_chatgpt_auth.py pins ours; not compared here).
- Unknown keys in auth.json: Codex drops them on rewrite, we keep them (so neither file here has any).
- ``forced_login_method``: Codex deletes auth.json ("Logging out."); we keep it and say how to sign out.
- A dead refresh token: Codex retries the connection twice more before failing; we fail at once (the
  failure is remembered either way: one refresh request each).
- Codex also fetches ``{base}/models``; we do not.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import (
    AppServer,
    FakeIssuer,
    FakeResponsesServer,
    access_token,
    make_codex_home,
    write_chatgpt_auth,
)
from tests.agent.exec_process import ours_exec
from tests.model.codex_peer import codex_exec, needs_codex
from tests.model.helpers import say, script

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 90
AUTH_HEADERS = ("authorization", "chatgpt-account-id", "x-openai-fedramp")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")

pytestmark = needs_codex


@dataclass
class Run:
    """What one peer did in one case."""

    home: Path
    fake: FakeResponsesServer
    exit_code: int
    output: str
    """Everything it printed (for codex: its JSON events and stderr)."""

    def attempts(self) -> list[dict[str, str]]:
        """The credential headers and path of every handshake or POST, accepted or refused, in order."""
        return [{"path": path, **_auth(headers)} for _, path, headers in self.fake.attempts]

    def auth_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.home / "auth.json").read_text())
        return data


def _auth(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in AUTH_HEADERS}


async def run_both(
    tmp_path: Path,
    issuer: FakeIssuer,
    *,
    websockets: bool = True,
    auth: dict[str, Any] | None = None,
    top: str = "",
    env_key: str | None = None,
    refuse_old: bool = False,
    refresh_reply: tuple[int, dict[str, Any]] | None = None,
) -> tuple[Run, Run]:
    """One case for Codex and for us: same config, same auth.json, each its own fake model server."""
    runs: list[Run] = []
    for peer in ("codex", "ours"):
        root = tmp_path / peer
        root.mkdir()
        (root / "ws").mkdir()
        fake = FakeResponsesServer(script([say("hi")]))
        await fake.start()
        try:
            home = make_codex_home(
                root, fake.chatgpt_base_url, websockets, openai_auth=env_key is None, top=top
            )
            if env_key is not None:
                config = (home / "config.toml").read_text().replace('"FAKE_KEY"', f'"{env_key}"')
                (home / "config.toml").write_text(config)
            if auth is not None:
                (home / "auth.json").write_text(json.dumps(auth, indent=2))
                (home / "auth.json").chmod(0o600)
            if refuse_old:
                fake.accepted_tokens = issuer.minted()
            if refresh_reply is not None:
                issuer.refresh_replies.append(refresh_reply)
            env = {**issuer.env(), "FAKE_KEY": ""}
            if peer == "codex":
                code, events, err = await codex_exec(home, root / "ws", "Say hi.", env)
                output = json.dumps(events) + err
            else:
                done = await ours_exec(
                    home, root / "ws", "Say hi.", "--skip-git-repo-check", env=env, json_events=False
                )
                code, output = done.code, done.stdout + done.stderr
            runs.append(Run(home, fake, code, output))
        finally:
            await fake.stop()
    return runs[0], runs[1]


# -- the request -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
@pytest.mark.parametrize("fedramp", [False, True], ids=["plain", "fedramp"])
async def test_the_credential_headers_are_codexs(
    tmp_path: Path, issuer: FakeIssuer, websockets: bool, fedramp: bool
) -> None:
    auth = write_chatgpt_auth(tmp_path / "template", fedramp=fedramp, issuer=issuer.url)
    codex, ours = await run_both(tmp_path, issuer, websockets=websockets, auth=auth)
    assert (codex.exit_code, ours.exit_code) == (0, 0), codex.output + ours.output
    assert codex.attempts()
    assert {json.dumps(a, sort_keys=True) for a in ours.attempts()} == {
        json.dumps(a, sort_keys=True) for a in codex.attempts()
    }
    assert issuer.requests == [], "a fresh token is refreshed by neither"
    assert ours.auth_json() == codex.auth_json() == auth


# -- refresh -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_a_401_is_recovered_as_codex_recovers_it(
    tmp_path: Path, issuer: FakeIssuer, websockets: bool
) -> None:
    old = access_token(3600, serial="old")
    auth = write_chatgpt_auth(tmp_path / "template", access=old, issuer=issuer.url)
    codex, ours = await run_both(tmp_path, issuer, websockets=websockets, auth=auth, refuse_old=True)
    assert (codex.exit_code, ours.exit_code) == (0, 0), codex.output + ours.output
    codex_body, our_body = issuer.refreshes()
    assert our_body == codex_body
    assert codex_body["refresh_reason"] == "unauthorized_recovery"
    token_requests = issuer.on("/oauth/token")
    assert [r.headers["content-type"] for r in token_requests] == ["application/json"] * 2
    codex_new, our_new = issuer.issued[0]["access_token"], issuer.issued[1]["access_token"]

    def tokens(run: Run, new: str) -> list[str]:
        return ["new" if a["authorization"] == f"Bearer {new}" else "old" for a in run.attempts()]

    assert tokens(ours, our_new)[:3] == tokens(codex, codex_new)[:3] == ["old", "old", "new"]
    assert {a["chatgpt-account-id"] for a in codex.attempts() + ours.attempts()} == {"acct-fake-workspace"}
    _same_rewrite(codex, ours, auth)


def _same_rewrite(codex: Run, ours: Run, before: dict[str, Any]) -> None:
    """Both rewrote auth.json the same way: same keys in the same order, the same kept values, the new
    tokens each received, a ``last_refresh`` of the same format, 0600, Codex's lock files beside it."""
    theirs, mine = codex.auth_json(), ours.auth_json()
    assert list(mine) == list(theirs)
    assert list(mine["tokens"]) == list(theirs["tokens"])
    for key in ("auth_mode", "OPENAI_API_KEY"):
        assert mine[key] == theirs[key] == before[key]
    for key in ("account_id", "oauth_provenance"):
        assert mine["tokens"][key] == theirs["tokens"][key] == before["tokens"][key]
    assert mine["tokens"]["refresh_token"] != before["tokens"]["refresh_token"]
    assert theirs["tokens"]["refresh_token"] != before["tokens"]["refresh_token"]
    assert TIMESTAMP.match(mine["last_refresh"])
    assert TIMESTAMP.match(theirs["last_refresh"])
    for run in (codex, ours):
        assert stat.S_IMODE((run.home / "auth.json").stat().st_mode) == 0o600
        assert {"auth.lock", "auth.json.lock"} <= set(os.listdir(run.home))
        assert (run.home / "auth.json").read_bytes()[-1:] == b"}", "no final newline, as Codex writes it"


@pytest.mark.parametrize(
    ("expires_in", "reason"), [(240, "proactive_expiry"), (360, None)], ids=["4-min", "6-min"]
)
async def test_proactive_refreshes_happen_when_codexs_do(
    tmp_path: Path, issuer: FakeIssuer, expires_in: int, reason: str | None
) -> None:
    auth = write_chatgpt_auth(tmp_path / "template", access=access_token(expires_in), issuer=issuer.url)
    codex, ours = await run_both(tmp_path, issuer, auth=auth)
    assert (codex.exit_code, ours.exit_code) == (0, 0), codex.output + ours.output
    assert [r["refresh_reason"] for r in issuer.refreshes()] == ([reason, reason] if reason else [])
    if reason:
        _same_rewrite(codex, ours, auth)


# -- what the user reads -----------------------------------------------------------------------------------


async def test_a_dead_refresh_token_reads_the_same(tmp_path: Path, issuer: FakeIssuer) -> None:
    expired = (401, {"error": {"code": "refresh_token_expired", "message": "expired"}})
    auth = write_chatgpt_auth(
        tmp_path / "template", access=access_token(3600, serial="old"), issuer=issuer.url
    )
    before = json.dumps(auth, indent=2).encode()
    codex, ours = await run_both(tmp_path, issuer, auth=auth, refuse_old=True, refresh_reply=expired)
    text = (
        "Your access token could not be refreshed because your refresh token has expired. "
        "Please log out and sign in again."
    )
    assert (codex.exit_code, ours.exit_code) == (1, 1)
    assert text in codex.output
    assert text in ours.output
    assert "Traceback" not in ours.output
    assert len(issuer.refreshes()) == 2, "one refresh each: the failure is remembered"
    for run in (codex, ours):
        assert (run.home / "auth.json").read_bytes() == before, "auth.json untouched"


async def test_a_missing_env_key_reads_the_same(tmp_path: Path, issuer: FakeIssuer) -> None:
    codex, ours = await run_both(tmp_path, issuer, env_key="MY_PROXY_KEY")
    text = "Missing environment variable: `MY_PROXY_KEY`."
    assert (codex.exit_code, ours.exit_code) == (1, 1)
    assert text in codex.output
    assert text in ours.output
    assert codex.attempts() == ours.attempts() == []


async def test_forced_api_login_reads_the_same_but_we_keep_the_file(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    auth = write_chatgpt_auth(tmp_path / "template", issuer=issuer.url)
    codex, ours = await run_both(tmp_path, issuer, auth=auth, top='forced_login_method = "api"')
    sentence = "API key login is required, but ChatGPT is currently being used."
    assert (codex.exit_code, ours.exit_code) == (1, 1)
    assert sentence in codex.output
    assert sentence in ours.output
    assert "Logging out." in codex.output
    assert not (codex.home / "auth.json").exists(), "by design: Codex deletes it"
    assert ours.auth_json() == auth, "by design: we never delete the user's sign-in for them"


# -- device-code login -------------------------------------------------------------------------------------


async def test_the_device_login_asks_and_writes_what_codex_does(tmp_path: Path, issuer: FakeIssuer) -> None:
    """Codex's app-server against the fake issuer, then our ``DeviceLogin``; approved at the first poll."""
    from codex_lsp.auth import DeviceLogin

    issuer.auto_approve = True
    codex_home = tmp_path / "codex" / "codex-home"
    codex_home.mkdir(parents=True)
    (codex_home / "config.toml").write_text(
        "check_for_update_on_startup = false\n"
        "[features]\nplugins = false\nremote_plugin = false\napps = false\n"
        "[analytics]\nenabled = false\n"
    )
    server = await AppServer.start(codex_home, tmp_path, env={"CODEX_APP_SERVER_LOGIN_ISSUER": issuer.url})
    try:
        await server.request("initialize", {"clientInfo": {"name": "codex-lsp-tests", "version": "0"}})
        await server.notify("initialized")
        started = await server.request("account/login/start", {"type": "chatgptDeviceCode"})
        await server.until("account/login/completed")  # fails later, at workspace routing (no HTTPS here)
    finally:
        await server.close()
    codex_requests = list(issuer.requests)
    issuer.requests.clear()
    our_home = tmp_path / "ours" / "codex-home"
    login = DeviceLogin(our_home, issuer.env())
    code = await login.start()
    await login.wait(code)

    assert started["verificationUrl"] == code.verification_url == f"{issuer.url}/codex/device"

    def shape(requests: list[Any]) -> list[tuple[str, str, Any]]:
        out = []
        for r in requests:
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.form()
            body = {
                k: ("<id>" if k in ("device_auth_id", "user_code", "code", "code_verifier") else v)
                for k, v in body.items()
            }
            out.append((r.method, r.path, body))
        return out

    assert shape(issuer.requests) == shape(codex_requests)
    theirs = json.loads((codex_home / "auth.json").read_text())
    mine = json.loads((our_home / "auth.json").read_text())
    assert list(mine) == list(theirs)
    assert list(mine["tokens"]) == list(theirs["tokens"])
    for data in (mine, theirs):
        assert (data["auth_mode"], data["OPENAI_API_KEY"]) == ("chatgpt", None)
        assert data["tokens"]["oauth_provenance"] == {
            "issuer": issuer.url,
            "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        }
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", data["tokens"]["login_owner_id"])
        assert data["tokens"]["account_id"] == "acct-fake-workspace"
        assert TIMESTAMP.match(data["last_refresh"])
    for home in (codex_home, our_home):
        assert stat.S_IMODE((home / "auth.json").stat().st_mode) == 0o600


async def test_the_browser_login_asks_for_what_codex_asks(tmp_path: Path, issuer: FakeIssuer) -> None:
    """The authorize URL of Codex's browser login (its app-server, pointed at the fake issuer) and ours:
    the same parameters with the same fixed values; the PKCE and state values are random in both, of the
    same form. By design: ``originator`` is the app-server client's name there; ours is ``codex_cli_rs``,
    what ``codex login`` sends (the sign-in is Codex's OAuth client)."""
    from urllib.parse import parse_qs, urlsplit

    from codex_lsp.auth import BrowserLogin

    codex_home = tmp_path / "codex" / "codex-home"
    codex_home.mkdir(parents=True)
    (codex_home / "config.toml").write_text("check_for_update_on_startup = false\n")
    server = await AppServer.start(codex_home, tmp_path, env={"CODEX_APP_SERVER_LOGIN_ISSUER": issuer.url})
    try:
        await server.request("initialize", {"clientInfo": {"name": "codex-lsp-tests", "version": "0"}})
        await server.notify("initialized")
        started = await server.request("account/login/start", {"type": "chatgpt"})
        await server.request("account/login/cancel", {"loginId": started["loginId"]})
    finally:
        await server.close()
    login = BrowserLogin(tmp_path / "ours", issuer.env(), ports=(0,))
    try:
        ours = await login.start()
    finally:
        await login.close()

    def params(url: str) -> dict[str, str]:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{issuer.url}/oauth/authorize"
        return {k: v[0] for k, v in parse_qs(parts.query).items()}

    theirs, mine = params(started["authUrl"]), params(ours)
    assert list(mine) == list(theirs)
    random = ("code_challenge", "state", "redirect_uri", "originator")
    assert {k: v for k, v in mine.items() if k not in random} == {
        k: v for k, v in theirs.items() if k not in random
    }
    for key in ("code_challenge", "state"):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", mine[key])
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", theirs[key])
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/auth/callback", theirs["redirect_uri"])
    assert login.port
    assert mine["redirect_uri"] == f"http://127.0.0.1:{login.port}/auth/callback"
    assert (theirs["originator"], mine["originator"]) == ("codex-lsp-tests", "codex_cli_rs")
