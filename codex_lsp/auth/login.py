"""Signing in and out as ``codex login`` / ``codex logout`` do, writing the same ``auth.json``.

Three ways in, each ending in a file either tool can use:

- **Browser** (:class:`BrowserLogin`): OAuth authorization code with PKCE. A callback listener on
  ``127.0.0.1:1455`` (if another login holds it: ask it to ``/cancel``, retry ten times 200 ms apart, then
  the registered fallback ``1457``); the user signs in on the issuer's page, which redirects to
  ``/auth/callback``; the code is exchanged for tokens, then (best effort) for an API key.
- **Device code** (:class:`DeviceLogin`): for remote and headless machines, no local port. The user opens
  ``{issuer}/codex/device`` anywhere and types the code; we poll until the issuer hands back an
  authorization code, valid fifteen minutes.
- **API key** (:func:`save_api_key`): ``{"auth_mode": "apikey", "OPENAI_API_KEY": …}``.

:func:`logout` revokes the refresh token (a failure is ignored, as Codex ignores it) and deletes the file;
:func:`login_status` words the state as ``codex login status`` does. Every write goes through the same locks
and atomic rename as a refresh (:mod:`codex_lsp.auth.store`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import html
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from codex_lsp.auth.errors import AuthFileError, LoginCancelled, LoginError
from codex_lsp.auth.jwt import identity_of
from codex_lsp.auth.oauth import OAuthClient, TokenReply
from codex_lsp.auth.store import (
    AUTH_FILE,
    AuthFile,
    auth_lock,
    delete_auth_file,
    format_timestamp,
    read_auth_file,
    stamp_of,
    write_auth_file,
)

__all__ = [
    "BROWSER_PORTS",
    "DEVICE_TIMEOUT_SECONDS",
    "BrowserLogin",
    "DeviceCode",
    "DeviceLogin",
    "login_status",
    "logout",
    "mask_key",
    "save_api_key",
    "signed_in_auth",
]

log = logging.getLogger(__name__)

BROWSER_PORTS = (1455, 1457)
"""The callback ports registered for Codex's OAuth client: the usual one, then the fallback."""
PORTS_ENV = "CODEX_LSP_AUTH_CALLBACK_PORTS"
"""Comma-separated ports replacing :data:`BROWSER_PORTS` (only tests set it, next to a fake issuer)."""
LOGIN_ORIGINATOR = "codex_cli_rs"
"""The sign-in is Codex's own OAuth client, so the authorize page is told what ``codex login`` tells it."""
SCOPES = "openid profile email offline_access api.connectors.read api.connectors.invoke"
DEVICE_TIMEOUT_SECONDS = 15 * 60
PORT_RETRIES = 10
PORT_RETRY_DELAY = 0.2
MIN_POLL_INTERVAL = 0.05


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed_in_auth(tokens: TokenReply, *, api_key: str | None, issuer: str, client_id: str) -> dict[str, Any]:
    """A fresh ChatGPT ``auth.json`` object, keys in Codex's order; ``account_id`` from the id token."""
    assert tokens.id_token
    assert tokens.access_token
    assert tokens.refresh_token
    return {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": api_key,
        "tokens": {
            "id_token": tokens.id_token,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "oauth_provenance": {"issuer": issuer, "client_id": client_id},
            "login_owner_id": _b64(secrets.token_bytes(32)),
            "account_id": identity_of(tokens.id_token).account_id,
        },
        "last_refresh": format_timestamp(),
    }


def _check_workspace(tokens: TokenReply, workspace_ids: tuple[str, ...]) -> None:
    """As Codex's ``ensure_workspace_allowed``: under ``forced_chatgpt_workspace_id``, a sign-in to another
    workspace is refused before anything is written (the authorize page's ``allowed_workspace_id`` is only
    a hint to the issuer)."""
    if not workspace_ids:
        return
    actual = identity_of(tokens.id_token).account_id
    if actual is None:
        raise LoginError(
            "Login is restricted to a specific workspace, but the token did not include a "
            "chatgpt_account_id claim."
        )
    if actual not in workspace_ids:
        raise LoginError(f"Login is restricted to workspace id {', '.join(workspace_ids)}.")


