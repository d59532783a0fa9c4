"""Credentials, live: what each model request carries, refreshed and recovered as Codex does it.

A provider's credential is one of four kinds (which one is decided in the model layer's configuration,
from the provider's ``env_key``, ``experimental_bearer_token`` and ``requires_openai_auth``):

- :class:`NoCredential`: nothing is sent (a local model server, a proxy without auth);
- :class:`MissingCredential`: a key is required and absent; every request fails with the message;
- :class:`StaticKey`: a bearer key from the environment or the configuration;
- :class:`OpenAIAccount`: the user's OpenAI sign-in in ``$CODEX_HOME/auth.json`` — an API key or ChatGPT
  tokens, as the file says. The file is re-read whenever it changes on disk (another process refreshed,
  the user ran ``codex login``), ChatGPT tokens are refreshed before they expire, and a 401 is recovered
  the way Codex recovers it: re-read the file and resend; then one refresh and resend; then give up.

Every kind answers the same three questions: the headers of the next request (:meth:`headers`), whether a
401 is worth resending (:meth:`recover`), and which values must be masked (:meth:`secrets`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from codex_lsp.auth.errors import AuthFileError, AuthProblem, NotSignedIn, RefreshFailed
from codex_lsp.auth.store import (
    AUTH_FILE,
    AuthFile,
    AuthMode,
    Stamp,
    Tokens,
    auth_lock,
    format_timestamp,
    read_auth_file,
    stamp_of,
    write_auth_file,
)

if TYPE_CHECKING:
    import httpx

    from codex_lsp.auth.oauth import OAuthClient, TokenReply

__all__ = [
    "CODEX_API_KEY_ENV",
    "PROACTIVE_WINDOW_SECONDS",
    "SCHEDULED_REFRESH_SECONDS",
    "AccountInfo",
    "Credential",
    "ForcedLogin",
    "MissingCredential",
    "NoCredential",
    "OpenAIAccount",
    "StaticKey",
    "not_signed_in_message",
    "refresh_due",
]

log = logging.getLogger(__name__)

CODEX_API_KEY_ENV = "CODEX_API_KEY"
OPENAI_API_KEY_ENV = "OPENAI_API_KEY"
PROACTIVE_WINDOW_SECONDS = 5 * 60
"""A JWT access token is refreshed when it expires within this window (Codex: 5 minutes)."""
SCHEDULED_REFRESH_SECONDS = 8 * 24 * 3600
"""An opaque access token (no ``exp``) is refreshed when ``last_refresh`` is older than this (8 days)."""
ForcedLogin = Literal["chatgpt", "api"]
CredentialKind = Literal["none", "missing", "key", "account"]

SIGNED_OUT = (
    "Your access token could not be refreshed because you have since logged out or signed in to another "
    "account. Please sign in again."
)
REFUSED_AFTER_REFRESH = (
    "The server refused the ChatGPT sign-in even after refreshing it. Sign in again: run `codex-lsp login` "
    "(or `codex login`)."
)


def not_signed_in_message(home: Path) -> str:
    """What to do when the OpenAI provider finds no credentials at all."""
    return (
        f"Not signed in: no credentials in {home / AUTH_FILE}. Sign in with your ChatGPT account: run "
        "`codex-lsp login` (or `codex login`; `--device-auth` on a machine without a browser), or use an "
        "API key: `codex-lsp login --with-api-key` (or set CODEX_API_KEY)."
    )


@dataclass(frozen=True)
class AccountInfo:
    """Who is signed in and how, for status lines and commands; holds no secret."""

    mode: Literal["chatgpt", "apikey"] | None
    """``None``: not signed in (or the provider needs no OpenAI sign-in)."""
    source: str | None = None
    """Where the credential comes from: ``auth.json``'s path, ``env CODEX_API_KEY``…"""
    email: str | None = None
    plan: str | None = None
    account_id: str | None = None
    """The ChatGPT workspace (``tokens.account_id``)."""
    user_id: str | None = None
    fedramp: bool = False
    last_refresh: str | None = None
    refresh_due: str | None = None
    """``proactive_expiry`` or ``scheduled`` when the next request will refresh first, else ``None``."""
    expires_at: float | None = None
    """The access token's ``exp`` (seconds since the epoch), when it has one."""
    problem: str | None = None
    """Why requests would fail now (not signed in, a permanent refresh failure, a bad auth.json)."""

    def as_dict(self) -> dict[str, object]:
        """camelCase, for JSON replies."""
        return {
            "mode": self.mode,
            "source": self.source,
            "email": self.email,
            "plan": self.plan,
            "accountId": self.account_id,
            "userId": self.user_id,
            "fedramp": self.fedramp,
            "lastRefresh": self.last_refresh,
            "refreshDue": self.refresh_due,
            "expiresAt": self.expires_at,
            "problem": self.problem,
        }


