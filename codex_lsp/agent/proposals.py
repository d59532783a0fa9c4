"""Proposals: a turn's file changes held for the user's review (edit mode ``review``), hunk by hunk.

A turn in review mode changes no file. Each patch it makes is held in the turn's
:class:`Proposal`: per file, the hunks between what the file holds now and what the turn wants it
to hold (:func:`~codex_lsp.patch.hunks.split_hunks`); a new file, a deletion and a move are one
hunk each. A hunk keeps its id (``h1``, ``h2``…) through re-anchoring and through the decisions on
other hunks; a hunk the model revises in a later patch of the same turn is a new hunk.

This module is the data: the proposal and its hunks (pydantic, so a :class:`ProposalStore` saves
them as JSON and a restarted server restores them), what a decision returns, and the note a thread
gets about decisions it has not heard of. :class:`~codex_lsp.agent.book.ProposalBook` holds one
workspace's proposals and makes the decisions.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ValidationError

from codex_lsp.patch import Chunk, DiffHunk, FileChange, TextEdit, render_unified_diff

__all__ = [
    "SUPERSEDED",
    "Decision",
    "EventReason",
    "HunkState",
    "HunkStatus",
    "Prepared",
    "Proposal",
    "ProposalEvent",
    "ProposalHunk",
    "ProposalStore",
    "render_note",
]

log = logging.getLogger(__name__)

HunkKind = Literal["update", "add", "delete", "move"]
HunkStatus = Literal["pending", "accepted", "rejected", "discarded"]
EventReason = Literal["held", "accepted", "rejected", "discarded", "superseded", "restored", "reanchored"]
SUPERSEDED = "discarded: a new turn started on the thread before the user decided"


class ProposalHunk(BaseModel):
    """One decidable piece of a proposal (all fields but ``status``/``reason`` are fixed at birth)."""

    id: str
    path: str
    kind: HunkKind
    move_to: str | None = None
    old_lines: tuple[str, ...] = ()
    """``update``: the engine chunk (context and removed lines …)."""
    new_lines: tuple[str, ...] = ()
    kinds: str = ""
    at_end: bool = False
    eol_at_end: bool | None = None
    old_start: int = 0
    new_start: int = 0
    text: str | None = None
    """``add`` / ``move``: the text to write."""
    base: str | None = None
    """``delete`` / ``move``: the text the file held when proposed (``None``: not text)."""
    target: str | None = None
    """``move``: the text the destination held (``None``: it did not exist)."""
    status: HunkStatus = "pending"
    reason: str = ""
    """Why it ended as it did, for the model's note (``rejected by the user``…)."""

    def diff_hunk(self) -> DiffHunk:
        chunk = Chunk(self.old_lines, self.new_lines, (), self.at_end, None, self.eol_at_end, self.kinds)
        return DiffHunk(chunk, self.old_start, self.new_start)

    def key(self) -> str:
        """What the hunk changes, for keeping its id when a later patch proposes it again."""
        return repr(self.model_dump(exclude={"id", "status", "reason"}))

    @property
    def label(self) -> str:
        """``app.py @@ -3,7 +3,8 @@``, ``new file util.py``…"""
        if self.kind == "update":
            return f"{self.path} {self.diff_hunk().header}"
        if self.kind == "move":
            return f"{self.path} → {self.move_to}"
        return f"{'new file' if self.kind == 'add' else 'deletion of'} {self.path}"

    def diff(self) -> str:
        """The hunk as a unified diff (``git diff`` style, with its file header)."""
        if self.kind == "update":
            lines = [f"--- a/{self.path}", f"+++ b/{self.path}", self.diff_hunk().header]
            return "\n".join(lines + self.diff_hunk().diff_lines()) + "\n"
        if self.kind == "move":
            return render_unified_diff(self.path, self.base, self.text, new_path=self.move_to)
        old, new = (None, self.text) if self.kind == "add" else (self.base, None)
        return render_unified_diff(self.path, old, new)


class Proposal(BaseModel):
    """One turn's held changes."""

    id: str
    thread_id: str
    turn_id: str
    root: str
    created_at: float
    hunks: list[ProposalHunk] = []
    versions: dict[str, int | None] = {}
    """Path → the editor buffer version its hunks were computed against (``None``: the disk)."""
    moves: dict[str, str] = {}
    """Source → destination of the moves the turn made (to keep a move one hunk)."""
    reported: bool = True
    """Whether the thread has heard of every decision made so far."""
    next_hunk: int = 1

    def hunk(self, hunk_id: str) -> ProposalHunk | None:
        return next((h for h in self.hunks if h.id == hunk_id), None)

    def pending(self) -> list[ProposalHunk]:
        return [h for h in self.hunks if h.status == "pending"]

    @property
    def open(self) -> bool:
        return any(h.status == "pending" for h in self.hunks)

    def paths(self) -> list[str]:
        """The files the proposal touches, in the order of its hunks."""
        seen: dict[str, None] = {}
        for hunk in self.hunks:
            seen.update(dict.fromkeys(filter(None, (hunk.path, hunk.move_to))))
        return list(seen)


