"""The proposal book: one workspace's proposals, where their hunks land now, and every decision.

Where a hunk lands is found by **content**, never by a stale line number: before every decision,
and whenever the host asks, the pending hunks of a file are placed in its current text with the
patch engine's matching (:func:`~codex_lsp.patch.hunks.place_hunk`). A hunk whose lines no longer
fit exactly one place is *conflicted*: reported, never applied, and pending again if the text
comes back. A new file is conflicted once the path exists; a deletion or a move once the file is
gone or no longer holds the text the turn saw.

Accepting sends the hunks through the host's ``ChangeApplier`` (one edit per decision, never two
decisions at once); rejecting only records. Listeners hear of every change (the LSP host refreshes
its code lenses, notifies, tells the user). Proposals are saved through the
:class:`~codex_lsp.agent.proposals.ProposalStore` after every change.

The view a turn works on (:mod:`codex_lsp.agent.review`) is the files with the turn's own pending
hunks applied (:meth:`ProposalBook.view`). A new turn on a thread discards what is still pending of
the thread's proposals (:meth:`ProposalBook.start_turn`); when hunks end up rejected or discarded,
the thread's next turn starts with a note (:meth:`ProposalBook.note_for`) saying what never landed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from codex_lsp.agent.interfaces import ChangeApplier, Workspace
from codex_lsp.agent.proposals import (
    SUPERSEDED,
    Decision,
    HunkState,
    HunkStatus,
    Prepared,
    Proposal,
    ProposalEvent,
    ProposalHunk,
    ProposalStore,
    render_note,
)
from codex_lsp.patch import (
    ChangeKind,
    DiffHunk,
    FileChange,
    PatchError,
    PatchResult,
    PathKind,
    PlacedHunk,
    Snapshot,
    TextEdit,
    applied_edits,
    apply_placed,
    minimal_edits,
    overlapping,
    place_hunk,
    render_unified_diff,
    snapshot_of,
    span,
    split_hunks,
)

__all__ = ["ProposalBook"]

log = logging.getLogger(__name__)


class _Real(NamedTuple):
    """A path as the host's workspace has it now."""

    exists: bool
    text: str | None
    snapshot: Snapshot | None = None


class _Placed(NamedTuple):
    """A file's pending hunks placed in its current text (a cache entry)."""

    real: _Real
    states: dict[str, HunkState]
    placed: dict[str, PlacedHunk]
    view: tuple[bool, str | None]
    """``(True, text)`` when the file differs in the proposal's view (``None``: gone)."""


