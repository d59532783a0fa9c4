"""The proposal book's side of an edit the host applies itself (a refactor preview, a code action),
of files changing under the pending hunks, and of why a hunk became conflicted: in-process, no editor."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from codex_lsp.agent.book import ProposalBook
from codex_lsp.agent.proposals import Decision, HunkState, Prepared, ProposalEvent, ProposalStore
from codex_lsp.patch import TextEdit
from tests.agent.test_proposals import BODY, THREE, edited, propose, setup_book, update


def with_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """``text`` with ``edits`` (against ``text``, not overlapping) applied: what an editor writes."""
    out, cursor = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        out += [text[cursor : edit.start], edit.text]
        cursor = edit.end
    return "".join(out) + text[cursor:]


def held(root: Path, patch: str = THREE) -> tuple[ProposalBook, list[ProposalEvent], str]:
    """A book holding ``patch`` (on ``a.py`` = BODY by default), and the events it emits from now."""
    if not (root / "a.py").exists():
        (root / "a.py").write_text(BODY)
    book, _ = setup_book(root)
    propose(book, "turn", patch)
    (proposal,) = book.listed()
    events: list[ProposalEvent] = []
    book.listeners.append(events.append)
    return book, events, proposal.id


def apply_kept(root: Path, prepared: Prepared, kept: Sequence[str]) -> None:
    """The editor applied the preview with only the hunks ``kept`` ticked."""
    for change in prepared.changes:
        edits = [
            e for h in prepared.ready if h.id in kept and h.path == change.path for e in prepared.edits[h.id]
        ]
        assert change.old_text is not None
        (root / change.path).write_text(with_edits(change.old_text, edits))


# -- get ----------------------------------------------------------------------------------------------


def test_a_proposal_is_found_by_its_id(tmp_path: Path) -> None:
    book, _, proposal_id = held(tmp_path)
    proposal = book.get(proposal_id)
    assert proposal is not None
    assert proposal.id == proposal_id
    assert book.get("p-unknown") is None


# -- settle_applied -----------------------------------------------------------------------------------


def test_a_trimmed_preview_settles_only_the_hunks_the_user_kept(tmp_path: Path) -> None:
    book, events, proposal_id = held(tmp_path)
    prepared = book.prepare(proposal_id, None)
    apply_kept(tmp_path, prepared, ["h2"])
    assert (tmp_path / "a.py").read_text() == edited(l14="fourteen")

    decision = book.settle_applied(prepared)

    assert decision == Decision(proposal_id, ("h2",), (), "")
    proposal = book.get(proposal_id)
    assert proposal is not None
    statuses = {h.id: (h.status, h.reason) for h in proposal.hunks}
    assert statuses == {
        "h1": ("pending", ""),
        "h2": ("accepted", "accepted by the user"),
        "h3": ("pending", ""),
    }
    assert events == [ProposalEvent(proposal, "accepted", ("h2",))]
    assert [h.id for h in book.listed()[0].pending()] == ["h1", "h3"]


def test_a_whole_preview_settles_every_hunk_whatever_order_they_were_chosen_in(tmp_path: Path) -> None:
    book, events, proposal_id = held(tmp_path)
    prepared = book.prepare(proposal_id, ["h3", "h1", "h2"])
    apply_kept(tmp_path, prepared, ["h1", "h2", "h3"])
    decision = book.settle_applied(prepared)
    assert decision.done == ("h3", "h1", "h2")
    assert book.listed() == []
    assert [(e.reason, e.hunks) for e in events] == [("accepted", ("h3", "h1", "h2"))]


def test_a_preview_across_files_settles_each_file_by_its_own_edits(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("alpha\nbeta\n")
    patch = THREE.replace("*** End Patch", "*** Update File: b.py\n@@\n-beta\n+BETA\n*** End Patch")
    book, _, proposal_id = held(tmp_path, patch)
    prepared = book.prepare(proposal_id, None)
    assert [c.path for c in prepared.changes] == ["a.py", "b.py"]
    apply_kept(tmp_path, prepared, ["h1", "h4"])
    assert book.settle_applied(prepared).done == ("h1", "h4")


def test_a_preview_filling_an_empty_file_settles(tmp_path: Path) -> None:
    (tmp_path / "e.py").write_text("")
    patch = "*** Begin Patch\n*** Update File: e.py\n@@\n+hello\n*** End Patch"
    book, _, proposal_id = held(tmp_path, patch)
    prepared = book.prepare(proposal_id, None)
    apply_kept(tmp_path, prepared, ["h1"])
    assert (tmp_path / "e.py").read_text() == "hello\n"
    assert book.settle_applied(prepared).done == ("h1",)


@pytest.mark.parametrize(
    "meddle",
    [
        pytest.param(lambda path: path.write_text(path.read_text() + "# and more\n"), id="also-changed"),
        pytest.param(lambda path: path.unlink(), id="deleted"),
    ],
)
def test_nothing_settles_when_the_file_is_not_the_preview_s_result(
    tmp_path: Path, meddle: Callable[[Path], object]
) -> None:
    book, _, proposal_id = held(tmp_path)
    prepared = book.prepare(proposal_id, None)
    apply_kept(tmp_path, prepared, ["h1", "h2", "h3"])
    meddle(tmp_path / "a.py")
    assert book.settle_applied(prepared) == Decision(proposal_id, ())
    assert [h.id for h in book.listed()[0].pending()] == ["h1", "h2", "h3"]


def test_a_preview_tells_which_hunks_it_left_out_as_conflicted(tmp_path: Path) -> None:
    book, _, proposal_id = held(tmp_path)
    (tmp_path / "a.py").write_text(BODY.replace("line 14\n", "line 14 (changed)\n"))
    prepared = book.prepare(proposal_id, None)
    assert prepared.conflicted == ("h2",)
    apply_kept(tmp_path, prepared, ["h1", "h3"])
    decision = book.settle_applied(prepared)
    assert decision.done == ("h1", "h3")
    assert decision.conflicted == ("h2",)
    assert decision.message == prepared.message
    assert decision.message.startswith("not applied, conflicted: h2 ")


WHOLE = (
    "*** Begin Patch\n*** Add File: new.py\n+hello\n*** Delete File: old.py\n"
    "*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"
)


def _all_done(root: Path) -> None:
    (root / "new.py").write_text("hello\n")
    (root / "old.py").unlink()
    (root / "src.py").unlink()
    (root / "dst.py").write_text("uno\n")


def _others_did_it(root: Path) -> None:
    (root / "new.py").write_text("someone else's\n")  # exists, but not as proposed
    (root / "src.py").unlink()
    (root / "dst.py").write_text("dos\n")  # the source is gone, the destination is not the move's


def _copied_not_moved(root: Path) -> None:
    (root / "dst.py").write_text("uno\n")
    (root / "old.py").unlink()


def _source_lost(root: Path) -> None:
    (root / "src.py").unlink()


@pytest.mark.parametrize(
    ("happen", "landed"),
    [
        (_all_done, ["add", "delete", "move"]),
        (lambda root: None, []),
        (_others_did_it, []),
        (_copied_not_moved, ["delete"]),
        (_source_lost, []),
    ],
    ids=["all-done", "nothing-done", "others-did-it", "copied-not-moved", "source-lost"],
)
def test_whole_file_hunks_settle_once_their_change_is_in_the_workspace(
    tmp_path: Path, happen: Callable[[Path], None], landed: list[str]
) -> None:
    (tmp_path / "old.py").write_text("bye\n")
    (tmp_path / "src.py").write_text("one\n")
    book, _, proposal_id = held(tmp_path, WHOLE)
    prepared = book.prepare(proposal_id, None)
    assert sorted(h.kind for h in prepared.ready) == ["add", "delete", "move"]
    happen(tmp_path)
    done = book.settle_applied(prepared).done
    proposal = book.get(proposal_id)
    assert proposal is not None
    assert sorted(h.kind for h in proposal.hunks if h.id in done) == landed
    assert sorted(h.kind for h in proposal.hunks if h.status == "accepted") == landed


# -- file_changed -------------------------------------------------------------------------------------


def test_a_change_to_another_file_is_no_news(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("b\n")
    book, events, _ = held(tmp_path)
    (tmp_path / "b.py").write_text("b changed\n")
    assert book.file_changed("b.py", "b.py changed") is None
    assert events == []


def test_a_file_changed_under_pending_hunks_is_re_anchored_and_new_conflicts_named(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("alpha\nbeta\n")
    patch = THREE.replace("*** End Patch", "*** Update File: b.py\n@@\n-beta\n+BETA\n*** End Patch")
    book, events, proposal_id = held(tmp_path, patch)
    proposal = book.get(proposal_id)
    assert proposal is not None
    assert book.states(proposal)["h2"].conflict is None
    (tmp_path / "a.py").write_text("# new first line\n" + BODY.replace("line 14\n", "line 14 (changed)\n"))

    event = book.file_changed("a.py", "a.py changed on disk")

    assert event == ProposalEvent(proposal, "reanchored", ("h1", "h2", "h3"), ("h2",), "a.py changed on disk")
    assert events == [event]
    assert book.states(proposal)["h1"].line == 4, "found one line lower"


def test_a_conflict_already_known_is_not_named_again(tmp_path: Path) -> None:
    book, _, proposal_id = held(tmp_path)
    proposal = book.get(proposal_id)
    assert proposal is not None
    (tmp_path / "a.py").write_text(BODY.replace("line 14\n", "line 14 (changed)\n"))
    assert book.states(proposal)["h2"].conflict is not None  # the user has seen it conflicted
    (tmp_path / "a.py").write_text("# new first line\n" + BODY.replace("line 14\n", "line 14 (changed)\n"))
    event = book.file_changed("a.py", "changed again")
    assert event is not None
    assert (event.hunks, event.conflicts) == (("h1", "h2", "h3"), ())
    (tmp_path / "a.py").write_text(
        BODY.replace("line 14\n", "line 14 (changed)\n").replace("line 3\n", "3\n")
    )
    event = book.file_changed("a.py", "and again")
    assert event is not None
    assert event.conflicts == ("h1",)


def test_a_file_that_still_holds_what_the_host_showed_is_no_news(tmp_path: Path) -> None:
    book, events, _ = held(tmp_path)
    assert book.file_changed("a.py", "closed", before=BODY) is None
    assert events == []
    moved = "# new first line\n" + BODY
    (tmp_path / "a.py").write_text(moved)
    event = book.file_changed("a.py", "closed", before=BODY)
    assert event is not None
    assert (event.reason, event.hunks, event.conflicts) == ("reanchored", ("h1", "h2", "h3"), ())
    event = book.file_changed("a.py", "changed")
    assert event is not None, "without the text shown before, any change is news"
    assert event.conflicts == ()
    assert len(events) == 2


def test_every_proposal_on_the_file_hears_of_the_change(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BODY)
    (tmp_path / "b.py").write_text("b\n")
    book, _ = setup_book(tmp_path)
    propose(book, "turn-b", "*** Begin Patch\n*** Update File: b.py\n@@\n-b\n+B\n*** End Patch")
    propose(book, "turn-3", update("a.py", ("line 3", "three")))
    propose(book, "turn-14", update("a.py", ("line 14", "fourteen")))
    _, on_3, on_14 = book.listed()  # the first, on b.py, is passed over
    events: list[ProposalEvent] = []
    book.listeners.append(events.append)
    changed = BODY.replace("line 14\n", "line 14 (changed)\n")
    (tmp_path / "a.py").write_text(changed)

    event = book.file_changed("a.py", "closed", before=changed)

    assert event is not None
    assert (event.proposal, event.conflicts) == (on_14, ("h1",)), (
        "the text is what the host showed, but turn-14's hunk is newly conflicted"
    )
    assert events == [event], "turn-3's hunk still fits the text the user saw: no news"
    assert book.states(on_3)["h1"] == HunkState(3, None, 3)


# -- drop ---------------------------------------------------------------------------------------------


def test_a_dropped_proposal_is_forgotten_with_its_saved_copy_silently(tmp_path: Path) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    (root / "a.py").write_text(BODY)
    (root / "b.py").write_text("b\n")
    book, _ = setup_book(root, ProposalStore(state))
    propose(book, "kept", "*** Begin Patch\n*** Update File: b.py\n@@\n-b\n+B\n*** End Patch")
    propose(book, "dropped", THREE)
    kept, dropped = book.listed()
    events: list[ProposalEvent] = []
    book.listeners.append(events.append)
    book.prepare(dropped.id, None)  # placed, as a code action does before handing the edit over
    book.prepare(kept.id, None)
    assert (state / f"{dropped.id}.json").exists()

    book.drop(dropped.id)
    book.drop("p-unknown")

    assert book.get(dropped.id) is None
    assert book.listed() == [kept]
    assert sorted(p.name for p in state.iterdir()) == [f"{kept.id}.json"]
    assert events == []
    assert book.states(kept)["h1"].conflict is None


# -- why a hunk is conflicted -------------------------------------------------------------------------


def test_a_conflict_says_why_the_hunk_cannot_be_placed(tmp_path: Path) -> None:
    book, _, proposal_id = held(tmp_path)
    proposal = book.get(proposal_id)
    assert proposal is not None
    path = tmp_path / "a.py"

    path.write_text(BODY.replace("line 14\n", "line 14 (changed)\n"))
    states = book.states(proposal)
    assert (states["h1"].conflict, states["h3"].conflict) == (None, None)
    assert states["h2"].line is None
    assert states["h2"].conflict == (
        "its lines no longer fit exactly one place in a.py (Failed to find expected lines in a.py:)"
    ), "only the error's first line: the lines themselves are in the hunk"

    path.unlink()
    assert {h: (s.line, s.conflict) for h, s in book.states(proposal).items()} == {
        h: (None, "a.py no longer exists") for h in ("h1", "h2", "h3")
    }

    path.mkdir()
    assert {h: (s.line, s.conflict) for h, s in book.states(proposal).items()} == {
        h: (None, "a.py is no longer a text file") for h in ("h1", "h2", "h3")
    }
    shutil.rmtree(path)
    path.write_text(BODY)
    assert all(s.conflict is None for s in book.states(proposal).values()), "pending again"


def test_of_two_pending_hunks_on_the_same_lines_the_second_is_conflicted(tmp_path: Path) -> None:
    """Hunks computed together never overlap, but a saved proposal is data: if two pending hunks
    land on the same lines, only the first is placed, and the other says so instead of guessing."""
    book, _, proposal_id = held(tmp_path, update("a.py", ("line 3", "three")))
    proposal = book.get(proposal_id)
    assert proposal is not None
    proposal.hunks.append(proposal.hunks[0].model_copy(update={"id": "h2", "new_lines": ("tres",)}))
    states = book.states(proposal)
    assert (states["h1"].line, states["h1"].conflict) == (3, None)
    assert (states["h2"].line, states["h2"].conflict) == (None, "it overlaps another pending hunk of a.py")
