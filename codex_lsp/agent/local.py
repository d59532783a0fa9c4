"""Hosts for running the agent without an editor (``codex-lsp exec``): disk, terminal, dry run.

- :class:`LocalWorkspace` reads the disk under a root, with an in-memory overlay that a dry run
  fills so later reads in the same turn see the changes the model already "made";
- :class:`DiskApplier` writes changes atomically (the patch layer's writer);
- :class:`DryRunApplier` only records them in the overlay and keeps them for the final diff;
- :class:`TerminalApprover` asks on the terminal, and denies when there is no one to ask.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from codex_lsp.agent.cancellation import checkpoint
from codex_lsp.agent.interfaces import (
    ApplyOutcome,
    ApprovalDecision,
    ApprovalRequest,
    Diagnostic,
    OpenBuffer,
    read_workspace_text,
)
from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    FileChange,
    PatchError,
    PatchResult,
    PathKind,
    render_change,
    write_changes,
)

__all__ = ["DiskApplier", "DryRunApplier", "LocalWorkspace", "OverlaySource", "TerminalApprover"]


class OverlaySource:
    """A file source over the disk with pending changes laid on top (``None`` = deleted)."""

    def __init__(self, root: Path) -> None:
        self.disk = DiskFileSource(root)
        self.overlay: dict[str, str | None] = {}

    def resolve(self, raw: str) -> str:
        return self.disk.resolve(raw)

    def kind(self, path: str) -> PathKind:
        if path in self.overlay:
            return PathKind.MISSING if self.overlay[path] is None else PathKind.FILE
        if any(key.startswith(path + "/") and text is not None for key, text in self.overlay.items()):
            return PathKind.DIRECTORY
        return self.disk.kind(path)

    def read_text(self, path: str) -> str:
        if path in self.overlay:
            text = self.overlay[path]
            if text is None:
                raise FileNotFoundError(path)
            return text
        return self.disk.read_text(path)

    def lay(self, changes: tuple[FileChange, ...]) -> None:
        """Record ``changes`` as if they had been written."""
        for change in changes:
            if change.kind is ChangeKind.MOVE and change.move_to:
                self.overlay[change.path] = None
                self.overlay[change.move_to] = change.new_text
            else:
                self.overlay[change.path] = change.new_text


class LocalWorkspace:
    """A :class:`~codex_lsp.agent.interfaces.Workspace` over a folder on disk."""

    def __init__(self, root: Path, diagnostics: list[Diagnostic] | None = None) -> None:
        self._root = root.resolve()
        self.source = OverlaySource(self._root)
        self._diagnostics = list(diagnostics or [])

    @property
    def root(self) -> Path:
        return self._root

    def read_text(self, path: str) -> str:
        return read_workspace_text(self.source, path)

    def open_buffers(self) -> list[OpenBuffer]:
        return []

    def diagnostics(self, path: str | None = None) -> list[Diagnostic]:
        return [d for d in self._diagnostics if path is None or d.path == path]

    def file_source(self) -> OverlaySource:
        return self.source


class DiskApplier:
    """Writes each successful patch to disk at once, atomically.

    An interrupt that came while the patch was being matched stops it here, before the first
    write; once writing starts it runs to the end (or rolls back), so a patch is all or nothing.
    """

    def __init__(self, workspace: LocalWorkspace) -> None:
        self.workspace = workspace

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        await checkpoint()
        try:
            write_changes(self.workspace.root, result.changes)
        except PatchError as exc:
            return ApplyOutcome(applied=False, message=str(exc))
        return ApplyOutcome(applied=True)


class _NotText:
    """What a file that is not text held, as far as a dry run knows: it was deleted unread."""


_NOT_TEXT = _NotText()


class DryRunApplier:
    """Keeps changes in the workspace overlay only; :meth:`diff` shows them all at the end.

    What each path held before the run comes from the changes themselves (the text they were
    computed against), never from reading the disk again: a file that is not text is deleted
    without being decoded, as a real apply would.
    """

    def __init__(self, workspace: LocalWorkspace) -> None:
        self.workspace = workspace
        self.originals: dict[str, str | _NotText | None] = {}
        """What each path the run touched held before it (``None``: no file)."""

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        for change in result.changes:
            for path, before in _before(change):
                self.originals.setdefault(path, before)
        self.workspace.source.lay(result.changes)
        return ApplyOutcome(applied=True, message="dry run: nothing was written to disk")

    def diff(self) -> str:
        """The unified diff from the disk to the overlay, file by file."""
        overlay = self.workspace.source.overlay
        parts = []
        for path in sorted(self.originals):
            old, new = self.originals[path], overlay.get(path)
            if isinstance(old, _NotText):
                parts.append(render_change(FileChange(ChangeKind.DELETE, path, None, None)))
                old = None
            if old != new:
                parts.append(render_change(_change(path, old, new)))
        return "".join(parts)


def _before(change: FileChange) -> list[tuple[str, str | _NotText | None]]:
    """Each path ``change`` touches, with what it held when the change was computed."""
    if change.kind is ChangeKind.DELETE and change.old_text is None:
        return [(change.path, _NOT_TEXT)]
    if change.kind is ChangeKind.ADD:
        return [(change.path, None)]
    touched: list[tuple[str, str | _NotText | None]] = [(change.path, change.old_text)]
    if change.kind is ChangeKind.MOVE and change.move_to:
        touched.append((change.move_to, change.replaced.text if change.replaced else None))
    return touched


def _change(path: str, old: str | None, new: str | None) -> FileChange:
    kind = ChangeKind.ADD if old is None else ChangeKind.DELETE if new is None else ChangeKind.UPDATE
    return FileChange(kind, path, old, new)


class TerminalApprover:
    """Asks on the terminal (stderr for the question, stdin for the answer); no terminal means no."""

    def __init__(self, stdin: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stderr = stderr or sys.stderr

    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        if not self.stdin.isatty():
            self.stderr.write(f"[codex] denied (no terminal to ask): {request.title}\n")
            return ApprovalDecision.DENY
        self.stderr.write(f"[codex] {request.title} [y]es / [a]lways this turn / [N]o: ")
        self.stderr.flush()
        answer = (await asyncio.to_thread(self.stdin.readline)).strip().lower()
        if answer in ("y", "yes"):
            return ApprovalDecision.APPROVE_ONCE
        if answer in ("a", "always"):
            return ApprovalDecision.APPROVE_FOR_TURN
        return ApprovalDecision.DENY
