"""A cancel that reaches a WebSocket send is never swallowed, whatever loop iteration it lands in."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from codex_lsp.model.ws_transport import WsConnection


class _InstantSocket:
    """Stands in for a websockets connection whose send completes at once (a small frame, a free buffer)."""

    async def send(self, data: str) -> None:
        await asyncio.sleep(0)


@pytest.mark.parametrize("steps", range(6))
async def test_a_cancel_accepted_by_a_send_is_raised(steps: int) -> None:
    connection = WsConnection(cast(Any, _InstantSocket()), 1)
    task = asyncio.create_task(connection.send({"type": "response.create"}, send_timeout=5))
    for _ in range(steps):
        await asyncio.sleep(0)
    if not task.cancel():
        return  # the send finished before the cancel: nothing to swallow
    with pytest.raises(asyncio.CancelledError):
        await task
