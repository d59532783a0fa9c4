"""What a host (the language server) needs from a turn: its own turn id, edits that are either fully
recorded or not made at all when an interrupt races the editor, and an event loop that stays free
while a big patch is matched."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from codex_lsp.agent.agent import TurnRequest
from codex_lsp.agent.errors import TurnBusyError
from codex_lsp.agent.events import AgentMessageDelta, TurnStarted
from tests.agent.harness import harness, say

T = TypeVar("T")

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIX = (
    "*** Begin Patch\n*** Update File: app.py\n@@ def greet(name):\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)


async def _within(seconds: float, awaitable: Awaitable[T]) -> T:
    async with asyncio.timeout(seconds):
        return await awaitable


async def test_the_host_chooses_the_turn_id(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load([{"output": [say("a long answer")], "fault": {"kind": "silence", "after_events": 6}}])
        agent = h.agent()
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="talk", turn_id="turn-from-host")))
        await h.until(lambda e: isinstance(e, AgentMessageDelta))
        assert [e.turn_id for e in h.of_type(TurnStarted)] == ["turn-from-host"]
        assert {getattr(e, "turn_id", None) for e in h.events} == {"turn-from-host"}
        with pytest.raises(TurnBusyError, match="turn-from-host"):
            await agent.run_turn(TurnRequest(prompt="again", turn_id="turn-from-host"))
        assert agent.interrupt("turn-from-host") == ["turn-from-host"]
        result = await _within(2, task)
        assert result.turn_id == "turn-from-host"
        assert result.status == "interrupted"
