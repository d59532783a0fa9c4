"""The proposal book's contract with its host: the exact changes an accepted proposal hands the
applier, the events listeners hear, the diffs and views shown, and the conflicts reported when the
files moved on under the pending hunks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codex_lsp.agent.book import ProposalBook
from codex_lsp.agent.interfaces import ApplyOutcome, OpenBuffer
from codex_lsp.agent.local import DiskApplier, LocalWorkspace
from codex_lsp.agent.proposals import HunkState, Proposal, ProposalEvent, ProposalStore, render_note
from codex_lsp.agent.review import PendingWorkspace
from codex_lsp.patch import (
    ChangeKind,
    FileChange,
    PatchResult,
    compute_changes,
    parse_patch,
    render_unified_diff,
)
from tests.agent.test_proposals import BODY, edited, update


def patch(*sections: str) -> str:
    return "*** Begin Patch\n" + "".join(sections) + "*** End Patch"


MOVE = "*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n"


class Recorder:
    """An applier that writes to disk like :class:`DiskApplier` and keeps what it was handed."""

    def __init__(self, workspace: LocalWorkspace, *, refuse: str | None = None) -> None:
        self.disk = DiskApplier(workspace)
        self.refuse = refuse
        self.results: list[PatchResult] = []

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        self.results.append(result)
        if self.refuse is not None:
            return ApplyOutcome(applied=False, message=self.refuse)
        return await self.disk.apply(result, turn_id=turn_id, summary=summary)

    @property
    def changes(self) -> tuple[FileChange, ...]:
        (result,) = self.results
        return result.changes


class Book:
    """A book over ``root`` whose listeners' events are kept."""

    def __init__(self, root: Path, workspace: LocalWorkspace | None = None) -> None:
        self.root = root
        self.workspace = workspace or LocalWorkspace(root)
        self.book = ProposalBook(self.workspace)
        self.events: list[ProposalEvent] = []
        self.book.listeners.append(self.events.append)

    def propose(self, turn_id: str, text: str) -> Proposal:
        view = PendingWorkspace(self.workspace, self.book, turn_id)
        return self.book.hold(turn_id, compute_changes(parse_patch(text), view.file_source()))

    def write(self, path: str, text: str) -> None:
        (self.root / path).write_text(text)


