"""apply_patch as exec hosts it (LocalWorkspace + DiskApplier): what the model reads back."""

from __future__ import annotations

import os
from pathlib import Path

from codex_lsp.agent.interfaces import ApprovalDecision, ApprovalRequest, ChangeApplier
from codex_lsp.agent.local import DiskApplier, LocalWorkspace
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.apply_patch import ApplyPatchTool
from codex_lsp.agent.tools.base import ToolCall, ToolContext, ToolResult


class _Deny:
    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision.DENY


def _patch(*lines: str) -> str:
    return "\n".join(("*** Begin Patch", *lines, "*** End Patch")) + "\n"


def _context(workspace: LocalWorkspace, applier: ChangeApplier) -> ToolContext:
    return ToolContext(
        workspace=workspace,
        approver=_Deny(),
        applier=applier,
        settings=AgentSettings(),
        turn_id="turn_1",
        emit=lambda event: None,
    )


async def _apply(ctx: ToolContext, patch: str) -> ToolResult:
    call = ToolCall(call_id="c", name="apply_patch", kind="custom", arguments=patch)
    return await ApplyPatchTool().run(call, ctx)


async def test_an_os_error_becomes_the_models_tool_output(tmp_path: Path) -> None:
    """A link loop cannot be read (even by root); the model gets one line back."""
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    workspace = LocalWorkspace(tmp_path)
    ctx = _context(workspace, DiskApplier(workspace))
    for patch, expected in (
        (_patch("*** Update File: loop.txt", "@@", "-a", "+b"), "Cannot access loop.txt: Too many levels"),
        (_patch("*** Add File: .git/hooks/pre-commit", "+x"), ".git is read-only"),
    ):
        result = await _apply(ctx, patch)
        assert not result.success
        assert result.output.startswith("apply_patch verification failed: ")
        assert expected in result.output
        assert len(result.output.splitlines()) == 1
    assert os.listdir(tmp_path) == ["loop.txt"]
