"""``TurnSession``: one logical turn's requests, with their turn state, prewarm, retries and fallback.

The agent creates one per user turn (``client.new_turn(model=...)``) and calls :meth:`TurnSession.stream`
once per model request of that turn, each time with the **whole** history (tool outputs appended). The
session picks the transport, keeps the turn-state cells (:mod:`codex_lsp.model.turn_state`), and runs the
retry loop: backoff or the server's delay for retryable errors, the overload schedule for overload, the
switch to HTTP after a 426 or once WebSocket retries are exhausted (counter reset at the switch), and a
clear :class:`~codex_lsp.model.errors.TransportError` for everything fatal.

Cancelling the consumer stops the stream at once; a socket that was mid-response is dropped, never cached.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from codex_lsp.model.errors import (
    ConnectFailed,
    RetriesExhausted,
    RetryableError,
    ServerOverloaded,
    TransportError,
    UpgradeRequired,
)
from codex_lsp.model.events import OutputItemDone, ResponseCompleted, ResponseMetadata, ServerEvent
from codex_lsp.model.notices import FallbackNotice, RetryNotice, TransportName
from codex_lsp.model.request import (
    LastExchange,
    Prompt,
    RequestContext,
    RequestKind,
    build_body,
    http_body,
    incremental_tail,
    prewarm_prefix,
    settings_of,
    ws_frame,
)
from codex_lsp.model.turn_state import TURN_STATE_HEADER, TurnState

if TYPE_CHECKING:
    from codex_lsp.model.client import ModelClient

__all__ = ["StreamEvent", "TurnSession"]

log = logging.getLogger(__name__)

StreamEvent = ServerEvent | RetryNotice | FallbackNotice
"""What :meth:`TurnSession.stream` yields: server events, and notices from the retry loop."""


@dataclass
class _Counts:
    """Failed attempts of one request so far: retryable ones (reset by a switch to HTTP) and overloads."""

    retries: int = 0
    overloads: int = 0


class TurnSession:
    """The requests of one logical turn. Never reused for another turn."""

    def __init__(self, client: ModelClient, *, model: str, thread_id: str, turn_id: str) -> None:
        self.client = client
        self.model = model
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.started_at_ms = int(time.time() * 1000)
        self.state = TurnState()
        self.prewarmed = False

    def turn_state(self, model: str | None = None) -> str | None:
        """The token this turn holds for ``model`` (default: the turn's model)."""
        return self.state.get(model or self.model)

    async def stream(self, prompt: Prompt, *, model: str | None = None) -> AsyncGenerator[StreamEvent, None]:
        """Send one request (``prompt`` = the whole history) and yield its events until completion.

        Raises a fatal :class:`TransportError` (never a retryable one) when the request cannot succeed.
        """
        model = model or self.model
        if self.client.prewarm_enabled and not self.prewarmed and self.client.transport == "websocket":
            await self.prewarm(prompt, model=model)
        async with aclosing(self._with_retries(prompt, model, "turn")) as events:
            async for event in events:
                yield event

    async def preconnect(self) -> bool:
        """Open the WebSocket now and park it for this turn's first request; send nothing (upstream's
        "preconnect"). Lets a caller (``codex-lsp doctor``) see a handshake failure on its own and time the
        handshake apart from the request. Returns whether a new socket was opened; a failed handshake raises
        its :class:`TransportError` (426 included: the caller decides whether to fall back)."""
        if self.client.transport != "websocket":
            return False
        conn = self.client.take_connection()
        opened = conn is None
        if conn is None:
            conn = await self.client.connect(self._context(self.model, "turn"))
        self.client.give_back(conn)
        return opened

    async def prewarm(self, prompt: Prompt, *, model: str | None = None) -> bool:
        """Send a ``generate:false`` request carrying the history before the new user message, so the real
        request chains from it; best effort (a failure only costs the chaining). WebSocket only."""
        self.prewarmed = True
        if self.client.transport != "websocket":
            return False
        warm = prompt.model_copy(update={"input": prewarm_prefix(prompt.input)})
        try:
            async with aclosing(self._attempt("websocket", warm, model or self.model, "prewarm")) as events:
                async for _ in events:
                    pass
        except UpgradeRequired as exc:
            self.client.disable_websockets(exc.message)
            return False
        except TransportError as exc:
            log.debug("prewarm failed, continuing without it: %s", self.client.scrub(exc.message))
            return False
        return True

    # -- retry loop ----------------------------------------------------------------------------------

    async def _with_retries(
        self, prompt: Prompt, model: str, kind: RequestKind
    ) -> AsyncGenerator[StreamEvent, None]:
        counts = _Counts()
        while True:
            transport = self.client.transport
            try:
                async with aclosing(self._attempt(transport, prompt, model, kind)) as events:
                    async for event in events:
                        yield event
                return
            except TransportError as exc:
                notice, delay = self._plan(exc, transport, counts)
            if notice is not None:
                yield notice
            if delay:
                await asyncio.sleep(delay)

    def _plan(
        self, exc: TransportError, transport: TransportName, counts: _Counts
    ) -> tuple[StreamEvent | None, float]:
        """Decide what follows a failed attempt: ``(notice, delay)`` before the next one, or raise."""
        if isinstance(exc, UpgradeRequired):
            counts.retries = 0
            notice = self.client.disable_websockets(exc.message)
            if notice is None:
                raise self._scrubbed(exc) from None
            return notice, 0.0
        if isinstance(exc, ServerOverloaded):
            counts.overloads += 1
            delay = self.client.retry_policy.overload_delay(counts.overloads)
            if delay is None:
                raise self._exhausted(exc, counts.overloads - 1) from exc
            schedule = len(self.client.retry_policy.overload_delays)
            return self._notice(transport, counts.overloads, schedule, delay, exc), delay
        if isinstance(exc, RetryableError):
            return self._plan_retry(exc, transport, counts)
        raise self._scrubbed(exc) from None

    def _plan_retry(
        self, exc: RetryableError, transport: TransportName, counts: _Counts
    ) -> tuple[StreamEvent | None, float]:
        counts.retries += 1
        budget = self._budget(transport, exc)
        if counts.retries <= budget:
            policy = self.client.retry_policy
            delay = exc.retry_after if exc.retry_after is not None else policy.backoff(counts.retries)
            return self._notice(transport, counts.retries, budget, delay, exc), delay
        if transport == "websocket" and exc.leaves_websocket:
            counts.retries = 0
            return self.client.disable_websockets(self.client.scrub(exc.message)), 0.0
        raise self._exhausted(exc, budget) from exc

    def _budget(self, transport: TransportName, exc: RetryableError) -> int:
        provider = self.client.settings.provider
        if transport == "http" and isinstance(exc, ConnectFailed):
            return provider.request_max_retries
        return provider.stream_max_retries

    def _notice(
        self, transport: TransportName, attempt: int, budget: int, delay: float, exc: TransportError
    ) -> RetryNotice:
        notice = RetryNotice(
            transport=transport,
            attempt=attempt,
            max_attempts=budget,
            delay=delay,
            reason=self.client.scrub(exc.message),
            overload=isinstance(exc, ServerOverloaded),
        )
        log.info("%s", notice.message)
        return notice

    def _scrubbed(self, exc: TransportError) -> TransportError:
        exc.message = self.client.scrub(exc.message)
        exc.args = (exc.message,)
        return exc

    def _exhausted(self, exc: TransportError, retries: int) -> RetriesExhausted:
        message = self.client.scrub(exc.message)
        return RetriesExhausted(
            f"gave up after {retries} retries: {message}", status=exc.status, code=exc.code
        )

    # -- one attempt ---------------------------------------------------------------------------------

    def _context(self, model: str, kind: RequestKind) -> RequestContext:
        return RequestContext(
            session_id=self.client.session_id,
            thread_id=self.thread_id,
            turn_id=self.turn_id,
            installation_id=self.client.installation_id,
            model=model,
            turn_started_at_ms=self.started_at_ms,
            request_kind=kind,
            turn_state=self.state.get(model),
        )

    def _body(self, prompt: Prompt, model: str) -> dict[str, Any]:
        settings = self.client.settings
        return build_body(
            prompt,
            model,
            prompt_cache_key=self.thread_id,
            effort=settings.reasoning_effort,
            summary=settings.reasoning_summary,
            verbosity=settings.verbosity,
        )

    def _attempt(
        self, transport: TransportName, prompt: Prompt, model: str, kind: RequestKind
    ) -> AsyncGenerator[ServerEvent, None]:
        if transport == "websocket":
            return self._ws_attempt(prompt, model, kind)
        return self._http_attempt(prompt, model)

    async def _ws_attempt(
        self, prompt: Prompt, model: str, kind: RequestKind
    ) -> AsyncGenerator[ServerEvent, None]:
        ctx = self._context(model, kind)
        conn = self.client.take_connection() or await self.client.connect(ctx)
        body = self._body(prompt, model)
        frame = ws_frame(
            body, ctx, continuation=incremental_tail(conn.last, body), generate=kind != "prewarm"
        )
        output: list[dict[str, Any]] = []
        completed = False
        try:
            await conn.send(frame, self.client.idle_timeout)
            self.client.requests_sent["websocket"] += 1
            async with aclosing(conn.events(self.client.idle_timeout)) as events:
                async for event in events:
                    if isinstance(event, ResponseMetadata):
                        self.state.offer(model, event.turn_state)
                        self._note_model(event.server_model)
                    elif isinstance(event, OutputItemDone):
                        output.append(event.item.as_input())
                    elif isinstance(event, ResponseCompleted):
                        conn.last = LastExchange(settings_of(body), body["input"], event.response.id, output)
                        completed = True
                    yield event
        finally:
            if completed:
                self.client.give_back(conn)
            else:
                conn.abort()

    async def _http_attempt(self, prompt: Prompt, model: str) -> AsyncGenerator[ServerEvent, None]:
        ctx = self._context(model, "turn")
        headers = self.client.base_headers(ctx)
        if ctx.turn_state:
            headers[TURN_STATE_HEADER] = ctx.turn_state

        def on_headers(reply: httpx.Headers) -> None:
            self.state.offer(model, reply.get(TURN_STATE_HEADER))
            self._note_model(reply.get("openai-model"))

        self.client.requests_sent["http"] += 1
        body = http_body(self._body(prompt, model), ctx)
        async with aclosing(self.client.http.stream(body, headers, on_headers)) as events:
            async for event in events:
                if isinstance(event, ResponseMetadata):
                    self._note_model(event.server_model)
                yield event

    def _note_model(self, model: str | None) -> None:
        if model:
            self.client.served_model = model
