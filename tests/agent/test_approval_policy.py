"""Each approval policy at each question the agent asks: a command that is not allow-listed, a patch under
``sandbox_mode = "read-only"`` (Codex: "writing is blocked by read-only sandbox"), a patch an always-ask
rule catches. ``never`` and a granular switch set to ``false`` refuse without asking; the others ask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_lsp.agent.approval import model_policy
from codex_lsp.agent.interfaces import ApprovalDecision
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.apply_patch import ApplyPatchTool
from codex_lsp.agent.tools.base import ToolCall, ToolResult
from codex_lsp.agent.tools.shell import ShellTool
from codex_lsp.model import Granular, GranularApproval
from tests.agent.fakes import DiskWorkspace, RecordingApplier, ScriptedApprover, call_tool, tool_context

ADD = "*** Begin Patch\n*** Add File: new.txt\n+hi\n*** End Patch\n"
DELETE = "*** Begin Patch\n*** Delete File: old.txt\n*** End Patch\n"


def granular(sandbox_approval: bool, rules: bool) -> Granular:
    return Granular(
        granular=GranularApproval(sandbox_approval=sandbox_approval, rules=rules, mcp_elicitations=False)
    )


async def command(tmp_path: Path, policy: Any, approver: ScriptedApprover) -> ToolResult:
    settings = AgentSettings(shell_enabled=True, sandbox_mode="danger-full-access", approval_policy=policy)
    ctx = tool_context(DiskWorkspace(tmp_path), settings, approver)
    return await call_tool(ShellTool(), ctx, command=["touch", "made"])


async def patch(
    tmp_path: Path, text: str, approver: ScriptedApprover, approved_for_turn: bool = False, **settings: Any
) -> tuple[ToolResult, RecordingApplier]:
    (tmp_path / "old.txt").write_text("old\n")
    ctx = tool_context(DiskWorkspace(tmp_path), AgentSettings(**settings), approver)
    ctx.changes_approved_for_turn = approved_for_turn
    applier = ctx.applier
    assert isinstance(applier, RecordingApplier)
    call = ToolCall(call_id="c", name="apply_patch", kind="custom", arguments=text)
    return await ApplyPatchTool().run(call, ctx), applier


@pytest.mark.parametrize(
    ("policy", "asks"),
    [
        ("untrusted", True),
        ("on-request", True),
        ("never", False),
        (granular(sandbox_approval=True, rules=False), True),
        (granular(sandbox_approval=False, rules=True), False),
    ],
)
async def test_a_command_that_is_not_allow_listed(tmp_path: Path, policy: Any, asks: bool) -> None:
    approver = ScriptedApprover(ApprovalDecision.APPROVE_ONCE)
    result = await command(tmp_path, policy, approver)
    assert bool(approver.requests) is asks
    assert (tmp_path / "made").exists() is asks
    if not asks:
        assert result.output.startswith("The command was declined without asking")
        words = "never" if policy == "never" else "granular with sandbox_approval = false"
        assert f"the approval policy is {words}" in result.output


@pytest.mark.parametrize(
    ("policy", "asks"),
    [
        ("on-request", True),
        ("never", False),
        (granular(sandbox_approval=True, rules=False), True),
        (granular(sandbox_approval=False, rules=True), False),
    ],
)
async def test_a_patch_under_the_read_only_sandbox(tmp_path: Path, policy: Any, asks: bool) -> None:
    """Codex asks (or, where it may not ask, refuses) before any patch in ``read-only``: the sandbox
    question, ``sandbox_approval``."""
    approver = ScriptedApprover(ApprovalDecision.APPROVE_ONCE)
    result, applier = await patch(tmp_path, ADD, approver, sandbox_mode="read-only", approval_policy=policy)
    assert bool(approver.requests) is asks
    assert bool(applier.applied) is asks
    if asks:
        assert (
            approver.requests[0].reason
            == "writing is blocked by the read-only sandbox (sandbox_mode = read-only)"
        )
    else:
        assert result.output.startswith("apply_patch refused: writing is blocked by the read-only sandbox")


async def test_a_patch_in_workspace_write_asks_nothing(tmp_path: Path) -> None:
    result, applier = await patch(tmp_path, ADD, ScriptedApprover(), approval_policy="never")
    assert result.success
    assert applier.applied


@pytest.mark.parametrize(
    ("policy", "asks"),
    [
        ("on-request", True),
        ("never", False),
        (granular(sandbox_approval=False, rules=True), True),
        (granular(sandbox_approval=True, rules=False), False),
    ],
)
async def test_a_patch_an_always_ask_rule_catches(tmp_path: Path, policy: Any, asks: bool) -> None:
    """The user's own always-ask rules are the ``rules`` kind of question."""
    approver = ScriptedApprover(ApprovalDecision.APPROVE_ONCE)
    result, applier = await patch(tmp_path, DELETE, approver, ask_for_deletions=True, approval_policy=policy)
    assert bool(approver.requests) is asks
    assert bool(applier.applied) is asks
    if not asks:
        assert "it deletes old.txt, and the approval policy is" in result.output


async def test_one_refused_kind_refuses_the_patch_even_after_an_approval_for_the_turn(tmp_path: Path) -> None:
    """Read-only asks (sandbox_approval = true); the deletion rule may not (rules = false): refused."""
    approver = ScriptedApprover()
    result, applier = await patch(
        tmp_path,
        DELETE,
        approver,
        approved_for_turn=True,
        sandbox_mode="read-only",
        ask_for_deletions=True,
        approval_policy=granular(sandbox_approval=True, rules=False),
    )
    assert not approver.requests
    assert not applier.applied
    assert "granular with rules = false" in result.output


def test_the_model_is_told_what_a_granular_policy_does_to_commands() -> None:
    shell = AgentSettings(shell_enabled=True)
    assert model_policy(shell.model_copy(update={"approval_policy": granular(True, False)})) == "untrusted"
    assert model_policy(shell.model_copy(update={"approval_policy": granular(False, True)})) == "never"
