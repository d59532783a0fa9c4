"""A ChatGPT sign-in on the wire, case by case, over WebSocket and HTTP.

Each case runs the production ``ModelClient`` from a throwaway ``CODEX_HOME`` (a config.toml whose provider
takes the OpenAI sign-in, an ``auth.json`` as ``codex login`` writes it) against the fake model server, which
checks bearer tokens like the real backend, and the fake issuer. What Codex 0.169 itself does in the same
cases is compared in ``test_codex_auth_fidelity.py``; here every rule is pinned one by one. Where we are
deliberately stricter than Codex it is said in the test: exactly one refresh per 401 (Codex refreshes again at
each reconnect), unknown keys kept on rewrite (Codex drops them), and auth.json never deleted on an error
(Codex deletes it for ``forced_login_method``).

Also here: keys go only where they belong — a provider whose ``env_key`` is unset never falls back to
another key, a provider without ``env_key`` sends nothing unless it asks for the OpenAI sign-in.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.model import AuthError, ConfigError, ModelClient, load_settings
from codex_lsp.testing import (
    FakeIssuer,
    FakeResponsesServer,
    access_token,
    write_chatgpt_auth,
    write_chatgpt_home,
)
from tests.model.helpers import FAST, run, say, script, user

TRANSPORTS = pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])


def home_for(
    tmp_path: Path,
    fake: FakeResponsesServer,
    *,
    websockets: bool,
    extra: str = "requires_openai_auth = true",
    top: str = "",
) -> Path:
    home = tmp_path / "codex-home"
    return write_chatgpt_home(
        home, fake.chatgpt_base_url, websockets=websockets, retries=2, top=top, provider=extra
    )


async def one_turn(home: Path, env: dict[str, str]) -> tuple[ModelClient, list[Any]]:
    """One request through a fresh client; the client is closed, its recordings kept."""
    client = ModelClient.from_codex_home(home, env=env, retry_policy=FAST, prewarm=False)
    async with client:
        events = await run(client.new_turn(), [user("hi")])
    return client, events


def sent_tokens(fake: FakeResponsesServer) -> list[str]:
    """The bearer token of every attempt the model server saw (refused ones included), in order."""
    return [value.removeprefix("Bearer ") for value in fake.authorizations]


def _ignore(_: object) -> None:
    """Drop a value (a callback whose result nobody reads)."""


def disk(home: Path) -> bytes:
    return (home / "auth.json").read_bytes()


# -- 1-5: the request ------------------------------------------------------------------------------------


@TRANSPORTS
async def test_a_fresh_token_goes_out_as_is_with_the_account_header(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer, websockets: bool
) -> None:
    """Over WebSocket and over HTTP alike."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=websockets)
    written = write_chatgpt_auth(home, issuer=issuer.url)
    before = disk(home)
    fake.accepted_tokens = {written["tokens"]["access_token"]}
    await one_turn(home, issuer.env())
    (request,) = fake.requests
    assert request.transport == ("websocket" if websockets else "http")
    assert request.path == "/backend-api/codex/responses"
    assert request.headers["authorization"] == f"Bearer {written['tokens']['access_token']}"
    assert request.headers["chatgpt-account-id"] == "acct-fake-workspace"
    assert "x-openai-fedramp" not in request.headers
    assert issuer.requests == []
    assert disk(home) == before, "a fresh token leaves auth.json byte for byte"


