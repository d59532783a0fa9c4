"""Review mode end to end under every capability profile: a turn's changes held as a proposal, hunks
accepted and rejected one by one and landing exactly right after other decisions and after the
user's own edits, conflicts never applied, code lenses, discard, apply-all, a turn building on its
own pending changes, the proposal's life (new turn, closed file, restart), preview and diff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pygls.exceptions import JsonRpcException

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import (
    PROFILES,
    Editor,
    Profile,
    call,
    editor_session,
    load,
    outputs,
    patch,
    say,
    user_texts,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

REVIEW = {"editMode": "review"}
BODY = "".join(f"line {n}\n" for n in range(30))


def edited(**lines: str) -> str:
    """``BODY`` with line ``n`` replaced by ``lines["l<n>"]``."""
    return "".join(lines.get(f"l{n}", f"line {n}") + "\n" for n in range(30))


def three(path: str) -> str:
    """A patch with three hunks: lines 3, 14 and 25 (0-based), each far from the others."""
    return (
        f"*** Begin Patch\n*** Update File: {path}\n@@\n-line 3\n+three\n@@\n-line 14\n+fourteen\n"
        "@@\n-line 25\n+twenty-five\n*** End Patch"
    )


ALL_THREE = edited(l3="three", l14="fourteen", l25="twenty-five")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def reviewer(
    request: pytest.FixtureRequest, fake: FakeResponsesServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Editor]:
    profile: Profile = request.param
    async with editor_session(
        tmp_path_factory.mktemp(profile), fake, profile, init_options=REVIEW
    ) as session:
        yield session


@pytest.fixture
def ed(reviewer: Editor) -> Editor:
    reviewer.apply_mode = "apply"
    reviewer.answer = "Approve"
    reviewer.drop_annotations = set()
    reviewer.drop_edits = set()
    return reviewer


async def propose(
    ed: Editor, fake: FakeResponsesServer, name: str, *, open_it: bool = True
) -> dict[str, Any]:
    path = f"{name}/a.py"
    ed.write(path, BODY)
    uri = ed.open(path) if open_it else ed.uri(path)
    load(fake, [patch(three(path)), say("proposed")])
    result: dict[str, Any] = await ed.execute("codex.ask", {"prompt": "edit", "uri": uri})
    assert result["status"] == "completed", result
    return result


async def listed(ed: Editor, proposal_id: str) -> dict[str, Any] | None:
    proposals = (await ed.execute("codex.proposals"))["proposals"]
    return next((p for p in proposals if p["proposalId"] == proposal_id), None)


async def hunk_lines(ed: Editor, proposal_id: str) -> dict[str, tuple[str, int | None]]:
    proposal = await listed(ed, proposal_id)
    assert proposal is not None
    return {
        h["hunkId"]: (h["status"], h["range"]["start"]["line"] if h["range"] else None)
        for h in proposal["hunks"]
    }


async def test_a_proposal_is_created_and_nothing_is_applied(ed: Editor, fake: FakeResponsesServer) -> None:
    sent = len(ed.edits)
    result = await propose(ed, fake, "created")
    assert result["changedFiles"] == []
    ((diff,),) = [[d for d in result["diffs"] if d["path"] == "created/a.py"]]
    assert "-line 14\n+fourteen" in diff["diff"]
    assert ed.text("created/a.py") == BODY
    assert len(ed.edits) == sent, "nothing was sent to the editor"
    assert "Held for the user's review" in outputs(fake)[-1]
    assert "Success. Updated" not in outputs(fake)[-1]
    lines = await hunk_lines(ed, result["proposalId"])
    assert lines == {"h1": ("pending", 3), "h2": ("pending", 14), "h3": ("pending", 25)}
    proposal = await listed(ed, result["proposalId"])
    assert proposal is not None
    assert proposal["files"][0]["version"] == 1, "the buffer version the hunks were computed against"
    updates = [n for n in ed.of("codex/proposal/updated") if n.proposalId == result["proposalId"]]
    if ed.profile == "vscode":
        assert [n.reason for n in updates] == ["held"]
    else:
        assert updates == [], "only clients declaring experimental.codex get the notification"


async def test_accept_the_second_hunk_then_the_first_and_reject_the_third(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "decide")
    pid = result["proposalId"]
    sent = len(ed.edits)
    second = await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h2"})
    assert second["accepted"] == ["h2"]
    assert ed.text("decide/a.py") == edited(l14="fourteen")
    assert len(ed.edits) == sent + 1, "one workspace/applyEdit per decision"
    first = await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h1"})
    assert first["accepted"] == ["h1"]
    assert ed.text("decide/a.py") == edited(l3="three", l14="fourteen")
    third = await ed.execute("codex.rejectHunk", {"proposalId": pid, "hunkId": "h3"})
    assert third == {"proposalId": pid, "rejected": ["h3"], "conflicted": [], "message": "", "proposal": None}
    assert ed.text("decide/a.py") == edited(l3="three", l14="fourteen")
    assert await listed(ed, pid) is None
    with pytest.raises(JsonRpcException, match="already rejected"):
        await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h3"})

    load(fake, [say("understood")])
    await ed.execute("codex.ask", {"prompt": "next", "threadId": result["threadId"]})
    note = user_texts(fake)[-1]
    assert "2 of 3 hunks were applied" in note
    assert "decide/a.py @@ -23,7 +23,7 @@ (rejected by the user)" in note


async def test_hunks_follow_lines_the_user_inserts_between_decisions(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "typing")
    pid = result["proposalId"]
    await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h1"})
    typed = "# the user's\n# own lines\n"
    ed.type_text("typing/a.py", typed + ed.text("typing/a.py"))  # type: ignore[operator]
    assert (await hunk_lines(ed, pid))["h3"] == ("pending", 27)
    await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h3"})
    assert ed.text("typing/a.py") == typed + edited(l3="three", l25="twenty-five")


async def test_a_hunk_made_ambiguous_is_conflicted_and_never_applied(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "ambiguous")
    pid = result["proposalId"]
    around = "".join(f"line {n}\n" for n in range(11, 18))
    ed.type_text("ambiguous/a.py", BODY + around)  # hunk 2's lines now occur twice
    sent = len(ed.edits)
    decision = await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h2"})
    assert decision["accepted"] == []
    assert decision["conflicted"] == ["h2"]
    assert "no longer fit exactly one place" in decision["message"]
    assert len(ed.edits) == sent
    assert ed.text("ambiguous/a.py") == BODY + around
    assert (await hunk_lines(ed, pid))["h2"] == ("conflicted", None)
    flagged = [
        (lens.range.start.line, lens.command.title, lens.command.command)
        for lens in await ed.lenses("ambiguous/a.py")
        if lens.command and "h2" in lens.command.title
    ]
    assert flagged == [(0, "Codex: h2 no longer matches this file", "codex.showProposal")]
    everything = await ed.execute("codex.applyProposal", {"proposalId": pid})
    assert sorted(everything["accepted"]) == ["h1", "h3"]
    assert everything["conflicted"] == ["h2"]
    assert ed.text("ambiguous/a.py") == edited(l3="three", l25="twenty-five") + around
    ed.type_text("ambiguous/a.py", edited(l3="three", l25="twenty-five"))  # the user undoes the copy
    assert (await hunk_lines(ed, pid))["h2"] == ("pending", 14), "pending again once it fits one place"
    await ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": "h2"})
    assert ed.text("ambiguous/a.py") == ALL_THREE


def lens_lines(lenses: list[Any]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for lens in lenses:
        if lens.command.command == "codex.acceptHunk":
            found.setdefault(lens.command.arguments[0]["hunkId"], []).append(lens.range.start.line)
    return found


async def test_code_lenses_appear_move_and_disappear(ed: Editor, fake: FakeResponsesServer) -> None:
    result = await propose(ed, fake, "lenses")
    pid = result["proposalId"]
    lenses = await ed.lenses("lenses/a.py")
    assert lens_lines(lenses) == {"h1": [3], "h2": [14], "h3": [25]}
    titles = [lens.command.title for lens in lenses if lens.command and lens.range.start.line == 3]
    expected = ["Codex: Accept h1", "Reject", "Accept all (3)", "Discard all"]
    expected += ["Show diff"] if ed.profile != "minimal" else []
    expected += ["Preview"] if ed.profile == "vscode" else []
    assert titles == expected
    ed.type_text("lenses/a.py", "# new first line\n" + BODY)
    assert lens_lines(await ed.lenses("lenses/a.py")) == {"h1": [4], "h2": [15], "h3": [26]}
    refreshes = ed.lens_refreshes
    await ed.execute("codex.rejectHunk", {"proposalId": pid, "hunkId": "h2"})
    assert lens_lines(await ed.lenses("lenses/a.py")) == {"h1": [4], "h3": [26]}
    await ed.execute("codex.applyProposal", {"proposalId": pid})
    assert await ed.lenses("lenses/a.py") == []
    if ed.profile == "vscode":
        await ed.until(lambda: ed.lens_refreshes >= refreshes + 2)
    else:
        assert ed.lens_refreshes == 0, "only clients that support workspace/codeLens/refresh are asked"


async def test_every_document_of_a_proposal_offers_the_whole_proposal(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    for name in ("one", "two"):
        ed.write(f"both/{name}.py", BODY)
        ed.open(f"both/{name}.py")
    patch_text = three("both/one.py").replace("*** End Patch", "*** Add File: both/new.py\n+x\n") + (
        "*** Update File: both/two.py\n@@\n-line 20\n+twenty\n*** End Patch"
    )
    load(fake, [patch(patch_text), say("proposed")])
    result = await ed.execute("codex.ask", {"prompt": "edit"})
    for name, line in (("one", 3), ("two", 20)):
        titles = [lens.command.title for lens in await ed.lenses(f"both/{name}.py") if lens.command]
        assert "Accept all (5)" in titles, name
        assert titles.count("Accept all (5)") == 1
        assert any(lens.range.start.line == line for lens in await ed.lenses(f"both/{name}.py"))
    await ed.execute("codex.discardProposal", {"proposalId": result["proposalId"]})


OPS = (
    "*** Begin Patch\n*** Update File: {d}/a.py\n@@\n-line 3\n+three\n@@\n-line 25\n+twenty-five\n"
    "*** Add File: {d}/new.py\n+hello\n*** Delete File: {d}/old.py\n"
    "*** Update File: {d}/src.py\n*** Move to: {d}/dst.py\n@@\n-one\n+uno\n*** End Patch"
)


def lay_out(ed: Editor, folder: str) -> dict[str, str | None]:
    files: dict[str, str | None] = {"a.py": BODY, "old.py": "bye\n", "src.py": "one\ntwo\n"}
    for name, text in files.items():
        assert text is not None
        ed.write(f"{folder}/{name}", text)
    ed.open(f"{folder}/a.py")
    return files


def texts(ed: Editor, folder: str) -> dict[str, str | None]:
    return {name: ed.text(f"{folder}/{name}") for name in ("a.py", "new.py", "old.py", "src.py", "dst.py")}


async def test_discard_leaves_every_file_untouched(ed: Editor, fake: FakeResponsesServer) -> None:
    before = lay_out(ed, "discard")
    load(fake, [patch(OPS.format(d="discard")), say("proposed")])
    result = await ed.execute("codex.ask", {"prompt": "reorganise"})
    assert {d["path"] for d in result["diffs"]} == {
        f"discard/{n}" for n in ("a.py", "new.py", "old.py", "src.py")
    }
    sent = len(ed.edits)
    decision = await ed.execute("codex.discardProposal", {"proposalId": result["proposalId"]})
    assert len(decision["rejected"]) == 5
    assert len(ed.edits) == sent
    assert texts(ed, "discard") == {**before, "new.py": None, "dst.py": None}
    for name, text in before.items():
        assert (ed.root / "discard" / name).read_text() == text
    assert await listed(ed, result["proposalId"]) is None
    load(fake, [say("understood")])
    await ed.execute("codex.ask", {"prompt": "next", "threadId": result["threadId"]})
    note = user_texts(fake)[-1]
    assert "0 of 5 hunks were applied" in note
    assert "new file discard/new.py (discarded by the user)" in note


async def test_apply_all_gives_what_auto_mode_gives(
    ed: Editor, fake: FakeResponsesServer, tmp_path: Path
) -> None:
    lay_out(ed, "all")
    load(fake, [patch(OPS.format(d="all")), say("proposed")])
    result = await ed.execute("codex.ask", {"prompt": "reorganise"})
    decision = await ed.execute("codex.applyProposal", {"proposalId": result["proposalId"]})
    assert len(decision["accepted"]) == 5
    assert decision["proposal"] is None
    async with editor_session(tmp_path, fake, ed.profile) as auto:
        lay_out(auto, "all")
        load(fake, [patch(OPS.format(d="all")), say("applied")])
        assert (await auto.execute("codex.ask", {"prompt": "reorganise"}))["status"] == "completed"
        assert texts(ed, "all") == texts(auto, "all")
    assert texts(ed, "all")["dst.py"] == "uno\ntwo\n"


async def test_a_second_patch_builds_on_the_pending_first(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("build/a.py", BODY)
    first = (
        "*** Begin Patch\n*** Update File: build/a.py\n@@\n-line 3\n+helper = 1\n"
        "*** Add File: build/util.py\n+def helper():\n+    return 1\n*** End Patch"
    )
    second = (
        "*** Begin Patch\n*** Update File: build/a.py\n@@\n-helper = 1\n+helper = 2\n"
        "*** Update File: build/util.py\n@@\n-    return 1\n+    return 2\n*** End Patch"
    )
    load(
        fake,
        [
            patch(first),
            call("read_file", {"path": "build/a.py", "start_line": 4, "end_line": 4}),
            call("list_dir", {"path": "build"}),
            call("search", {"pattern": "def helper"}),
            patch(second),
            say("built on it"),
        ],
    )
    result = await ed.execute("codex.ask", {"prompt": "build"})
    assert result["status"] == "completed", result
    held, read, listing, found, held_again = outputs(fake)[-5:]
    assert "Held for the user's review" in held
    assert "Held for the user's review" in held_again
    assert "L4: helper = 1" in read
    assert "util.py" in listing
    assert "build/util.py:1: def helper():" in found
    assert ed.text("build/a.py") == BODY
    assert ed.text("build/util.py") is None
    await ed.execute("codex.applyProposal", {"proposalId": result["proposalId"]})
    assert ed.text("build/a.py") == edited(l3="helper = 2")
    assert ed.text("build/util.py") == "def helper():\n    return 2\n"


async def test_a_new_turn_on_the_thread_discards_the_pending_hunks(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "superseded")
    load(fake, [say("starting over")])
    await ed.execute("codex.ask", {"prompt": "something else", "threadId": result["threadId"]})
    assert await listed(ed, result["proposalId"]) is None
    assert any(
        f"still pending in proposal {result['proposalId']} were discarded" in m.message
        for m in ed.client.messages
    )
    assert "0 of 3 hunks were applied" in user_texts(fake)[-1]
    assert ed.text("superseded/a.py") == BODY


async def test_a_closed_file_changed_on_disk_is_re_anchored(ed: Editor, fake: FakeResponsesServer) -> None:
    result = await propose(ed, fake, "closed")
    pid = result["proposalId"]
    ed.write("closed/a.py", "# changed on disk\n" + BODY)
    ed.close(ed.uri("closed/a.py"))
    await ed.until(lambda: any("closed/a.py was closed" in m.message for m in ed.client.messages))
    assert (await hunk_lines(ed, pid))["h1"] == ("pending", 4)
    await ed.execute("codex.applyProposal", {"proposalId": pid})
    assert ed.text("closed/a.py") == "# changed on disk\n" + ALL_THREE


async def test_a_proposal_survives_a_restart(fake: FakeResponsesServer, tmp_path: Path) -> None:
    async with editor_session(tmp_path, fake, "neovim", init_options=REVIEW) as first:
        result = await propose(first, fake, "restart", open_it=False)
    (tmp_path / "ws" / "restart" / "a.py").write_text("# edited meanwhile\n" + BODY)
    async with editor_session(tmp_path, fake, "neovim", init_options=REVIEW) as second:
        await second.until(
            lambda: any("from before the restart" in m.message for m in second.client.messages)
        )
        assert (await hunk_lines(second, result["proposalId"]))["h2"] == ("pending", 15)
        await second.execute("codex.applyProposal", {"proposalId": result["proposalId"]})
        assert second.text("restart/a.py") == "# edited meanwhile\n" + ALL_THREE


async def test_a_refactor_preview_where_the_user_unticks_a_hunk(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "preview")
    pid = result["proposalId"]
    if ed.profile != "vscode":
        with pytest.raises(JsonRpcException, match="no refactor preview"):
            await ed.execute("codex.previewProposal", {"proposalId": pid})
        return
    ed.drop_annotations = {f"codex-{pid}-h2"}
    decision = await ed.execute("codex.previewProposal", {"proposalId": pid})
    (sent,) = [e for e in ed.edits if e.label == f"Codex: review proposal {pid}"]
    annotations = sent.edit.change_annotations or {}
    assert sorted(annotations) == [f"codex-{pid}-h{n}" for n in (1, 2, 3)]
    assert all(a.needs_confirmation for a in annotations.values())
    assert sorted(decision["accepted"]) == ["h1", "h3"]
    assert ed.text("preview/a.py") == edited(l3="three", l25="twenty-five")
    assert (await hunk_lines(ed, pid))["h2"] == ("pending", 14)


async def test_a_hunk_the_refactor_preview_applied_only_in_part_is_not_accepted(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    """VS Code's preview has a box for every edit: a user who unticks one edit of a hunk has not
    accepted that hunk, whatever else of it landed."""
    if ed.profile != "vscode":
        pytest.skip("only VS Code has a refactor preview")
    path = "partial/a.py"
    ed.write(path, BODY)
    uri = ed.open(path)
    two_edits = (
        f"*** Begin Patch\n*** Update File: {path}\n@@\n-line 3\n+three\n line 4\n-line 5\n+five\n"
        "@@\n-line 20\n+twenty\n*** End Patch"
    )
    load(fake, [patch(two_edits), say("proposed")])
    result = await ed.execute("codex.ask", {"prompt": "edit", "uri": uri})
    pid = result["proposalId"]
    assert await hunk_lines(ed, pid) == {"h1": ("pending", 3), "h2": ("pending", 20)}
    ed.drop_edits = {(f"codex-{pid}-h1", 1)}  # h1's second edit: line 5
    decision = await ed.execute("codex.previewProposal", {"proposalId": pid})
    assert ed.text(path) == edited(l3="three", l20="twenty"), "h1 landed only in part"
    assert decision["accepted"] == ["h2"]
    proposal = await listed(ed, pid)
    assert proposal is not None, "h1 is still to be decided"
    statuses = [(h["hunkId"], h["status"]) for h in proposal["hunks"]]
    assert statuses == [("h1", "conflicted"), ("h2", "accepted")], "h1's lines no longer fit as a whole"


async def test_the_whole_proposal_as_a_diff_document(ed: Editor, fake: FakeResponsesServer) -> None:
    result = await propose(ed, fake, "shown")
    shown = await ed.execute("codex.showProposal", {"proposalId": result["proposalId"]})
    assert shown["shown"] is (ed.profile != "minimal")
    diff = ed.path(shown["uri"]).read_text()
    assert "-line 25\n+twenty-five" in diff
    if ed.profile != "minimal":
        assert [d.uri for d in ed.client.shown_documents][-1] == shown["uri"]


async def test_decisions_at_the_same_time_are_taken_one_after_the_other(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "together")
    pid = result["proposalId"]
    decisions = await asyncio.gather(
        *(ed.execute("codex.acceptHunk", {"proposalId": pid, "hunkId": h}) for h in ("h3", "h1", "h2"))
    )
    assert [d["accepted"] for d in decisions] == [["h3"], ["h1"], ["h2"]]
    assert ed.text("together/a.py") == ALL_THREE


async def test_closing_a_file_that_matches_the_disk_says_nothing(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    result = await propose(ed, fake, "quiet-close")
    ed.close(ed.uri("quiet-close/a.py"))
    assert (await hunk_lines(ed, result["proposalId"]))["h1"] == ("pending", 3)
    assert not any("quiet-close/a.py was closed" in m.message for m in ed.client.messages)
