"""The transport layer's exception tree, with the policy for each class.

Every failure the model layer raises is a :class:`TransportError`. The class decides what the retry loop in
:mod:`codex_lsp.model.client` does with it, so the policy lives here, on the class, and nowhere else:

``TransportError``
    ``ConfigError``            fatal: the settings are unusable; the message names the key and the file.
    ``AuthError``              fatal: no key, or the server refused it (401/403).
    ``FatalModelError``        fatal: the server refused this request for good (context length, quota,
                               invalid request); retrying would only repeat the refusal.
    ``UpgradeRequired``        no retry: the WebSocket handshake got 426; switch to HTTP for good, at once.
    ``RetryableError``         retry with backoff (or the server-requested delay) within the budget;
                               WebSocket errors of this kind that exhaust the budget switch to HTTP.
        ``ConnectFailed``      the handshake or the POST failed before any event arrived.
        ``StreamClosed``       the stream ended before ``response.completed``.
        ``IdleTimeout``        no event within the idle timeout.
        ``ProtocolError``      the server sent something we cannot read (binary frame, invalid event).
        ``ConnectionLimitReached``  the server retired the socket; reconnect without delay.
        ``ServerError``        5xx or a retryable ``response.failed``.
        ``RateLimited``        429 without a quota code: retried, never a reason to leave WebSocket.
    ``ServerOverloaded``       retry on the overload schedule; never a reason to leave WebSocket.
    ``RetriesExhausted``       fatal: the budget ran out; ``__cause__`` holds the last error.

Messages never contain the API key: they are built from status codes, error codes and server messages only.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectFailed",
    "ConnectionLimitReached",
    "FatalModelError",
    "IdleTimeout",
    "ProtocolError",
    "RateLimited",
    "RetriesExhausted",
    "RetryableError",
    "ServerError",
    "ServerOverloaded",
    "StreamClosed",
    "TransportError",
    "UpgradeRequired",
]


class TransportError(Exception):
    """Base of every model-transport failure. Policy: decided by the subclass; the base is never retried."""

    retryable: ClassVar[bool] = False
    """Whether the retry loop may send the request again."""
    leaves_websocket: ClassVar[bool] = False
    """Whether exhausting the retry budget with this error switches the client to HTTP for good."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


class ConfigError(TransportError):
    """Policy: fatal. A setting is missing or invalid; the message names the key and the file."""


class AuthError(TransportError):
    """Policy: fatal. No API key was found, or the server refused the one we sent (401/403)."""


class FatalModelError(TransportError):
    """Policy: fatal. Context length, quota, unsupported usage or an invalid request: end the turn with the
    server's message, since sending the same request again would fail the same way."""


class UpgradeRequired(TransportError):
    """Policy: no retry on WebSocket; the client switches to HTTP SSE for good and resends at once."""


class RetryableError(TransportError):
    """Policy: retry after ``retry_after`` seconds when the server asked for a delay, otherwise after the
    exponential backoff; counted against the retry budget."""

    retryable = True
    leaves_websocket = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ConnectFailed(RetryableError):
    """Policy: retry (request budget). The handshake or POST failed before the response started."""


class StreamClosed(RetryableError):
    """Policy: retry (stream budget). The stream ended before ``response.completed``."""


class IdleTimeout(RetryableError):
    """Policy: retry (stream budget). Nothing arrived within ``stream_idle_timeout_ms``."""


class ProtocolError(RetryableError):
    """Policy: retry (stream budget) on a fresh connection. A binary frame or an unreadable known event."""


class ConnectionLimitReached(RetryableError):
    """Policy: reconnect at once (no delay), counted against the budget. The server caps socket lifetime."""


class ServerError(RetryableError):
    """Policy: retry (stream budget). A 5xx status or a ``response.failed`` whose code is not fatal."""


class RateLimited(RetryableError):
    """Policy: retry after the server-requested delay within the budget; when it runs out, fail. A rate
    limit says nothing about the transport, so it never moves the client off WebSocket."""

    leaves_websocket = False


class ServerOverloaded(TransportError):
    """Policy: retry on the overload schedule (0, 5, 30, 120, 300 s, each × [1, 2)); then fatal. Never moves
    the client off WebSocket: the server is busy, not the socket."""

    retryable = True


class RetriesExhausted(TransportError):
    """Policy: fatal. Every attempt the budget allowed failed; ``__cause__`` is the last error."""
