"""The agent's ``ChangeApplier`` on LSP: each successful patch becomes one ``workspace/applyEdit``.

All or nothing, as the patch engine is. The edit is planned against the current text right before
it is sent (:func:`~codex_lsp.lsp.host.edits.plan_edit`); a conflict sends nothing and tells the
model why. File operations the client cannot do are written by the server first (atomically, with
the patch writer) and undone if the editor then refuses the text edits. When the editor answers
``applied: false`` the model is told (tool output), the user is told (``window/showMessage``), and
nothing is reported as changed.

An editor without ``workspace/applyEdit`` gets no turn at all unless the user chose a fallback
(``editFallback``); with ``disk`` the changes are written here (:meth:`LspApplier._write_to_disk`).

Once the edit is on its way, an interrupt no longer stops the call: it waits for the editor's
answer (for :data:`ANSWER_GRACE` seconds at most) and returns what really happened, as the
``ChangeApplier`` contract asks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from codex_lsp.agent import ApplyOutcome
from codex_lsp.lsp.host.edits import EditConflict, EditPlan, inverse, plan_edit
from codex_lsp.lsp.host.workspace import LspWorkspace
from codex_lsp.patch import ChangeKind, FileChange, PatchError, PatchResult, write_changes

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["ANSWER_GRACE", "LspApplier"]

log = logging.getLogger(__name__)

ANSWER_GRACE = 10.0
"""How long an interrupted turn still waits for the editor's answer to an edit already sent."""
_MAX_LABEL = 120


class LspApplier:
    """Applies patches to one workspace folder through the editor."""

    def __init__(self, server: CodexServer, workspace: LspWorkspace) -> None:
        self.server = server
        self.workspace = workspace

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        caps = self.server.state.caps
        if not caps.apply_edit and self.server.state.settings.edit_fallback == "disk":
            return self._write_to_disk(result)
        label = f"Codex: {summary}"
        label = label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"
        try:
            plan = plan_edit(result.changes, self.workspace, caps, label)
        except EditConflict as exc:
            self.server.log(f"codex turn {turn_id}: patch not sent: {exc}", types.MessageType.Info)
            return ApplyOutcome(applied=False, message=f"{exc} Nothing was sent to the editor.")
        if plan.edit is not None and not caps.apply_edit:
            return ApplyOutcome(
                applied=False, message="this editor cannot apply edits (it lacks workspace/applyEdit)."
            )
        return await self._carry_out(plan, label)

    def _write_to_disk(self, result: PatchResult) -> ApplyOutcome:
        """``editFallback: "disk"``: write the changes as ``codex-lsp exec`` does, all or nothing. A file
        open with changes the editor has not saved is refused (writing would set the buffer and the
        disk against each other); the editor reloads what was written (the user is told which)."""
        workspace = self.workspace
        unsaved = self._unsaved(result.changes)
        if unsaved is not None:
            return unsaved
        try:
            write_changes(workspace.root, result.changes)
        except PatchError as exc:
            return ApplyOutcome(applied=False, message=str(exc))
        for change in result.changes:
            written = change.move_to if change.kind is ChangeKind.MOVE else change.path
            if written and change.new_text is not None:
                workspace.documents.written(workspace.source.absolute(written), change.new_text)
        paths = ", ".join(c.move_to or c.path for c in result.changes)
        self.server.show(f"Codex changed {paths} on disk; reload them in the editor.", types.MessageType.Info)
        return ApplyOutcome(applied=True)

    def _unsaved(self, changes: Sequence[FileChange]) -> ApplyOutcome | None:
        """The refusal when a file the server is to write on disk itself is open with changes the
        editor has not saved (the write would set the buffer and the disk against each other); the
        model is told to have it saved, not to read it again (which would show the same)."""
        workspace = self.workspace
        for change in changes:
            document = workspace.documents.at_path(workspace.source.absolute(change.path))
            if document is not None and document.text != _on_disk(document.path):
                return ApplyOutcome(
                    applied=False,
                    message=f"{change.path} has changes the editor has not saved; save or revert it and "
                    "try again.",
                )
        return None

    async def _carry_out(self, plan: EditPlan, label: str) -> ApplyOutcome:
        root = self.workspace.root
        unsaved = self._unsaved(plan.disk)
        if unsaved is not None:
            return unsaved
        try:
            write_changes(root, plan.disk)
        except PatchError as exc:
            return ApplyOutcome(applied=False, message=str(exc))
        if plan.edit is None:
            self.workspace.expect(plan.expected)
            return ApplyOutcome(applied=True)
        answer = await self._send(types.ApplyWorkspaceEditParams(edit=plan.edit, label=label))
        if answer.applied:
            self.workspace.expect(plan.expected)
            return ApplyOutcome(applied=True)
        reason = answer.failure_reason or "no reason given"
        try:
            write_changes(root, inverse(plan.disk))
        except PatchError as exc:
            # The undo is all or nothing too: refused (a file written since, by the user), the files
            # created, moved or deleted on disk stay as the edit left them, and both readers must know.
            log.exception("could not undo the file operations of a refused edit")
            paths = ", ".join(c.move_to or c.path for c in plan.disk)
            told = (
                f"the editor did not apply the edit ({reason}), and undoing the file operations already "
                f"done on disk failed ({exc}): {paths} stay as the patch left them; check them."
            )
            self.server.show(f"Codex: {told}", types.MessageType.Warning)
            return ApplyOutcome(applied=False, message=told)
        self.server.show(f"Codex: the editor did not apply the edit ({reason}); nothing was changed.")
        return ApplyOutcome(applied=False, message=f"the editor did not apply the edit ({reason}).")

    async def _send(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        """Send the edit at once; wait for the answer, even through an interrupt (shielded).

        pygls structures the answer as lsprotocol's result type for the method, so it is an
        ``ApplyWorkspaceEditResult``; an answer that does not fit it fails the request instead
        (:meth:`~codex_lsp.lsp.protocol.CodexProtocol._handle_client_response`).
        """
        answer: asyncio.Future[types.ApplyWorkspaceEditResult] = self.server.protocol.send_request_async(
            types.WORKSPACE_APPLY_EDIT, params
        )
        try:
            return await asyncio.shield(answer)
        except asyncio.CancelledError:
            try:
                async with asyncio.timeout(ANSWER_GRACE):
                    return await answer
            except TimeoutError:
                reason = "the editor did not answer after the turn was interrupted"
            except Exception as exc:
                reason = f"the editor answered with an error: {exc}"
        except Exception as exc:
            reason = f"the editor answered with an error: {exc}"
        return types.ApplyWorkspaceEditResult(applied=False, failure_reason=reason)


def _on_disk(path: str | None) -> str | None:
    """The file's text on disk, ``None`` when it cannot be read as UTF-8 text."""
    if path is None:
        return None
    try:
        with open(path, "rb") as stream:
            return stream.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