class Credential(Protocol):
    """What the model layer asks of a credential."""

    kind: CredentialKind

    async def headers(self) -> dict[str, str]:
        """The auth headers of the next request (refreshing first when due); raises :class:`AuthProblem`
        when no request can be sent."""
        ...

    async def recover(self, attempt: int) -> None:
        """A request was refused with 401; ``attempt`` counts earlier recoveries of the same request.
        Return to resend it, raise :class:`AuthProblem` when resending cannot help."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this credential holds or has held."""
        ...

    def check(self) -> None:
        """Raise now, without a request, what :meth:`headers` would raise (not signed in, a bad file)."""
        ...

    def mode(self) -> Literal["chatgpt", "apikey"] | None:
        """The kind of sign-in the next request uses (it picks the ``openai`` provider's base URL)."""
        ...

    def account(self) -> AccountInfo:
        """Who is signed in, without a secret."""
        ...


class NoCredential:
    """The provider takes no credential: no ``Authorization`` header; a 401 is final."""

    kind: CredentialKind = "none"

    async def headers(self) -> dict[str, str]:
        return {}

    async def recover(self, attempt: int) -> None:
        raise NotSignedIn("the server requires credentials, and this provider is configured without any")

    def secrets(self) -> tuple[str, ...]:
        return ()

    def check(self) -> None:
        return None

    def mode(self) -> Literal["chatgpt", "apikey"] | None:
        return None

    def account(self) -> AccountInfo:
        return AccountInfo(mode=None)


@dataclass
class MissingCredential:
    """A required key is absent; every request fails with ``message`` (Codex's text where it has one)."""

    message: str
    kind: CredentialKind = "missing"

    async def headers(self) -> dict[str, str]:
        raise NotSignedIn(self.message)

    async def recover(self, attempt: int) -> None:
        raise NotSignedIn(self.message)

    def secrets(self) -> tuple[str, ...]:
        return ()

    def check(self) -> None:
        raise NotSignedIn(self.message)

    def mode(self) -> Literal["chatgpt", "apikey"] | None:
        return None

    def account(self) -> AccountInfo:
        return AccountInfo(mode=None, problem=self.message)


@dataclass
class StaticKey:
    """A bearer key (``env_key``, ``experimental_bearer_token``, ``CODEX_API_KEY``…); a 401 is final."""

    key: str
    source: str
    kind: CredentialKind = "key"

    async def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.key}"}

    async def recover(self, attempt: int) -> None:
        raise NotSignedIn(f"the server refused the API key from {self.source}; check the key")

    def secrets(self) -> tuple[str, ...]:
        return (self.key,)

    def check(self) -> None:
        return None

    def mode(self) -> Literal["chatgpt", "apikey"] | None:
        return "apikey"

    def account(self) -> AccountInfo:
        return AccountInfo(mode="apikey", source=self.source)

    def __repr__(self) -> str:
        return f"StaticKey(source={self.source!r})"


