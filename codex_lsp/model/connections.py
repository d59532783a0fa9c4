"""``Connections``: the client's link to one provider, shared by every turn.

This is the layer below :class:`~codex_lsp.model.session.TurnSession`, as an HTTP library's transport sits
below its client: it owns what outlives a request and a turn, and nothing above it touches that state
directly. It holds the resolved settings and the client's identity, the live credential (a ChatGPT sign-in
refreshes itself here for as long as the client lives), the one-slot cache with the idle WebSocket (so that
one socket serves every request and every turn), the sticky "WebSocket disabled" flag, the HTTP client, the
headers both transports send, the secret masking, and the counters diagnostics read.

A socket goes back into the slot only after a completed response, so a cancelled or broken stream can never
hand a half-read socket to the next request; concurrent turns each take the cached socket or open their own.
"""

from __future__ import annotations

import hashlib
import logging
import platform
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from codex_lsp import __version__
from codex_lsp.auth import AuthFileError, AuthProblem
from codex_lsp.model.config import ModelSettings
from codex_lsp.model.errors import AuthError, ConfigError, ModelError
from codex_lsp.model.notices import FallbackNotice, TransportName
from codex_lsp.model.redact import Redactor, guard_library_logs
from codex_lsp.model.request import RequestContext
from codex_lsp.model.turn_state import TURN_STATE_HEADER
from codex_lsp.model.ws_transport import (
    OPENAI_BETA_WEBSOCKETS,
    WsConnection,
    is_loopback,
    open_connection,
    responses_url,
    websocket_url,
)

if TYPE_CHECKING:
    from codex_lsp.model.http_transport import HttpTransport

__all__ = ["ORIGINATOR", "Connections"]


