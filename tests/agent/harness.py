"""An agent wired to the fake Responses server and a real folder, for end-to-end turn tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_lsp.agent.agent import Agent
from codex_lsp.agent.events import TurnCompleted, TurnEvent, TurnResult
from codex_lsp.agent.interfaces import ApprovalDecision, Diagnostic
from codex_lsp.agent.local import DiskApplier, LocalWorkspace
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.threads import ThreadStore
from codex_lsp.model import ModelClient, RetryPolicy
from codex_lsp.testing import FakeResponsesServer, RecordedRequest, Script
from tests.agent.fakes import ScriptedApprover

INTERRUPT_DEADLINE_S = 1.5
"""How soon a turn must end after an interrupt (a sanity bound: it normally takes milliseconds)."""
FAST = RetryPolicy(base_delay=0.001, overload_delays=(0.0, 0.001, 0.001, 0.001, 0.001))


@dataclass
class Harness:
    fake: FakeResponsesServer
    client: ModelClient
    root: Path
    state: Path
    events: list[TurnEvent] = field(default_factory=list)
    approver: ScriptedApprover = field(
        default_factory=lambda: ScriptedApprover(default=ApprovalDecision.DENY)
    )
    requests_seen_at_completion: list[int] = field(default_factory=list)
    """How many requests the fake had received when each turn completed."""

    waiters: list[tuple[Callable[[TurnEvent], bool], asyncio.Future[TurnEvent]]] = field(default_factory=list)

    def emit(self, event: TurnEvent) -> None:
        self.events.append(event)
        if isinstance(event, TurnCompleted):
            self.requests_seen_at_completion.append(len(self.fake.requests))
        for predicate, future in list(self.waiters):
            if not future.done() and predicate(event):
                future.set_result(event)

    async def until(self, predicate: Callable[[TurnEvent], bool]) -> TurnEvent:
        """Wait for the first event (already emitted or still to come) that ``predicate`` accepts."""
        for event in self.events:
            if predicate(event):
                return event
        future: asyncio.Future[TurnEvent] = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        async with asyncio.timeout(10):
            return await future

    async def interrupt(self, task: asyncio.Task[TurnResult], interrupt: Callable[[], object]) -> TurnResult:
        """Call ``interrupt`` and return the turn's result; fail unless it ended within a second or so.

        The deadline is on waiting, never on the task: cancelling the task on timeout (as
        ``asyncio.wait_for`` does) would itself interrupt the turn and hide a broken interrupt.
        """
        started = time.monotonic()
        interrupt()
        done, _ = await asyncio.wait({task}, timeout=INTERRUPT_DEADLINE_S)
        if not done:
            task.cancel()  # clean-up only: the test has failed already
            raise AssertionError(f"the turn was still running {INTERRUPT_DEADLINE_S} s after the interrupt")
        elapsed = time.monotonic() - started
        assert elapsed < INTERRUPT_DEADLINE_S, f"the turn took {elapsed:.1f} s to stop after the interrupt"
        return task.result()

    def agent(self, diagnostics: list[Diagnostic] | None = None, **settings: Any) -> Agent:
        workspace = LocalWorkspace(self.root, diagnostics)
        return Agent(
            client=self.client,
            workspace=workspace,
            approver=self.approver,
            applier=DiskApplier(workspace),
            emit=self.emit,
            settings=AgentSettings(**settings),
            store=ThreadStore(self.state),
            codex_home=self.root.parent / "codex-home",
        )

    def load(self, *turns: list[dict[str, Any]]) -> None:
        self.fake.load(Script.model_validate({"turns": [{"requests": steps} for steps in turns]}))

    @property
    def generating(self) -> list[RecordedRequest]:
        return [r for r in self.fake.requests if not r.prewarm]

    def of_type(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@asynccontextmanager
async def harness(tmp_path: Path, *, websockets: bool = True) -> AsyncIterator[Harness]:
    root = tmp_path / "ws"
    root.mkdir()
    async with FakeResponsesServer() as fake:
        client = ModelClient(fake.model_settings(websockets=websockets), retry_policy=FAST, prewarm=False)
        try:
            yield Harness(fake, client, root, tmp_path / "state")
        finally:
            await client.aclose()


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """A scripted function call output item."""
    return {"type": "function_call", "name": name, "arguments": json.dumps(arguments)}


def patch_call(text: str) -> dict[str, Any]:
    """A scripted freeform apply_patch call."""
    return {"type": "custom_tool_call", "name": "apply_patch", "input": text}


def say(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text}


def outputs(request: RecordedRequest) -> list[str]:
    """The tool outputs a request carried (effective input, in order)."""
    return [item["output"] for item in request.effective_input if item.get("type", "").endswith("_output")]


def user_texts(request: RecordedRequest) -> list[str]:
    """The text of every user message in a request's effective input."""
    return [
        part["text"]
        for item in request.effective_input
        if item.get("role") == "user"
        for part in item.get("content", [])
    ]
