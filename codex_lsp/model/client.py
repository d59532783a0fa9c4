"""``ModelClient``: the long-lived entry point of the model layer (one per server process).

It resolves the provider settings and key once, owns the :class:`~codex_lsp.model.connections.Connections`
every turn shares (the socket slot, the HTTP client, the fallback flag, headers and secrets), and hands out
one :class:`~codex_lsp.model.session.TurnSession` per logical turn from :meth:`ModelClient.new_turn`. The
dependencies point one way: client → session → connections.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from codex_lsp.model.config import ConfigRequest, ModelSettings, load_settings
from codex_lsp.model.connections import Connections
from codex_lsp.model.notices import FallbackNotice, TransportName
from codex_lsp.model.redact import Redactor
from codex_lsp.model.retry import RetryPolicy
from codex_lsp.model.session import TurnSession

if TYPE_CHECKING:
    from codex_lsp.auth import AccountInfo

__all__ = ["ModelClient"]


class ModelClient:
    """Talks to one Responses provider for the lifetime of the server.

    ``transport`` says which transport the next request uses; ``handshake_count`` counts completed
    WebSocket handshakes; ``served_model`` is the model the server last said it used.

    With ``prewarm`` (the default, as in Codex) the first turn of each thread starts with a
    ``generate:false`` request over WebSocket, so that its first real request chains from it. Later turns
    send no prewarm: on the same socket they chain from the previous turn's last response, and on a socket
    opened later they send the full history, as Codex 0.169 does.
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
        self.retry_policy = retry_policy or RetryPolicy()
        self.prewarm_enabled = prewarm
        self.connections = Connections(
            settings,
            session_id=session_id or str(uuid.uuid4()),
            installation_id=installation_id or str(uuid.uuid4()),
            env=env,
        )
        self._warm_threads: set[str] = set()

    @classmethod
    def from_codex_home(
        cls,
        home: Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        request: ConfigRequest | None = None,
        **kwargs: Any,
    ) -> ModelClient:
        """Build a client from Codex's configuration layers (see ``request``) and the sign-in."""
        return cls(load_settings(home, env, request=request), env=env, **kwargs)

    def new_turn(
        self, model: str | None = None, *, thread_id: str | None = None, turn_id: str | None = None
    ) -> TurnSession:
        """Start a logical turn: fresh turn state, bound to ``model`` (default: the configured one)."""
        thread_id = thread_id or self.session_id
        prewarm = self.prewarm_enabled and thread_id not in self._warm_threads
        self._warm_threads.add(thread_id)
        return TurnSession(
            self.connections,
            model=model or self.settings.model,
            thread_id=thread_id,
            turn_id=turn_id or str(uuid.uuid4()),
            retry_policy=self.retry_policy,
            prewarm=prewarm,
        )

    # -- the shared state, read through the client for convenience ----------------------------------------

    @property
    def settings(self) -> ModelSettings:
        """The resolved provider settings."""
        return self.connections.settings

    @property
    def session_id(self) -> str:
        """This client's session id (also the default thread id)."""
        return self.connections.session_id

    @property
    def installation_id(self) -> str:
        """The installation id sent with every request."""
        return self.connections.installation_id

    @property
    def transport(self) -> TransportName:
        """The transport the next request will use."""
        return self.connections.transport

    @property
    def websockets_disabled(self) -> bool:
        """Whether the client moved to HTTP for good (or the provider never offered WebSocket)."""
        return self.connections.websockets_disabled

    @property
    def fallback_reason(self) -> str | None:
        """Why the client left WebSocket, when it did."""
        return self.connections.fallback_reason

    @property
    def handshake_count(self) -> int:
        """Completed WebSocket handshakes."""
        return self.connections.handshake_count

    @property
    def handshake_attempts(self) -> int:
        """WebSocket handshakes tried, completed or not."""
        return self.connections.handshake_attempts

    @property
    def requests_sent(self) -> dict[TransportName, int]:
        """Requests sent per transport."""
        return self.connections.requests_sent

    @property
    def served_model(self) -> str | None:
        """The model the server last said it used."""
        return self.connections.served_model

    def account(self) -> AccountInfo:
        """Who the requests are signed in as, now (never a secret)."""
        return self.connections.credential.account()

    def disable_websockets(self, reason: str) -> FallbackNotice | None:
        """Switch to HTTP for good; return the notice the first time only."""
        return self.connections.disable_websockets(reason)

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log or an error message."""
        return self.connections.secrets()

    def scrub(self, text: str) -> str:
        """``text`` with every secret masked."""
        return self.connections.scrub(text)

    @staticmethod
    def scrub_all(clients: Iterable[ModelClient], text: str) -> str:
        """``text`` with the secrets of every one of ``clients`` masked, longest first across them all:
        masked client after client, one client's secret inside a longer secret of another's would be
        masked first and leave the longer one's rest."""
        return Redactor.union(client.connections.redactor() for client in clients).scrub(text)

    def masking(self) -> tuple[Callable[[str], str], tuple[str, ...]]:
        """The current secrets read once: a function masking them, and their values (longest first). For
        text masked piece by piece (a stream), where reading the secrets for each piece costs more than
        the masking."""
        redactor = self.connections.redactor()
        return redactor.scrub, redactor.values

    def secret_env_names(self) -> frozenset[str]:
        """Environment variables that hold this client's secrets (see ``ModelSettings.secret_env_names``)."""
        return self.settings.secret_env_names()

    async def aclose(self) -> None:
        """Close the cached socket and the HTTP client."""
        await self.connections.aclose()

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
