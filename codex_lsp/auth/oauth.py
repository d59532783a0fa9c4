"""The OpenAI sign-in endpoints as Codex 0.169 calls them: refresh, code exchange, key exchange, revoke.

Where each request goes:

- refresh: ``$CODEX_REFRESH_TOKEN_URL_OVERRIDE`` (the whole URL), else ``{tokens.oauth_provenance.issuer}
  /oauth/token``, else ``{issuer}/oauth/token``;
- revoke (logout): ``$CODEX_REVOKE_TOKEN_URL_OVERRIDE``, else ``{issuer}/oauth/revoke``;
- login (code exchange, API-key exchange, device code): ``{issuer}/…``.

The issuer is ``https://auth.openai.com`` and the client id Codex's own, so that a sign-in made here is the
same sign-in as ``codex login``. ``$CODEX_LSP_AUTH_ISSUER`` and ``$CODEX_LSP_AUTH_CLIENT_ID`` replace them;
only tests set them (to a loopback fake).

Refresh errors are classified as Codex classifies them (the code is read from ``error.code``, a string
``error``, or a top-level ``code``): an expired, reused or revoked refresh token, and any other 4xx, are
permanent; 5xx and network failures are transient.
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from codex_lsp import __version__
from codex_lsp.auth.errors import LoginError, RefreshFailed

__all__ = [
    "CLIENT_ID",
    "DEFAULT_ISSUER",
    "OAuthClient",
    "TokenReply",
    "client_id",
    "issuer",
    "refresh_error",
]

log = logging.getLogger(__name__)

DEFAULT_ISSUER = "https://auth.openai.com"
CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"
ISSUER_ENV = "CODEX_LSP_AUTH_ISSUER"
CLIENT_ID_ENV = "CODEX_LSP_AUTH_CLIENT_ID"
REFRESH_URL_ENV = "CODEX_REFRESH_TOKEN_URL_OVERRIDE"
REVOKE_URL_ENV = "CODEX_REVOKE_TOKEN_URL_OVERRIDE"
ORIGINATOR = "codex-lsp"
TIMEOUT = httpx.Timeout(30.0, connect=15.0)

_REFRESH_HINT = "Please log out and sign in again."
_PERMANENT_REASONS = {
    "refresh_token_expired": "your refresh token has expired",
    "refresh_token_reused": "your refresh token was already used",
    "refresh_token_invalidated": "your refresh token was revoked",
}


def issuer(env: Mapping[str, str]) -> str:
    """The sign-in issuer (``$CODEX_LSP_AUTH_ISSUER`` for tests, else OpenAI's)."""
    return (env.get(ISSUER_ENV) or DEFAULT_ISSUER).rstrip("/")


def client_id(env: Mapping[str, str]) -> str:
    """The OAuth client id (``$CODEX_LSP_AUTH_CLIENT_ID`` for tests, else Codex's)."""
    return env.get(CLIENT_ID_ENV) or CLIENT_ID


def user_agent() -> str:
    """Our user agent, the same on sign-in requests as on model requests."""
    return f"{ORIGINATOR}/{__version__} ({platform.system()} {platform.release()}; {platform.machine()})"


def _error_code(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return str(error["code"])
    if isinstance(error, str):
        return error
    code = body.get("code")
    return code if isinstance(code, str) else None


def _error_message(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        for key in ("error_description", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return ""


def refresh_error(status: int, body: Any) -> RefreshFailed:
    """The failure a token endpoint reply stands for, with Codex's text."""
    code = _error_code(body)
    reason = _PERMANENT_REASONS.get(code or "")
    if reason is not None:
        text = f"Your access token could not be refreshed because {reason}. {_REFRESH_HINT}"
        return RefreshFailed(text, permanent=True, code=code)
    if 400 <= status < 500:
        return RefreshFailed(
            f"Your access token could not be refreshed. {_REFRESH_HINT}", permanent=True, code=code
        )
    detail = _error_message(body) or code or "no message"
    return RefreshFailed(f"Failed to refresh token: {status}: {detail}", permanent=False, code=code)


@dataclass(frozen=True)
class TokenReply:
    """What a token endpoint returned; a missing token keeps the old one (refresh) or fails (login)."""

    id_token: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


class OAuthClient:
    """The sign-in HTTP calls, on one short-lived ``httpx`` client (``transport`` for tests)."""

    def __init__(self, env: Mapping[str, str], *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.env = env
        self.issuer = issuer(env)
        self.client_id = client_id(env)
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        headers = {"originator": ORIGINATOR, "user-agent": user_agent(), "accept": "*/*"}
        loopback = httpx.URL(self.issuer).host in ("127.0.0.1", "localhost", "::1")
        return httpx.AsyncClient(
            timeout=TIMEOUT, headers=headers, transport=self._transport, trust_env=not loopback
        )

    def refresh_url(self, token_issuer: str | None) -> str:
        """Where a refresh goes (see the module docstring)."""
        override = self.env.get(REFRESH_URL_ENV)
        if override:
            return override
        return f"{(token_issuer or self.issuer).rstrip('/')}/oauth/token"

    def revoke_url(self) -> str:
        """Where a logout's revocation goes."""
        return self.env.get(REVOKE_URL_ENV) or f"{self.issuer}/oauth/revoke"

    async def refresh(self, refresh_token: str, *, reason: str, token_issuer: str | None) -> TokenReply:
        """``POST …/oauth/token`` with ``grant_type=refresh_token``; raises :class:`RefreshFailed`."""
        body = {
            "client_id": self.client_id,
            "grant_type": "refresh_token",
            "refresh_reason": reason,
            "refresh_token": refresh_token,
        }
        url = self.refresh_url(token_issuer)
        try:
            async with self._client() as client:
                response = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise RefreshFailed(
                f"Failed to refresh token: cannot reach the sign-in server ({exc.__class__.__name__})",
                permanent=False,
            ) from None
        data = _json(response)
        if response.status_code != 200:
            raise refresh_error(response.status_code, data)
        if not isinstance(data, dict):
            raise RefreshFailed("Failed to refresh token: the reply is not a JSON object", permanent=False)
        return TokenReply(_text(data, "id_token"), _text(data, "access_token"), _text(data, "refresh_token"))

    async def exchange_code(self, code: str, *, redirect_uri: str, verifier: str) -> TokenReply:
        """Trade an authorization code (browser or device flow) for tokens; all three are required."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        data = await self._form(f"{self.issuer}/oauth/token", form, "exchanging the sign-in code")
        reply = TokenReply(_text(data, "id_token"), _text(data, "access_token"), _text(data, "refresh_token"))
        if not (reply.id_token and reply.access_token and reply.refresh_token):
            raise LoginError("the sign-in server's token reply is missing a token")
        return reply

    async def exchange_api_key(self, id_token: str) -> str | None:
        """Best effort, as Codex: trade the id token for an API key; ``None`` when that fails."""
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "client_id": self.client_id,
            "requested_token": "openai-api-key",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        }
        try:
            data = await self._form(f"{self.issuer}/oauth/token", form, "exchanging for an API key")
        except LoginError as exc:
            log.info("no API key from the sign-in (optional): %s", exc.message)
            return None
        return _text(data, "access_token")

    async def revoke(self, refresh_token: str) -> bool:
        """Revoke a refresh token (logout); a failure is logged and ignored, as Codex ignores it."""
        body = {"token": refresh_token, "token_type_hint": "refresh_token", "client_id": self.client_id}
        try:
            async with self._client() as client:
                response = await client.post(self.revoke_url(), json=body)
        except httpx.HTTPError as exc:
            log.info("could not revoke the sign-in (ignored): %s", exc.__class__.__name__)
            return False
        if response.status_code >= 300:
            log.info("could not revoke the sign-in (ignored): HTTP %s", response.status_code)
        return response.status_code < 300

    async def post_json(self, url: str, body: dict[str, Any]) -> tuple[int, Any]:
        """A JSON POST for the device flow: ``(status, parsed body or None)``; raises :class:`LoginError`
        when the server cannot be reached."""
        try:
            async with self._client() as client:
                response = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise LoginError(f"cannot reach the sign-in server at {self.issuer} ({exc})") from None
        return response.status_code, _json(response)

    async def _form(self, url: str, form: dict[str, str], what: str) -> dict[str, Any]:
        try:
            async with self._client() as client:
                response = await client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise LoginError(
                f"{what} failed: cannot reach {self.issuer} ({exc.__class__.__name__})"
            ) from None
        data = _json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            detail = _error_message(data) or _error_code(data) or "no message"
            raise LoginError(f"{what} failed: HTTP {response.status_code}: {detail}")
        return data


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None
