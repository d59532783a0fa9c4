"""Review mode in the agent, without an editor: proposals held, viewed, decided, noted, saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_lsp.agent.agent import TurnRequest
from codex_lsp.agent.book import ProposalBook
from codex_lsp.agent.local import DiskApplier, LocalWorkspace
from codex_lsp.agent.proposals import ProposalEvent, ProposalStore
from codex_lsp.agent.review import PendingWorkspace, ReviewApplier
from codex_lsp.patch import PatchResult, compute_changes, parse_patch
from tests.agent.harness import call, harness, outputs, patch_call, say, user_texts

BODY = "".join(f"line {n}\n" for n in range(30))


def edited(**lines: str) -> str:
    return "".join(lines.get(f"l{n}", f"line {n}") + "\n" for n in range(30))


def update(path: str, *pairs: tuple[str, str]) -> str:
    chunks = "".join(f"@@\n-{old}\n+{new}\n" for old, new in pairs)
    return f"*** Begin Patch\n*** Update File: {path}\n{chunks}*** End Patch"


def setup_book(root: Path, store: ProposalStore | None = None) -> tuple[ProposalBook, LocalWorkspace]:
    workspace = LocalWorkspace(root)
    return ProposalBook(workspace, store), workspace


def propose(book: ProposalBook, turn_id: str, patch: str) -> PatchResult:
    view = PendingWorkspace(book.workspace, book, turn_id)
    result = compute_changes(parse_patch(patch), view.file_source())
    book.hold(turn_id, result)
    return result


THREE = update("a.py", ("line 3", "three"), ("line 14", "fourteen"), ("line 25", "twenty-five"))


async def test_hunks_are_decided_one_by_one_and_the_thread_hears_of_it(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BODY)
    book, workspace = setup_book(tmp_path)
    events: list[ProposalEvent] = []
    book.listeners.append(events.append)
    book.start_turn("thread-1", "turn-1")
    propose(book, "turn-1", THREE)
    (proposal,) = book.listed()
    assert [h.id for h in proposal.hunks] == ["h1", "h2", "h3"]
    assert (tmp_path / "a.py").read_text() == BODY, "held, not applied"
    assert book.view("turn-1") == {"a.py": edited(l3="three", l14="fourteen", l25="twenty-five")}
    assert book.view("another-turn") == {}, "only the turn itself sees its pending changes"

    decision = await book.accept(proposal.id, ["h2"], DiskApplier(workspace))
    assert decision.done == ("h2",)
    assert (tmp_path / "a.py").read_text() == edited(l14="fourteen")
    await book.accept(proposal.id, ["h1"], DiskApplier(workspace))
    assert (tmp_path / "a.py").read_text() == edited(l3="three", l14="fourteen")
    book.reject(proposal.id, ["h3"])
    assert (tmp_path / "a.py").read_text() == edited(l3="three", l14="fourteen")
    assert book.listed() == []
    assert [e.reason for e in events] == ["held", "accepted", "accepted", "rejected"]

    note = book.note_for("thread-1")
    assert note is not None
    assert "2 of 3 hunks were applied" in note
    assert "a.py @@ -23,7 +23,7 @@ (rejected by the user)" in note
    assert "+twenty-five" in note
    assert book.note_for("thread-1") is None, "told once"


async def test_a_second_patch_of_the_turn_builds_on_the_first(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BODY)
    book, _ = setup_book(tmp_path)
    propose(book, "t", update("a.py", ("line 3", "three"), ("line 20", "twenty")))
    first = {h.id: h.key() for h in book.listed()[0].hunks}
    propose(book, "t", update("a.py", ("three", "THREE")))  # matches only the proposed text
    (proposal,) = book.listed()
    assert [h.id for h in proposal.pending()] == ["h3", "h2"], (
        "in file order; the untouched hunk keeps its id"
    )
    kept = proposal.hunk("h2")
    assert kept is not None
    assert kept.key() == first["h2"]
    assert book.view("t") == {"a.py": edited(l3="THREE", l20="twenty")}


async def test_a_new_turn_on_the_thread_discards_what_is_pending(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BODY)
    book, _ = setup_book(tmp_path)
    events: list[ProposalEvent] = []
    book.listeners.append(events.append)
    book.start_turn("thread", "turn-1")
    propose(book, "turn-1", THREE)
    book.start_turn("other-thread", "turn-x")
    assert book.listed(), "a turn on another thread leaves it alone"
    book.start_turn("thread", "turn-2")
    assert book.listed() == []
    assert events[-1].reason == "superseded"
    note = book.note_for("thread")
    assert note is not None
    assert "0 of 3 hunks were applied" in note
    assert "a new turn started on the thread before the user decided" in note
    assert (tmp_path / "a.py").read_text() == BODY


async def test_whole_file_hunks_and_conflicts(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text("bye\n")
    (tmp_path / "src.py").write_text("one\n")
    book, workspace = setup_book(tmp_path)
    patch = (
        "*** Begin Patch\n*** Add File: new.py\n+hello\n*** Delete File: old.py\n"
        "*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"
    )
    propose(book, "t", patch)
    (proposal,) = book.listed()
    assert sorted(h.kind for h in proposal.hunks) == ["add", "delete", "move"]
    assert book.view("t") == {"new.py": "hello\n", "old.py": None, "src.py": None, "dst.py": "uno\n"}
    (tmp_path / "new.py").write_text("someone else's\n")
    states = book.states(proposal)
    add = next(h for h in proposal.hunks if h.kind == "add")
    assert states[add.id].conflict == "new.py exists now"
    decision = await book.accept(proposal.id, None, DiskApplier(workspace))
    assert add.id in decision.conflicted
    assert (tmp_path / "new.py").read_text() == "someone else's\n", "a conflicted hunk is never applied"
    assert not (tmp_path / "old.py").exists()
    assert (tmp_path / "dst.py").read_text() == "uno\n"
    assert not (tmp_path / "src.py").exists()


async def test_proposals_survive_a_restart_re_anchored(tmp_path: Path) -> None:
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    (root / "a.py").write_text(BODY)
    book, _ = setup_book(root, ProposalStore(state))
    book.start_turn("thread", "turn-1")
    propose(book, "turn-1", THREE)
    proposal_id = book.listed()[0].id
    (root / "a.py").write_text("# typed while the server was down\n" + BODY)

    restarted, workspace = setup_book(root, ProposalStore(state))
    events: list[ProposalEvent] = []
    restarted.listeners.append(events.append)
    (proposal,) = restarted.restore()
    assert proposal.id == proposal_id
    assert [e.reason for e in events] == ["restored"]
    assert restarted.states(proposal)["h1"].line == 4, "found by content below the new line"
    await restarted.accept(proposal_id, None, DiskApplier(workspace))
    assert (root / "a.py").read_text() == "# typed while the server was down\n" + edited(
        l3="three", l14="fourteen", l25="twenty-five"
    )
    assert list(state.glob("*.json")), "kept until the thread hears of it"
    assert restarted.note_for("thread") is not None
    assert not list(state.glob("*.json")), "then forgotten"


async def test_a_review_turn_holds_its_changes_and_reads_them_back(tmp_path: Path) -> None:
    """End to end with the fake model: nothing is written, the model is told the change is pending,
    its reads see the pending text, and its next turn hears what the user rejected."""
    async with harness(tmp_path) as h:
        (h.root / "a.py").write_text(BODY)
        h.load(
            [
                {"output": [patch_call(THREE)]},
                {"output": [call("read_file", path="a.py", start_line=4, end_line=4)]},
                {"output": [call("search", pattern="fourteen")]},
                {"output": [say("proposed")]},
            ],
            [{"output": [say("noted")]}],
        )
        agent = h.agent(edit_mode="review")
        result = await agent.run_turn(TurnRequest(prompt="edit"))
        assert result.status == "completed"
        assert result.changed_files == ()
        assert result.proposal_id is not None
        ((path, diff),) = result.diffs
        assert path == "a.py"
        assert "+fourteen" in diff
        assert (h.root / "a.py").read_text() == BODY
        held, read, found = outputs(h.generating[-1])
        assert "Held for the user's review" in held
        assert "Success" not in held
        assert "L4: three" in read
        assert "a.py:15: fourteen" in found
        agent.proposals.reject(result.proposal_id, ["h1"])
        await agent.proposals.accept(result.proposal_id, None, agent.applier)
        assert (h.root / "a.py").read_text() == edited(l14="fourteen", l25="twenty-five")
        await agent.run_turn(TurnRequest(prompt="next", thread_id=result.thread_id))
        assert "a.py @@ -1,7 +1,7 @@ (rejected by the user)" in user_texts(h.generating[-1])[-1]


@pytest.mark.parametrize("mode", ["auto", "review"])
async def test_review_applier_is_used_only_in_review_mode(tmp_path: Path, mode: str) -> None:
    async with harness(tmp_path) as h:
        agent = h.agent(edit_mode=mode)
        context = agent._tool_context("t")
        assert isinstance(context.applier, ReviewApplier) is (mode == "review")
        assert isinstance(context.workspace, PendingWorkspace) is (mode == "review")


async def test_a_move_stays_one_hunk_through_later_patches(tmp_path: Path) -> None:
    (tmp_path / "src.py").write_text("one\n")
    (tmp_path / "other.py").write_text("x\n")
    book, workspace = setup_book(tmp_path)
    propose(
        book,
        "t",
        "*** Begin Patch\n*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch",
    )
    propose(book, "t", update("other.py", ("x", "y")))
    propose(book, "t", update("dst.py", ("uno", "un")))
    (proposal,) = book.listed()
    assert sorted((h.kind, h.path, h.move_to) for h in proposal.pending()) == [
        ("move", "src.py", "dst.py"),
        ("update", "other.py", None),
    ]
    assert book.view("t") == {"other.py": "y\n", "src.py": None, "dst.py": "un\n"}
    await book.accept(proposal.id, None, DiskApplier(workspace))
    assert not (tmp_path / "src.py").exists()
    assert (tmp_path / "dst.py").read_text() == "un\n"


async def test_a_proposal_with_a_lone_surrogate_is_saved_and_restored_exactly(tmp_path: Path) -> None:
    """A patch may carry text UTF-8 cannot encode (the model streamed ``"\\ud800"``); the proposal
    file keeps it losslessly (a proposal is file content: escaping it would change what is applied)."""
    root, state = tmp_path / "ws", tmp_path / "state"
    root.mkdir()
    book, _ = setup_book(root, ProposalStore(state))
    book.start_turn("thread", "turn-1")
    propose(book, "turn-1", "*** Begin Patch\n*** Add File: odd.txt\n+half \ud83d emoji\n*** End Patch")
    (saved,) = book.listed()
    (restored,) = setup_book(root, ProposalStore(state))[0].restore()
    assert restored == saved
    assert "half \ud83d emoji" in restored.hunks[0].diff()
