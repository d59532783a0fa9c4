"""One session's ``session/update`` notifications, sent in the order they were posted.

The agent emits its events synchronously (the emit callback cannot await), so each update is put
on a queue and one task sends them one after the other. :meth:`UpdateStream.flush` waits until
everything posted so far is on the wire: before a prompt's answer (the client must have seen the
whole turn first) and before a request that refers to an update (a permission request names a
tool call the client must already know).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from acp.interfaces import Client
from acp.schema import (
    AgentMessageChunk,
    AgentPlanUpdate,
    AgentThoughtChunk,
    CurrentModeUpdate,
    SessionInfoUpdate,
    ToolCallProgress,
    ToolCallStart,
    UsageUpdate,
    UserMessageChunk,
)

__all__ = ["SessionUpdate", "UpdateStream"]

log = logging.getLogger(__name__)

SessionUpdate = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | AgentPlanUpdate
    | CurrentModeUpdate
    | SessionInfoUpdate
    | UsageUpdate
)


class UpdateStream:
    """Sends one session's updates in order; a failed send is logged and the stream goes on."""

    def __init__(self, client: Client, session_id: str = "") -> None:
        self.client = client
        self.session_id = session_id
        self._queue: asyncio.Queue[SessionUpdate] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None

    def post(self, update: SessionUpdate) -> None:
        """Queue ``update`` behind everything posted before it."""
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        self._queue.put_nowait(update)

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
