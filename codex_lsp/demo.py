"""``codex-lsp demo``: the whole agent loop offline, with a scripted model instead of a real one.

It lays out a small project with a real bug in a temporary folder, starts our fake Responses
server on 127.0.0.1 playing a scripted model (``testing/scripts/demo_fix.json``), and asks the
agent to fix the diagnostic a linter reports for that bug — the same agent, model client
(WebSocket, turn state), patch engine and atomic writes as for a real model. It prints the
streamed turn, the final diff, and the fixed code running. No API key and no network needed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import TextIO

from codex_lsp.agent import Agent, Diagnostic, DiskApplier, LocalWorkspace, TerminalApprover, TurnRequest
from codex_lsp.headless import EventPrinter
from codex_lsp.model import ModelClient
from codex_lsp.patch import render_unified_diff
from codex_lsp.testing import FakeResponsesServer, Script

__all__ = ["run_demo"]

BUGGY = '''\
"""Small statistics helpers."""


def mean(values):
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(value)


def spread(values):
    return max(values) - min(values)
'''

DIAGNOSTIC = Diagnostic(
    path="stats.py",
    start_line=6,
    start_character=29,
    end_line=6,
    end_character=34,
    message="Undefined name `value`",
    severity="error",
    source="ruff",
    code="F821",
)


def _script() -> Script:
    text = resources.files("codex_lsp.testing").joinpath("scripts/demo_fix.json").read_text(encoding="utf-8")
    return Script.model_validate_json(text)


async def run_demo(out: TextIO | None = None) -> int:
    """Run the demo; return 0 when the bug was fixed and the fixed code runs."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="codex-lsp-demo-") as name:
        root = Path(name)
        (root / "stats.py").write_text(BUGGY, encoding="utf-8")
        out.write(f"Workspace: {root}\nDiagnostic: stats.py:7:30 {DIAGNOSTIC.message} [{DIAGNOSTIC.code}]\n")
        out.write("Asking the agent to fix it (a scripted model on 127.0.0.1 plays the model)...\n\n")
        async with FakeResponsesServer(_script()) as fake:
            settings = fake.model_settings(api_key="demo-key-not-secret")
            async with ModelClient(settings) as client:
                workspace = LocalWorkspace(root)
                agent = Agent(
                    client=client,
                    workspace=workspace,
                    approver=TerminalApprover(),
                    applier=DiskApplier(workspace),
                    emit=EventPrinter(out, out),
                )
                result = await agent.run_turn(TurnRequest(fix=(DIAGNOSTIC,)))
            transport = (
                f"{client.transport}, {client.handshake_count} handshake(s), {len(fake.requests)} requests"
            )
        fixed = (root / "stats.py").read_text(encoding="utf-8")
        out.write(f"\nTurn {result.status} ({transport}); changed: {', '.join(result.changed_files)}\n\n")
        out.write(render_unified_diff("stats.py", BUGGY, fixed))
        code = "import stats; print('mean([1, 2, 3, 4]) =', stats.mean([1, 2, 3, 4]))"
        check = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output, _ = await check.communicate()
        out.write(f'\n$ python -c "{code}"\n{output.decode()}')
    return 0 if result.status == "completed" and check.returncode == 0 else 1
