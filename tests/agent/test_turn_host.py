"""What a host (the language server) needs from a turn: its own turn id, edits that are either fully
recorded or not made at all when an interrupt races the editor, and an event loop that stays free
while a big patch is matched."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from codex_lsp.agent.agent import Agent, TurnRequest
from codex_lsp.agent.errors import TurnBusyError
from codex_lsp.agent.events import AgentMessageDelta, FileChangeItem, ItemCompleted, TurnStarted
from codex_lsp.agent.interfaces import ApplyOutcome
from codex_lsp.agent.local import LocalWorkspace
from codex_lsp.agent.tools import apply_patch
from codex_lsp.agent.turn import ABORTED
from codex_lsp.patch import PatchResult, compute_changes, write_changes
from tests.agent.harness import Harness, harness, patch_call, say

T = TypeVar("T")

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIX = (
    "*** Begin Patch\n*** Update File: app.py\n@@ def greet(name):\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)


class HeldApplier:
    """Sends the edit at once, then waits for the "editor" to answer when the test says so."""

    def __init__(self, workspace: LocalWorkspace, *, before_send: asyncio.Event | None = None) -> None:
        self.workspace = workspace
        self.before_send = before_send
        self.sent = asyncio.Event()
        self.answer = asyncio.Event()
        self.cancelled_while_waiting = asyncio.Event()

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        if self.before_send is not None:
            await self.before_send.wait()  # cancellable: nothing has been sent yet
        self.sent.set()
        answer = asyncio.ensure_future(self.answer.wait())
        try:
            await asyncio.shield(answer)
        except asyncio.CancelledError:
            self.cancelled_while_waiting.set()
            await answer
        write_changes(self.workspace.root, result.changes)
        return ApplyOutcome(applied=True)


def _agent_with(h: Harness, before_send: asyncio.Event | None = None) -> tuple[Agent, HeldApplier]:
    agent = h.agent()
    workspace = agent.workspace
    assert isinstance(workspace, LocalWorkspace)
    applier = HeldApplier(workspace, before_send=before_send)
    agent.applier = applier
    return agent, applier


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


async def test_an_interrupt_while_the_editor_applies_records_the_applied_edit(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [patch_call(FIX)]}, {"output": [say("never requested")]}])
        agent, applier = _agent_with(h)
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="fix")))
        await _within(5, applier.sent.wait())
        agent.interrupt()
        await _within(2, applier.cancelled_while_waiting.wait())  # the interrupt reached the edit
        applier.answer.set()
        result = await _within(2, task)

        assert result.status == "interrupted"
        assert result.changed_files == ("app.py",), "the turn ended before the editor answered"
        assert (h.root / "app.py").read_text() == APP.replace("+ nam\n", "+ name\n")
        done = [e.item for e in h.of_type(ItemCompleted) if isinstance(e.item, FileChangeItem)]
        assert [item.status for item in done] == ["applied"]
        thread = agent.thread(result.thread_id)
        (answer,) = [i["output"] for i in thread.history if i.get("type") == "custom_tool_call_output"]
        assert answer.startswith("Exit code: 0"), answer
        assert len(h.generating) == 1, "no model request may follow an interrupt"


async def test_an_interrupt_before_the_edit_is_sent_applies_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [patch_call(FIX)]}])
        agent, applier = _agent_with(h, before_send=asyncio.Event())
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="fix")))
        await h.until(lambda e: e.type == "turn/fileChange/proposed")
        agent.interrupt()
        result = await _within(2, task)

        assert not applier.sent.is_set()
        assert result.status == "interrupted"
        assert result.changed_files == ()
        assert (h.root / "app.py").read_text() == APP
        thread = agent.thread(result.thread_id)
        outputs = [i["output"] for i in thread.history if i.get("type") == "custom_tool_call_output"]
        assert outputs == [ABORTED]


async def test_patch_matching_runs_off_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop must stay free while a patch is matched: here the matcher waits until the loop
    itself releases it, which can only happen when the matcher runs on another thread."""
    started, release = threading.Event(), threading.Event()

    def blocking_compute(*args: object) -> PatchResult:
        started.set()
        if not release.wait(timeout=5):
            raise AssertionError("the event loop was blocked while the patch was matched")
        return compute_changes(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(apply_patch, "compute_changes", blocking_compute)

    async def release_from_the_loop() -> None:
        await asyncio.to_thread(started.wait, 5)
        release.set()

    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [patch_call(FIX)]}, {"output": [say("done")]}])
        releaser = asyncio.create_task(release_from_the_loop())
        result = await h.agent().run_turn(TurnRequest(prompt="fix"))
        await releaser
        assert result.status == "completed", result.error
        assert result.changed_files == ("app.py",)
