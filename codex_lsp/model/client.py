"""``ModelClient``: the long-lived side of the model transport (one per server process).

It owns what outlives a turn (reference §1.5, DESIGN §4): the resolved provider settings and key, the
sticky "WebSocket disabled" flag, the HTTP client, and a one-slot cache holding the idle WebSocket so that
one socket serves every request and every turn. Each logical turn gets a fresh
:class:`~codex_lsp.model.session.TurnSession` from :meth:`ModelClient.new_turn`.

Concurrent turns each take the cached socket or open their own; a socket is returned to the slot only
after a completed response, so a cancelled or broken stream can never hand a half-read socket to the
next request.
"""

from __future__ import annotations

import logging
import platform
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from codex_lsp import __version__
from codex_lsp.model.config import ModelSettings, load_settings
from codex_lsp.model.http_transport import HttpTransport
from codex_lsp.model.notices import FallbackNotice, TransportName
from codex_lsp.model.request import RequestContext
from codex_lsp.model.retry import RetryPolicy
from codex_lsp.model.session import TurnSession
from codex_lsp.model.turn_state import TURN_STATE_HEADER
from codex_lsp.model.ws_transport import (
    OPENAI_BETA_WEBSOCKETS,
    WsConnection,
    open_connection,
    responses_url,
    websocket_url,
)

__all__ = ["ModelClient"]

log = logging.getLogger(__name__)
ORIGINATOR = "codex-lsp"


class ModelClient:
    """Talks to one Responses provider for the lifetime of the server.

    ``transport`` says which transport the next request uses; ``handshake_count`` counts completed
    WebSocket handshakes; ``served_model`` is the model the server last said it used.
    """

    def __init__(
        self,
        settings: ModelSettings,
        *,
        retry_policy: RetryPolicy | None = None,
        prewarm: bool = True,
        session_id: str | None = None,
        installation_id: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.retry_policy = retry_policy or RetryPolicy()
        self.prewarm_enabled = prewarm
        self.session_id = session_id or str(uuid.uuid4())
        self.installation_id = installation_id or str(uuid.uuid4())
        self._env = env
        self.websockets_disabled = not settings.provider.supports_websockets
        self.fallback_reason: str | None = None
        self.handshake_count = 0
        self.handshake_attempts = 0
        self.requests_sent: dict[TransportName, int] = {"websocket": 0, "http": 0}
        self.served_model: str | None = None
        self._idle: WsConnection | None = None
        provider = settings.provider
        self.http_url = responses_url(settings.base_url, provider.query_params)
        self.ws_url = websocket_url(settings.base_url, provider.query_params)
        self.connect_timeout = provider.websocket_connect_timeout_ms / 1000
        self.idle_timeout = provider.stream_idle_timeout_ms / 1000
        self.http = HttpTransport(
            self.http_url, connect_timeout=self.connect_timeout, idle_timeout=self.idle_timeout
        )

    @classmethod
    def from_codex_home(
        cls, home: Path | None = None, *, env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> ModelClient:
        """Build a client from ``$CODEX_HOME/config.toml`` and ``auth.json``."""
        return cls(load_settings(home, env), env=env, **kwargs)

    @property
    def transport(self) -> TransportName:
        """The transport the next request will use."""
        return "http" if self.websockets_disabled else "websocket"

    def new_turn(
        self, model: str | None = None, *, thread_id: str | None = None, turn_id: str | None = None
    ) -> TurnSession:
        """Start a logical turn: fresh turn state, bound to ``model`` (default: the configured one)."""
        return TurnSession(
            self,
            model=model or self.settings.model,
            thread_id=thread_id or self.session_id,
            turn_id=turn_id or str(uuid.uuid4()),
        )

    async def aclose(self) -> None:
        """Close the cached socket and the HTTP client."""
        idle, self._idle = self._idle, None
        if idle is not None:
            await idle.close()
        await self.http.aclose()

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"ModelClient(provider={self.settings.provider_id!r}, model={self.settings.model!r}, "
            f"transport={self.transport!r}, handshakes={self.handshake_count})"
        )

    # -- used by TurnSession -------------------------------------------------------------------------

    def disable_websockets(self, reason: str) -> FallbackNotice | None:
        """Switch to HTTP for good; return a notice the first time only (logged once)."""
        if self.websockets_disabled:
            return None
        self.websockets_disabled = True
        self.fallback_reason = reason
        idle, self._idle = self._idle, None
        if idle is not None:
            idle.abort()
        notice = FallbackNotice(reason=reason)
        log.warning("%s", notice.message)
        return notice

    def take_connection(self) -> WsConnection | None:
        """Take the cached socket out of the slot, if it is still open."""
        conn, self._idle = self._idle, None
        if conn is not None and not conn.is_open:
            conn.abort()
            return None
        return conn

    def give_back(self, conn: WsConnection) -> None:
        """Return a socket whose last response completed; a spare one is dropped."""
        if self._idle is None and conn.is_open and not self.websockets_disabled:
            self._idle = conn
        else:
            conn.abort()

    async def connect(self, ctx: RequestContext) -> WsConnection:
        """Open a new socket with the handshake headers of reference §1.2 / §0b."""
        headers = self.base_headers(ctx)
        headers["openai-beta"] = OPENAI_BETA_WEBSOCKETS
        if ctx.turn_state:
            headers[TURN_STATE_HEADER] = ctx.turn_state
        self.handshake_attempts += 1
        conn = await open_connection(
            self.ws_url,
            headers,
            connect_timeout=self.connect_timeout,
            secrets=self.secrets(),
            number=self.handshake_count + 1,
        )
        self.handshake_count += 1
        return conn

    def base_headers(self, ctx: RequestContext) -> dict[str, str]:
        """Headers both transports send: provider headers < identity headers < Authorization."""
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
        key = self.settings.require_key()
        if key is not None:
            headers["authorization"] = f"Bearer {key.get_secret_value()}"
        return headers

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log or an error message."""
        key = self.settings.api_key
        return (key.get_secret_value(),) if key is not None else ()

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self.secrets():
            if secret:
                text = text.replace(secret, "***")
        return text
