"""Retry numbers and error classification, shared by both transports (the numbers are Codex's).

- Backoff: ``base_delay × 2^(n−1)`` × jitter in [0.9, 1.1] for retry ``n`` (upstream: 200 ms base).
- Server-requested delays win: ``try again in N s|ms`` in the message, else a ``Retry-After`` header.
- Overload (``server_is_overloaded`` / ``slow_down``): its own schedule, 0 / 5 / 30 / 120 / 300 s, each
  × [1, 2); it never moves the client off WebSocket.
- ``response.failed`` codes: context length, quota, unsupported usage, cyber policy and invalid prompt are
  fatal; everything else is retryable.

Tests shrink the delays through :class:`RetryPolicy`, never by sleeping.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from codex_lsp.model.errors import (
    AuthError,
    ConnectFailed,
    ConnectionLimitReached,
    FatalModelError,
    ModelError,
    ProtocolError,
    RateLimited,
    ServerError,
    ServerOverloaded,
    Unauthorized,
    UpgradeRequired,
)
from codex_lsp.model.events import ErrorEvent, ResponseFailed, ResponseIncomplete, ServerEvent, parse_event

__all__ = [
    "FATAL_CODES",
    "OVERLOAD_CODES",
    "RetryPolicy",
    "checked_event",
    "error_for_failed_response",
    "error_for_status",
    "event_error",
    "parse_retry_after",
]

FATAL_CODES = frozenset(
    {
        "context_length_exceeded",
        "insufficient_quota",
        "usage_not_included",
        "usage_limit_reached",
        "cyber_policy",
        "invalid_prompt",
    }
)
OVERLOAD_CODES = frozenset({"server_is_overloaded", "slow_down"})
_HINTS = {
    "context_length_exceeded": "the conversation no longer fits the model's context; start a new thread",
    "insufficient_quota": "the account has no quota left; check billing",
    "usage_not_included": "this plan does not include this usage",
    "usage_limit_reached": "the usage limit is reached; wait for it to reset",
}
_TRY_AGAIN = re.compile(r"try again in\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)\b", re.I)


@dataclass(frozen=True)
class RetryPolicy:
    """Delays between attempts; the budgets themselves come from the provider config."""

    base_delay: float = 0.2
    jitter: tuple[float, float] = (0.9, 1.1)
    overload_delays: tuple[float, ...] = (0.0, 5.0, 30.0, 120.0, 300.0)
    overload_jitter: tuple[float, float] = (1.0, 2.0)

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (1-based) when the server asked for none."""
        return float(self.base_delay * 2.0 ** (attempt - 1) * random.uniform(*self.jitter))

    def overload_delay(self, attempt: int) -> float | None:
        """Delay before overload retry ``attempt`` (1-based), or ``None`` once the schedule is spent."""
        if attempt > len(self.overload_delays):
            return None
        return self.overload_delays[attempt - 1] * random.uniform(*self.overload_jitter)


def parse_retry_after(message: str | None, headers: Mapping[str, str] | None = None) -> float | None:
    """The server-requested delay in seconds: ``try again in …`` first, then ``Retry-After`` (seconds)."""
    if message:
        match = _TRY_AGAIN.search(message)
        if match:
            amount = float(match.group(1))
            return amount / 1000 if match.group(2).lower().startswith("m") else amount
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _describe(code: str | None, message: str) -> str:
    hint = _HINTS.get(code or "")
    text = message or code or "no message"
    return f"{text} ({hint})" if hint else text


def error_for_failed_response(
    code: str | None, message: str, *, status: int | None = None, retry_after: float | None = None
) -> ModelError:
    """Classify a ``response.failed`` error (or a status-less error frame) by its code."""
    if code == "websocket_connection_limit_reached":
        return ConnectionLimitReached(f"the server closed the socket: {message}", code=code, retry_after=0.0)
    if code == "previous_response_not_found":
        return _lost_previous(message)
    if code in FATAL_CODES:
        return FatalModelError(f"the model refused the request: {_describe(code, message)}", code=code)
    if code in OVERLOAD_CODES:
        return ServerOverloaded(f"the model server is overloaded: {_describe(code, message)}", code=code)
    delay = retry_after if retry_after is not None else parse_retry_after(message)
    if code == "rate_limit_exceeded":
        return RateLimited(f"rate limited: {message}", status=status, code=code, retry_after=delay)
    return ServerError(f"the response failed: {_describe(code, message)}", code=code, retry_after=delay)


def _lost_previous(message: str) -> ProtocolError:
    """The server no longer has the response we chained from: reconnect and send the full request."""
    text = f"the server lost the previous response ({message}); resending the full request"
    return ProtocolError(text, code="previous_response_not_found", retry_after=0.0)


def _error_fields(body: Any) -> tuple[str | None, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code") or error.get("type")
    return (str(code) if code else None), str(error.get("message") or "")


def error_for_status(
    status: int, body: Any, headers: Mapping[str, str] | None = None, *, handshake: bool = False
) -> ModelError:
    """Map a non-success HTTP status (a POST reply, a refused handshake, or a wrapped error frame)."""
    code, message = _error_fields(body)
    delay = parse_retry_after(message, headers)
    detail = f"HTTP {status}: {_describe(code, message)}" if message or code else f"HTTP {status}"
    if code == "previous_response_not_found":
        return _lost_previous(message)
    if status == 426:
        return UpgradeRequired(f"the server refused the WebSocket upgrade ({detail})", status=status)
    if status == 401:
        return Unauthorized(f"the server refused the credentials ({detail})", status=status, code=code)
    if status == 403:
        return AuthError(f"the server refused the credentials ({detail}); check the key", status=status)
    if status == 429:
        if code in FATAL_CODES:
            return FatalModelError(f"the model refused the request ({detail})", status=status, code=code)
        return RateLimited(f"rate limited ({detail})", status=status, code=code, retry_after=delay)
    if code in OVERLOAD_CODES:
        return ServerOverloaded(f"the model server is overloaded ({detail})", status=status, code=code)
    if status >= 500:
        return ServerError(f"server error ({detail})", status=status, code=code, retry_after=delay)
    if handshake:
        return ConnectFailed(f"the WebSocket handshake failed ({detail})", status=status, code=code)
    if status == 404:
        return FatalModelError(f"no Responses endpoint here ({detail}); check base_url", status=status)
    return FatalModelError(f"the model refused the request ({detail})", status=status, code=code)


def event_error(event: ServerEvent) -> ModelError | None:
    """The error a terminal failure event stands for, or ``None`` for any other event."""
    if isinstance(event, ResponseFailed):
        err = event.response.error
        return error_for_failed_response(err.code if err else None, err.message if err else "")
    if isinstance(event, ResponseIncomplete):
        reason = (event.response.incomplete_details or {}).get("reason", "unknown")
        return FatalModelError(f"Incomplete response returned, reason: {reason}", code="incomplete")
    if isinstance(event, ErrorEvent):
        status = event.http_status
        if status is not None and not 200 <= status < 300:
            body = {"error": {"code": event.error_code, "message": event.error_message}}
            return error_for_status(status, body, event.error_headers)
        return error_for_failed_response(event.error_code, event.error_message)
    return None


def checked_event(payload: str | bytes) -> ServerEvent | None:
    """Parse one frame or SSE payload as both transports must: ``None`` for what is ignored, the
    event otherwise, and the :class:`ModelError` a terminal failure event stands for raised."""
    event = parse_event(payload)
    if event is not None:
        error = event_error(event)
        if error is not None:
            raise error
    return event