def apply_edits(text: str, change: FileChange) -> str:
    for edit in sorted(change.edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


# -- what the applier is handed ---------------------------------------------------------------------


async def test_update_hunks_of_two_files_become_one_change_per_file(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.write("b.py", BODY)
    b.propose("t", update("a.py", ("line 3", "three")))
    proposal = b.propose("t", update("b.py", ("line 20", "twenty")))
    assert b.book.view("t") == {"a.py": edited(l3="three"), "b.py": edited(l20="twenty")}, (
        "a hunk is placed only in its own file, though the other holds the same lines"
    )
    assert [s.last_line for s in b.book.states(proposal).values()] == [3, 20]
    applier = Recorder(b.workspace)
    decision = await b.book.accept(proposal.id, None, applier)
    assert decision.done == ("h1", "h2")
    a, bb = applier.changes
    assert (a.kind, a.path, a.old_text, a.new_text) == (ChangeKind.UPDATE, "a.py", BODY, edited(l3="three"))
    assert (bb.path, bb.old_text, bb.new_text) == ("b.py", BODY, edited(l20="twenty"))
    for change in (a, bb):
        assert change.edits, "the host applies edits, not whole texts"
        assert apply_edits(BODY, change) == change.new_text
        assert change.base is not None
        assert change.base.text == BODY, "the host checks the file is still what the hunks were placed in"
    assert (tmp_path / "b.py").read_text() == edited(l20="twenty")


async def test_whole_file_changes_carry_the_texts_and_snapshots_they_replace(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("old.py", "bye\n")
    b.write("src.py", "one\n")
    b.write("dst.py", "was here\n")
    proposal = b.propose("t", patch("*** Add File: new.py\n+hello\n", "*** Delete File: old.py\n", MOVE))
    assert all(s == HunkState(0) for s in b.book.states(proposal).values()), (
        "a whole-file hunk that fits sits at the top of its file"
    )
    applier = Recorder(b.workspace)
    decision = await b.book.accept(proposal.id, None, applier)
    assert decision.conflicted == ()
    changes = {c.kind: c for c in applier.changes}
    assert changes[ChangeKind.ADD][:4] == (ChangeKind.ADD, "new.py", None, "hello\n")
    delete = changes[ChangeKind.DELETE]
    assert (delete.old_text, delete.new_text) == ("bye\n", None)
    assert delete.base is not None
    assert delete.base.text == "bye\n"
    move = changes[ChangeKind.MOVE]
    assert (move.path, move.old_text, move.new_text, move.move_to) == ("src.py", "one\n", "uno\n", "dst.py")
    assert apply_edits("one\n", move) == "uno\n"
    assert move.base is not None
    assert move.base.text == "one\n"
    assert move.replaced is not None, "the move overwrites dst.py: the host checks what it overwrites"
    assert move.replaced.text == "was here\n"
    assert (tmp_path / "dst.py").read_text() == "uno\n"
    assert (tmp_path / "new.py").read_text() == "hello\n"


async def test_empty_files_are_created_and_moved_empty(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose(
        "t", patch("*** Add File: empty.py\n", "*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n")
    )
    applier = Recorder(b.workspace)
    await b.book.accept(proposal.id, None, applier)
    assert sorted((c.kind, c.new_text) for c in applier.changes) == [
        (ChangeKind.ADD, ""),
        (ChangeKind.MOVE, ""),
    ]
    assert (tmp_path / "empty.py").read_text() == ""
    assert (tmp_path / "dst.py").read_text() == ""
    assert not (tmp_path / "src.py").exists()


async def test_an_empty_file_is_renamed_empty(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "")
    rename = FileChange(ChangeKind.MOVE, "src.py", "", "", "dst.py")
    proposal = b.book.hold("t", PatchResult((rename,), ()))
    applier = Recorder(b.workspace)
    await b.book.accept(proposal.id, None, applier)
    (move,) = applier.changes
    assert (move.kind, move.old_text, move.new_text, move.edits) == (ChangeKind.MOVE, "", "", ())
    assert (tmp_path / "dst.py").read_text() == ""


async def test_a_move_to_a_new_path_replaces_nothing(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose("t", patch(MOVE))
    applier = Recorder(b.workspace)
    await b.book.accept(proposal.id, None, applier)
    (move,) = applier.changes
    assert move.replaced is None


async def test_a_change_at_the_end_of_a_repetitive_file_stays_anchored_there(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.txt", "same\n" * 10)
    proposal = b.propose(
        "t",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n same\n-same\n+last\n*** End of File\n*** End Patch",
    )
    assert b.book.states(proposal)["h1"].conflict is None
    await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert (tmp_path / "a.txt").read_text() == "same\n" * 9 + "last\n"


def hold_text(b: Book, turn_id: str, path: str, new_text: str) -> Proposal:
    """Hold a change computed elsewhere than by a patch (one that may drop the final line break)."""
    old_text = (b.root / path).read_text()
    return b.book.hold(turn_id, PatchResult((FileChange(ChangeKind.UPDATE, path, old_text, new_text),), ()))


async def test_a_dropped_final_line_break_lands_at_the_end_it_was_dropped_from(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.txt", "a\nb\n")
    proposal = hold_text(b, "t", "a.txt", "a\nb")
    assert b.book.view("t") == {"a.txt": "a\nb"}
    b.write("a.txt", "a\nb\nc\na\nb\n")
    assert b.book.states(proposal)["h1"].line == 4, "at the end, though its lines also open the file"
    await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert (tmp_path / "a.txt").read_text() == "a\nb\nc\na\nb"


# -- conflicts: what is reported, and what is left alone -------------------------------------------


async def test_a_conflicted_hunk_is_named_with_why_and_the_others_still_apply(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.write("b.py", BODY)
    b.propose("t", update("a.py", ("line 3", "three"), ("line 14", "fourteen")))
    proposal = b.propose("t", update("b.py", ("line 5", "five")))
    b.write("a.py", BODY.replace("line 3\n", "line 3 (edited)\n"))
    states = b.book.states(proposal)
    assert states["h1"].conflict is not None
    assert states["h1"].conflict.startswith("its lines no longer fit exactly one place in a.py")
    assert states["h2"] == HunkState(14, None, 14), "the hunk after a conflicted one is still placed"
    assert b.book.view("t") == {
        "a.py": BODY.replace("line 3\n", "line 3 (edited)\n").replace("line 14\n", "fourteen\n"),
        "b.py": edited(l5="five"),
    }
    decision = await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert decision.done == ("h2", "h3")
    assert decision.conflicted == ("h1",)
    assert decision.message == (
        f"not applied, conflicted: h1 (a.py @@ -1,7 +1,7 @@): {states['h1'].conflict}"
    )
    assert (tmp_path / "b.py").read_text() == edited(l5="five")


async def test_no_conflict_no_message(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three")))
    assert b.book.prepare(proposal.id, None).message == ""
    decision = await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert decision == (proposal.id, ("h1",), (), "")


async def test_when_every_chosen_hunk_conflicts_nothing_is_applied_and_each_is_named(tmp_path: Path) -> None:
    b = Book(tmp_path)
    proposal = b.propose("t", patch("*** Add File: x.py\n+x\n", "*** Add File: y.py\n+y\n"))
    b.write("x.py", "mine\n")
    b.write("y.py", "mine too\n")
    assert b.book.view("t") == {}, "a new file whose path is taken now is not in the turn's view"
    applier = Recorder(b.workspace)
    decision = await b.book.accept(proposal.id, None, applier)
    assert applier.results == []
    assert decision == (
        proposal.id,
        (),
        ("h1", "h2"),
        "not applied, conflicted: h1 (new file x.py): x.py exists now; h2 (new file y.py): y.py exists now",
    )


async def test_an_update_whose_file_is_gone_or_not_text_says_which(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three")))
    assert b.book.states(proposal)["h1"].line == 3
    (tmp_path / "a.py").unlink()
    (tmp_path / "a.py").mkdir()
    assert b.book.states(proposal)["h1"].conflict == "a.py is no longer a text file"
    assert b.book.view("t") == {}, "a file whose hunks all conflict is shown as it is, not as gone"
    (tmp_path / "a.py").rmdir()
    assert b.book.states(proposal)["h1"].conflict == "a.py no longer exists"
    (tmp_path / "a.py").write_bytes(b"\xff\xfe binary")
    assert b.book.states(proposal)["h1"].conflict == "a.py is no longer a text file"
    (tmp_path / "a.py").unlink()
    (tmp_path / "a.py").symlink_to("a.py")  # a link to itself: no file can be reached there
    assert b.book.states(proposal)["h1"].conflict == "a.py no longer exists"
    (tmp_path / "a.py").unlink()
    b.write("a.py", "# new first line\n" + BODY)
    assert b.book.states(proposal)["h1"] == HunkState(4, None, 4), "found again by content"


async def test_two_hunks_found_at_one_place_are_not_both_applied(tmp_path: Path) -> None:
    b = Book(tmp_path)
    block = "c1\nc2\nc3\nX\nd1\nd2\nd3\n"
    middle = "".join(f"m{n}\n" for n in range(10))
    tail = "t1\nt2\nt3\nT\n"
    b.write("a.txt", block + middle + block + middle + tail)
    proposal = hold_text(
        b, "t", "a.txt", (block + middle + block + middle + tail).replace("X", "Y").replace("T\n", "U\n")
    )
    assert [s.line for s in b.book.states(proposal).values()] == [3, 20, 37]
    # The user's edit leaves one X that both the first and the second hunk now fit around.
    b.write("a.txt", "m9\n" + block + middle + "c1\nzz\n" + tail)
    states = b.book.states(proposal)
    assert states["h1"] == HunkState(4, None, 4)
    assert states["h2"] == HunkState(None, "it overlaps another pending hunk of a.txt")
    assert states["h3"] == HunkState(23, None, 23), "a hunk after the overlapping one is still placed"
    await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert (tmp_path / "a.txt").read_text() == "m9\n" + block.replace(
        "X", "Y"
    ) + middle + "c1\nzz\nt1\nt2\nt3\nU\n"


async def test_a_hunk_the_user_already_made_is_placed_and_accepted_as_is(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY.replace("line 3\n", "line 3   \n"))
    proposal = hold_text(b, "t", "a.py", BODY)
    b.write("a.py", BODY)
    assert b.book.states(proposal)["h1"].conflict is None, "its lines fit, ignoring the blanks"
    decision = await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert decision.done == ("h1",)
    assert (tmp_path / "a.py").read_text() == BODY


async def test_hunks_follow_the_text_between_two_looks(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three")))
    assert b.book.states(proposal)["h1"].line == 3
    b.write("a.py", "# new first line\n" + BODY)
    assert b.book.states(proposal)["h1"].line == 4


async def test_a_deletion_conflicts_once_the_file_changed_or_went(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("old.py", "bye\n")
    proposal = b.propose("t", patch("*** Delete File: old.py\n"))
    b.write("old.py", "bye, edited\n")
    assert b.book.states(proposal)["h1"] == HunkState(None, "old.py changed since the change was proposed")
    assert b.book.view("t") == {}
    (tmp_path / "old.py").unlink()
    assert b.book.states(proposal)["h1"] == HunkState(None, "old.py no longer exists")


async def test_a_move_conflicts_once_either_end_changed(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose("t", patch(MOVE))
    b.write("dst.py", "someone else's\n")
    expected = HunkState(None, "dst.py changed since the move was proposed")
    assert b.book.states(proposal)["h1"] == expected
    assert b.book.view("t") == {}
    decision = await b.book.accept(proposal.id, None, DiskApplier(b.workspace))
    assert decision.conflicted == ("h1",)
    assert (tmp_path / "dst.py").read_text() == "someone else's\n"
    (tmp_path / "dst.py").unlink()
    assert b.book.states(proposal)["h1"] == HunkState(0)
    b.write("src.py", "one, edited\n")
    assert b.book.states(proposal)["h1"] == HunkState(None, "src.py changed since the change was proposed")


async def test_a_move_onto_a_file_conflicts_once_that_file_changed(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    b.write("dst.py", "was here\n")
    proposal = b.propose("t", patch(MOVE))
    assert b.book.states(proposal)["h1"] == HunkState(0)
    assert b.book.view("t") == {"src.py": None, "dst.py": "uno\n"}
    b.write("dst.py", "was here, edited\n")
    assert b.book.states(proposal)["h1"] == HunkState(None, "dst.py changed since the move was proposed")
    (tmp_path / "dst.py").unlink()
    assert b.book.states(proposal)["h1"].conflict == "dst.py changed since the move was proposed"


async def test_a_move_to_a_new_path_conflicts_once_a_directory_is_there(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose("t", patch(MOVE))
    (tmp_path / "dst.py").mkdir()
    assert b.book.states(proposal)["h1"].conflict == "dst.py changed since the move was proposed"


# -- events and decisions ---------------------------------------------------------------------------


class Reformatter(Recorder):
    """Applies the change, then the editor reformats another part of the file (as format-on-save)."""

    def __init__(self, workspace: LocalWorkspace, path: str, old: str, new: str) -> None:
        super().__init__(workspace)
        self.path, self.old, self.new = path, old, new

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        outcome = await super().apply(result, turn_id=turn_id, summary=summary)
        file = self.disk.workspace.root / self.path
        file.write_text(file.read_text().replace(self.old, self.new))
        return outcome


async def test_accepting_names_the_hunks_it_settled_and_those_it_made_conflict(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three"), ("line 14", "fourteen"), ("line 25", "25")))
    b.write("a.py", BODY.replace("line 25\n", "line 25 (mine)\n"))
    assert b.book.states(proposal)["h3"].conflict is not None
    applier = Reformatter(b.workspace, "a.py", "line 13\n", "line thirteen\n")
    decision = await b.book.accept(proposal.id, ["h1"], applier)
    assert decision == (proposal.id, ("h1",), (), "")
    assert b.events[-1] == ProposalEvent(proposal, "accepted", ("h1",), ("h2",))
    assert proposal.hunk("h1") is not None
    assert proposal.hunk("h1").reason == "accepted by the user"  # type: ignore[union-attr]


async def test_accepting_only_now_fitting_hunks_reports_no_conflict(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three"), ("line 14", "fourteen")))
    await b.book.accept(proposal.id, ["h1"], DiskApplier(b.workspace))
    assert b.events[-1] == ProposalEvent(proposal, "accepted", ("h1",), ())


async def test_an_edit_the_host_refuses_settles_nothing_and_says_why(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three")))
    decision = await b.book.accept(proposal.id, None, Recorder(b.workspace, refuse=""))
    assert decision == (proposal.id, (), (), "the edit was not applied")
    decision = await b.book.accept(proposal.id, None, Recorder(b.workspace, refuse="the buffer changed"))
    assert decision == (proposal.id, (), (), "the buffer changed")
    assert [h.id for h in proposal.pending()] == ["h1"]
    assert [e.reason for e in b.events] == ["held"]


async def test_listeners_hear_which_hunks_each_event_concerns(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.book.start_turn("thread", "t1")
    proposal = b.propose(
        "t1", update("a.py", ("line 3", "three"), ("line 14", "fourteen"), ("line 25", "25"))
    )
    assert b.events[-1] == ProposalEvent(proposal, "held", ("h1", "h2", "h3"))
    b.book.reject(proposal.id, ["h2"])
    assert b.events[-1] == ProposalEvent(proposal, "rejected", ("h2",))
    b.book.start_turn("thread", "t2")
    assert b.events[-1] == ProposalEvent(proposal, "superseded", ("h1", "h3"))


async def test_rejecting_everything_is_a_discard(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.book.start_turn("thread", "t1")
    proposal = b.propose("t1", update("a.py", ("line 3", "three"), ("line 14", "fourteen")))
    assert b.book.reject(proposal.id, None).done == ("h1", "h2")
    assert b.events[-1] == ProposalEvent(proposal, "discarded", ("h1", "h2"))
    assert [(h.status, h.reason) for h in proposal.hunks] == [("discarded", "discarded by the user")] * 2


def test_unknown_or_decided_ids_are_refused_readably(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three"), ("line 14", "fourteen")))
    with pytest.raises(
        KeyError, match=re.escape("no proposal 'p-nope'; codex.proposals lists the pending ones")
    ):
        b.book.reject("p-nope", None)
    with pytest.raises(KeyError, match=f"proposal {proposal.id} has no hunk 'h9'"):
        b.book.reject(proposal.id, ["h9"])
    b.book.reject(proposal.id, ["h1"])
    with pytest.raises(KeyError, match=f"hunk h1 of proposal {proposal.id} is already rejected"):
        b.book.prepare(proposal.id, ["h1"])


async def test_a_re_proposed_rejected_change_is_a_new_hunk(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    proposal = b.propose("t", update("a.py", ("line 3", "three")))
    b.book.reject(proposal.id, ["h1"])
    b.propose("t", update("a.py", ("line 3", "three")))
    assert [(h.id, h.status) for h in proposal.hunks] == [("h1", "rejected"), ("h2", "pending")]
    assert b.events[-1] == ProposalEvent(proposal, "held", ("h2",))


# -- notes, restore -----------------------------------------------------------------------------------


def test_the_note_covers_every_unreported_proposal_of_the_thread_only(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.book.start_turn("other", "x")
    other = b.propose("x", update("a.py", ("line 1", "one")))
    b.book.reject(other.id, None)
    b.book.start_turn("thread", "t1")
    first = b.propose("t1", update("a.py", ("line 3", "three")))
    b.book.reject(first.id, None)
    b.book.start_turn("thread", "t2")
    second = b.propose("t2", update("a.py", ("line 14", "fourteen")))
    b.book.reject(second.id, None)
    assert b.book.note_for("thread") == render_note(first) + "\n\n" + render_note(second)
    assert other.reported is False
    assert first.reported
    assert second.reported


def test_restore_skips_what_is_loaded_or_finished_and_reports_conflicts(tmp_path: Path) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    (root / "a.py").write_text(BODY)
    workspace = LocalWorkspace(root)
    book = ProposalBook(workspace, ProposalStore(state))
    finished = _hold(book, "t0", update("a.py", ("line 1", "one")))
    book.reject(finished.id, None)
    assert book.note_for("") is not None
    loaded = _hold(book, "t1", update("a.py", ("line 3", "three")))
    pending = _hold(book, "t2", update("a.py", ("line 14", "fourteen"), ("line 25", "25")))
    # Saved oldest first; the finished one as a crash before its removal would leave it.
    for proposal, at in ((finished, 1.0), (loaded, 2.0), (pending, 3.0)):
        proposal.created_at = at
        book.store.save(proposal)
    (root / "a.py").write_text(BODY.replace("line 25\n", "line 25 (mine)\n"))

    restarted = ProposalBook(workspace, ProposalStore(state))
    events: list[ProposalEvent] = []
    restarted.listeners.append(events.append)
    restarted.proposals[loaded.id] = loaded  # already known to this book: not loaded twice
    assert [p.id for p in restarted.restore()] == [pending.id]
    assert events == [ProposalEvent(restarted.proposals[pending.id], "restored", ("h1", "h2"), ("h2",))]
    assert not (state / f"{finished.id}.json").exists()


def _hold(book: ProposalBook, turn_id: str, text: str) -> Proposal:
    view = PendingWorkspace(book.workspace, book, turn_id)
    return book.hold(turn_id, compute_changes(parse_patch(text), view.file_source()))


# -- moves across several patches of a turn, and what the user is shown --------------------------------


def test_the_diffs_show_a_move_as_a_rename_and_every_other_file(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    b.write("a.py", BODY)
    b.write("gone.py", "x\n")
    proposal = b.propose(
        "t", patch(MOVE, "*** Update File: a.py\n@@\n-line 3\n+three\n", "*** Delete File: gone.py\n")
    )
    b.propose("t", patch("*** Add File: new.py\n+n\n"))
    assert b.book.diffs(proposal.id) == [
        ("src.py", render_unified_diff("src.py", "one\n", "uno\n", new_path="dst.py")),
        ("a.py", render_unified_diff("a.py", BODY, edited(l3="three"))),
        ("gone.py", render_unified_diff("gone.py", "x\n", None)),
        ("new.py", render_unified_diff("new.py", None, "n\n")),
    ]


def test_the_diffs_leave_out_a_conflicted_file(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.write("b.py", BODY)
    proposal = b.propose(
        "t",
        patch("*** Update File: a.py\n@@\n-line 3\n+three\n", "*** Update File: b.py\n@@\n-line 3\n+three\n"),
    )
    b.write("a.py", "")
    assert b.book.diffs(proposal.id) == [("b.py", render_unified_diff("b.py", BODY, edited(l3="three")))]


def test_a_moved_file_moved_again_is_one_move(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", "one\n")
    b.propose("t", patch("*** Update File: a.py\n*** Move to: b.py\n@@\n-one\n+uno\n"))
    proposal = b.propose("t", patch("*** Update File: b.py\n*** Move to: c.py\n@@\n-uno\n+eins\n"))
    assert [(h.kind, h.path, h.move_to, h.text) for h in proposal.pending()] == [
        ("move", "a.py", "c.py", "eins\n")
    ]
    assert b.book.view("t") == {"a.py": None, "c.py": "eins\n"}


def test_a_later_move_does_not_undo_an_earlier_one(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", "one\n")
    b.write("c.py", "three\n")
    b.propose("t", patch("*** Update File: a.py\n*** Move to: b.py\n@@\n-one\n+uno\n"))
    proposal = b.propose("t", patch("*** Update File: c.py\n*** Move to: d.py\n@@\n-three\n+tres\n"))
    assert [(h.kind, h.path, h.move_to) for h in proposal.pending()] == [
        ("move", "a.py", "b.py"),
        ("move", "c.py", "d.py"),
    ]


def test_a_source_written_again_after_its_move_is_a_new_file_beside_the_moved_one(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    b.propose("t", patch(MOVE))
    proposal = b.propose("t", patch("*** Add File: src.py\n+fresh\n"))
    assert b.book.view("t") == {"src.py": "fresh\n", "dst.py": "uno\n"}
    assert sorted(h.kind for h in proposal.pending()) == ["add", "update"]
    assert proposal.moves == {}, "no longer a move"


def test_a_move_keeps_its_conflict_when_a_later_patch_changes_another_file(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    b.write("other.py", "x\n")
    proposal = b.propose("t", patch(MOVE))
    b.write("src.py", "one, edited\n")
    b.propose("t", patch("*** Update File: other.py\n@@\n-x\n+y\n"))
    move = next(h for h in proposal.pending() if h.kind == "move")
    assert b.book.states(proposal)[move.id].conflict == "src.py changed since the change was proposed"


def test_a_source_edited_again_after_its_move_conflicted_is_an_edit_in_place(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose("t", patch(MOVE))
    b.write("src.py", "one\ntwo\n")
    assert b.book.view("t") == {}, "the move conflicts: the turn sees src.py as it is"
    b.propose("t", patch("*** Update File: src.py\n@@\n-two\n+dos\n"))
    assert [h.kind for h in proposal.pending()] == ["update"]
    assert b.book.view("t") == {"src.py": "one\ndos\n"}


def test_a_move_whose_source_the_user_replaced_with_a_binary_file_leaves_that_file_alone(
    tmp_path: Path,
) -> None:
    """The move conflicts; when the turn then writes the destination itself, the user's file is neither
    deleted nor moved: a non-text file is not an absent one."""
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose("t", patch(MOVE))
    (tmp_path / "src.py").write_bytes(b"\xff\xfe")
    b.propose("t", patch("*** Add File: dst.py\n+x\n"))
    assert [(h.kind, h.path, h.move_to) for h in proposal.pending()] == [("add", "dst.py", None)]
    assert proposal.moves == {}
    assert b.book.view("t") == {"dst.py": "x\n"}


def test_a_move_whose_source_the_user_edited_leaves_that_file_alone_when_the_turn_writes_the_destination(
    tmp_path: Path,
) -> None:
    """The user's edit makes the move conflict; the turn then writes the destination itself: the edited
    source stays, it is neither moved over the destination nor deleted."""
    b = Book(tmp_path)
    b.write("src.py", "one\n")
    proposal = b.propose("t", patch(MOVE))
    b.write("src.py", "one\ntwo\n")
    b.propose("t", patch("*** Add File: dst.py\n+x\n"))
    assert [(h.kind, h.path, h.move_to) for h in proposal.pending()] == [("add", "dst.py", None)]
    assert proposal.moves == {}
    assert b.book.view("t") == {"dst.py": "x\n"}


def test_a_file_added_then_deleted_by_the_turn_leaves_nothing(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.propose("t", patch("*** Add File: new.py\n+x\n"))
    proposal = b.propose("t", patch("*** Delete File: new.py\n"))
    assert proposal.pending() == []
    assert b.book.view("t") == {}


class Editor(LocalWorkspace):
    """A workspace whose files ``b.py`` and ``a.py`` are open in the editor."""

    def open_buffers(self) -> list[OpenBuffer]:
        return [OpenBuffer(path="b.py", version=9), OpenBuffer(path="a.py", version=7)]


def test_a_proposal_records_the_buffer_version_its_hunks_were_computed_against(tmp_path: Path) -> None:
    b = Book(tmp_path, Editor(tmp_path))
    b.write("a.py", BODY)
    b.write("c.py", BODY)
    proposal = b.propose(
        "t",
        patch("*** Update File: a.py\n@@\n-line 3\n+three\n", "*** Update File: c.py\n@@\n-line 3\n+three\n"),
    )
    assert proposal.versions == {"a.py": 7, "c.py": None}


def test_re_anchoring_one_proposal_keeps_what_another_knew(tmp_path: Path) -> None:
    b = Book(tmp_path)
    b.write("a.py", BODY)
    b.book.start_turn("one", "t1")
    first = b.propose("t1", update("a.py", ("line 3", "three")))
    b.book.start_turn("two", "t2")
    second = b.propose("t2", update("a.py", ("line 25", "25")))
    b.write("a.py", BODY.replace("line 3\n", "3\n").replace("line 25\n", "25?\n"))
    assert b.book.states(first)["h1"].conflict is not None
    assert b.book.states(second)["h1"].conflict is not None
    b.write("a.py", BODY.replace("line 3\n", "3\n").replace("line 25\n", "25?\n").replace("line 9\n", "9\n"))
    b.book.file_changed("a.py", "changed on disk")
    assert [e.conflicts for e in b.events[-2:]] == [(), ()], "both hunks were conflicted already"