async def _save(home: Path, data: dict[str, Any]) -> AuthFile:
    async with auth_lock(home):
        write_auth_file(home, data)
    saved = read_auth_file(home / AUTH_FILE)
    assert saved is not None
    return saved


async def save_api_key(home: Path, key: str) -> AuthFile:
    """``codex login --with-api-key``: store ``key`` as the sign-in."""
    key = key.strip()
    if not key:
        raise LoginError("no API key given (it is read from standard input)")
    return await _save(home, {"auth_mode": "apikey", "OPENAI_API_KEY": key})


def mask_key(key: str) -> str:
    """A key as ``codex login status`` shows it: the first 8 and last 5 characters."""
    if len(key) <= 13:
        return "***"
    return f"{key[:8]}***{key[-5:]}"


def login_status(home: Path) -> tuple[str, bool]:
    """``(text, signed_in)`` worded as ``codex login status``."""
    try:
        file = read_auth_file(home / AUTH_FILE)
    except AuthFileError as exc:
        return f"Not logged in: {exc.message}", False
    if file is None:
        return "Not logged in", False
    if file.mode == "apikey" and file.api_key:
        return f"API key configured - {mask_key(file.api_key)}", True
    identity = file.tokens.identity if file.tokens else None
    who = f" ({identity.email})" if identity and identity.email else ""
    return f"Logged in using ChatGPT{who}", True


async def logout(
    home: Path, env: Mapping[str, str], *, transport: httpx.AsyncBaseTransport | None = None
) -> bool:
    """Revoke the refresh token (failures ignored) and delete ``auth.json``; whether one existed.
    An unreadable file is deleted all the same: logging out is how a user starts over. Without a file no lock
    is taken (a ``CODEX_HOME`` that does not exist is not created for its lock files)."""
    try:
        file = read_auth_file(home / AUTH_FILE)
    except AuthFileError:
        file = None
    if file is not None and file.tokens is not None and file.tokens.refresh_token:
        await OAuthClient(env, transport=transport).revoke(file.tokens.refresh_token)
    if stamp_of(home / AUTH_FILE) is None:
        return False
    async with auth_lock(home):
        return delete_auth_file(home)


# -- device code ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs to finish a device login: where to go and what to type."""

    verification_url: str
    user_code: str
    interval: float
    expires_at: float
    device_auth_id: str = field(repr=False)


class DeviceLogin:
    """The device-code flow: :meth:`start` gets the code to show, :meth:`wait` polls and signs in."""

    def __init__(
        self,
        home: Path,
        env: Mapping[str, str],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        workspace_ids: tuple[str, ...] = (),
    ) -> None:
        self.home = home
        self.oauth = OAuthClient(env, transport=transport)
        self.workspace_ids = workspace_ids
        self.clock = clock
        self.sleep = sleep

    async def start(self) -> DeviceCode:
        """Ask the issuer for a user code."""
        url = f"{self.oauth.issuer}/api/accounts/deviceauth/usercode"
        status, body = await self.oauth.post_json(url, {"client_id": self.oauth.client_id})
        if status == 404:
            raise LoginError(
                "device code login is not enabled for this Codex server. Use the browser login or verify "
                "the server URL."
            )
        if status != 200 or not isinstance(body, dict):
            raise LoginError(f"the sign-in server refused a device code (HTTP {status})")
        user_code = body.get("user_code") or body.get("usercode")
        device_id = body.get("device_auth_id")
        if not isinstance(user_code, str) or not isinstance(device_id, str):
            raise LoginError("the sign-in server's device code reply is incomplete")
        try:
            interval = float(body.get("interval") or 5)
        except (TypeError, ValueError):
            interval = 5.0
        if not math.isfinite(interval):
            interval = 5.0
        return DeviceCode(
            verification_url=f"{self.oauth.issuer}/codex/device",
            user_code=user_code,
            interval=max(interval, MIN_POLL_INTERVAL),
            expires_at=self.clock() + DEVICE_TIMEOUT_SECONDS,
            device_auth_id=device_id,
        )

    async def wait(self, code: DeviceCode) -> AuthFile:
        """Poll until the user has signed in, then exchange the code and write ``auth.json``."""
        url = f"{self.oauth.issuer}/api/accounts/deviceauth/token"
        body = {"device_auth_id": code.device_auth_id, "user_code": code.user_code}
        while True:
            status, reply = await self.oauth.post_json(url, body)
            if status == 200 and isinstance(reply, dict):
                break
            if status not in (403, 404):
                raise LoginError(f"the sign-in server refused the device login (HTTP {status})")
            if self.clock() >= code.expires_at:
                raise LoginError("device auth timed out after 15 minutes")
            await self.sleep(code.interval)
        auth_code, verifier = reply.get("authorization_code"), reply.get("code_verifier")
        if not isinstance(auth_code, str) or not isinstance(verifier, str):
            raise LoginError("the sign-in server's device login reply is incomplete")
        tokens = await self.oauth.exchange_code(
            auth_code, redirect_uri=f"{self.oauth.issuer}/deviceauth/callback", verifier=verifier
        )
        _check_workspace(tokens, self.workspace_ids)
        data = signed_in_auth(tokens, api_key=None, issuer=self.oauth.issuer, client_id=self.oauth.client_id)
        return await _save(self.home, data)


