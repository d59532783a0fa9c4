"""The model layer's exception tree; each class carries the retry policy the retry loop applies to it.

Every failure the model layer raises is a :class:`ModelError`. The retry loop
(:class:`~codex_lsp.model.session.TurnSession`) never tests for classes: it reads three class attributes,
:attr:`~ModelError.retry`, :attr:`~ModelError.leaves_websocket` and :attr:`~ModelError.http_budget`, so the
policy written next to each class below is the policy that runs.

``ModelError``                 retry ``never``: the request cannot succeed as it is.
    ``ConfigError``            retry ``never``: the settings are unusable; ``path`` names the wrong file.
    ``AuthError``              retry ``never``: no credentials, or the server refused them for good.
        ``Unauthorized``       retry ``reauth``: a 401. The credential recovers as Codex does (re-read
                               auth.json and resend; then refresh a ChatGPT sign-in once and resend);
                               when it cannot, the request ends with what the user must do.
    ``FatalModelError``        retry ``never``: the server refused this request for good (context length,
                               quota, invalid request); sending it again would only repeat the refusal.
    ``RetriesExhausted``       retry ``never``: the budget ran out; ``__cause__`` holds the last error.
    ``TransportError``         retry ``backoff``: the network family; the request may well succeed if sent
                               again.
        ``UpgradeRequired``    retry ``switch``: the WebSocket handshake got 426; move to HTTP for good and
                               resend at once (fatal when already on HTTP).
        ``ServerOverloaded``   retry ``overload``: the overload schedule; never a reason to leave WebSocket.
        ``ConnectFailed``      retry ``backoff``: the handshake or the POST failed before any event arrived
                               (over HTTP counted against ``request_max_retries``).
        ``StreamClosed``       retry ``backoff``: the stream ended before ``response.completed``.
        ``IdleTimeout``        retry ``backoff``: no event within the idle timeout.
        ``ProtocolError``      retry ``backoff``: the server sent something we cannot read.
        ``ConnectionLimitReached``  retry ``backoff`` (no delay): the server retired the socket.
        ``ServerError``        retry ``backoff``: 5xx or a retryable ``response.failed``.
        ``RateLimited``        retry ``backoff``: 429 without a quota code; never a reason to leave WebSocket.

``backoff`` means: wait ``retry_after`` seconds when the server asked for a delay, else the exponential
backoff, counted against the provider's retry budget; on WebSocket, an error with ``leaves_websocket`` that
exhausts the budget switches the client to HTTP (with a fresh budget) instead of failing.

Messages never contain the API key: they are built from status codes, error codes and server messages only,
and the retry loop masks every configured secret in them before they leave the model layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

__all__ = [
    "AuthError",
    "Budget",
    "ConfigError",
    "ConnectFailed",
    "ConnectionLimitReached",
    "FatalModelError",
    "IdleTimeout",
    "ModelError",
    "ProtocolError",
    "RateLimited",
    "RetriesExhausted",
    "RetryKind",
    "ServerError",
    "ServerOverloaded",
    "StreamClosed",
    "TransportError",
    "Unauthorized",
    "UpgradeRequired",
]

RetryKind = Literal["never", "backoff", "overload", "switch", "reauth"]
"""What the retry loop does after an attempt failed with an error of this class."""
Budget = Literal["request", "stream"]
"""Which provider budget a ``backoff`` retry counts against: ``request_max_retries`` or
``stream_max_retries``."""


class ModelError(Exception):
    """Base of every model-layer failure. Policy: never retried (subclasses say otherwise)."""

    retry: ClassVar[RetryKind] = "never"
    """What the retry loop does next: give up, back off and resend, follow the overload schedule, or move
    to HTTP and resend."""
    leaves_websocket: ClassVar[bool] = False
    """Whether exhausting the ``backoff`` budget on WebSocket moves the client to HTTP for good."""
    http_budget: ClassVar[Budget] = "stream"
    """The budget a ``backoff`` retry over HTTP counts against (WebSocket retries always count against
    ``stream_max_retries``, as Codex counts them)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after
        """The delay (seconds) the server asked for before the next attempt, if it named one."""

    def replace_message(self, message: str) -> None:
        """Swap the message (used to mask secrets); ``str(exc)`` follows."""
        self.message = message
        self.args = (message,)


class ConfigError(ModelError):
    """Policy: fatal. A setting is missing or invalid; the message names the key, ``path`` the file."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path
        """The file that is wrong (``config.toml`` or ``auth.json``), when one is."""


class AuthError(ModelError):
    """Policy: fatal. No credentials were found, or the server refused them for good (403, or 401 after
    the credential's recovery)."""


class Unauthorized(AuthError):
    """Policy: let the credential recover, then resend (not counted against the retry budget); fatal when
    it cannot recover. The server said 401."""

    retry: ClassVar[RetryKind] = "reauth"


class FatalModelError(ModelError):
    """Policy: fatal. Context length, quota, unsupported usage or an invalid request: end the turn with the
    server's message, since sending the same request again would fail the same way."""


class RetriesExhausted(ModelError):
    """Policy: fatal. Every attempt the budget allowed failed; ``__cause__`` is the last error."""


class TransportError(ModelError):
    """The network family: the connection, the stream or the server's load failed this attempt, not the
    request itself. Policy: back off and resend within the budget; on WebSocket, running out of budget
    moves the client to HTTP."""

    retry: ClassVar[RetryKind] = "backoff"
    leaves_websocket: ClassVar[bool] = True


class UpgradeRequired(TransportError):
    """Policy: no retry on WebSocket; the client switches to HTTP SSE for good and resends at once."""

    retry: ClassVar[RetryKind] = "switch"


class ServerOverloaded(TransportError):
    """Policy: retry on the overload schedule (0, 5, 30, 120, 300 s, each × [1, 2)); then fatal. Never moves
    the client off WebSocket: the server is busy, not the socket."""

    retry: ClassVar[RetryKind] = "overload"
    leaves_websocket: ClassVar[bool] = False


class ConnectFailed(TransportError):
    """Policy: back off (over HTTP: the request budget). The handshake or POST failed before the response
    started."""

    http_budget: ClassVar[Budget] = "request"


class StreamClosed(TransportError):
    """Policy: back off (stream budget). The stream ended before ``response.completed``."""


class IdleTimeout(TransportError):
    """Policy: back off (stream budget). Nothing arrived within ``stream_idle_timeout_ms``."""


class ProtocolError(TransportError):
    """Policy: back off (stream budget) on a fresh connection. A binary frame or an unreadable known event."""


class ConnectionLimitReached(TransportError):
    """Policy: reconnect at once (the server asks for no delay), counted against the budget. The server caps
    a socket's lifetime."""


class ServerError(TransportError):
    """Policy: back off (stream budget). A 5xx status or a ``response.failed`` whose code is not fatal."""


class RateLimited(TransportError):
    """Policy: back off, waiting the server-requested delay, within the budget; when it runs out, fail. A
    rate limit says nothing about the transport, so it never moves the client off WebSocket."""

    leaves_websocket: ClassVar[bool] = False
