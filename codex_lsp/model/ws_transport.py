"""Responses over WebSocket: the handshake, one flat ``response.create`` frame, and the event read loop.

A :class:`WsConnection` wraps one socket together with what it remembers of its last completed response;
:class:`~codex_lsp.model.connections.Connections` keeps one of them in a one-slot cache so that a single
socket serves many requests and turns. Any error mid-stream aborts the socket at once (no close handshake)
so that a half-read response can never leak into the next request; the next request then reconnects and
sends the full body.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from codex_lsp.model.errors import (
    ConfigError,
    ConnectFailed,
    IdleTimeout,
    ProtocolError,
    StreamClosed,
)
from codex_lsp.model.events import (
    ResponseCompleted,
    ServerEvent,
)
from codex_lsp.model.redact import RedactingLogger, Redactor
from codex_lsp.model.request import LastExchange
from codex_lsp.model.retry import checked_event, error_for_status

__all__ = [
    "OPENAI_BETA_WEBSOCKETS",
    "Clock",
    "IdleWatch",
    "WsConnection",
    "open_connection",
    "responses_url",
    "websocket_url",
]

OPENAI_BETA_WEBSOCKETS = "responses_websockets=2026-02-06"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def responses_url(base_url: str, query_params: Mapping[str, str]) -> str:
    """``{base}/responses`` with the provider's query parameters appended (kept from the base, too)."""
    parts = urlsplit(base_url)
    extra = urlencode(dict(query_params))
    query = "&".join(q for q in (parts.query, extra) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/responses", query, ""))


def websocket_url(base_url: str, query_params: Mapping[str, str]) -> str:
    """The WebSocket URL: the HTTP one with ``http``→``ws`` and ``https``→``wss``; other schemes kept."""
    url = responses_url(base_url, query_params)
    scheme, rest = url.split(":", 1)
    return {"http": "ws", "https": "wss"}.get(scheme, scheme) + ":" + rest


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (proxies are bypassed for it)."""
    return (urlsplit(url).hostname or "") in _LOOPBACK


class Timer(Protocol):
    """A callback scheduled by a :class:`Clock` (``asyncio.TimerHandle`` on the event loop)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """What :class:`IdleWatch` uses of the event loop: its clock and its timers (a test can pass a clock
    it moves by hand)."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object], /) -> Timer: ...


class IdleWatch:
    """An idle timeout over a run of receives that costs one timer per idle period, not one per frame.

    ``asyncio.wait_for`` (a task per receive) or ``asyncio.timeout`` (a timer scheduled and cancelled per
    receive) around every ``recv`` made the timeout the largest cost of reading a fast stream
    (bench/stream.py). Here each receive only notes when it started; one timer wakes at the earliest
    possible expiry and either fires ``on_expiry`` (a receive has waited the whole period) or re-arms for
    the pending receive's own deadline. Between receives nothing is armed.
    """

    SLACK = 0.001
    """Timers may run up to the clock resolution early; expiring up to a millisecond early is harmless."""

    def __init__(self, timeout: float, on_expiry: Callable[[], None], clock: Clock | None = None) -> None:
        self._loop: Clock = clock or asyncio.get_running_loop()
        self._timeout = timeout
        self._on_expiry = on_expiry
        self._since: float | None = None
        self._timer: Timer | None = None
        self.expired = False
        """Whether the timeout fired (the caller then reports an idle timeout, not a closed socket)."""

    def waiting(self) -> None:
        """A receive starts now."""
        self._since = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_at(self._since + self._timeout, self._check)

    def idle(self) -> None:
        """The receive returned; the consumer's time until the next one does not count."""
        self._since = None

    def cancel(self) -> None:
        """Disarm for good."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        if self._since is None:
            return
        deadline = self._since + self._timeout
        if self._loop.time() >= deadline - self.SLACK:
            self.expired = True
            self._on_expiry()
        else:
            self._timer = self._loop.call_at(deadline, self._check)


class WsConnection:
    """One open socket and the last exchange it can continue from."""

    def __init__(self, ws: ClientConnection, number: int, url: str = "") -> None:
        self.ws = ws
        self.url = url
        """Where the socket leads (a socket is reused only for requests that go there)."""
        self.credentials = ""
        """A digest of the credential headers it was opened with: a socket is reused only while they are
        unchanged (a refreshed token, another account or another key opens a new one)."""
        self.number = number
        """1-based handshake number within the client, for diagnostics."""
        self.last: LastExchange | None = None

    @property
    def is_open(self) -> bool:
        """Whether the socket can take another request."""
        return self.ws.state.name == "OPEN"

    def abort(self) -> None:
        """Drop the socket now, without a close handshake (used mid-stream and on cancellation)."""
        self.last = None
        transport = self.ws.transport
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Close politely (used when the client shuts down)."""
        try:
            async with asyncio.timeout(2):
                await self.ws.close()
        except (TimeoutError, OSError, ConnectionClosed):
            self.abort()

    async def send(self, frame: dict[str, Any], send_timeout: float) -> None:
        """Send one ``response.create`` frame."""
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that lands in the
            # same loop iteration as the send completing, and an interrupt must never be lost.
            async with asyncio.timeout(send_timeout):
                await self.ws.send(json.dumps(frame))
        except TimeoutError:
            raise IdleTimeout("idle timeout waiting for websocket (send)") from None
        except (ConnectionClosed, OSError):
            raise StreamClosed("websocket closed by server before the request was sent") from None

    async def events(self, idle_timeout: float) -> AsyncGenerator[ServerEvent, None]:
        """Yield parsed events until ``response.completed``; raise on a terminal error.

        Only time spent waiting for the server counts against ``idle_timeout``; time the consumer spends
        between events does not. When it runs out the socket is aborted (it could not be reused anyway).
        """
        watch = IdleWatch(idle_timeout, self.abort)
        try:
            while True:
                watch.waiting()
                try:
                    message = await self.ws.recv()
                except ConnectionClosed:
                    if watch.expired:
                        raise IdleTimeout("idle timeout waiting for websocket") from None
                    raise StreamClosed("websocket closed by server before response.completed") from None
                watch.idle()
                if isinstance(message, bytes):
                    raise ProtocolError("the server sent a binary frame; only JSON text frames are expected")
                event = checked_event(message)
                if event is None:
                    continue
                yield event
                if isinstance(event, ResponseCompleted):
                    return
        finally:
            watch.cancel()


async def open_connection(
    url: str,
    headers: Mapping[str, str],
    *,
    connect_timeout: float,
    redactor: Redactor,
    number: int,
) -> WsConnection:
    """Perform the handshake; a refused upgrade becomes the error its status maps to (426 → fallback).

    ``redactor`` masks the secrets in what the ``websockets`` library logs about this connection."""
    logger = RedactingLogger(logging.getLogger("codex_lsp.model.websocket"), redactor)
    try:
        ws = await connect(
            url,
            additional_headers=dict(headers),
            user_agent_header=None,
            compression="deflate",
            open_timeout=connect_timeout,
            max_size=None,
            proxy=None if is_loopback(url) else True,
            logger=logger,
        )
    except InvalidStatus as exc:
        response = exc.response
        try:
            body: Any = json.loads(response.body or b"null")
        except ValueError:
            body = None
        raise error_for_status(
            response.status_code, body, dict(response.headers.raw_items()), handshake=True
        ) from None
    except TimeoutError:
        raise ConnectFailed(f"WebSocket handshake timed out after {connect_timeout:g} s") from None
    except InvalidURI as exc:
        raise ConfigError(f"invalid WebSocket URL derived from base_url: {exc}") from None
    except (OSError, InvalidHandshake) as exc:
        raise ConnectFailed(f"cannot open the WebSocket: {exc.__class__.__name__}: {exc}") from None
    return WsConnection(ws, number, url)