def refresh_due(file: AuthFile, now: float) -> Literal["proactive_expiry", "scheduled"] | None:
    """Whether a ChatGPT sign-in must be refreshed before the next request, and why (Codex's rule): a JWT
    access token expiring within five minutes; an opaque one refreshed more than eight days ago."""
    from codex_lsp.auth.jwt import expiry_of

    if file.mode != "chatgpt" or file.tokens is None:
        return None
    exp = expiry_of(file.tokens.access_token)
    if exp is not None:
        return "proactive_expiry" if exp <= now + PROACTIVE_WINDOW_SECONDS else None
    if file.last_refresh is None:
        return "scheduled"
    age = now - file.last_refresh.timestamp()
    return "scheduled" if age > SCHEDULED_REFRESH_SECONDS else None


def _updated(raw: dict[str, object], reply: TokenReply, now_ns: int) -> dict[str, object]:
    """``raw`` with the refreshed tokens and ``last_refresh``; every other key kept in its place."""
    data = dict(raw)
    tokens = dict(data.get("tokens") or {})  # type: ignore[call-overload]
    for key, value in (
        ("id_token", reply.id_token),
        ("access_token", reply.access_token),
        ("refresh_token", reply.refresh_token),
    ):
        if value:
            tokens[key] = value
    data["tokens"] = tokens
    data["last_refresh"] = format_timestamp(now_ns)
    return data


