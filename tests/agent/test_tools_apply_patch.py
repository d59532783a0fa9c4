"""apply_patch as exec hosts it (LocalWorkspace + DiskApplier): what the model reads back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_lsp.agent.interfaces import ApplyOutcome, ApprovalDecision, ApprovalRequest, ChangeApplier
from codex_lsp.agent.local import DiskApplier, DryRunApplier, LocalWorkspace
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.apply_patch import ApplyPatchTool
from codex_lsp.agent.tools.base import ToolCall, ToolContext, ToolResult
from codex_lsp.patch import PatchResult


class _Refuse:
    """A host that refuses every patch with ``message``."""

    def __init__(self, message: str) -> None:
        self.message = message

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        return ApplyOutcome(applied=False, message=self.message)


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


async def test_a_failed_write_says_once_that_no_file_was_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("a\n")

    def full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device", target)

    monkeypatch.setattr(os, "replace", full)
    workspace = LocalWorkspace(tmp_path)
    result = await _apply(
        _context(workspace, DiskApplier(workspace)), _patch("*** Update File: a.txt", "@@", "-a", "+b")
    )
    monkeypatch.undo()
    assert not result.success
    assert result.output == (
        "apply_patch failed: Could not write the patch to disk (a.txt: No space left on device); "
        "no file was changed. Read the files again and send a new patch."
    )
    assert (tmp_path / "a.txt").read_text() == "a\n"


@pytest.mark.parametrize(
    ("message", "output"),
    [
        (
            "the editor did not apply the edit (busy).",
            "apply_patch failed: the editor did not apply the edit (busy). "
            "No file was changed; read the files again and send a new patch.",
        ),
        (
            "disk full. The files already written were restored; no file was changed.",
            "apply_patch failed: disk full. The files already written were restored; no file was changed. "
            "Read the files again and send a new patch.",
        ),
        (
            "disk full. Restoring the files already written failed for a.txt: check them.",
            "apply_patch failed: disk full. Restoring the files already written failed for a.txt: "
            "check them. Read the files again and send a new patch.",
        ),
    ],
    ids=["silent about the files", "says nothing changed", "says what is left"],
)
async def test_a_refusal_says_what_became_of_the_files_once(
    tmp_path: Path, message: str, output: str
) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    ctx = _context(LocalWorkspace(tmp_path), _Refuse(message))
    result = await _apply(ctx, _patch("*** Update File: a.txt", "@@", "-a", "+b"))
    assert (result.success, result.output) == (False, output)


async def test_a_dry_run_deletes_a_binary_file_without_reading_it(tmp_path: Path) -> None:
    """exec --dry-run: the originals come from the changes; a binary file is never decoded."""
    data = bytes(range(256))
    (tmp_path / "blob.bin").write_bytes(data)
    (tmp_path / "a.txt").write_text("a\n")
    workspace = LocalWorkspace(tmp_path)
    applier = DryRunApplier(workspace)
    patch = _patch("*** Delete File: blob.bin", "*** Update File: a.txt", "@@", "-a", "+b")
    result = await _apply(_context(workspace, applier), patch)
    assert result.success, result.output
    assert applier.diff() == (
        "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n"
        "diff --git a/blob.bin b/blob.bin\ndeleted file mode 100644\n"
        "Binary files a/blob.bin and /dev/null differ\n"
    )
    assert (tmp_path / "blob.bin").read_bytes() == data
    assert (tmp_path / "a.txt").read_text() == "a\n"


FENCED = (
    "Here is the fix:\n\n```diff\n" + _patch("*** Update File: a/a.txt", "@@ -1 +1 @@", "-a", "+b") + "```\n"
)
FENCE_NOTES = [
    "note: read the patch inside a ```diff fence; send the patch alone, without a fence",
    "note: ignored the text before the patch; send the patch alone",
    "note: read the unified header `@@ -1 +1 @@` as a bare `@@` with a line hint; "
    "write a bare `@@` next time",
    "note: read `a/a.txt` as `a.txt` without git's a/ and b/ prefixes; write paths relative to the workspace "
    "root, without them",
]


async def test_what_was_repaired_follows_the_success_one_note_a_line(tmp_path: Path) -> None:
    """The model reads what it got wrong, so that its next patch needs no repair."""
    (tmp_path / "a.txt").write_text("a\n")
    workspace = LocalWorkspace(tmp_path)
    result = await _apply(_context(workspace, DiskApplier(workspace)), FENCED)
    assert result.success, result.output
    lines = result.output.splitlines()
    assert lines[3:] == ["Success. Updated the following files:", "M a.txt", *FENCE_NOTES]
    assert (tmp_path / "a.txt").read_text() == "b\n"


async def test_what_was_repaired_follows_a_refusal_too(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("c\n")
    workspace = LocalWorkspace(tmp_path)
    result = await _apply(_context(workspace, DiskApplier(workspace)), FENCED)
    assert not result.success
    lines = result.output.splitlines()
    assert lines[0] == "apply_patch verification failed: Failed to find expected lines in a.txt:"
    assert lines[-4:] == FENCE_NOTES
    refused = await _apply(_context(workspace, _Refuse("the editor is busy.")), FENCED.replace("-a", "-c"))
    assert refused.output.splitlines()[1:] == FENCE_NOTES


async def test_a_patch_sent_as_the_format_wants_it_gets_no_note(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    workspace = LocalWorkspace(tmp_path)
    result = await _apply(
        _context(workspace, DiskApplier(workspace)), _patch("*** Update File: a.txt", "@@", "-a", "+b")
    )
    assert result.success
    assert "note:" not in result.output
