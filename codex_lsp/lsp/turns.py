"""The turns the server is running, by turn id: every way to stop one comes down to cancelling its task.

A turn command registers its own task here before its first ``await``, under the turn id it chose,
so ``$/cancelRequest`` (pygls answers it but does not cancel a command's coroutine), a progress
cancel and ``codex.interrupt`` all reach the same task. The agent turns a cancelled task into an
``interrupted`` turn; events the agent emits are routed to the turn's reporter by turn id.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codex_lsp.lsp.features.progress import TurnReporter

__all__ = ["RunningTurn", "TurnRegistry"]


@dataclass
class RunningTurn:
    turn_id: str
    task: asyncio.Task[Any]
    reporter: TurnReporter


class TurnRegistry:
    """Running turns by id."""

    def __init__(self) -> None:
        self.running: dict[str, RunningTurn] = {}

    def add(self, turn: RunningTurn) -> None:
        self.running[turn.turn_id] = turn

    def remove(self, turn_id: str) -> None:
        self.running.pop(turn_id, None)

    def dispatch(self, event: Any) -> None:
        """Route an agent event to its turn's reporter."""
        turn = self.running.get(getattr(event, "turn_id", ""))
        if turn is not None:
            turn.reporter.push(event)

    def interrupt(self, turn_id: str | None = None) -> list[str]:
        """Interrupt one turn, or every turn; return the ids interrupted."""
        hit = [turn for tid, turn in self.running.items() if turn_id in (None, tid)]
        for turn in hit:
            turn.task.cancel()
        return [turn.turn_id for turn in hit]

    async def interrupt_and_wait(self, turn_id: str | None, grace: float) -> list[str]:
        """:meth:`interrupt`, then wait (at most ``grace`` seconds) for those turns to end, so that a
        client reads their ends (progress, messages) before the answer to its interrupt: lsp-mode 8.0
        drops messages that arrive in one read with an answer it waits for."""
        tasks = [turn.task for tid, turn in self.running.items() if turn_id in (None, tid)]
        interrupted = self.interrupt(turn_id)
        current = asyncio.current_task()
        waiting = [task for task in tasks if task is not current and not task.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=grace)
        return interrupted

    async def stop_all(self, grace: float) -> None:
        """Interrupt every turn and wait (at most ``grace`` seconds) for them to end."""
        tasks = [turn.task for turn in self.running.values()]
        self.interrupt()
        current = asyncio.current_task()
        waiting = [task for task in tasks if task is not current]
        if waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait(waiting, timeout=grace)