# -- browser -----------------------------------------------------------------------------------------------

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>codex-lsp</title></head>"
    "<body style='font-family: sans-serif; margin: 3em'><h1>{title}</h1><p>{text}</p></body></html>"
)


@dataclass
class _Pkce:
    verifier: str = field(default_factory=lambda: _b64(secrets.token_bytes(64)))
    state: str = field(default_factory=lambda: _b64(secrets.token_bytes(32)))

    @property
    def challenge(self) -> str:
        return _b64(hashlib.sha256(self.verifier.encode("ascii")).digest())


class BrowserLogin:
    """The browser flow. ``await start()`` listens and returns the URL to open; ``await wait()`` ends when
    the issuer calls back (or the login is cancelled: :meth:`cancel`, or a ``GET /cancel`` from another
    login that wants the port)."""

    def __init__(
        self,
        home: Path,
        env: Mapping[str, str],
        *,
        ports: tuple[int, ...] | None = None,
        workspace_ids: tuple[str, ...] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.home = home
        self.oauth = OAuthClient(env, transport=transport)
        self.ports = ports or _ports(env)
        self.workspace_ids = workspace_ids
        self.port: int | None = None
        self._pkce = _Pkce()
        self._server: asyncio.Server | None = None
        self._done: asyncio.Future[AuthFile] | None = None

    @property
    def redirect_uri(self) -> str:
        """Where the issuer sends the browser back to."""
        return f"http://127.0.0.1:{self.port}/auth/callback"

    @property
    def auth_url(self) -> str:
        """The issuer's sign-in page, with the PKCE challenge and state."""
        query = {
            "response_type": "code",
            "client_id": self.oauth.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self._pkce.challenge,
            "code_challenge_method": "S256",
            "state": self._pkce.state,
            "scope": SCOPES,
            "id_token_add_organizations": "true",
            "codex_cli_simplified_flow": "true",
            "originator": LOGIN_ORIGINATOR,
        }
        if self.workspace_ids:
            query["allowed_workspace_id"] = ",".join(self.workspace_ids)
        return f"{self.oauth.issuer}/oauth/authorize?{urlencode(query)}"

    async def start(self) -> str:
        """Listen for the callback on the first free registered port; return the URL to open."""
        self._done = asyncio.get_running_loop().create_future()
        for port in self.ports:
            server = await self._bind(port)
            if server is not None:
                self._server, self.port = server, server.sockets[0].getsockname()[1]
                return self.auth_url
        ports = " or ".join(str(p) for p in self.ports)
        raise LoginError(f"cannot listen for the sign-in callback on 127.0.0.1 port {ports}: in use")

    async def _bind(self, port: int) -> asyncio.Server | None:
        for attempt in range(PORT_RETRIES + 1):
            try:
                return await asyncio.start_server(self._serve, "127.0.0.1", port)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise LoginError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
            if attempt == 0:
                await _cancel_other_login(port)
            if attempt < PORT_RETRIES:
                await asyncio.sleep(PORT_RETRY_DELAY)
        return None

    async def wait(self) -> AuthFile:
        """Until the sign-in completes (the file written) or fails; the listener is closed either way."""
        assert self._done is not None, "start() first"
        try:
            return await asyncio.shield(self._done)
        finally:
            await self.close()

    def cancel(self) -> None:
        """End the login without signing in."""
        self._finish(LoginCancelled("Login cancelled"))

    async def close(self) -> None:
        """Stop listening."""
        if self._done is not None and not self._done.done():
            self._done.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def _finish(self, outcome: AuthFile | BaseException) -> None:
        if self._done is None or self._done.done():
            return
        if isinstance(outcome, BaseException):
            self._done.set_exception(outcome)
            self._done.exception()  # retrieved here: nobody may be waiting yet
        else:
            self._done.set_result(outcome)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii", "replace")
            status, body = await self._route(target)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, IndexError):
            status, body = 400, _PAGE.format(title="Bad request", text="")
        except ConnectionError:
            return
        payload = body.encode()
        writer.write(
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\ncontent-type: text/html; "
            f"charset=utf-8\r\ncontent-length: {len(payload)}\r\nconnection: close\r\n\r\n".encode()
            + payload
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _route(self, target: str) -> tuple[int, str]:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/cancel":
            self._finish(LoginCancelled("Login cancelled"))
            return 200, _PAGE.format(title="Login cancelled", text="")
        if parts.path != "/auth/callback":
            return 404, _PAGE.format(title="Not found", text="")
        return await self._callback(query)

    async def _callback(self, query: dict[str, str]) -> tuple[int, str]:
        if query.get("state") != self._pkce.state:
            return 400, "State mismatch"
        if "error" in query:
            described = query.get("error_description") or query["error"]
            if query["error"] == "access_denied" and "missing_codex_entitlement" in described:
                described = "Codex is not enabled for your workspace; ask its administrator for access."
            self._finish(LoginError(f"sign-in refused: {described}"))
            return 200, _PAGE.format(title="Sign-in failed", text=html.escape(described))
        code = query.get("code")
        if not code:
            return 400, _PAGE.format(title="Missing code", text="")
        try:
            saved = await self._complete(code)
        except LoginError as exc:
            self._finish(exc)
            return 200, _PAGE.format(title="Sign-in failed", text=html.escape(exc.message))
        except OSError as exc:  # auth.json cannot be written: the login ends (as the device flow's does)
            self._finish(exc)
            text = f"cannot write {self.home / AUTH_FILE}: {exc.strerror or exc.__class__.__name__}"
            return 500, _PAGE.format(title="Sign-in failed", text=html.escape(text))
        self._finish(saved)
        return 200, _PAGE.format(
            title="Signed in to Codex", text="codex-lsp is signed in. You can close this page."
        )

    async def _complete(self, code: str) -> AuthFile:
        tokens = await self.oauth.exchange_code(
            code, redirect_uri=self.redirect_uri, verifier=self._pkce.verifier
        )
        assert tokens.id_token is not None
        _check_workspace(tokens, self.workspace_ids)
        api_key = await self.oauth.exchange_api_key(tokens.id_token)
        data = signed_in_auth(
            tokens, api_key=api_key, issuer=self.oauth.issuer, client_id=self.oauth.client_id
        )
        return await _save(self.home, data)


def _ports(env: Mapping[str, str]) -> tuple[int, ...]:
    raw = env.get(PORTS_ENV, "")
    try:
        ports = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        ports = ()
    return ports or BROWSER_PORTS


async def _cancel_other_login(port: int) -> None:
    """Ask a login that holds ``port`` (another codex or codex-lsp) to give it up."""
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            await client.get(f"http://127.0.0.1:{port}/cancel")
