"""One session's ``session/update`` notifications, sent in the order they were posted.

The agent emits its events synchronously (the emit callback cannot await), so each update is put
on a queue and one task sends them one after the other. :meth:`UpdateStream.flush` waits until
everything posted so far is on the wire: before a prompt's answer (the client must have seen the
whole turn first) and before a request that refers to an update (a permission request names a
tool call the client must already know).

No configured secret reaches the client: every string of an update is masked as it is posted, with the
model client's secrets read once per update (``masking``) — a key the model or a proxy streams back, or
a command prints, included, as in the LSP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from acp.interfaces import Client
from acp.schema import (
    AgentMessageChunk,
    AgentPlanUpdate,
    AgentThoughtChunk,
    ConfigOptionUpdate,
    CurrentModeUpdate,
    SessionInfoUpdate,
    ToolCallProgress,
    ToolCallStart,
    UsageUpdate,
    UserMessageChunk,
)
from pydantic import BaseModel

__all__ = ["SessionUpdate", "UpdateStream", "masked"]

log = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)

SessionUpdate = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | AgentPlanUpdate
    | CurrentModeUpdate
    | ConfigOptionUpdate
    | SessionInfoUpdate
    | UsageUpdate
)


def _masked(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _masked(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, scrub) for v in value]
    return value


def masked(message: Model, scrub: Callable[[str], str]) -> Model:
    """``message`` (an ACP schema object) with every string passed through ``scrub``; itself when
    nothing changed."""
    data = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
    clean = _masked(data, scrub)
    return message if clean == data else type(message).model_validate(clean)


def _unchanged(text: str) -> str:
    return text


def _no_secrets() -> Callable[[str], str]:
    return _unchanged


class UpdateStream:
    """Sends one session's updates in order; a failed send is logged and the stream goes on."""

    def __init__(
        self,
        client: Client,
        session_id: str = "",
        masking: Callable[[], Callable[[str], str]] = _no_secrets,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.masking = masking
        """A function masking the configured secrets as they are now (for every update, and for the
        questions the session asks)."""
        self._queue: asyncio.Queue[SessionUpdate] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None

    def post(self, update: SessionUpdate) -> None:
        """Queue ``update`` behind everything posted before it."""
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        self._queue.put_nowait(masked(update, self.masking()))

    async def flush(self) -> None:
        """Return once every update posted so far has been sent (or failed to be)."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Stop sending (updates still queued are dropped)."""
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    async def _send_all(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                await self.client.session_update(session_id=self.session_id, update=update)
            except Exception as exc:  # a closed connection must not stop the turn
                log.warning("session/update for %s not sent: %s", self.session_id, exc)
            finally:
                self._queue.task_done()
