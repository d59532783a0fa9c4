"""Cancelling a request while its frame is being sent must cancel it.

Python 3.11's ``asyncio.wait_for`` returns the inner result instead of raising ``CancelledError`` when
the task is cancelled in the step where the inner operation completes — a WebSocket send finishes at
once, so an interrupt landing right then was lost and the turn went on streaming.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codex_lsp.model.ws_transport import WsConnection


class Socket:
    """A socket whose send completes when the test says so."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.flushed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(self, data: str) -> None:
        await self.flushed
        self.sent.append(data)


async def test_a_cancel_as_the_send_completes_is_not_lost() -> None:
    socket: Any = Socket()
    task = asyncio.create_task(WsConnection(socket, 1).send({"type": "response.create"}, 5.0))
    await asyncio.sleep(0)  # the send is under way
    socket.flushed.set_result(None)  # it completes, and in the same step the turn is interrupted
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_frame_is_sent() -> None:
    socket: Any = Socket()
    socket.flushed.set_result(None)
    await WsConnection(socket, 1).send({"type": "response.create"}, 5.0)
    assert socket.sent == ['{"type": "response.create"}']
