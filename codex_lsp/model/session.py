"""``TurnSession``: one logical turn's requests, with their turn state, prewarm, retries and fallback.

The agent creates one per user turn (``client.new_turn(model=...)``) and calls :meth:`TurnSession.stream`
once per model request of that turn, each time with the **whole** history (tool outputs appended). The
session picks the transport, keeps the turn-state cells (:mod:`codex_lsp.model.turn_state`), and runs the
retry loop. The loop applies the policy each error class declares (:mod:`codex_lsp.model.errors`): back off
(or wait the server's delay) within the budget, follow the overload schedule, switch to HTTP after a 426
or once WebSocket retries are exhausted (counter reset at the switch), let the credential recover from a 401
and resend (Codex's sequence: re-read auth.json, then one refresh; outside the budget), or raise a clear
:class:`~codex_lsp.model.errors.ModelError`.

Everything shared across turns (sockets, the HTTP client, the fallback flag, headers, secrets) belongs to
:class:`~codex_lsp.model.connections.Connections`, which the session uses and never owns.

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

from codex_lsp.model.connections import Connections
from codex_lsp.model.errors import ModelError, RetriesExhausted
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
from codex_lsp.model.retry import RetryPolicy
from codex_lsp.model.turn_state import TURN_STATE_HEADER, TurnState

if TYPE_CHECKING:
    import httpx

__all__ = ["StreamEvent", "TurnSession"]

log = logging.getLogger(__name__)

StreamEvent = ServerEvent | RetryNotice | FallbackNotice
"""What :meth:`TurnSession.stream` yields: server events, and notices from the retry loop."""


@dataclass
class _Counts:
    """Failed attempts of one request so far: retryable ones (reset by a switch to HTTP), overloads, and
    401s the credential recovered from."""

    retries: int = 0
    overloads: int = 0
    reauth: int = 0


class TurnSession:
    """The requests of one logical turn. Never reused for another turn.

    ``prewarm`` asks for a ``generate:false`` request before the turn's first request, when that goes over
    WebSocket; the client asks for it on a thread's first turn only (see :meth:`ModelClient.new_turn
    <codex_lsp.model.client.ModelClient.new_turn>`).
    """

    def __init__(
        self,
        connections: Connections,
        *,
        model: str,
        thread_id: str,
        turn_id: str,
        retry_policy: RetryPolicy | None = None,
        prewarm: bool = False,
    ) -> None:
        self.connections = connections
        self.model = model
        self.thread_id = thread_id
        self.turn_id = turn_id
        self.retry_policy = retry_policy or RetryPolicy()
        self.started_at_ms = int(time.time() * 1000)
        self.state = TurnState()
        self._prewarm_pending = prewarm
        self.prewarmed = False
        """Whether a prewarm completed in this turn."""

    def turn_state(self, model: str | None = None) -> str | None:
        """The token this turn holds for ``model`` (default: the turn's model)."""
        return self.state.get(model or self.model)

    async def stream(self, prompt: Prompt, *, model: str | None = None) -> AsyncGenerator[StreamEvent, None]:
        """Send one request (``prompt`` = the whole history) and yield its events until completion.

        Raises a fatal :class:`ModelError` (never one the policy would retry) when the request cannot
        succeed.
        """
        model = model or self.model
        if self._prewarm_pending:
            self._prewarm_pending = False
            notice = await self._prewarm(prompt, model)
            if notice is not None:
                yield notice
        async with aclosing(self._with_retries(prompt, model, "turn")) as events:
            async for event in events:
                yield event

    async def preconnect(self) -> bool:
        """Open the WebSocket now and park it for this turn's first request; send nothing (Codex's
        "preconnect"). Lets a caller (``codex-lsp doctor``) see a handshake failure on its own and time the
        handshake apart from the request. Returns whether a new socket was opened; a failed handshake raises
        its :class:`ModelError` (426 included: the caller decides whether to fall back)."""
        if self.connections.transport != "websocket":
            return False
        credentials = await self.connections.credential_headers()
        conn = self.connections.take_connection(credentials)
        opened = conn is None
        if conn is None:
            conn = await self.connections.connect(self._context(self.model, "turn"), credentials)
        self.connections.give_back(conn)
        return opened

    async def _prewarm(self, prompt: Prompt, model: str) -> FallbackNotice | None:
        """Send a ``generate:false`` request carrying the history before the new user message, so the real
        request chains from it; best effort (a failure only costs the chaining). WebSocket only.

        Returns the fallback notice when the handshake was refused with 426: the switch to HTTP happened
        here, and the user hears about it once, from the stream."""
        if self.connections.transport != "websocket":
            return None
        warm = prompt.model_copy(update={"input": prewarm_prefix(prompt.input)})
        counts = _Counts()
        while True:
            try:
                async with aclosing(self._attempt("websocket", warm, model, "prewarm")) as events:
                    async for _ in events:
                        pass
            except ModelError as exc:
                if exc.retry == "reauth":
                    # Not a reason to skip the prewarm: the real request would be refused the same way.
                    await self._reauthorize(counts, exc)
                    continue
                if exc.retry == "switch":
                    return self.connections.disable_websockets(exc.message)
                log.debug("prewarm failed, continuing without it: %s", self.connections.scrub(exc.message))
                return None
            self.prewarmed = True
            return None

    async def _reauthorize(self, counts: _Counts, exc: ModelError) -> None:
        """After a 401: the credential's next recovery step, or the ``AuthError`` that ends the request."""
        attempt, counts.reauth = counts.reauth, counts.reauth + 1
        await self.connections.recover(attempt, exc.message)

    # -- retry loop ----------------------------------------------------------------------------------

    async def _with_retries(
        self, prompt: Prompt, model: str, kind: RequestKind
    ) -> AsyncGenerator[StreamEvent, None]:
        counts = _Counts()
        while True:
            transport = self.connections.transport
            try:
                async with aclosing(self._attempt(transport, prompt, model, kind)) as events:
                    async for event in events:
                        yield event
                return
            except ModelError as exc:
                if exc.retry == "reauth":
                    await self._reauthorize(counts, exc)
                    continue
                notice, delay = self._plan(exc, transport, counts)
            if notice is not None:
                yield notice
            if delay:
                await asyncio.sleep(delay)

    def _plan(
        self, exc: ModelError, transport: TransportName, counts: _Counts
    ) -> tuple[StreamEvent | None, float]:
        """Decide what follows a failed attempt from the error's declared policy: ``(notice, delay)``
        before the next attempt, or raise."""
        if exc.retry == "switch" and transport == "websocket":
            counts.retries = 0
            # None when a concurrent turn switched first: resend over HTTP all the same, without a notice.
            return self.connections.disable_websockets(exc.message), 0.0
        if exc.retry == "overload":
            counts.overloads += 1
            delay = self.retry_policy.overload_delay(counts.overloads)
            if delay is None:
                raise self._exhausted(exc, counts.overloads - 1) from exc
            schedule = len(self.retry_policy.overload_delays)
            return self._notice(transport, counts.overloads, schedule, delay, exc), delay
        if exc.retry == "backoff":
            return self._plan_backoff(exc, transport, counts)
        raise self._scrubbed(exc) from None

    def _plan_backoff(
        self, exc: ModelError, transport: TransportName, counts: _Counts
    ) -> tuple[StreamEvent | None, float]:
        counts.retries += 1
        budget = self._budget(transport, exc)
        if counts.retries <= budget:
            delay = (
                exc.retry_after if exc.retry_after is not None else self.retry_policy.backoff(counts.retries)
            )
            return self._notice(transport, counts.retries, budget, delay, exc), delay
        if transport == "websocket" and exc.leaves_websocket:
            counts.retries = 0
            return self.connections.disable_websockets(exc.message), 0.0
        raise self._exhausted(exc, budget) from exc

    def _budget(self, transport: TransportName, exc: ModelError) -> int:
        provider = self.connections.settings.provider
        budget = exc.http_budget if transport == "http" else "stream"
        return provider.request_max_retries if budget == "request" else provider.stream_max_retries

    def _notice(
        self, transport: TransportName, attempt: int, budget: int, delay: float, exc: ModelError
    ) -> RetryNotice:
        notice = RetryNotice(
            transport=transport,
            attempt=attempt,
            max_attempts=budget,
            delay=delay,
            reason=self.connections.scrub(exc.message),
            overload=exc.retry == "overload",
        )
        log.info("%s", notice.message)
        return notice

    def _scrubbed(self, exc: ModelError) -> ModelError:
        exc.replace_message(self.connections.scrub(exc.message))
        return exc

    def _exhausted(self, exc: ModelError, retries: int) -> RetriesExhausted:
        message = self.connections.scrub(exc.message)
        return RetriesExhausted(
            f"gave up after {retries} retries: {message}", status=exc.status, code=exc.code
        )

    # -- one attempt ---------------------------------------------------------------------------------

    def _context(self, model: str, kind: RequestKind) -> RequestContext:
        return RequestContext(
            session_id=self.connections.session_id,
            thread_id=self.thread_id,
            turn_id=self.turn_id,
            installation_id=self.connections.installation_id,
            model=model,
            turn_started_at_ms=self.started_at_ms,
            request_kind=kind,
            turn_state=self.state.get(model),
        )

    def _body(self, prompt: Prompt, model: str) -> dict[str, Any]:
        settings = self.connections.settings
        return build_body(
            prompt, model, prompt_cache_key=self.thread_id, fields=settings.request_fields(model)
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
        links = self.connections
        ctx = self._context(model, kind)
        credentials = await links.credential_headers()
        conn = links.take_connection(credentials) or await links.connect(ctx, credentials)
        body = self._body(prompt, model)
        frame = ws_frame(
            body, ctx, continuation=incremental_tail(conn.last, body), generate=kind != "prewarm"
        )
        output: list[dict[str, Any]] = []
        completed = False
        try:
            await conn.send(frame, links.idle_timeout)
            links.count_request("websocket")
            async with aclosing(conn.events(links.idle_timeout)) as events:
                async for event in events:
                    if isinstance(event, ResponseMetadata):
                        self.state.offer(model, event.turn_state)
                        links.note_served_model(event.server_model)
                    elif isinstance(event, OutputItemDone):
                        output.append(event.item.as_input())
                    elif isinstance(event, ResponseCompleted):
                        conn.last = LastExchange(settings_of(body), body["input"], event.response.id, output)
                        completed = True
                    yield event
        finally:
            if completed:
                links.give_back(conn)
            else:
                conn.abort()

    async def _http_attempt(self, prompt: Prompt, model: str) -> AsyncGenerator[ServerEvent, None]:
        links = self.connections
        ctx = self._context(model, "turn")
        headers = {**links.base_headers(ctx), **await links.credential_headers()}
        if ctx.turn_state:
            headers[TURN_STATE_HEADER] = ctx.turn_state

        def on_headers(reply: httpx.Headers) -> None:
            # Over HTTP the token comes from this header only; in-stream metadata is ignored, as Codex
            # 0.169 ignores it.
            self.state.offer(model, reply.get(TURN_STATE_HEADER))
            links.note_served_model(reply.get("openai-model"))

        links.count_request("http")
        body = http_body(self._body(prompt, model), ctx)
        async with aclosing(links.http.stream(links.http_url, body, headers, on_headers)) as events:
            async for event in events:
                if isinstance(event, ResponseMetadata):
                    links.note_served_model(event.server_model)
                yield event
