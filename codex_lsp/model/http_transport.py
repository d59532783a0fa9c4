"""Responses over HTTP SSE: ``POST {base}/responses`` with ``Accept: text/event-stream``.

HTTP always sends the full input and never ``previous_response_id``. Turn state arrives only in the
``x-codex-turn-state`` response header (in-stream metadata is ignored here, as Codex 0.169 ignores it) and
goes back as a request header on later requests of the same turn. Events go through the same parser and
the same terminal-error mapping as WebSocket.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from codex_lsp.model.errors import ConnectFailed, IdleTimeout, StreamClosed
from codex_lsp.model.events import ResponseCompleted, ServerEvent
from codex_lsp.model.retry import checked_event, error_for_status

__all__ = ["HttpTransport", "sse_payloads"]

_MAX_ERROR_BODY = 64 * 1024


async def sse_payloads(lines: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    """Yield each event's ``data`` (multi-line data joined by newlines); ``event:`` and comments ignored."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


class HttpTransport:
    """A long-lived httpx client for streaming POSTs; one per client, owned by its ``Connections``."""

    def __init__(self, *, connect_timeout: float, idle_timeout: float, loopback: bool) -> None:
        timeout = httpx.Timeout(connect=connect_timeout, read=idle_timeout, write=idle_timeout, pool=None)
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=not loopback)

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    async def stream(
        self,
        url: str,
        body: dict[str, Any],
        headers: Mapping[str, str],
        on_headers: Callable[[httpx.Headers], None],
    ) -> AsyncGenerator[ServerEvent, None]:
        """POST ``body`` to ``url`` and yield events until ``response.completed``; ``on_headers`` sees the
        reply headers before the first event (that is where the turn-state token arrives)."""
        headers = {**headers, "accept": "text/event-stream"}
        request = self._client.build_request("POST", url, json=body, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise ConnectFailed("timed out connecting to the model server") from None
        except httpx.HTTPError as exc:
            raise ConnectFailed(f"cannot reach the model server: {exc.__class__.__name__}: {exc}") from None
        try:
            if response.status_code != 200:
                raise await self._status_error(response)
            on_headers(response.headers)
            async for event in self._events(response):
                yield event
                if isinstance(event, ResponseCompleted):
                    return
            raise StreamClosed("stream closed before response.completed")
        finally:
            await response.aclose()

    async def _events(self, response: httpx.Response) -> AsyncGenerator[ServerEvent, None]:
        try:
            async for payload in sse_payloads(response.aiter_lines()):
                event = checked_event(payload)
                if event is not None:
                    yield event
        except httpx.ReadTimeout:
            raise IdleTimeout("idle timeout waiting for SSE") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise StreamClosed(
                f"stream closed before response.completed ({exc.__class__.__name__})"
            ) from None

    @staticmethod
    async def _status_error(response: httpx.Response) -> Exception:
        raw = b""
        try:
            async for chunk in response.aiter_bytes():
                raw += chunk
                if len(raw) > _MAX_ERROR_BODY:
                    break
        except httpx.HTTPError:
            pass
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return error_for_status(response.status_code, body, dict(response.headers))