def _digest(credentials: Mapping[str, str]) -> str:
    """Which credential headers a socket was opened with, without keeping them."""
    canonical = "\n".join(f"{k.lower()}:{v}" for k, v in sorted(credentials.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()


log = logging.getLogger(__name__)
ORIGINATOR = "codex-lsp"


class Connections:
    """The sockets, the HTTP client and the per-provider state every turn of one client shares.

    ``handshake_count`` counts completed WebSocket handshakes, ``handshake_attempts`` every try;
    ``requests_sent`` counts requests per transport; ``served_model`` is the model the server last named.
    """

    def __init__(
        self,
        settings: ModelSettings,
        *,
        session_id: str,
        installation_id: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.session_id = session_id
        self.installation_id = installation_id
        self._env = env
        self.websockets_disabled = not settings.provider.supports_websockets
        self.fallback_reason: str | None = None
        self.handshake_count = 0
        self.handshake_attempts = 0
        self.requests_sent: dict[TransportName, int] = {"websocket": 0, "http": 0}
        self.served_model: str | None = None
        self._idle: WsConnection | None = None
        self.credential = settings.credential(env)
        provider = settings.provider
        self.connect_timeout = provider.websocket_connect_timeout_ms / 1000
        self.idle_timeout = provider.stream_idle_timeout_ms / 1000
        self._http: HttpTransport | None = None
        guard_library_logs(self)

    @property
    def http(self) -> HttpTransport:
        """The HTTP transport, made on first use: a client on WebSocket may never need it, and the HTTP
        stack (httpx and its dependencies, about 5 MB) is loaded only then."""
        if self._http is None:
            from codex_lsp.model.http_transport import HttpTransport

            self._http = HttpTransport(
                connect_timeout=self.connect_timeout,
                idle_timeout=self.idle_timeout,
                loopback=is_loopback(self.http_url),  # no proxy for loopback (the sign-in never moves it)
            )
        return self._http

    @property
    def base_url(self) -> str:
        """The base URL of the next request: for the ``openai`` provider it follows the sign-in (ChatGPT's
        backend or the API), which may change while the client lives (``codex login`` in a terminal)."""
        return self.settings.base_url_for(self.credential.mode())

    @property
    def http_url(self) -> str:
        """``POST`` target of the next HTTP request."""
        return responses_url(self.base_url, self.settings.provider.query_params)

    @property
    def ws_url(self) -> str:
        """Handshake target of the next WebSocket."""
        return websocket_url(self.base_url, self.settings.provider.query_params)

    @property
    def transport(self) -> TransportName:
        """The transport the next request will use."""
        return "http" if self.websockets_disabled else "websocket"

    @property
    def http_label(self) -> Literal["HTTP", "HTTPS"]:
        """How the HTTP transport is named to users: ``HTTPS`` or plain ``HTTP``, as the URL says."""
        return "HTTPS" if urlsplit(self.http_url).scheme in ("https", "wss") else "HTTP"

    async def aclose(self) -> None:
        """Close the cached socket and the HTTP client."""
        idle, self._idle = self._idle, None
        if idle is not None:
            await idle.close()
        if self._http is not None:
            await self._http.aclose()

    # -- the socket slot -------------------------------------------------------------------------------

    def disable_websockets(self, reason: str) -> FallbackNotice | None:
        """Switch to HTTP for good; return the notice the first time only (later callers get ``None``)."""
        if self.websockets_disabled:
            return None
        reason = self.scrub(reason)
        self.websockets_disabled = True
        self.fallback_reason = reason
        idle, self._idle = self._idle, None
        if idle is not None:
            idle.abort()
        notice = FallbackNotice(reason=reason, to=self.http_label)
        # INFO, not WARNING: the notice reaches the user as an event; a warning would also reach stderr
        # through logging's last-resort handler and print the same news twice.
        log.info("%s", notice.message)
        return notice

    def take_connection(self, credentials: Mapping[str, str]) -> WsConnection | None:
        """Take the cached socket out of the slot, if it is still open, still leads where the next request
        goes and was opened with the same ``credentials`` (the credential's current headers): a socket the
        server authenticated for an older token, another account or another key is not reused."""
        conn, self._idle = self._idle, None
        stale = conn is not None and (conn.url != self.ws_url or conn.credentials != _digest(credentials))
        if conn is not None and (not conn.is_open or stale):
            conn.abort()
            return None
        return conn

    def give_back(self, conn: WsConnection) -> None:
        """Return a socket whose last response completed; a spare one is dropped."""
        if self._idle is None and conn.is_open and not self.websockets_disabled:
            self._idle = conn
        else:
            conn.abort()

    async def connect(self, ctx: RequestContext, credentials: Mapping[str, str]) -> WsConnection:
        """Open a new socket: the common headers, the ``credentials`` headers, the WebSocket beta header, and
        the turn's token when the turn already holds one (a reconnect within a turn must reach the same
        backend)."""
        headers = {**self.base_headers(ctx), **credentials}
        headers["openai-beta"] = OPENAI_BETA_WEBSOCKETS
        if ctx.turn_state:
            headers[TURN_STATE_HEADER] = ctx.turn_state
        self.handshake_attempts += 1
        conn = await open_connection(
            self.ws_url,
            headers,
            connect_timeout=self.connect_timeout,
            redactor=self.redactor(),
            number=self.handshake_count + 1,
        )
        self.handshake_count += 1
        conn.credentials = _digest(credentials)
        return conn

    # -- what every request carries ----------------------------------------------------------------------

    async def credential_headers(self) -> dict[str, str]:
        """The credential's headers for the next request (a ChatGPT sign-in due for refresh refreshes
        first: a long-lived server keeps working past the token's expiry)."""
        try:
            return await self.credential.headers()
        except AuthProblem as exc:
            raise self.auth_error(exc) from None

    async def recover(self, attempt: int, refusal: str) -> None:
        """A request was refused with 401 (``refusal`` says how): let the credential recover (re-read
        auth.json; refresh a ChatGPT sign-in once) so the request can be resent, or raise the
        :class:`AuthError` that ends it."""
        try:
            await self.credential.recover(attempt)
        except AuthProblem as exc:
            error = self.auth_error(exc)
            if self.credential.kind in ("key", "none"):
                error.replace_message(f"{error.message} ({self.scrub(refusal)})")
            raise error from None

    def auth_error(self, exc: AuthProblem) -> ModelError:
        """The model-layer error for a sign-in problem (a bad auth.json is a configuration error)."""
        message = self.scrub(exc.message)
        if isinstance(exc, AuthFileError):
            return ConfigError(message, path=exc.path)
        if self.settings.missing_key is not None:
            return ConfigError(message)
        return AuthError(message)

    def base_headers(self, ctx: RequestContext) -> dict[str, str]:
        """Headers both transports send, but the credential's: provider headers < identity headers."""
        headers = {k.lower(): v for k, v in self.settings.resolved_headers(self._env).items()}
        headers.update(
            {
                "originator": ORIGINATOR,
                "user-agent": f"{ORIGINATOR}/{__version__} ({platform.system()} {platform.release()}; "
                f"{platform.machine()})",
                "x-client-request-id": ctx.thread_id,
                "session-id": ctx.session_id,
                "thread-id": ctx.thread_id,
                "x-codex-window-id": ctx.window_id,
                "x-codex-turn-metadata": ctx.turn_metadata(),
            }
        )
        return headers

    def count_request(self, transport: TransportName) -> None:
        """Count a request sent over ``transport``."""
        self.requests_sent[transport] += 1

    def note_served_model(self, model: str | None) -> None:
        """Remember the model the server says it used."""
        if model:
            self.served_model = model

    # -- secrets -------------------------------------------------------------------------------------------

    def redactor(self) -> Redactor:
        """The masking for the current settings and environment (``env_http_headers`` are read from the
        environment at each request, and a ChatGPT sign-in's tokens change as it refreshes, so the secrets
        are read each time too)."""
        provider = self.settings.provider
        bearer = provider.experimental_bearer_token
        return Redactor.of(
            keys=(*self.credential.secrets(), bearer.get_secret_value() if bearer is not None else ""),
            env_headers=self.settings.env_headers(self._env),
            headers=provider.http_headers,
            query_params=provider.query_params,
        )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log or an error message."""
        return self.redactor().values

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked."""
        return self.redactor().scrub(text)