@pytest.mark.parametrize(
    ("fields", "env"),
    [
        ({"auth_mode": None}, {}),
        ({"auth_mode": "chatgpt", "api_key": "sk-stored-next-to-tokens-0001"}, {}),
        ({}, {"OPENAI_API_KEY": "sk-in-the-environment-0002"}),
    ],
    ids=["no-auth-mode", "key-stored-beside", "env-key-set"],
)
async def test_chatgpt_mode_wins_where_codex_picks_it(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer, fields: dict[str, Any], env: dict[str, str]
) -> None:
    """Without ``auth_mode`` a null key means tokens; ``chatgpt`` beats a stored key and the
    environment's ``OPENAI_API_KEY``."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=True)
    written = write_chatgpt_auth(home, **fields)
    await one_turn(home, {**issuer.env(), **env})
    assert sent_tokens(fake) == [written["tokens"]["access_token"]]


async def test_the_account_header_comes_from_tokens_only_and_a_null_one_is_not_refreshed(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """``tokens.account_id`` null → no header (the id token's account is never used), and a 401
    is not recovered by a refresh: Codex's "logged out" text, after the one re-read."""
    home = home_for(tmp_path, fake, websockets=True)
    write_chatgpt_auth(home, account_id=None)
    data = json.loads(disk(home))
    data["tokens"]["id_token"] = write_chatgpt_auth(tmp_path / "other")["tokens"][
        "id_token"
    ]  # has an account
    (home / "auth.json").write_text(json.dumps(data))
    fake.accepted_tokens = {"nothing-is-accepted"}
    with pytest.raises(AuthError, match="since logged out or signed in to another account"):
        await one_turn(home, issuer.env())
    assert len(fake.refusals) == 2, "the request and its resend after re-reading auth.json"
    assert all("chatgpt-account-id" not in headers for _, headers in fake.refusals)
    assert issuer.refreshes() == []


async def test_the_account_header_is_the_files_account_id_never_the_id_tokens(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """``tokens.account_id`` is what ``codex login`` chose; the id token may name another workspace."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=True)
    data = write_chatgpt_auth(home, account_id="acct-chosen-at-login")
    data["tokens"]["id_token"] = write_chatgpt_auth(tmp_path / "other")["tokens"]["id_token"]
    (home / "auth.json").write_text(json.dumps(data))
    await one_turn(home, issuer.env())
    assert fake.handshakes[0].headers["chatgpt-account-id"] == "acct-chosen-at-login"


async def test_fedramp_accounts_say_so(tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer) -> None:
    """"""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=False)
    write_chatgpt_auth(home, fedramp=True)
    await one_turn(home, issuer.env())
    assert fake.requests[0].headers["x-openai-fedramp"] == "true"


# -- 6-12: refresh ---------------------------------------------------------------------------------------


@TRANSPORTS
async def test_a_401_rereads_then_refreshes_exactly_once_and_the_turn_completes(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer, websockets: bool
) -> None:
    """401, 401 (after re-reading auth.json), one refresh, 200 with the new token; auth.json
    rewritten by rename, 0600, new tokens, the rest kept."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=websockets)
    written = write_chatgpt_auth(home, access=access_token(3600), api_key="sk-exchanged-keep-me-0003")
    inode = (home / "auth.json").stat().st_ino
    fake.accepted_tokens = issuer.minted()
    await one_turn(home, issuer.env())

    (refresh,) = issuer.refreshes()
    assert refresh == {
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        "grant_type": "refresh_token",
        "refresh_reason": "unauthorized_recovery",
        "refresh_token": written["tokens"]["refresh_token"],
    }
    new = issuer.issued[0]
    old = written["tokens"]["access_token"]
    assert sent_tokens(fake) == [old, old, new["access_token"]]
    saved = json.loads(disk(home))
    assert saved["tokens"] | {} == {**written["tokens"], **new}
    assert (saved["auth_mode"], saved["OPENAI_API_KEY"]) == ("chatgpt", "sk-exchanged-keep-me-0003")
    assert saved["last_refresh"] > written["last_refresh"]
    assert list(saved) == list(written), "the keys keep their order"
    info = (home / "auth.json").stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_ino != inode, "written to a temporary file, then renamed over auth.json"
    assert not [p for p in home.iterdir() if p.name.startswith(".auth-")]


@pytest.mark.parametrize(
    ("expires_in", "last_refresh_days", "reason"),
    [
        (-60, None, "proactive_expiry"),
        (240, None, "proactive_expiry"),
        (360, None, None),
        (3 * 3600, 9, None),
        (None, 9, "scheduled"),
        (None, 7, None),
    ],
    ids=["expired", "4-min", "6-min", "exp-wins-over-old-refresh", "opaque-9-days", "opaque-7-days"],
)
async def test_proactive_refresh_before_any_request(
    tmp_path: Path,
    fake: FakeResponsesServer,
    issuer: FakeIssuer,
    expires_in: int | None,
    last_refresh_days: int | None,
    reason: str | None,
) -> None:
    """"""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=True)
    when = time.time() - (last_refresh_days or 0) * 86400 - 60
    last = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(when))
    written = write_chatgpt_auth(home, access=access_token(expires_in), last_refresh=last)
    await one_turn(home, issuer.env())
    reasons = [r["refresh_reason"] for r in issuer.refreshes()]
    assert reasons == ([reason] if reason else [])
    expected = issuer.issued[0]["access_token"] if reason else written["tokens"]["access_token"]
    assert sent_tokens(fake) == [expected], "the refresh happens before the first request"


