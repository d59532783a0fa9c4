"""What the agent needs from its host (an editor through LSP, or the terminal in ``exec``).

The agent never imports the LSP stack. The host implements these small protocols:

- :class:`Workspace` — reads files as the user sees them (**unsaved buffer text first, disk
  otherwise**), lists open buffers and the diagnostics the editor knows of;
- :class:`Approver` — asks the user before a shell command runs or a file change applies;
- :class:`ChangeApplier` — applies (or holds for review) the file changes a patch produced.

Paths crossing these interfaces are workspace-relative POSIX strings (``src/app.py``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from codex_lsp.patch import FileChange, FileSource, PatchResult, PathKind

__all__ = [
    "ApplyOutcome",
    "ApprovalDecision",
    "ApprovalRequest",
    "Approver",
    "ChangeApplier",
    "Diagnostic",
    "EditorContext",
    "OpenBuffer",
    "Selection",
    "Workspace",
    "read_workspace_text",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Diagnostic(_Frozen):
    """A problem the editor shows, whoever published it (ruff, pyright, tsc…). Lines are 0-based."""

    path: str
    start_line: int
    start_character: int
    end_line: int
    end_character: int
    message: str
    severity: str | None = None
    """``error`` | ``warning`` | ``information`` | ``hint``."""
    source: str | None = None
    code: str | int | None = None


class Selection(_Frozen):
    """The user's selection in the active file (0-based lines and characters) and its text."""

    start_line: int
    start_character: int
    end_line: int
    end_character: int
    text: str = ""


class OpenBuffer(_Frozen):
    """A file open in the editor: its version and whether it has unsaved changes."""

    path: str
    version: int | None = None
    dirty: bool = False
    language_id: str | None = None


class EditorContext(_Frozen):
    """What the editor tells a turn about where the user is: sent to the model with the prompt."""

    active_file: str | None = None
    selection: Selection | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    """The diagnostics the request names (for "fix" turns: the ones to fix)."""
    open_buffers: tuple[OpenBuffer, ...] = ()


class Workspace(Protocol):
    """The files of one workspace folder, as the user currently sees them."""

    @property
    def root(self) -> Path:
        """The workspace folder on disk; every path is confined to it."""
        ...

    def read_text(self, path: str) -> str:
        """The text of ``path``: the open buffer's text if open, else the file on disk.

        Raises ``FileNotFoundError``, ``IsADirectoryError``, or ``PatchFileError`` (binary or not
        UTF-8); raises ``PatchPathError`` when ``path`` leaves the workspace.
        """
        ...

    def open_buffers(self) -> list[OpenBuffer]:
        """The files currently open in the editor."""
        ...

    def diagnostics(self, path: str | None = None) -> list[Diagnostic]:
        """The diagnostics the editor knows, for ``path`` or for every file."""
        ...

    def file_source(self) -> FileSource:
        """A patch-engine source with the same buffer-first view, so patches match what is shown."""
        ...


class ApprovalDecision(StrEnum):
    """The user's answer to an approval request."""

    APPROVE_ONCE = "approve"
    APPROVE_FOR_TURN = "approve_for_turn"
    DENY = "deny"


class ApprovalRequest(_Frozen):
    """Something the agent wants to do that needs the user's consent."""

    kind: str
    """``command`` for a shell command, ``patch`` for file changes."""
    title: str
    """One line for a prompt: ``Run `pytest -q` in src/?``, ``Apply changes to app.py?``."""
    command: tuple[str, ...] = ()
    cwd: str = ""
    reason: str | None = None
    paths: tuple[str, ...] = ()
    """``patch``: the files it changes."""
    diff: str = ""
    """``patch``: a short summary of the change (a unified diff, cut)."""
    changes: tuple[FileChange, ...] = ()
    """``patch``: the computed changes themselves, for a host that shows each file's old and new
    text before asking (an ACP editor's diff view)."""


class Approver(Protocol):
    """Asks the user; a host without a user (CI, headless without a terminal) denies."""

    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        """Ask and wait for the answer; cancelling the turn cancels the question (the caller then
        records it as denied), and a host withdraws the question from the user if it can."""
        ...


class ApplyOutcome(_Frozen):
    """What became of a set of file changes: applied, held for review, or refused by the host.

    A held change is not applied (``applied`` is false, ``held_for_review`` true): it waits in
    the proposal ``proposal_id`` for the user's decision, and ``message`` says so to the model.
    """

    applied: bool
    held_for_review: bool = False
    message: str = ""
    """Why it was not applied (shown to the model), or what became of it (held for review)."""
    proposal_id: str | None = None


class ChangeApplier(Protocol):
    """Turns a successful patch into real changes (LSP ``workspace/applyEdit``, or disk writes)."""

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        """Apply or hold ``result``; never partially. ``summary`` labels the edit for undo.

        Cancelling the call before anything reached the editor or the disk raises
        ``CancelledError`` and changes nothing. Once an edit has been sent, the call waits for the
        answer even when cancelled and returns what really happened; the caller then honours the
        cancellation.
        """
        ...


def read_workspace_text(source: FileSource, path: str) -> str:
    """:meth:`Workspace.read_text` on top of a workspace's file source, for every host alike.

    Resolves ``path`` inside the workspace (``PatchPathError`` when it leaves it) and raises
    ``IsADirectoryError`` / ``FileNotFoundError`` as the tools expect, before reading.
    """
    resolved = source.resolve(path)
    kind = source.kind(resolved)
    if kind is PathKind.DIRECTORY:
        raise IsADirectoryError(path)
    if kind is PathKind.MISSING:
        raise FileNotFoundError(path)
    return source.read_text(resolved)