class ProposalBook:
    """The proposals of one workspace folder, and every decision on them."""

    def __init__(self, workspace: Workspace, store: ProposalStore | None = None) -> None:
        self.workspace = workspace
        """The real files (no pending change laid over them)."""
        self.store = store or ProposalStore(None)
        self.proposals: dict[str, Proposal] = {}
        self.listeners: list[Callable[[ProposalEvent], None]] = []
        self._threads: dict[str, str] = {}
        """Turn id → thread id of the turns started here."""
        self._cache: dict[tuple[str, str], _Placed] = {}
        self._lock = asyncio.Lock()

    # -- reading ----------------------------------------------------------------------------------

    def get(self, proposal_id: str) -> Proposal | None:
        return self.proposals.get(proposal_id)

    def of_turn(self, turn_id: str) -> Proposal | None:
        return next((p for p in self.proposals.values() if p.turn_id == turn_id), None)

    def listed(self) -> list[Proposal]:
        """Proposals with hunks still pending, oldest first."""
        return [p for p in self.proposals.values() if p.open]

    def states(self, proposal: Proposal) -> dict[str, HunkState]:
        """Every pending hunk's place in the current text (re-anchored if the text changed)."""
        states: dict[str, HunkState] = {}
        for path in _update_paths(proposal):
            states.update(self._placed(proposal, path).states)
        for hunk in proposal.pending():
            if hunk.kind != "update":
                states[hunk.id] = _whole_file_state(hunk, self._real(hunk.path), self._target(hunk))
        return states

    def view(self, turn_id: str) -> dict[str, str | None]:
        """The files the turn's pending hunks change, as they would be (``None``: gone)."""
        proposal = self.of_turn(turn_id)
        if proposal is None:
            return {}
        overlay: dict[str, str | None] = {}
        for path in _update_paths(proposal):
            known, text = self._placed(proposal, path).view
            if known:
                overlay[path] = text
        for hunk in proposal.pending():
            if (
                hunk.kind == "update"
                or _whole_file_state(hunk, self._real(hunk.path), self._target(hunk)).conflict
            ):
                continue
            if hunk.kind == "add":
                overlay[hunk.path] = hunk.text
            elif hunk.kind == "delete":
                overlay[hunk.path] = None
            elif hunk.move_to is not None:
                overlay.update({hunk.path: None, hunk.move_to: hunk.text})
        return overlay

    def diffs(self, proposal_id: str | None) -> list[tuple[str, str]]:
        """Per file, the unified diff from its current text to the proposal's pending view."""
        proposal = self.proposals.get(proposal_id or "")
        if proposal is None:
            return []
        overlay = self.view(proposal.turn_id)
        out: list[tuple[str, str]] = []
        moved = {h.path: h.move_to for h in proposal.pending() if h.kind == "move" and h.move_to}
        for path in proposal.paths():
            if path not in overlay or path in moved.values():
                continue
            real = self._real(path)
            if path in moved:
                destination = moved[path]
                text = render_unified_diff(path, real.text, overlay.get(destination), new_path=destination)
            else:
                text = render_unified_diff(path, real.text if real.exists else None, overlay[path])
            out.append((path, text))
        return out

    # -- turns ------------------------------------------------------------------------------------

    def start_turn(self, thread_id: str, turn_id: str) -> list[Proposal]:
        """A turn starts on ``thread_id``: its earlier proposals' pending hunks are discarded."""
        self._threads[turn_id] = thread_id
        superseded = [p for p in self.proposals.values() if p.thread_id == thread_id and p.open]
        for proposal in superseded:
            ids = self._settle(proposal, proposal.pending(), "discarded", SUPERSEDED)
            self._emit(ProposalEvent(proposal, "superseded", ids))
        return superseded

    def hold(self, turn_id: str, result: PatchResult) -> Proposal:
        """Hold a patch of the turn: its files' hunks are recomputed against their current text."""
        proposal = self.of_turn(turn_id) or self._new(turn_id)
        targets = self._targets(proposal, result)
        removed = {h.key(): h.id for h in proposal.hunks if h.status == "pending" and _touches(h, targets)}
        proposal.hunks = [h for h in proposal.hunks if h.status != "pending" or not _touches(h, targets)]
        for hunk in self._rebuild(proposal, targets):
            hunk.id = removed.get(hunk.key()) or f"h{_next(proposal)}"
            proposal.hunks.append(hunk)
        order = {path: number for number, path in enumerate(dict.fromkeys(h.path for h in proposal.hunks))}
        proposal.hunks.sort(key=lambda h: (order[h.path], h.old_start))
        self._forget(proposal)
        self._save(proposal)
        self._emit(ProposalEvent(proposal, "held", tuple(h.id for h in proposal.pending())))
        return proposal

    def note_for(self, thread_id: str) -> str | None:
        """What the thread has not heard yet of the decisions on its proposals (then marked heard)."""
        notes = []
        for proposal in list(self.proposals.values()):
            if proposal.thread_id != thread_id or proposal.reported:
                continue
            notes.append(render_note(proposal))
            proposal.reported = True
            self._save(proposal)
        return "\n\n".join(notes) if notes else None

    # -- decisions --------------------------------------------------------------------------------

    @property
    def lock(self) -> asyncio.Lock:
        """Held while a decision is being applied, so that two decisions never interleave."""
        return self._lock

    def prepare(self, proposal_id: str, hunk_ids: Sequence[str] | None) -> Prepared:
        """Place the hunks (all pending ones when ``hunk_ids`` is ``None``) in the current text and
        build the changes applying those that fit; raises ``KeyError`` for unknown ids."""
        proposal, chosen = self._chosen(proposal_id, hunk_ids)
        states = self.states(proposal)
        ready = tuple(h for h in chosen if states[h.id].conflict is None)
        conflicted = tuple(h.id for h in chosen if states[h.id].conflict is not None)
        changes, edits = self._changes(proposal, list(ready))
        return Prepared(proposal, ready, conflicted, _conflict_message(chosen, states), changes, edits)

    async def accept(
        self, proposal_id: str, hunk_ids: Sequence[str] | None, applier: ChangeApplier
    ) -> Decision:
        """Apply the hunks (all pending ones when ``hunk_ids`` is ``None``) as one edit.

        Conflicted hunks are left pending and named in the result; nothing is applied blindly.
        """
        async with self._lock:
            prepared = self.prepare(proposal_id, hunk_ids)
            proposal = prepared.proposal
            if not prepared.ready:
                return Decision(proposal.id, (), prepared.conflicted, prepared.message)
            before = self._cached_states(proposal)
            result = PatchResult(prepared.changes, prepared.summary)
            outcome = await applier.apply(result, turn_id=proposal.turn_id, summary=prepared.label)
            if not outcome.applied:
                self._forget(proposal)
                return Decision(
                    proposal.id, (), prepared.conflicted, outcome.message or "the edit was not applied"
                )
            done = self._settle(proposal, prepared.ready, "accepted", "accepted by the user")
            self._emit(ProposalEvent(proposal, "accepted", done, self._new_conflicts(proposal, before)))
            return Decision(proposal.id, done, prepared.conflicted, prepared.message)

    def settle_applied(self, prepared: Prepared) -> Decision:
        """After an edit the user could trim (a refactor preview) was applied: settle as accepted
        the hunks whose edits are all in the files now; the others stay pending."""
        proposal = prepared.proposal
        landed: set[str] = set()
        for change in prepared.changes:
            hunks = [h for h in prepared.ready if h.path == change.path and h.kind == "update"]
            if not hunks:
                continue
            every = sorted((e for h in hunks for e in prepared.edits[h.id]), key=lambda e: e.start)
            now = self._real(change.path).text
            found = applied_edits(change.old_text or "", now, every) if now is not None else None
            taken = {e for e, applied in zip(every, found or [], strict=False) if applied}
            landed.update(h.id for h in hunks if prepared.edits[h.id] and set(prepared.edits[h.id]) <= taken)
        landed.update(h.id for h in prepared.ready if h.kind != "update" and self._landed(h))
        done = self._settle(
            proposal, [h for h in prepared.ready if h.id in landed], "accepted", "accepted by the user"
        )
        self._emit(ProposalEvent(proposal, "accepted", done))
        return Decision(proposal.id, done, prepared.conflicted, prepared.message)

    def reject(self, proposal_id: str, hunk_ids: Sequence[str] | None) -> Decision:
        """Drop the hunks (all pending ones when ``hunk_ids`` is ``None``); no file changes."""
        proposal, chosen = self._chosen(proposal_id, hunk_ids)
        status: HunkStatus = "rejected" if hunk_ids is not None else "discarded"
        done = self._settle(proposal, chosen, status, f"{status} by the user")
        self._emit(ProposalEvent(proposal, "rejected" if status == "rejected" else "discarded", done))
        return Decision(proposal.id, done)

    def drop(self, proposal_id: str) -> None:
        """Forget a proposal entirely, its saved copy included, telling no one: its changes left by
        another way (an LSP host handed them to the editor as a code action's edit), so nothing is
        left to decide, to re-anchor or to tell the thread."""
        proposal = self.proposals.pop(proposal_id, None)
        if proposal is not None:
            self._forget(proposal)
            self.store.remove(proposal_id)

    def file_changed(self, path: str, why: str, before: str | None = None) -> ProposalEvent | None:
        """``path`` changed under the pending hunks (closed, changed on disk…): re-anchor them now.

        ``before`` is the text the host showed until now, when it knows it: if the file still holds
        exactly that and no hunk became conflicted, there is nothing to tell. Otherwise returns
        (and emits) a ``reanchored`` event for each proposal with a pending hunk in the file.
        """
        events = []
        for proposal in self.listed():
            if path not in proposal.paths():
                continue
            was = self._cached_states(proposal)
            self._forget(proposal, path)
            states = self.states(proposal)
            conflicts = tuple(
                hid for hid, s in states.items() if s.conflict and not _was_conflicted(was, hid)
            )
            if before is not None and self._real(path).text == before and not conflicts:
                continue
            hunks = tuple(h.id for h in proposal.pending() if path in (h.path, h.move_to))
            events.append(ProposalEvent(proposal, "reanchored", hunks, conflicts, why))
        for event in events:
            self._emit(event)
        return events[0] if events else None

    def restore(self) -> list[Proposal]:
        """Load the proposals saved for this workspace (a restarted server) and re-anchor them."""
        restored = []
        for proposal in self.store.load(str(self.workspace.root)):
            if proposal.id in self.proposals:
                continue
            if not proposal.open and proposal.reported:
                self.store.remove(proposal.id)
                continue
            self.proposals[proposal.id] = proposal
            restored.append(proposal)
            if proposal.open:
                conflicts = tuple(hid for hid, s in self.states(proposal).items() if s.conflict)
                self._emit(
                    ProposalEvent(proposal, "restored", tuple(h.id for h in proposal.pending()), conflicts)
                )
        return restored

    # -- internals: building hunks ----------------------------------------------------------------

    def _new(self, turn_id: str) -> Proposal:
        proposal = Proposal(
            id=f"p-{uuid.uuid4().hex[:8]}",
            thread_id=self._threads.get(turn_id, ""),
            turn_id=turn_id,
            root=str(self.workspace.root),
            created_at=time.time(),
        )
        self.proposals[proposal.id] = proposal
        return proposal

    def _targets(self, proposal: Proposal, result: PatchResult) -> dict[str, str | None]:
        """What each path the patch touches (and the other end of its moves) should become."""
        current = self.view(proposal.turn_id)
        targets: dict[str, str | None] = {}
        for change in result.changes:
            if change.kind is ChangeKind.MOVE and change.move_to:
                targets.update({change.path: None, change.move_to: change.new_text})
                source = next((s for s, d in proposal.moves.items() if d == change.path), change.path)
                proposal.moves[source] = change.move_to
            else:
                targets[change.path] = change.new_text
        for source, destination in list(proposal.moves.items()):
            if source in targets or destination in targets:
                for path in (source, destination):
                    if path in targets:
                        continue
                    if path in current:
                        targets[path] = current[path]
                    elif (real := self._real(path)).text is not None or not real.exists:
                        targets[path] = real.text
                    # else: something the user put there that is not text (a directory, a binary file):
                    # no target, so it is left alone rather than read as deleted.
        return targets

    def _rebuild(self, proposal: Proposal, targets: dict[str, str | None]) -> list[ProposalHunk]:
        hunks: list[ProposalHunk] = []
        handled: set[str] = set()
        for source, destination in list(proposal.moves.items()):
            if source not in targets and destination not in targets:
                continue  # a move this patch leaves alone keeps its hunk
            move = self._move_hunk(source, destination, targets)
            if move is not None:
                hunks.append(move)
                handled.update((source, destination))
            elif source not in targets or targets[source] is not None:
                del proposal.moves[source]  # moved back, rewritten or replaced: no longer a move
        for path, target in targets.items():
            if path not in handled:
                hunks += self._file_hunks(proposal, path, target)
        return hunks

    def _move_hunk(
        self, source: str, destination: str, targets: dict[str, str | None]
    ) -> ProposalHunk | None:
        if source not in targets or targets[source] is not None or targets.get(destination) is None:
            return None
        real, target = self._real(source), self._real(destination)
        if not real.exists or real.text is None:
            return None
        return ProposalHunk(
            id="",
            path=source,
            kind="move",
            move_to=destination,
            text=targets[destination],
            base=real.text,
            target=target.text if target.exists else None,
        )

    def _file_hunks(self, proposal: Proposal, path: str, target: str | None) -> list[ProposalHunk]:
        real = self._real(path)
        proposal.versions[path] = self._version(path, real)
        if not real.exists:
            return [] if target is None else [ProposalHunk(id="", path=path, kind="add", text=target)]
        if target is None:
            return [ProposalHunk(id="", path=path, kind="delete", base=real.text)]
        if real.text is None or real.text == target:
            return []
        return [_update_hunk(path, hunk) for hunk in split_hunks(real.text, target)]

    # -- internals: placing and deciding ----------------------------------------------------------

    def _real(self, path: str) -> _Real:
        source = self.workspace.file_source()
        try:
            kind = source.kind(path)
        except PatchError:
            return _Real(False, None)
        if kind is PathKind.MISSING:
            return _Real(False, None)
        if kind is PathKind.DIRECTORY:
            return _Real(True, None)
        try:
            snapshot = snapshot_of(source, path)
        except (OSError, PatchError):
            return _Real(True, None)
        return _Real(True, snapshot.text, snapshot)

    def _version(self, path: str, real: _Real) -> int | None:
        """The editor buffer's version of ``path`` (``None``: not open, read from disk)."""
        if real.snapshot is not None and real.snapshot.version is not None:
            return real.snapshot.version
        return next((b.version for b in self.workspace.open_buffers() if b.path == path), None)

    def _target(self, hunk: ProposalHunk) -> _Real | None:
        return self._real(hunk.move_to) if hunk.move_to else None

    def _placed(self, proposal: Proposal, path: str) -> _Placed:
        real = self._real(path)
        cached = self._cache.get((proposal.id, path))
        if cached is not None and cached.real.exists == real.exists and cached.real.text == real.text:
            return cached
        hunks = [h for h in proposal.pending() if h.kind == "update" and h.path == path]
        placed = _place_all(path, real, hunks)
        states = {h.id: _state(placed[h.id]) if h.id in placed else _conflict(path, real, h) for h in hunks}
        view: tuple[bool, str | None] = (False, None)
        if placed and real.text is not None:
            view = (True, apply_placed(real.text, list(placed.values()))[0])
        entry = _Placed(real, states, placed, view)
        self._cache[(proposal.id, path)] = entry
        return entry

    def _cached_states(self, proposal: Proposal) -> dict[str, HunkState]:
        states: dict[str, HunkState] = {}
        for (pid, _), entry in self._cache.items():
            if pid == proposal.id:
                states.update(entry.states)
        return states

    def _new_conflicts(self, proposal: Proposal, before: dict[str, HunkState]) -> tuple[str, ...]:
        after = self.states(proposal)
        return tuple(hid for hid, s in after.items() if s.conflict and not _was_conflicted(before, hid))

    def _changes(
        self, proposal: Proposal, hunks: list[ProposalHunk]
    ) -> tuple[tuple[FileChange, ...], dict[str, tuple[TextEdit, ...]]]:
        changes: list[FileChange] = []
        edits: dict[str, tuple[TextEdit, ...]] = {}
        for path in dict.fromkeys(h.path for h in hunks if h.kind == "update"):
            entry = self._placed(proposal, path)
            mine = [h for h in hunks if h.kind == "update" and h.path == path]
            edits.update((h.id, entry.placed[h.id].edits) for h in mine)
            assert entry.real.text is not None
            new_text, all_edits = apply_placed(entry.real.text, [entry.placed[h.id] for h in mine])
            changes.append(
                FileChange(
                    ChangeKind.UPDATE,
                    path,
                    entry.real.text,
                    new_text,
                    edits=all_edits,
                    base=entry.real.snapshot,
                )
            )
        for hunk in hunks:
            if hunk.kind != "update":
                changes.append(_whole_file_change(hunk, self._real(hunk.path), self._target(hunk)))
        return tuple(changes), edits

    def _landed(self, hunk: ProposalHunk) -> bool:
        """Whether a whole-file hunk's change is in the workspace now."""
        real = self._real(hunk.path)
        if hunk.kind == "add":
            return real.exists and real.text == hunk.text
        if hunk.kind == "delete":
            return not real.exists
        target = self._target(hunk)
        return not real.exists and target is not None and target.text == hunk.text

    def _chosen(
        self, proposal_id: str, hunk_ids: Sequence[str] | None
    ) -> tuple[Proposal, list[ProposalHunk]]:
        """The proposal and its pending hunks named by ``hunk_ids``; raises ``KeyError`` (readable)."""
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise KeyError(f"no proposal {proposal_id!r}; codex.proposals lists the pending ones")
        if hunk_ids is None:
            return proposal, proposal.pending()
        chosen = []
        for hunk_id in hunk_ids:
            hunk = proposal.hunk(hunk_id)
            if hunk is None:
                raise KeyError(f"proposal {proposal_id} has no hunk {hunk_id!r}")
            if hunk.status != "pending":
                raise KeyError(f"hunk {hunk_id} of proposal {proposal_id} is already {hunk.status}")
            chosen.append(hunk)
        return proposal, chosen

    def _settle(
        self, proposal: Proposal, hunks: Iterable[ProposalHunk], status: HunkStatus, reason: str
    ) -> tuple[str, ...]:
        done = []
        for hunk in hunks:
            hunk.status, hunk.reason = status, reason
            done.append(hunk.id)
        if done:
            proposal.reported = False
            self._forget(proposal)
            self._save(proposal)
        return tuple(done)

    def _forget(self, proposal: Proposal, path: str | None = None) -> None:
        for key in [k for k in self._cache if k[0] == proposal.id and path in (None, k[1])]:
            del self._cache[key]

    def _save(self, proposal: Proposal) -> None:
        if not proposal.open and proposal.reported:
            self.store.remove(proposal.id)
        else:
            self.store.save(proposal)

    def _emit(self, event: ProposalEvent) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a host's display problem must not undo a decision
                log.exception("proposal listener failed")


