"""``OpenAIAccount``: which credential a request carries, its headers, the proactive refresh, 401 recovery and
the memory of a dead refresh token — against the fake issuer, with an explicit environment and clock."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.auth import (
    AuthFileError,
    NotSignedIn,
    OpenAIAccount,
    RefreshFailed,
    read_auth_file,
    refresh_due,
)
from codex_lsp.auth.store import format_timestamp, parse_timestamp, write_auth_file
from codex_lsp.testing import FakeIssuer, chatgpt_auth, id_token, jwt
from tests.auth.conftest import WAIT, FrozenClock, HeldLock, LockProbe, put, read_json, write_raw

CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
ACCOUNT = "acct-fake-workspace"
CODEX_KEY = "sk-codex-env-key-0000000001"
ENV_KEY = "sk-openai-env-key-000000002"
FILE_KEY = "sk-file-key-0000000000000003"
DAY = 24 * 3600.0
SIGNED_OUT = (
    "Your access token could not be refreshed because you have since logged out or signed in to another "
    "account. Please sign in again."
)


def clock() -> FrozenClock:
    """A frozen "now" on a whole second (JWT ``exp`` is whole seconds), near the real time: the tokens the
    fake issuer mints (``exp`` = real time + 1 h) are fresh for it."""
    now = FrozenClock()
    now.now = float(int(now.now))
    return now


def expiring(at: float) -> str:
    """A JWT access token whose ``exp`` is ``at``."""
    return jwt({"exp": int(at), "jti": f"x{at}"})


def stamp(seconds: float) -> str:
    return format_timestamp(int(seconds * 1_000_000_000))


def account(home: Path, env: dict[str, str], now: FrozenClock | None = None, **kwargs: Any) -> OpenAIAccount:
    return OpenAIAccount(home, env, clock=now or clock(), **kwargs)


# -- which credential ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "env", "bearer", "source"),
    [
        ("chatgpt", {"CODEX_API_KEY": CODEX_KEY, "OPENAI_API_KEY": ENV_KEY}, CODEX_KEY, "env CODEX_API_KEY"),
        ("apikey", {"CODEX_API_KEY": CODEX_KEY}, CODEX_KEY, "env CODEX_API_KEY"),
        (None, {"CODEX_API_KEY": CODEX_KEY, "OPENAI_API_KEY": ENV_KEY}, CODEX_KEY, "env CODEX_API_KEY"),
        ("chatgpt", {"OPENAI_API_KEY": ENV_KEY}, "ACCESS", "auth.json"),
        ("chatgpt", {"CODEX_API_KEY": "", "OPENAI_API_KEY": ENV_KEY}, "ACCESS", "auth.json"),
        ("apikey", {"OPENAI_API_KEY": ENV_KEY}, FILE_KEY, "auth.json"),
        ("chatgpt+key", {}, "ACCESS", "auth.json"),
        (None, {"OPENAI_API_KEY": ENV_KEY}, ENV_KEY, "env OPENAI_API_KEY"),
    ],
    ids=[
        "codex-key-beats-chatgpt",
        "codex-key-beats-apikey",
        "codex-key-without-file",
        "chatgpt-file-beats-env-key",
        "empty-codex-key-ignored",
        "apikey-file-beats-env-key",
        "chatgpt-mode-beats-stored-key",
        "env-key-last-resort",
    ],
)
async def test_precedence_codex_api_key_then_auth_json_then_openai_api_key(
    home: Path, file: str | None, env: dict[str, str], bearer: str, source: str
) -> None:
    """Codex 0.169 ignores ``OPENAI_API_KEY`` in the environment; codex-lsp uses it as a last resort (our
    deliberate difference), never ahead of auth.json."""
    written: dict[str, Any] = {}
    if file == "apikey":
        write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": FILE_KEY})
    elif file is not None:
        written = chatgpt_auth(api_key=FILE_KEY if file == "chatgpt+key" else None)
        write_raw(home, written)
    acct = account(home, env)
    headers = await acct.headers()
    expected = written["tokens"]["access_token"] if bearer == "ACCESS" else bearer
    assert headers["authorization"] == f"Bearer {expected}"
    assert ("chatgpt-account-id" in headers) == (bearer == "ACCESS")
    info = acct.account()
    assert info.source == (str(home / "auth.json") if source == "auth.json" else source)
    assert acct.mode() == ("chatgpt" if bearer == "ACCESS" else "apikey")


async def test_no_credentials_at_all_says_how_to_sign_in(home: Path) -> None:
    acct = account(home, {})
    with pytest.raises(NotSignedIn) as caught:
        await acct.headers()
    assert "codex-lsp login" in caught.value.message
    assert str(home / "auth.json") in caught.value.message
    assert acct.mode() is None
    assert acct.account().problem == caught.value.message


@pytest.mark.parametrize(
    ("forced", "stored", "env", "first_sentence"),
    [
        ("api", "chatgpt", {}, "API key login is required, but ChatGPT is currently being used."),
        ("chatgpt", "apikey", {}, "ChatGPT login is required, but an API key is currently being used."),
        (
            "chatgpt",
            "chatgpt",
            {"CODEX_API_KEY": CODEX_KEY},
            "ChatGPT login is required, but an API key is currently being used.",
        ),
    ],
)
async def test_forced_login_method_refuses_the_other_kind_and_keeps_the_file(
    home: Path, forced: Any, stored: str, env: dict[str, str], first_sentence: str
) -> None:
    """Codex deletes the stored sign-in here; codex-lsp never deletes auth.json on an error (deliberate)."""
    if stored == "apikey":
        path = write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": FILE_KEY})
    else:
        path = write_raw(home, chatgpt_auth())
    before = path.read_bytes()
    acct = account(home, env, forced_login=forced)
    with pytest.raises(NotSignedIn) as caught:
        await acct.headers()
    assert caught.value.message.startswith(first_sentence + " ")
    assert "forced_login_method" in caught.value.message
    with pytest.raises(NotSignedIn):
        acct.check()
    assert path.read_bytes() == before, "the file is left as it is"


@pytest.mark.parametrize(("forced", "stored"), [("api", "apikey"), ("chatgpt", "chatgpt")])
async def test_forced_login_method_accepts_its_own_kind(home: Path, forced: Any, stored: str) -> None:
    if stored == "apikey":
        write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": FILE_KEY})
    else:
        write_raw(home, chatgpt_auth())
    assert (await account(home, {}, forced_login=forced).headers())["authorization"].startswith("Bearer ")


async def test_forced_chatgpt_does_not_fall_back_to_the_openai_api_key_variable(home: Path) -> None:
    acct = account(home, {"OPENAI_API_KEY": ENV_KEY}, forced_login="chatgpt")
    with pytest.raises(NotSignedIn) as caught:
        await acct.headers()
    assert "codex-lsp login" in caught.value.message
    assert ENV_KEY not in caught.value.message


@pytest.mark.parametrize("store_kind", ["keyring", "auto"])
async def test_a_keyring_store_without_a_file_is_not_supported_yet(home: Path, store_kind: str) -> None:
    acct = account(home, {"OPENAI_API_KEY": ENV_KEY}, credentials_store=store_kind)
    with pytest.raises(NotSignedIn) as caught:
        await acct.headers()
    assert f'cli_auth_credentials_store = "{store_kind}"' in caught.value.message
    assert "keyring yet" in caught.value.message
    write_raw(home, chatgpt_auth())
    assert "chatgpt-account-id" in await acct.headers(), "a file, when there is one, is used all the same"


@pytest.mark.parametrize(
    ("allowed", "ok"),
    [((ACCOUNT,), True), (("acct-other", ACCOUNT), True), (("acct-other",), False), ((), True)],
)
async def test_forced_chatgpt_workspace_id(home: Path, allowed: tuple[str, ...], ok: bool) -> None:
    write_raw(home, chatgpt_auth())
    acct = account(home, {}, allowed_workspaces=allowed)
    if ok:
        assert (await acct.headers())["chatgpt-account-id"] == ACCOUNT
        return
    with pytest.raises(NotSignedIn) as caught:
        await acct.headers()
    assert ACCOUNT in caught.value.message
    assert "acct-other" in caught.value.message
    assert "forced_chatgpt_workspace_id" in caught.value.message


async def test_an_unreadable_file_is_an_error_not_a_fallback_to_the_env_key(home: Path) -> None:
    put(home, b"{not json")
    acct = account(home, {"OPENAI_API_KEY": ENV_KEY})
    with pytest.raises(AuthFileError):
        await acct.headers()
    assert (home / "auth.json").read_text() == "{not json"


async def test_the_file_is_reread_when_it_changes(home: Path) -> None:
    write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": FILE_KEY})
    acct = account(home, {})
    assert (await acct.headers())["authorization"] == f"Bearer {FILE_KEY}"
    written = chatgpt_auth()
    write_auth_file(home, written)
    assert (await acct.headers())["authorization"] == f"Bearer {written['tokens']['access_token']}"


# -- when to refresh ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("access_exp", "last_refresh_age", "due"),
    [
        (-60, 0, "proactive_expiry"),
        (0, 0, "proactive_expiry"),
        (240, 0, "proactive_expiry"),
        (300, 0, "proactive_expiry"),
        (301, 0, None),
        (360, 0, None),
        (3 * 3600, 9 * DAY, None),
        (None, 9 * DAY, "scheduled"),
        (None, 8 * DAY + 1, "scheduled"),
        (None, 8 * DAY, None),
        (None, 7 * DAY, None),
        (None, None, "scheduled"),
    ],
    ids=[
        "exp-past",
        "exp-now",
        "exp-4min",
        "exp-5min",
        "exp-5min1s",
        "exp-6min",
        "exp-3h-old-refresh",
        "opaque-9days",
        "opaque-8days1s",
        "opaque-8days",
        "opaque-7days",
        "opaque-never",
    ],
)
def test_refresh_due(home: Path, access_exp: float | None, last_refresh_age: float | None, due: str) -> None:
    now = clock()
    access = "opaque-access-token" if access_exp is None else expiring(now.now + access_exp)
    data = chatgpt_auth(access=access)
    if last_refresh_age is None:
        del data["last_refresh"]
    else:
        data["last_refresh"] = stamp(now.now - last_refresh_age)
    file = read_auth_file(write_raw(home, data))
    assert file is not None
    assert refresh_due(file, now.now) == due
    assert account(home, {}, now).account().refresh_due == due


def test_an_api_key_is_never_due(home: Path) -> None:
    file = read_auth_file(write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": FILE_KEY}))
    assert file is not None
    assert refresh_due(file, 0.0) is None


# -- headers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored_account", "id_account", "header"),
    [
        (ACCOUNT, ACCOUNT, ACCOUNT),
        ("acct-from-file", "acct-from-id-token", "acct-from-file"),
        (None, "acct-from-id-token", None),
        ("acct-from-file", None, "acct-from-file"),
    ],
)
async def test_chatgpt_account_id_comes_from_tokens_account_id_only(
    home: Path, stored_account: str | None, id_account: str | None, header: str | None
) -> None:
    data = chatgpt_auth()
    data["tokens"]["id_token"] = id_token(account_id=id_account)
    data["tokens"]["account_id"] = stored_account
    write_raw(home, data)
    headers = await account(home, {}).headers()
    assert headers.get("chatgpt-account-id") == header
    assert headers["authorization"] == f"Bearer {data['tokens']['access_token']}"


@pytest.mark.parametrize("fedramp", [True, False])
async def test_x_openai_fedramp_only_with_the_claim(home: Path, fedramp: bool) -> None:
    write_raw(home, chatgpt_auth(fedramp=fedramp))
    headers = await account(home, {}).headers()
    assert headers.get("x-openai-fedramp") == ("true" if fedramp else None)
    assert set(headers) <= {"authorization", "chatgpt-account-id", "x-openai-fedramp"}


# -- proactive refresh --------------------------------------------------------------------------------------


def due_file(home: Path, issuer: FakeIssuer, now: FrozenClock, **extra: Any) -> dict[str, Any]:
    """A ChatGPT sign-in whose access token expires in 4 minutes, with keys codex-lsp does not know."""
    data = chatgpt_auth(access=expiring(now.now + 240), issuer=issuer.url, **extra)
    data["tokens"]["login_owner_id"] = "o" * 43
    data["tokens"]["future_token_key"] = {"kept": True}
    data["future_top_level_key"] = ["kept", 1]
    write_raw(home, data)
    return data


async def test_a_proactive_refresh_rewrites_the_file_keeping_every_other_key(
    home: Path, issuer: FakeIssuer
) -> None:
    now = clock()
    old = due_file(home, issuer, now, api_key="sk-exchanged-kept")
    inode = (home / "auth.json").stat().st_ino
    acct = account(home, issuer.env(), now)
    headers = await acct.headers()
    new = issuer.issued[-1]
    assert headers["authorization"] == f"Bearer {new['access_token']}"
    assert issuer.refreshes() == [
        {
            "client_id": CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_reason": "proactive_expiry",
            "refresh_token": "rt-initial",
        }
    ]
    (request,) = issuer.on("/oauth/token")
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    saved = read_json(home)
    assert list(saved) == list(old), "top-level keys kept, in their order"
    assert list(saved["tokens"]) == list(old["tokens"]), "tokens keys kept, in their order"
    assert {k: saved["tokens"][k] for k in ("id_token", "access_token", "refresh_token")} == new
    for key in ("oauth_provenance", "login_owner_id", "account_id", "future_token_key"):
        assert saved["tokens"][key] == old["tokens"][key], key
    for key in ("auth_mode", "OPENAI_API_KEY", "future_top_level_key"):
        assert saved[key] == old[key], key
    after, before = parse_timestamp(saved["last_refresh"]), parse_timestamp(old["last_refresh"])
    assert after is not None
    assert before is not None
    assert after > before
    assert stat.S_IMODE((home / "auth.json").stat().st_mode) == 0o600
    assert (home / "auth.json").stat().st_ino != inode, "written by rename"
    assert acct.refreshes == 1
    assert await acct.headers() == headers, "the new token is not refreshed again"
    assert len(issuer.refreshes()) == 1


async def test_a_refresh_reply_without_some_tokens_keeps_the_old_ones(home: Path, issuer: FakeIssuer) -> None:
    now = clock()
    old = due_file(home, issuer, now)
    issuer.refresh_replies.append((200, {"access_token": "at-only-new"}))
    assert (await account(home, issuer.env(), now).headers())["authorization"] == "Bearer at-only-new"
    tokens = read_json(home)["tokens"]
    assert (tokens["id_token"], tokens["refresh_token"]) == (
        old["tokens"]["id_token"],
        old["tokens"]["refresh_token"],
    )


@pytest.mark.parametrize(
    "reply",
    [(503, {"error": {"message": "try later"}}), (401, {"error": {"code": "refresh_token_expired"}})],
)
async def test_a_failed_proactive_refresh_does_not_fail_the_request(
    home: Path, issuer: FakeIssuer, reply: tuple[int, dict[str, Any]]
) -> None:
    now = clock()
    old = due_file(home, issuer, now)
    before = (home / "auth.json").read_bytes()
    issuer.refresh_replies.append(reply)
    headers = await account(home, issuer.env(), now).headers()
    assert headers["authorization"] == f"Bearer {old['tokens']['access_token']}"
    assert len(issuer.refreshes()) == 1
    assert (home / "auth.json").read_bytes() == before


async def test_a_dead_refresh_token_is_not_tried_again_before_each_request(
    home: Path, issuer: FakeIssuer
) -> None:
    now = clock()
    due_file(home, issuer, now)
    issuer.refresh_replies.append((401, {"error": {"code": "refresh_token_expired"}}))
    acct = account(home, issuer.env(), now)
    await acct.headers()
    await acct.headers()
    assert len(issuer.refreshes()) == 1
    info = acct.account()
    assert info.problem is not None
    assert "refresh token has expired" in info.problem


async def test_an_opaque_token_is_refreshed_on_schedule(home: Path, issuer: FakeIssuer) -> None:
    now = clock()
    data = chatgpt_auth(access="opaque-access-1", last_refresh=stamp(now.now - 9 * DAY))
    write_raw(home, data)
    await account(home, issuer.env(), now).headers()
    assert [body["refresh_reason"] for body in issuer.refreshes()] == ["scheduled"]


async def test_concurrent_requests_refresh_once(home: Path, issuer: FakeIssuer) -> None:
    now = clock()
    due_file(home, issuer, now)
    acct = account(home, issuer.env(), now)
    results = await asyncio.gather(*(acct.headers() for _ in range(4)))
    assert len(issuer.refreshes()) == 1
    assert {r["authorization"] for r in results} == {f"Bearer {issuer.issued[-1]['access_token']}"}


async def test_two_processes_sharing_the_file_refresh_once(home: Path, issuer: FakeIssuer) -> None:
    """Two ``OpenAIAccount`` of one home (as codex-lsp next to Codex): serialised by the file locks."""
    now = clock()
    due_file(home, issuer, now)
    first, second = account(home, issuer.env(), now), account(home, issuer.env(), now)
    results = await asyncio.gather(first.headers(), second.headers())
    assert len(issuer.refreshes()) == 1
    assert results[0] == results[1]
    assert first.refreshes + second.refreshes == 1


async def test_tokens_another_process_wrote_while_we_waited_for_the_lock_are_adopted(
    home: Path, issuer: FakeIssuer, lock_probe: LockProbe, held: list[HeldLock]
) -> None:
    now = clock()
    old = due_file(home, issuer, now)
    held.append(HeldLock(home / "auth.lock"))
    acct = account(home, issuer.env(), now)
    request = asyncio.create_task(acct.headers())
    assert await asyncio.to_thread(lock_probe.blocked.wait, WAIT), "the refresh waits for the lock"
    theirs = issuer.mint()  # the other process refreshed meanwhile
    write_auth_file(home, {**old, "tokens": {**old["tokens"], **theirs}})
    held[0].release()
    async with asyncio.timeout(WAIT):
        headers = await request
    assert headers["authorization"] == f"Bearer {theirs['access_token']}"
    assert issuer.refreshes() == []
    assert acct.refreshes == 0


# -- 401 recovery -------------------------------------------------------------------------------------------


async def signed_in(home: Path, issuer: FakeIssuer, **fields: Any) -> tuple[OpenAIAccount, dict[str, Any]]:
    data = chatgpt_auth(issuer=issuer.url, **fields)
    write_raw(home, data)
    acct = account(home, issuer.env())
    await acct.headers()
    return acct, data


async def test_recovery_attempt_0_rereads_the_file_without_refreshing(home: Path, issuer: FakeIssuer) -> None:
    acct, old = await signed_in(home, issuer)
    await acct.recover(0)
    assert issuer.requests == []
    theirs = issuer.mint()
    write_auth_file(home, {**old, "tokens": {**old["tokens"], **theirs}})
    await acct.recover(0)
    assert (await acct.headers())["authorization"] == f"Bearer {theirs['access_token']}"
    assert issuer.refreshes() == []


async def test_recovery_attempt_1_refreshes_once_and_attempt_2_gives_up(
    home: Path, issuer: FakeIssuer
) -> None:
    """Codex starts the cycle again on the next request attempt; codex-lsp makes exactly one refresh per
    recovery and then fails (deliberate)."""
    acct, _ = await signed_in(home, issuer)
    await acct.recover(0)
    await acct.recover(1)
    new = issuer.issued[-1]
    assert issuer.refreshes() == [
        {
            "client_id": CLIENT_ID,
            "grant_type": "refresh_token",
            "refresh_reason": "unauthorized_recovery",
            "refresh_token": "rt-initial",
        }
    ]
    assert (await acct.headers())["authorization"] == f"Bearer {new['access_token']}"
    with pytest.raises(NotSignedIn) as caught:
        await acct.recover(2)
    assert "Sign in again" in caught.value.message
    assert "codex-lsp login" in caught.value.message
    assert len(issuer.refreshes()) == 1
    with pytest.raises(NotSignedIn):
        await acct.recover(3)
    assert len(issuer.refreshes()) == 1


async def test_without_an_account_id_a_401_fails_without_refreshing(home: Path, issuer: FakeIssuer) -> None:
    acct, _ = await signed_in(home, issuer, account_id=None)
    await acct.recover(0)
    with pytest.raises(NotSignedIn) as caught:
        await acct.recover(1)
    assert caught.value.message == SIGNED_OUT
    assert issuer.requests == []


async def test_a_sign_in_to_another_account_meanwhile_fails_without_refreshing(
    home: Path, issuer: FakeIssuer
) -> None:
    acct, _ = await signed_in(home, issuer)
    write_auth_file(home, chatgpt_auth(account_id="acct-someone-else", access="at-other"))
    with pytest.raises(NotSignedIn) as caught:
        await acct.recover(0)
    assert caught.value.message == SIGNED_OUT
    assert issuer.requests == []


async def test_a_sign_in_to_another_account_while_we_waited_for_the_lock_is_not_refreshed(
    home: Path, issuer: FakeIssuer, lock_probe: LockProbe, held: list[HeldLock]
) -> None:
    """The user ran ``codex login`` to another account while a 401 recovery waited for the lock: no refresh
    of the old account's token, and the request fails with Codex's "signed in to another account"."""
    acct, _ = await signed_in(home, issuer)
    held.append(HeldLock(home / "auth.lock"))
    recovery = asyncio.create_task(acct.recover(1))
    assert await asyncio.to_thread(lock_probe.blocked.wait, WAIT)
    write_auth_file(home, chatgpt_auth(account_id="acct-someone-else", access="at-other"))
    held[0].release()
    with pytest.raises(NotSignedIn) as caught:
        async with asyncio.timeout(WAIT):
            await recovery
    assert caught.value.message == SIGNED_OUT
    assert issuer.requests == []
    assert (await acct.headers())["chatgpt-account-id"] == "acct-someone-else", "the new sign-in is used next"


PERMANENT = [
    (
        401,
        {"error": {"code": "refresh_token_expired", "message": "expired"}},
        "Your access token could not be refreshed because your refresh token has expired. "
        "Please log out and sign in again.",
    ),
    (
        401,
        {"error": "refresh_token_reused"},
        "Your access token could not be refreshed because your refresh token was already used. "
        "Please log out and sign in again.",
    ),
    (
        400,
        {"code": "refresh_token_invalidated"},
        "Your access token could not be refreshed because your refresh token was revoked. "
        "Please log out and sign in again.",
    ),
    (
        400,
        {"error": "invalid_grant", "error_description": "bad"},
        "Your access token could not be refreshed. Please log out and sign in again.",
    ),
    (403, {}, "Your access token could not be refreshed. Please log out and sign in again."),
]


@pytest.mark.parametrize(
    ("status", "body", "text"), PERMANENT, ids=["expired", "reused", "revoked", "4xx", "403"]
)
async def test_a_permanent_refresh_failure_is_remembered_until_the_file_changes(
    home: Path, issuer: FakeIssuer, status: int, body: dict[str, Any], text: str
) -> None:
    acct, old = await signed_in(home, issuer)
    before = (home / "auth.json").read_bytes()
    issuer.refresh_replies.append((status, body))
    await acct.recover(0)
    with pytest.raises(RefreshFailed) as caught:
        await acct.recover(1)
    assert caught.value.message == text
    assert caught.value.permanent
    assert (home / "auth.json").read_bytes() == before, "auth.json is left untouched"
    for _ in range(2):  # later requests fail fast
        await acct.recover(0)
        with pytest.raises(RefreshFailed) as again:
            await acct.recover(1)
        assert again.value.message == text
    assert len(issuer.refreshes()) == 1
    assert acct.account().problem == text

    write_auth_file(home, {**old, "tokens": {**old["tokens"], "refresh_token": "rt-after-codex-login"}})
    await acct.recover(0)
    await acct.recover(1)
    assert [b["refresh_token"] for b in issuer.refreshes()] == ["rt-initial", "rt-after-codex-login"]
    assert acct.account().problem is None


@pytest.mark.parametrize(
    ("status", "body", "text"),
    [
        (
            503,
            {"error": {"message": "upstream unavailable"}},
            "Failed to refresh token: 503: upstream unavailable",
        ),
        (500, {"error": "server_error"}, "Failed to refresh token: 500: server_error"),
        (502, {}, "Failed to refresh token: 502: no message"),
    ],
)
async def test_a_transient_refresh_failure_is_not_remembered(
    home: Path, issuer: FakeIssuer, status: int, body: dict[str, Any], text: str
) -> None:
    acct, _ = await signed_in(home, issuer)
    issuer.refresh_replies.append((status, body))
    with pytest.raises(RefreshFailed) as caught:
        await acct.recover(1)
    assert caught.value.message == text
    assert not caught.value.permanent
    await acct.recover(1)
    assert len(issuer.refreshes()) == 2
    assert (await acct.headers())["authorization"] == f"Bearer {issuer.issued[-1]['access_token']}"


async def test_an_unreachable_token_endpoint_is_transient(home: Path, issuer: FakeIssuer) -> None:
    acct, _ = await signed_in(home, issuer)
    await issuer.stop()
    with pytest.raises(RefreshFailed) as caught:
        await acct.recover(1)
    assert caught.value.message.startswith("Failed to refresh token: ")
    assert not caught.value.permanent


async def test_an_api_key_401_is_final(home: Path) -> None:
    write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": FILE_KEY})
    acct = account(home, {})
    with pytest.raises(NotSignedIn) as caught:
        await acct.recover(0)
    assert FILE_KEY not in caught.value.message


# -- secrets and what is shown ------------------------------------------------------------------------------


async def test_secrets_hold_the_old_and_new_tokens_and_account_shows_none(
    home: Path, issuer: FakeIssuer
) -> None:
    now = clock()
    old = due_file(home, issuer, now, api_key="sk-exchanged-stored-key")
    env = {**issuer.env(), "OPENAI_API_KEY": ENV_KEY}
    acct = account(home, env, now)
    await acct.headers()
    new = issuer.issued[-1]
    secrets = set(acct.secrets())
    expected = {*new.values(), *(old["tokens"][k] for k in ("id_token", "access_token", "refresh_token"))}
    assert expected <= secrets
    assert {"sk-exchanged-stored-key", ENV_KEY} <= secrets
    info = acct.account()
    shown = json.dumps(info.as_dict()) + repr(info) + repr(acct) + repr(read_auth_file(home / "auth.json"))
    for secret in secrets:
        assert secret not in shown
    assert (info.mode, info.email, info.plan, info.account_id) == (
        "chatgpt",
        "dev@example.com",
        "plus",
        ACCOUNT,
    )
    assert info.last_refresh == read_json(home)["last_refresh"]
