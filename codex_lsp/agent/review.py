"""Review mode inside a turn: changes are held, and the turn works on the files as if they were applied.

- :class:`ReviewApplier` is the ``ChangeApplier`` of a turn in review mode: each patch is held in
  the turn's proposal (:class:`~codex_lsp.agent.book.ProposalBook`) instead of being applied.
- :class:`PendingWorkspace` is the ``Workspace`` such a turn's tools read: the host's files with
  the turn's pending hunks laid over them. ``read_file``, ``search``, ``list_dir`` and the next
  patch all see what the turn proposed (a turn can build on its own pending changes), while every
  other turn, and the user, see the real files.

Pending changes are held for one turn only: other threads never see them, and a later turn on the
same thread starts from the real files (see :meth:`ProposalBook.start_turn`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from codex_lsp.agent.book import ProposalBook
from codex_lsp.agent.cancellation import checkpoint
from codex_lsp.agent.interfaces import ApplyOutcome, Diagnostic, OpenBuffer, Workspace, read_workspace_text
from codex_lsp.patch import FileSource, PatchResult, PathKind, Snapshot, snapshot_of

__all__ = ["PendingSource", "PendingWorkspace", "ReviewApplier", "held_message", "pending_changes"]


class PendingSource:
    """A patch-engine source: the real source with pending texts laid over it (``None``: gone).

    The overlay is fixed when the source is made, so one patch is matched against one view.
    """

    def __init__(self, inner: FileSource, overlay: Mapping[str, str | None]) -> None:
        self.inner = inner
        self.overlay = dict(overlay)

    def resolve(self, raw: str) -> str:
        return self.inner.resolve(raw)

    def kind(self, path: str) -> PathKind:
        if path in self.overlay:
            return PathKind.MISSING if self.overlay[path] is None else PathKind.FILE
        if any(key.startswith(path + "/") and text is not None for key, text in self.overlay.items()):
            return PathKind.DIRECTORY
        return self.inner.kind(path)

    def read_text(self, path: str) -> str:
        return self.snapshot(path).text

    def snapshot(self, path: str) -> Snapshot:
        if path in self.overlay:
            text = self.overlay[path]
            if text is None:
                raise FileNotFoundError(path)
            return Snapshot(text)
        return snapshot_of(self.inner, path)


class PendingWorkspace:
    """The host's workspace as a review-mode turn sees it: its own pending changes applied."""

    def __init__(self, inner: Workspace, book: ProposalBook, turn_id: str) -> None:
        self.inner = inner
        self.book = book
        self.turn_id = turn_id

    @property
    def root(self) -> Path:
        return self.inner.root

    def pending_changes(self) -> dict[str, str | None]:
        """Paths the turn's pending hunks change, with their proposed text (``None``: deleted)."""
        return self.book.view(self.turn_id)

    def read_text(self, path: str) -> str:
        return read_workspace_text(self.file_source(), path)

    def open_buffers(self) -> list[OpenBuffer]:
        return self.inner.open_buffers()

    def diagnostics(self, path: str | None = None) -> list[Diagnostic]:
        return self.inner.diagnostics(path)

    def file_source(self) -> PendingSource:
        return PendingSource(self.inner.file_source(), self.pending_changes())


def held_message(proposal_id: str) -> str:
    """What the model is told instead of "Success": the change waits for the user."""
    return (
        f"Held for the user's review (proposal {proposal_id}): these changes are NOT applied yet; the "
        "user will accept or reject them. Later reads in this turn show the files with them, so you "
        "can build on them; do not send the same change again."
    )


class ReviewApplier:
    """Holds each patch of a turn in its proposal instead of applying it."""

    def __init__(self, book: ProposalBook) -> None:
        self.book = book

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        await checkpoint()
        proposal = self.book.hold(turn_id, result)
        return ApplyOutcome(
            applied=False, held_for_review=True, message=held_message(proposal.id), proposal_id=proposal.id
        )


def pending_changes(workspace: Workspace) -> dict[str, str | None]:
    """The pending changes a workspace shows (review mode), by path; empty for any other workspace."""
    return workspace.pending_changes() if isinstance(workspace, PendingWorkspace) else {}