# -- helpers ---------------------------------------------------------------------------------------


def _next(proposal: Proposal) -> int:
    number = proposal.next_hunk
    proposal.next_hunk += 1
    return number


def _touches(hunk: ProposalHunk, paths: Iterable[str]) -> bool:
    return hunk.path in paths or (hunk.move_to is not None and hunk.move_to in paths)


def _update_paths(proposal: Proposal) -> list[str]:
    return list(dict.fromkeys(h.path for h in proposal.pending() if h.kind == "update"))


def _update_hunk(path: str, hunk: DiffHunk) -> ProposalHunk:
    chunk = hunk.chunk
    return ProposalHunk(
        id="",
        path=path,
        kind="update",
        old_lines=chunk.old_lines,
        new_lines=chunk.new_lines,
        kinds=chunk.kinds,
        at_end=chunk.is_end_of_file,
        eol_at_end=chunk.eol_at_end,
        old_start=hunk.old_start,
        new_start=hunk.new_start,
    )


def _place_all(path: str, real: _Real, hunks: list[ProposalHunk]) -> dict[str, PlacedHunk]:
    """Place each hunk by content in the current text; a hunk overlapping one placed before is left
    out (conflicted) rather than guessed."""
    if real.text is None:
        return {}
    placed: dict[str, PlacedHunk] = {}
    spans: list[tuple[int, int]] = []
    for hunk in hunks:
        try:
            where = place_hunk(path, real.text, hunk.diff_hunk())
        except PatchError:
            continue
        covered = span(where)
        if covered is not None and any(overlapping(covered, other) for other in spans):
            continue
        if covered is not None:
            spans.append(covered)
        placed[hunk.id] = where
    return placed