async def test_the_refresh_goes_to_the_issuer_the_tokens_came_from(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """``oauth_provenance.issuer`` and no override variable → ``{issuer}/oauth/token``."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=True)
    write_chatgpt_auth(home, access=access_token(-1), issuer=issuer.url)
    await one_turn(home, {})
    assert [r.path for r in issuer.requests] == ["/oauth/token"]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            (401, {"error": {"code": "refresh_token_expired", "message": "x"}}),
            "Your access token could not be refreshed because your refresh token has expired. "
            "Please log out and sign in again.",
        ),
        (
            (401, {"error": "refresh_token_reused"}),
            "Your access token could not be refreshed because your refresh token was already used. "
            "Please log out and sign in again.",
        ),
        (
            (400, {"code": "refresh_token_invalidated"}),
            "Your access token could not be refreshed because your refresh token was revoked. "
            "Please log out and sign in again.",
        ),
        (
            (400, {"error": "invalid_grant"}),
            "Your access token could not be refreshed. Please log out and sign in again.",
        ),
    ],
    ids=["expired", "reused", "invalidated", "other-4xx"],
)
@TRANSPORTS
async def test_a_dead_refresh_token_fails_once_with_codexs_words_and_leaves_auth_json(
    tmp_path: Path,
    fake: FakeResponsesServer,
    issuer: FakeIssuer,
    websockets: bool,
    reply: tuple[int, dict[str, Any]],
    message: str,
) -> None:
    """Codex's words; and the failure is remembered: the next turn makes no second attempt (no loop)."""
    home = home_for(tmp_path, fake, websockets=websockets)
    write_chatgpt_auth(home)
    before = disk(home)
    fake.accepted_tokens = set()
    issuer.refresh_replies.append(reply)
    client = ModelClient.from_codex_home(home, env=issuer.env(), retry_policy=FAST, prewarm=False)
    async with client:
        for _ in range(2):
            with pytest.raises(AuthError) as caught:
                await run(client.new_turn(), [user("hi")])
            assert caught.value.message == message
    assert len(issuer.refreshes()) == 1
    assert disk(home) == before


@TRANSPORTS
async def test_a_refused_new_token_ends_the_turn_without_a_refresh_loop(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer, websockets: bool
) -> None:
    """Stricter than Codex (which refreshes again at each of its reconnects): one refresh, then an error
    saying to sign in again."""
    home = home_for(tmp_path, fake, websockets=websockets)
    write_chatgpt_auth(home)
    fake.accepted_tokens = set()
    with pytest.raises(AuthError, match=r"even after refreshing it\. Sign in again: run `codex-lsp login`"):
        await one_turn(home, issuer.env())
    assert len(issuer.refreshes()) == 1
    assert len(fake.refusals) == 3, "the request, its resend after re-reading, its resend after refreshing"


async def test_tokens_another_process_wrote_are_used_on_the_401_resend_without_a_refresh(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """While the request is in flight, a running Codex refreshes and rewrites auth.json."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=True)
    write_chatgpt_auth(home)
    theirs = access_token(3600, serial="codex-refreshed")
    fake.accepted_tokens = {theirs}
    fake.on_refusal = lambda: _ignore(write_chatgpt_auth(home, access=theirs, refresh="rt-from-codex"))
    await one_turn(home, issuer.env())
    assert sent_tokens(fake)[-1] == theirs
    assert issuer.refreshes() == []


async def test_unknown_keys_survive_a_refresh(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """Codex drops them; a newer Codex's keys must survive us."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=True)
    data = write_chatgpt_auth(home, access=access_token(-1))
    data["agent_identity"] = {"from": "a newer codex"}
    data["tokens"]["login_owner_id"] = "owner-123"
    data["tokens"]["future_field"] = [1, 2]
    (home / "auth.json").write_text(json.dumps(data, indent=2))
    await one_turn(home, issuer.env())
    saved = json.loads(disk(home))
    assert saved["agent_identity"] == {"from": "a newer codex"}
    assert (saved["tokens"]["login_owner_id"], saved["tokens"]["future_field"]) == ("owner-123", [1, 2])
    assert saved["tokens"]["access_token"] == issuer.issued[0]["access_token"]


@TRANSPORTS
async def test_no_token_reaches_a_log_or_an_error(
    tmp_path: Path,
    fake: FakeResponsesServer,
    issuer: FakeIssuer,
    websockets: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Full DEBUG logging through a refresh and a failure whose server message echoes the token."""
    home = home_for(tmp_path, fake, websockets=websockets)
    written = write_chatgpt_auth(home, access=access_token(-1))
    caplog.set_level(logging.DEBUG)
    fake.load(script([say("x", fault={"kind": "status", "status": 400, "message": "{echo}"})]))
    client = ModelClient.from_codex_home(home, env=issuer.env(), retry_policy=FAST, prewarm=False)
    async with client:
        session = client.new_turn()
        with pytest.raises(Exception) as caught:  # noqa: PT011 - any error; its text is what is checked
            await run(session, [user("hi")])
    secrets = [*written["tokens"].values(), *issuer.issued[0].values()]
    secrets = [
        s for s in secrets if isinstance(s, str) and len(s) > 8 and s != written["tokens"]["account_id"]
    ]
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("codex_lsp.testing")]
    if websockets:
        assert any("authorization" in line.lower() for line in ours), "the handshake headers were logged"
    text = "\n".join(ours) + str(caught.value)
    assert secrets
    assert [s for s in secrets if s in text] == []


async def test_forced_api_login_refuses_a_chatgpt_sign_in_and_keeps_the_file(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """Codex's sentence (it also deletes auth.json; we never delete it for the user)."""
    home = home_for(tmp_path, fake, websockets=True, top='forced_login_method = "api"')
    write_chatgpt_auth(home)
    before = disk(home)
    with pytest.raises(AuthError, match=r"^API key login is required, but ChatGPT is currently being used\."):
        await one_turn(home, issuer.env())
    assert fake.requests == []
    assert fake.handshakes == []
    assert disk(home) == before


# -- keys only where they belong -------------------------------------------------------------------------


@TRANSPORTS
async def test_a_provider_without_env_key_sends_no_key_at_all(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer, websockets: bool
) -> None:
    """An Ollama-like provider (no env_key, no requires_openai_auth): not the OpenAI key from the
    environment, not the one in auth.json, not the ChatGPT token."""
    fake.load(script([say("ok")]))
    home = home_for(tmp_path, fake, websockets=websockets, extra="")
    write_chatgpt_auth(home, api_key="sk-stored-openai-key-0004", auth_mode="apikey")
    env = {"OPENAI_API_KEY": "sk-env-openai-key-0005", "CODEX_API_KEY": "sk-codex-env-key-0006"}
    await one_turn(home, env)
    (request,) = fake.requests
    assert "authorization" not in request.headers


async def test_an_unset_env_key_refuses_like_codex_and_never_falls_back(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    home = home_for(
        tmp_path, fake, websockets=True, extra='env_key = "MY_PROXY_KEY"\nrequires_openai_auth = true'
    )
    write_chatgpt_auth(home, api_key="sk-stored-openai-key-0007", auth_mode="apikey")
    env = {
        "OPENAI_API_KEY": "sk-env-openai-key-0008",
        "CODEX_API_KEY": "sk-codex-env-key-0009",
        "MY_PROXY_KEY": "",
    }
    with pytest.raises(ConfigError, match=r"^Missing environment variable: `MY_PROXY_KEY`\.$"):
        await one_turn(home, env)
    assert fake.handshakes == [], "nothing is sent"


async def test_env_key_instructions_are_appended(tmp_path: Path, fake: FakeResponsesServer) -> None:
    extra = 'env_key = "MY_PROXY_KEY"\nenv_key_instructions = "Ask the platform team for a key."'
    home = home_for(tmp_path, fake, websockets=True, extra=extra)
    with pytest.raises(ConfigError) as caught:
        await one_turn(home, {})
    assert (
        caught.value.message
        == "Missing environment variable: `MY_PROXY_KEY`. Ask the platform team for a key."
    )


async def test_env_key_wins_then_the_bearer_token_then_the_sign_in(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """Codex's order, checked against the binary: ``env_key`` > ``experimental_bearer_token`` > auth.json."""
    home = home_for(
        tmp_path,
        fake,
        websockets=True,
        extra='requires_openai_auth = true\nexperimental_bearer_token = "bt-config-0010"',
    )
    written = write_chatgpt_auth(home)
    fake.load(script([say("a")], [say("b")]))
    await one_turn(home, {})
    assert sent_tokens(fake) == ["bt-config-0010"]
    config = (home / "config.toml").read_text()
    (home / "config.toml").write_text(config.replace("requires_openai_auth = true", 'env_key = "MY_KEY"'))
    await one_turn(home, {"MY_KEY": "k-env-0011"})
    assert sent_tokens(fake)[-1] == "k-env-0011"
    assert written["tokens"]["access_token"] not in sent_tokens(fake)


async def test_the_openai_provider_defaults_to_chatgpts_backend_with_a_chatgpt_sign_in(
    tmp_path: Path,
) -> None:
    home = tmp_path / "codex-home"
    write_chatgpt_auth(home)
    assert load_settings(home, {}).base_url == "https://chatgpt.com/backend-api/codex"
    (home / "auth.json").write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-x-0012"}))
    assert load_settings(home, {}).base_url == "https://api.openai.com/v1"
    (home / "config.toml").write_text('openai_base_url = "http://127.0.0.1:9/v1"\n')
    assert load_settings(home, {}).base_url == "http://127.0.0.1:9/v1"


async def test_signing_in_elsewhere_while_the_client_lives_is_picked_up(
    tmp_path: Path, fake: FakeResponsesServer, issuer: FakeIssuer
) -> None:
    """A long-lived client (the language server) with nobody signed in; the user runs ``codex login`` in
    a terminal; the next turn uses the new sign-in on a new socket — and a later sign-in to another
    account never reuses the socket the server authenticated for the first."""
    fake.load(script([say("a")], [say("b")]))
    home = home_for(tmp_path, fake, websockets=True)
    client = ModelClient.from_codex_home(home, env=issuer.env(), retry_policy=FAST, prewarm=False)
    async with client:
        with pytest.raises(AuthError, match="Not signed in"):
            await run(client.new_turn(), [user("hi")])
        first = write_chatgpt_auth(home)
        await run(client.new_turn(), [user("hi")])
        second = write_chatgpt_auth(home, account_id="acct-other", refresh="rt-other")
        os.utime(home / "auth.json", ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
        await run(client.new_turn(), [user("hi")])
    assert [h.headers["chatgpt-account-id"] for h in fake.handshakes] == ["acct-fake-workspace", "acct-other"]
    assert sent_tokens(fake) == [first["tokens"]["access_token"], second["tokens"]["access_token"]]