@dataclass(frozen=True)
class HunkState:
    """Where a pending hunk is now: the lines it changes in the current text (0-based, LSP's line
    breaks), or why it cannot be placed."""

    line: int | None
    conflict: str | None = None
    last_line: int | None = None

    @property
    def end_line(self) -> int:
        """The last line the hunk changes (its first for a hunk that only inserts)."""
        return self.last_line if self.last_line is not None else self.line or 0


class ProposalEvent(NamedTuple):
    """Something happened to a proposal; ``hunks`` are the hunks concerned."""

    proposal: Proposal
    reason: EventReason
    hunks: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Hunks found conflicted by this event (newly)."""
    message: str = ""


class Decision(NamedTuple):
    """What a decision did: the hunks it settled, those it could not (conflicted), and why."""

    proposal_id: str
    done: tuple[str, ...]
    conflicted: tuple[str, ...] = ()
    message: str = ""


class Prepared(NamedTuple):
    """Hunks ready to be applied as one edit: the file changes, and each hunk's own edits."""

    proposal: Proposal
    ready: tuple[ProposalHunk, ...]
    conflicted: tuple[str, ...]
    message: str
    """Why the conflicted hunks cannot be applied ("" when none is)."""
    changes: tuple[FileChange, ...]
    edits: dict[str, tuple[TextEdit, ...]]
    """Hunk id → its edits, against the ``old_text`` of its file's change (``update`` hunks)."""

    @property
    def summary(self) -> tuple[str, ...]:
        return tuple(f"{letter(h)} {h.path}" for h in self.ready)

    @property
    def label(self) -> str:
        return ", ".join(dict.fromkeys(h.move_to or h.path for h in self.ready))


class ProposalStore:
    """Proposals saved as JSON files, one per proposal, under ``directory`` (``None``: memory only).

    A proposal is file content, so its text is kept exactly, including what UTF-8 cannot encode (a
    lone surrogate the model streamed, or an editor's buffer held): the file is ASCII JSON, where such a
    code point is a ``\\udXXX`` escape that reads back as it was.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def save(self, proposal: Proposal) -> None:
        if self.directory is None:
            return
        path = self.directory / f"{proposal.id}.json"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".json.tmp")
            temporary.write_text(json.dumps(proposal.model_dump(mode="json")), encoding="ascii")
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("cannot save proposal %s in %s: %s", proposal.id, self.directory, exc)

    def remove(self, proposal_id: str) -> None:
        """Forget a proposal, with every file named after it (a host may keep its diff there)."""
        if self.directory is None or not self.directory.is_dir():
            return
        for path in self.directory.glob(f"{proposal_id}.*"):
            path.unlink(missing_ok=True)

    def load(self, root: str) -> list[Proposal]:
        """The saved proposals of the workspace ``root``, oldest first; damaged files are skipped."""
        if self.directory is None or not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                proposal = Proposal.model_validate(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, ValidationError) as exc:
                log.warning("skipping damaged proposal file %s: %s", path, exc)
                continue
            if proposal.root == root:
                found.append(proposal)
        return sorted(found, key=lambda p: p.created_at)


def letter(hunk: ProposalHunk) -> str:
    return {"update": "M", "add": "A", "delete": "D", "move": "M"}[hunk.kind]


_NOTE_DIFF_LINES = 40


def render_note(proposal: Proposal) -> str:
    """The note a thread gets before its next turn: which of its proposed changes landed."""
    accepted = [h for h in proposal.hunks if h.status == "accepted"]
    dropped = [h for h in proposal.hunks if h.status in ("rejected", "discarded")]
    lines = [f'<review_note proposal="{proposal.id}">']
    if not dropped:
        lines.append("The user reviewed the changes you proposed and applied all of them.")
    else:
        lines.append(
            f"The user reviewed the changes you proposed: {len(accepted)} of "
            f"{len(accepted) + len(dropped)} hunks were applied. These were NOT applied and are not "
            "in the files:"
        )
        shown = 0
        for hunk in dropped:
            lines.append(f"- {hunk.label} ({hunk.reason})")
            diff = hunk.diff().splitlines()[2:] if hunk.kind == "update" else []
            for line in itertools.islice(diff, max(_NOTE_DIFF_LINES - shown, 0)):
                lines.append(f"    {line}")
            shown += len(diff)
        if accepted:
            lines.append("Applied: " + ", ".join(h.label for h in accepted) + ".")
        lines.append("Read the files again before building on these changes.")
    lines.append("</review_note>")
    return "\n".join(lines)