def _state(placed: PlacedHunk) -> HunkState:
    last = max((edit.end_line for edit in placed.edits), default=placed.line)
    return HunkState(placed.line, None, last)


def _conflict(path: str, real: _Real, hunk: ProposalHunk) -> HunkState:
    if not real.exists:
        return HunkState(None, f"{path} no longer exists")
    if real.text is None:
        return HunkState(None, f"{path} is no longer a text file")
    try:
        place_hunk(path, real.text, hunk.diff_hunk())
    except PatchError as exc:
        first = str(exc).split("\n", 1)[0]
        return HunkState(None, f"its lines no longer fit exactly one place in {path} ({first})")
    return HunkState(None, f"it overlaps another pending hunk of {path}")


def _whole_file_state(hunk: ProposalHunk, real: _Real, target: _Real | None) -> HunkState:
    if hunk.kind == "add":
        return HunkState(0, f"{hunk.path} exists now" if real.exists else None)
    if not real.exists:
        return HunkState(None, f"{hunk.path} no longer exists")
    if hunk.base is not None and real.text != hunk.base:
        return HunkState(None, f"{hunk.path} changed since the change was proposed")
    if hunk.kind == "move" and target is not None:
        now = target.text if target.exists else None
        if now != hunk.target or (hunk.target is None and target.exists):
            return HunkState(None, f"{hunk.move_to} changed since the move was proposed")
    return HunkState(0)


def _whole_file_change(hunk: ProposalHunk, real: _Real, target: _Real | None) -> FileChange:
    if hunk.kind == "add":
        return FileChange(ChangeKind.ADD, hunk.path, None, hunk.text or "")
    if hunk.kind == "delete":
        return FileChange(ChangeKind.DELETE, hunk.path, real.text, None, base=real.snapshot)
    old, new = real.text or "", hunk.text or ""
    replaced = target.snapshot if target is not None and target.exists else None
    return FileChange(
        ChangeKind.MOVE, hunk.path, old, new, hunk.move_to, minimal_edits(old, new), real.snapshot, replaced
    )


def _was_conflicted(states: dict[str, HunkState], hunk_id: str) -> bool:
    state = states.get(hunk_id)
    return state is not None and state.conflict is not None


def _conflict_message(chosen: list[ProposalHunk], states: dict[str, HunkState]) -> str:
    parts = [f"{h.id} ({h.label}): {states[h.id].conflict}" for h in chosen if states[h.id].conflict]
    return ("not applied, conflicted: " + "; ".join(parts)) if parts else ""
