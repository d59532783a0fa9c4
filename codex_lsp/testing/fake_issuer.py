"""A fake OpenAI sign-in server (issuer) on 127.0.0.1: token refresh, code exchange, device code, revoke.

It plays ``auth.openai.com`` well enough for the real Codex CLI and for codex-lsp, and records every request
for assertions. It mints its own JWTs (unsigned, as clients never check signatures) with the claims Codex
reads: the id token names the account, plan and email; the access token carries ``exp``.

Routes (the same paths as the real issuer):

- ``POST /oauth/token``: ``grant_type=refresh_token`` (JSON) → fresh tokens, the refresh token rotated;
  queued :attr:`FakeIssuer.refresh_replies` answer first (``(status, body)``: failures, a missing token…).
  ``grant_type=authorization_code`` (form) → tokens for a code this issuer handed out, checking the PKCE
  verifier. ``…:token-exchange`` (form) → ``{"access_token": "sk-exchanged-…"}`` (an API key).
- ``POST /oauth/revoke`` → 200.
- ``POST /api/accounts/deviceauth/usercode`` → a device code; ``POST /api/accounts/deviceauth/token`` →
  403 until :meth:`FakeIssuer.approve` (or ``auto_approve``), then the authorization code.
- ``GET /oauth/authorize?…`` → the user "signs in" at once: 302 to the ``redirect_uri`` with a code.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import time
from collections import deque
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from codex_lsp.testing.fake_wire import parse_head, read_body, status_line

__all__ = ["FakeIssuer", "IssuerRequest", "chatgpt_auth", "jwt", "write_chatgpt_auth", "write_chatgpt_home"]

ACCOUNT_ID = "acct-fake-workspace"
EMAIL = "dev@example.com"
PLAN = "plus"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned JWT with ``claims`` (what clients decode; none of them checks a signature)."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(b'fake-signature')}"


def id_token(
    *, account_id: str | None = ACCOUNT_ID, email: str = EMAIL, plan: str = PLAN, fedramp: bool = False
) -> str:
    """An id token naming the account (``chatgpt_account_id``), plan, user and email."""
    auth: dict[str, Any] = {"chatgpt_plan_type": plan, "chatgpt_user_id": "user-fake"}
    if account_id is not None:
        auth["chatgpt_account_id"] = account_id
    if fedramp:
        auth["chatgpt_account_is_fedramp"] = True
    return jwt({"email": email, "https://api.openai.com/auth": auth, "exp": int(time.time()) + 3600})


def access_token(expires_in: float | None = 3600, *, serial: str = "") -> str:
    """A JWT access token expiring in ``expires_in`` seconds (``None``: an opaque token, no ``exp``)."""
    nonce = serial or secrets.token_hex(4)
    if expires_in is None:
        return f"opaque-access-{nonce}"
    return jwt({"exp": int(time.time() + expires_in), "jti": nonce})


def chatgpt_auth(
    *,
    access: str | None = None,
    refresh: str = "rt-initial",
    account_id: str | None = ACCOUNT_ID,
    fedramp: bool = False,
    issuer: str | None = None,
    last_refresh: str = "2026-12-07T11:16:41.732777525Z",
    api_key: str | None = None,
    auth_mode: str | None = "chatgpt",
) -> dict[str, Any]:
    """An ``auth.json`` object as ``codex login`` writes it (ChatGPT mode)."""
    tokens: dict[str, Any] = {
        "id_token": id_token(account_id=account_id, fedramp=fedramp),
        "access_token": access or access_token(),
        "refresh_token": refresh,
    }
    if issuer is not None:
        tokens["oauth_provenance"] = {"issuer": issuer, "client_id": CLIENT_ID}
    tokens["account_id"] = account_id
    data: dict[str, Any] = {"auth_mode": auth_mode, "OPENAI_API_KEY": api_key, "tokens": tokens}
    if auth_mode is None:
        del data["auth_mode"]
    data["last_refresh"] = last_refresh
    return data


def write_chatgpt_auth(home: Path, **fields: Any) -> dict[str, Any]:
    """Write :func:`chatgpt_auth` to ``home/auth.json`` (mode 0600) and return it."""
    data = chatgpt_auth(**fields)
    home.mkdir(parents=True, exist_ok=True)
    path = home / "auth.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return data


def write_chatgpt_home(
    home: Path,
    base_url: str,
    *,
    websockets: bool = True,
    retries: int = 1,
    top: str = "",
    provider: str = "requires_openai_auth = true",
) -> Path:
    """A ``$CODEX_HOME/config.toml`` whose provider, ``chatgpt-fake``, takes the user's OpenAI sign-in
    (``requires_openai_auth``) at ``base_url`` (a fake model server's ``chatgpt_base_url``). ``top`` adds
    top-level lines (``forced_login_method`` …), ``provider`` replaces the provider's credential lines."""
    home.mkdir(parents=True, exist_ok=True)
    config = f"""model = "gpt-5.5"
model_provider = "chatgpt-fake"
{top}
[model_providers.chatgpt-fake]
name = "ChatGPT (fake)"
base_url = "{base_url}"
{provider}
supports_websockets = {str(websockets).lower()}
request_max_retries = {retries}
stream_max_retries = {retries}
"""
    (home / "config.toml").write_text(config, encoding="utf-8")
    return home


@dataclass
class IssuerRequest:
    """One request the issuer received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class _Grant:
    """An authorization code handed out, waiting to be exchanged."""

    challenge: str | None = None
    verifier: str | None = None
    redirect_uri: str | None = None


@dataclass
class _Device:
    user_code: str
    approved: bool = False
    code: str | None = None
    verifier: str = field(default_factory=lambda: _b64(secrets.token_bytes(32)))


class FakeIssuer:
    """The fake sign-in server; ``async with FakeIssuer() as issuer``; ``issuer.url`` is the issuer."""

    def __init__(self, *, account_id: str | None = ACCOUNT_ID, access_ttl: float | None = 3600) -> None:
        self.account_id = account_id
        self.access_ttl = access_ttl
        """Lifetime of the access tokens minted (``None``: opaque tokens without ``exp``)."""
        self.port = 0
        self.requests: list[IssuerRequest] = []
        self.refresh_replies: deque[tuple[int, dict[str, Any]]] = deque()
        """Queued answers to refresh requests, used before minting fresh tokens."""
        self.issued: list[dict[str, str]] = []
        """Every token set this issuer handed out, in order."""
        self.auto_approve = False
        """Device logins are approved at the first poll (as if the user were very quick)."""
        self.device_interval = "0"
        self.key_exchange_status = 200
        self.devices: dict[str, _Device] = {}
        self.device_polled = asyncio.Event()
        """Set at each device-token poll (tests wait on it instead of sleeping)."""
        self.refresh_gate: asyncio.Event | None = None
        """When set, refresh requests wait for it before they are answered (a slow sign-in server)."""
        self.refresh_arrived = asyncio.Event()
        """Set when a refresh request arrives."""
        self._grants: dict[str, _Grant] = {}
        self._serial = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The issuer's base URL (``$CODEX_LSP_AUTH_ISSUER``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        """``/oauth/token`` (``$CODEX_REFRESH_TOKEN_URL_OVERRIDE``)."""
        return f"{self.url}/oauth/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.url}/oauth/revoke"

    def env(self) -> dict[str, str]:
        """The environment that points codex-lsp (and Codex's refresh and revoke) at this issuer."""
        return {
            "CODEX_LSP_AUTH_ISSUER": self.url,
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": self.token_url,
            "CODEX_REVOKE_TOKEN_URL_OVERRIDE": self.revoke_url,
        }

    def on(self, path: str) -> list[IssuerRequest]:
        """The requests to ``path``."""
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def refreshes(self) -> list[dict[str, Any]]:
        """The JSON bodies of the refresh requests."""
        return [
            r.json()
            for r in self.on("/oauth/token")
            if r.headers.get("content-type", "").startswith("application/json")
        ]

    def minted(self) -> Container[str]:
        """A live view of the access tokens this issuer has handed out (for ``accepted_tokens``: the model
        server then accepts exactly the tokens that came from a refresh or a login)."""
        issued = self.issued

        class _Minted:
            def __contains__(self, token: object) -> bool:
                return any(tokens["access_token"] == token for tokens in issued)

        return _Minted()

    def approve(self, user_code: str | None = None) -> None:
        """The user entered the code (the only one pending, when none is named)."""
        for device in self.devices.values():
            if user_code is None or device.user_code == user_code:
                device.approved = True

    def mint(self) -> dict[str, str]:
        """A fresh token set (the refresh token numbered so rotation is visible)."""
        self._serial += 1
        tokens = {
            "id_token": id_token(account_id=self.account_id),
            "access_token": access_token(self.access_ttl, serial=f"n{self._serial}"),
            "refresh_token": f"rt-{self._serial}",
        }
        self.issued.append(tokens)
        return tokens

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeIssuer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- serving ---------------------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, headers = parse_head(head)
            body = await read_body(headers, reader)
            self.requests.append(IssuerRequest(method, path, headers, body))
            if self._is_refresh(path, headers, body):
                self.refresh_arrived.set()
                if self.refresh_gate is not None:
                    await self.refresh_gate.wait()
            status, payload, extra = self._route(method, path, headers, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            kind = "text/html" if isinstance(payload, bytes) else "application/json"
            head_out = {"content-type": kind, "content-length": str(len(data)), **extra}
            writer.write(status_line(status, head_out) + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _is_refresh(path: str, headers: dict[str, str], body: bytes) -> bool:
        if urlsplit(path).path != "/oauth/token" or "json" not in headers.get("content-type", ""):
            return False
        return bool(json.loads(body or b"{}").get("grant_type") == "refresh_token")

    def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | bytes, dict[str, str]]:
        route = urlsplit(path).path
        if method == "POST" and route == "/oauth/token":
            return (*self._token(headers, body), {})
        if method == "POST" and route == "/oauth/revoke":
            return 200, {}, {}
        if method == "POST" and route == "/api/accounts/deviceauth/usercode":
            return (*self._usercode(), {})
        if method == "POST" and route == "/api/accounts/deviceauth/token":
            return (*self._device_token(body), {})
        if method == "GET" and route == "/oauth/authorize":
            return self._authorize(urlsplit(path).query)
        if method == "GET" and route == "/codex/device":
            return 200, b"<html><body>Enter the code shown in your editor.</body></html>", {}
        return 404, {"error": {"code": "not_found", "message": f"no route {method} {route}"}}, {}

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if headers.get("content-type", "").startswith("application/json"):
            data = json.loads(body or b"{}")
            if data.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            if self.refresh_replies:
                return self.refresh_replies.popleft()
            return 200, self.mint()
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            return self._exchange(form)
        if grant.endswith("token-exchange"):
            if self.key_exchange_status != 200:
                return self.key_exchange_status, {"error": "access_denied"}
            return 200, {"access_token": f"sk-exchanged-{secrets.token_hex(8)}"}
        return 400, {"error": "unsupported_grant_type"}

    def _exchange(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = self._grants.pop(form.get("code", ""), None)
        if grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown code"}
        verifier = form.get("code_verifier", "")
        if grant.verifier is not None and verifier != grant.verifier:
            return 400, {"error": "invalid_grant", "error_description": "verifier mismatch"}
        if grant.challenge is not None:
            digest = _b64(hashlib.sha256(verifier.encode()).digest())
            if digest != grant.challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE check failed"}
        if grant.redirect_uri is not None and form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        return 200, self.mint()

    def _usercode(self) -> tuple[int, dict[str, Any]]:
        device_id = f"dev-{secrets.token_hex(4)}"
        code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        self.devices[device_id] = _Device(user_code=code)
        return 200, {"device_auth_id": device_id, "user_code": code, "interval": self.device_interval}

    def _device_token(self, body: bytes) -> tuple[int, dict[str, Any]]:
        data = json.loads(body or b"{}")
        device = self.devices.get(data.get("device_auth_id", ""))
        self.device_polled.set()
        if device is None or device.user_code != data.get("user_code"):
            return 404, {"error": "unknown device code"}
        if self.auto_approve:
            device.approved = True
        if not device.approved:
            return 403, {"error": "authorization_pending"}
        code = f"devcode-{secrets.token_hex(4)}"
        self._grants[code] = _Grant(verifier=device.verifier, redirect_uri=f"{self.url}/deviceauth/callback")
        challenge = _b64(hashlib.sha256(device.verifier.encode()).digest())
        return 200, {
            "authorization_code": code,
            "code_challenge": challenge,
            "code_verifier": device.verifier,
        }

    def _authorize(self, query: str) -> tuple[int, dict[str, Any] | bytes, dict[str, str]]:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        redirect = params.get("redirect_uri", "")
        code = f"code-{secrets.token_hex(4)}"
        self._grants[code] = _Grant(challenge=params.get("code_challenge"), redirect_uri=redirect)
        location = f"{redirect}?{urlencode({'code': code, 'state': params.get('state', '')})}"
        return 302, b"", {"location": location}
