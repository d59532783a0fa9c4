"""Benchmark: how fast an interrupt ends a turn (target: the stream stops within 100 ms).

Measured from ``Agent.interrupt()`` to the turn's result, for a turn blocked in the model stream
(the fake server goes silent mid-answer) and for one blocked in a running shell command. Also
prints, as a baseline from the same run, the time for a complete one-message turn. Printed, not
asserted. Usage: ``python bench/turn_cancel.py [--runs N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from codex_lsp.agent import (
    Agent,
    AgentSettings,
    ApprovalDecision,
    ApprovalRequest,
    DiskApplier,
    LocalWorkspace,
    TurnEvent,
    TurnRequest,
)
from codex_lsp.model import ModelClient
from codex_lsp.testing import FakeResponsesServer, Script


class _Deny:
    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.DENY


async def _one(fake: FakeResponsesServer, root: Path, step: dict[str, Any], wait_for: str | None) -> float:
    """Run one turn; interrupt it at the first ``wait_for`` event; return seconds to the result."""
    fake.load(Script.model_validate({"turns": [{"requests": [step]}]}))
    seen = asyncio.Event()

    def emit(event: TurnEvent) -> None:
        if event.type == wait_for:
            seen.set()

    workspace = LocalWorkspace(root)
    async with ModelClient(fake.model_settings(), prewarm=False) as client:
        agent = Agent(
            client=client,
            workspace=workspace,
            approver=_Deny(),
            applier=DiskApplier(workspace),
            emit=emit,
            settings=AgentSettings(
                shell_enabled=True, shell_allow=("sleep",), sandbox_mode="danger-full-access"
            ),
        )
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="go")))
        if wait_for is None:
            start = time.perf_counter()
            await task
            return time.perf_counter() - start
        await asyncio.wait_for(seen.wait(), 10)
        start = time.perf_counter()
        agent.interrupt()
        result = await task
        elapsed = time.perf_counter() - start
        assert result.status == "interrupted", result
        return elapsed


async def main(runs: int) -> None:
    stream = {
        "output": [{"type": "message", "text": "x" * 200}],
        "fault": {"kind": "silence", "after_events": 6},
    }
    shell = {
        "output": [{"type": "function_call", "name": "shell", "arguments": {"command": ["sleep", "30"]}}]
    }
    whole: dict[str, Any] = {"output": [{"type": "message", "text": "x" * 200}]}
    cases: list[tuple[str, dict[str, Any], str | None]] = [
        ("complete one-message turn (baseline)", whole, None),
        ("interrupt while streaming", stream, "item/agentMessage/delta"),
        ("interrupt during a shell command", shell, "turn/command/started"),
    ]
    with tempfile.TemporaryDirectory() as name:
        async with FakeResponsesServer() as fake:
            print(f"runs: {runs} (median, p90)")
            for label, step, wait_for in cases:
                samples = sorted([await _one(fake, Path(name), step, wait_for) for _ in range(runs)])
                p90 = samples[int(0.9 * (len(samples) - 1))]
                print(f"  {label:<40} {statistics.median(samples) * 1000:7.1f} ms  {p90 * 1000:7.1f} ms")
    print("target: an interrupt ends the turn within 100 ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