class OpenAIAccount:
    """The user's OpenAI sign-in, read from ``home/auth.json`` and kept current.

    Resolution, as Codex: ``CODEX_API_KEY`` in the environment first; then the file (its ``auth_mode``, else
    a non-null ``OPENAI_API_KEY`` means a key and otherwise the ChatGPT tokens); ``forced_login_method``
    refuses the other kind with Codex's message (we never delete the file for it). Beyond Codex 0.169, the
    ``OPENAI_API_KEY`` variable is the last resort (OpenAI's own SDKs read it; it only ever goes to the
    OpenAI provider or one that asks for OpenAI auth).

    Refreshes are serialised in the process (an ``asyncio`` lock) and across processes (Codex's file locks),
    and a permanent refresh failure is remembered until the file changes, so it is never retried in a loop.
    """

    kind: CredentialKind = "account"

    def __init__(
        self,
        home: Path,
        env: Mapping[str, str] | None = None,
        *,
        forced_login: ForcedLogin | None = None,
        allowed_workspaces: tuple[str, ...] = (),
        credentials_store: str = "file",
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.home = home
        self.path = home / AUTH_FILE
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.forced_login = forced_login
        self.allowed_workspaces = allowed_workspaces
        self.credentials_store = credentials_store
        self.clock = clock
        self._transport = transport
        self._oauth: OAuthClient | None = None
        self.refreshes = 0
        """Refreshes that reached the token endpoint (for status and tests)."""
        self._file: AuthFile | None = None
        self._stamp: Stamp = None
        self._loaded = False
        self._error: AuthProblem | None = None
        self._failure: tuple[RefreshFailed, Stamp] | None = None
        self._lock = asyncio.Lock()
        self._seen: set[str] = set()

    @property
    def oauth(self) -> OAuthClient:
        """The token endpoint's client, made on the first refresh (a client on WebSocket whose tokens never
        need refreshing does not load the HTTP stack)."""
        if self._oauth is None:
            from codex_lsp.auth.oauth import OAuthClient

            self._oauth = OAuthClient(self.env, transport=self._transport)
        return self._oauth

    # -- what the file says now ------------------------------------------------------------------------

    def _env_key(self, name: str) -> str | None:
        value = self.env.get(name)
        return value if value else None

    def _load(self) -> None:
        """Re-read the file when it changed on disk since the last reading (one ``stat`` otherwise)."""
        stamp = stamp_of(self.path)
        if self._loaded and stamp == self._stamp:
            return
        self._loaded, self._stamp, self._error = True, stamp, None
        try:
            self._file = read_auth_file(self.path)
        except AuthFileError as exc:
            self._file, self._error = None, exc
        if self._file is not None:
            self._seen.update(self._file.secrets())

    def _adopt(self, file: AuthFile | None) -> None:
        self._file, self._stamp, self._loaded, self._error = file, stamp_of(self.path), True, None
        if file is not None:
            self._seen.update(file.secrets())

    def _store_problem(self) -> str | None:
        if self.credentials_store in ("keyring", "auto") and self._file is None:
            return (
                f'cli_auth_credentials_store = "{self.credentials_store}": codex-lsp cannot read '
                "credentials from the OS keyring yet. Sign in again with the file store "
                '(cli_auth_credentials_store = "file", then `codex-lsp login` or `codex login`).'
            )
        return None

    def _forced_problem(self, mode: AuthMode) -> str | None:
        if self.forced_login == "api" and mode == "chatgpt":
            return (
                "API key login is required, but ChatGPT is currently being used. Run `codex-lsp logout`, "
                "then sign in with an API key (`codex-lsp login --with-api-key`); forced_login_method = "
                '"api" is set in config.toml.'
            )
        if self.forced_login == "chatgpt" and mode == "apikey":
            return (
                "ChatGPT login is required, but an API key is currently being used. Run `codex-lsp logout`, "
                'then sign in with ChatGPT (`codex-lsp login`); forced_login_method = "chatgpt" is set in '
                "config.toml."
            )
        return None

    def _workspace_problem(self, file: AuthFile) -> str | None:
        if not self.allowed_workspaces or file.mode != "chatgpt" or file.tokens is None:
            return None
        workspace = file.tokens.identity.account_id
        if workspace in self.allowed_workspaces:
            return None
        allowed = ", ".join(self.allowed_workspaces)
        return (
            f"This ChatGPT sign-in belongs to workspace {workspace or '(none)'}, but "
            f"forced_chatgpt_workspace_id in config.toml allows only {allowed}. Sign in to an allowed "
            "workspace: `codex-lsp login`."
        )

    def _current(self) -> tuple[AuthMode, str, AuthFile | None]:
        """``(mode, source, file)`` of the credential the next request uses; raises :class:`AuthProblem`."""
        codex_key = self._env_key(CODEX_API_KEY_ENV)
        if codex_key is not None:
            if problem := self._forced_problem("apikey"):
                raise NotSignedIn(problem)
            return "apikey", f"env {CODEX_API_KEY_ENV}", None
        self._load()
        if self._error is not None:
            raise self._error
        if self._file is not None:
            if problem := self._forced_problem(self._file.mode) or self._workspace_problem(self._file):
                raise NotSignedIn(problem)
            return self._file.mode, str(self.path), self._file
        if problem := self._store_problem():
            raise NotSignedIn(problem)
        if self._env_key(OPENAI_API_KEY_ENV) is not None and self.forced_login != "chatgpt":
            return "apikey", f"env {OPENAI_API_KEY_ENV}", None
        raise NotSignedIn(not_signed_in_message(self.home))

    def _permanent_failure(self) -> RefreshFailed | None:
        if self._failure is None:
            return None
        failure, stamp = self._failure
        if stamp_of(self.path) != stamp:
            self._failure = None
            return None
        return failure

    # -- the Credential protocol -----------------------------------------------------------------------

    async def headers(self) -> dict[str, str]:
        mode, source, file = self._current()
        if mode == "apikey":
            key = file.api_key if file is not None else self._env_key(source.removeprefix("env "))
            assert key is not None
            self._seen.add(key)
            return {"authorization": f"Bearer {key}"}
        assert file is not None
        reason = refresh_due(file, self.clock())
        if reason is not None and self._permanent_failure() is None:
            try:
                await self._refresh(reason, file)
            except RefreshFailed as exc:
                # As Codex: a failed proactive refresh does not stop the request; the token may still be
                # accepted, and a 401 leads to the recovery below.
                log.warning("%s", exc.message)
        return self._chatgpt_headers()

    def _chatgpt_headers(self) -> dict[str, str]:
        file = self._file
        if file is None or file.tokens is None:
            raise NotSignedIn(not_signed_in_message(self.home))
        tokens = file.tokens
        headers = {"authorization": f"Bearer {tokens.access_token}"}
        if tokens.account_id:
            headers["chatgpt-account-id"] = tokens.account_id
        if tokens.identity.fedramp:
            headers["x-openai-fedramp"] = "true"
        return headers

    async def recover(self, attempt: int) -> None:
        before = self._file.tokens if self._file is not None and self._file.tokens is not None else None
        mode, source, file = self._current()
        if mode == "apikey":
            raise NotSignedIn(f"the server refused the API key from {source}; check the key")
        assert file is not None
        assert file.tokens is not None
        if before is not None and file.tokens.account_id != before.account_id:
            raise NotSignedIn(SIGNED_OUT)
        if attempt == 0:
            # Another process may have refreshed: the next attempt sends what the file holds now.
            return
        if attempt > 1:
            raise NotSignedIn(REFUSED_AFTER_REFRESH)
        if file.tokens.account_id is None:
            raise NotSignedIn(SIGNED_OUT)
        failure = self._permanent_failure()
        if failure is not None:
            raise failure
        await self._refresh("unauthorized_recovery", file)

    async def _refresh(self, reason: str, seen: AuthFile) -> None:
        """Refresh the tokens of ``seen`` unless someone else already did (in this process or another)."""
        async with self._lock:
            self._load()
            current = self._file
            if current is None or current.tokens is None or seen.tokens is None:
                raise NotSignedIn(SIGNED_OUT)
            if current.tokens.access_token != seen.tokens.access_token:
                return  # refreshed meanwhile in this process, or the file changed on disk
            async with auth_lock(self.home):
                await self._refresh_locked(reason, seen.tokens)

    async def _refresh_locked(self, reason: str, tokens: Tokens) -> None:
        on_disk = read_auth_file(self.path)
        if on_disk is None or on_disk.tokens is None or on_disk.tokens.account_id != tokens.account_id:
            self._adopt(on_disk)
            raise NotSignedIn(SIGNED_OUT)
        if on_disk.tokens.access_token != tokens.access_token:
            self._adopt(on_disk)  # another process refreshed under the same lock: use its tokens
            return
        self.refreshes += 1
        try:
            reply = await self.oauth.refresh(tokens.refresh_token, reason=reason, token_issuer=tokens.issuer)
        except RefreshFailed as exc:
            if exc.permanent:
                self._failure = (exc, stamp_of(self.path))
            raise
        self._seen.update(v for v in (reply.id_token, reply.access_token, reply.refresh_token) if v)
        write_auth_file(self.home, _updated(on_disk.raw, reply, time.time_ns()))
        self._adopt(read_auth_file(self.path))
        log.info("refreshed the ChatGPT sign-in (%s)", reason)

    def check(self) -> None:
        self._current()

    def mode(self) -> Literal["chatgpt", "apikey"] | None:
        try:
            return self._current()[0]
        except AuthProblem:
            return None

    def secrets(self) -> tuple[str, ...]:
        found = set(self._seen)
        for name in (CODEX_API_KEY_ENV, OPENAI_API_KEY_ENV):
            value = self._env_key(name)
            if value:
                found.add(value)
        return tuple(found)

    def account(self) -> AccountInfo:
        try:
            mode, source, file = self._current()
        except AuthProblem as exc:
            return AccountInfo(mode=None, source=str(self.path), problem=exc.message)
        if file is None or file.tokens is None or mode == "apikey":
            return AccountInfo(mode=mode, source=source)
        from codex_lsp.auth.jwt import expiry_of

        identity = file.tokens.identity
        failure = self._permanent_failure()
        last = file.raw.get("last_refresh")
        return AccountInfo(
            mode="chatgpt",
            source=source,
            email=identity.email,
            plan=identity.plan,
            account_id=file.tokens.account_id,
            user_id=identity.user_id,
            fedramp=identity.fedramp,
            last_refresh=last if isinstance(last, str) else None,
            refresh_due=refresh_due(file, self.clock()),
            expires_at=expiry_of(file.tokens.access_token),
            problem=failure.message if failure else None,
        )

    def __repr__(self) -> str:
        return f"OpenAIAccount(home={str(self.home)!r})"
