"""Review mode over ACP: every edit asks first (``session/request_permission`` with its diffs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from acp import text_block
from acp.schema import PromptResponse

from tests.acp.harness import HOLD, TIMEOUT, Run, call, patch_call, say, setup, step
from tests.acp.test_edits import UPDATE_A, diffs, statuses
from tests.acp.test_turns import assert_nothing_late, cancel_and_answer
from tests.agent.harness import outputs

UPDATE_B = "*** Begin Patch\n*** Update File: b.py\n@@\n-other = 1\n+other = 2\n*** End Patch\n"
UPDATE_A_AGAIN = "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 2\n+value = 3\n*** End Patch\n"


def files(root: Path) -> None:
    (root / "a.py").write_text("value = 1\n", encoding="utf-8")
    (root / "b.py").write_text("other = 1\n", encoding="utf-8")


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def review_session(run: Run) -> str:
    session = await run.new_session()
    await run.conn.set_session_mode(session_id=session, mode_id="review")
    return session


async def until_held(run: Run, count: int) -> None:
    """Wait until the editor holds its ``count``-th permission request."""
    async with asyncio.timeout(TIMEOUT):
        while len(run.editor.held) < count:
            run.editor.holding.clear()
            await run.editor.holding.wait()


async def test_allow_once_applies_the_edit_after_asking_with_its_diff(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        files(s.root)
        a = s.root / "a.py"
        unsaved = "# unsaved\nvalue = 1\n"
        async with s.agent() as run:
            run.editor.buffers[str(a)] = unsaved
            run.editor.permissions = ["allow-once"]
            run.load([step(patch_call(UPDATE_A)), step(say("Done."))])
            session = await review_session(run)
            response = await run.conn.prompt(session_id=session, prompt=[text_block("bump it")])
    assert response.stop_reason == "end_turn"
    [asked] = run.editor.asked
    assert asked["written"] == 0, "asked before anything was written"
    assert asked["options"] == ["allow-once", "allow-always", "reject"]
    question = asked["tool_call"]
    assert (question["toolCallId"], question["kind"], question["status"], question["title"]) == (
        "call_patch",
        "edit",
        "pending",
        "Apply changes to a.py?",
    )
    diff = {"path": str(a), "oldText": unsaved, "newText": "# unsaved\nvalue = 2\n", "type": "diff"}
    assert question["content"] == [diff]
    assert question["locations"] == [{"path": str(a)}]
    assert run.editor.writes == [(str(a), "# unsaved\nvalue = 2\n")]
    assert diffs(run) == [diff], "the card shows the diff once, before the question"
    assert statuses(run) == ["completed"]
    assert outputs(run.generating[-1])[0].startswith("Exit code: 0")


@pytest.mark.parametrize("answer", ["reject", "allow_once"])
async def test_reject_writes_nothing_and_tells_the_model(tmp_path: Path, answer: str) -> None:
    """Rejected, or answered with an option never offered (``allow_once``: the kind, not the id)."""
    async with setup(tmp_path) as s:
        files(s.root)
        async with s.agent() as run:
            run.editor.permissions = [answer]
            run.load([step(patch_call(UPDATE_A)), step(say("Understood, leaving it."))])
            session = await review_session(run)
            response = await run.conn.prompt(session_id=session, prompt=[text_block("bump it")])
    assert response.stop_reason == "end_turn"
    assert len(run.editor.asked) == 1
    assert run.editor.writes == []
    assert text(s.root / "a.py") == "value = 1\n"
    assert outputs(run.generating[-1]) == [
        "apply_patch declined: the user did not approve this change. No file was changed."
    ]
    assert statuses(run) == ["failed"]
    card = run.editor.of_kind("tool_call_update")[-1]
    assert [content["type"] for content in card["content"]] == ["diff", "content"], (
        "the declined card keeps its diff"
    )


async def test_allow_always_switches_to_auto_and_later_edits_do_not_ask(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        files(s.root)
        async with s.agent() as run:
            run.editor.permissions = ["allow-always"]  # any further question would get "reject"
            run.load(
                [step(patch_call(UPDATE_A, "c1")), step(patch_call(UPDATE_B, "c2")), step(say("Both."))],
                [step(patch_call(UPDATE_A_AGAIN, "c3")), step(say("Again."))],
            )
            session = await review_session(run)
            for prompt in ("one", "two"):
                response = await run.conn.prompt(session_id=session, prompt=[text_block(prompt)])
                assert response.stop_reason == "end_turn"
    [asked] = run.editor.asked
    assert asked["names"][1] == "Allow all edits in this session (switches to Auto)"
    assert [update["currentModeId"] for update in run.editor.of_kind("current_mode_update")] == [
        "review",
        "auto",
    ]
    assert (text(s.root / "a.py"), text(s.root / "b.py")) == ("value = 3\n", "other = 2\n")
    assert statuses(run) == ["completed"] * 3


async def test_cancel_while_an_edit_waits_for_permission(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        files(s.root)
        async with s.agent() as run:
            run.editor.permissions = [HOLD]
            run.load([step(patch_call(UPDATE_A)), step(say("unused"))])
            session = await review_session(run)
            prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
            await until_held(run, 1)
            response = await cancel_and_answer(run, session, prompt, answer_held=True)
            assert response.stop_reason == "cancelled"
            run.load([step(say("Fine."))])
            again = await run.conn.prompt(session_id=session, prompt=[text_block("never mind")])
    assert again.stop_reason == "end_turn"
    told = outputs(run.generating[-1])[0]
    assert told.startswith("apply_patch declined: the turn was interrupted")
    assert "No file was changed" in told
    assert_nothing_late(run, requests=2)
    assert text(s.root / "a.py") == "value = 1\n"


async def test_text_typed_while_the_question_is_open_stops_the_allowed_edit(tmp_path: Path) -> None:
    """The edit was computed on what the editor showed when it asked; allowed later, it is still applied
    all or nothing against the buffer as it is then."""
    async with setup(tmp_path) as s:
        files(s.root)
        a = s.root / "a.py"
        async with s.agent() as run:
            run.editor.permissions = [HOLD]
            run.load([step(patch_call(UPDATE_A)), step(say("It changed under me."))])
            session = await review_session(run)
            prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
            await until_held(run, 1)
            run.editor.buffers[str(a)] = "value = 1  # typed meanwhile\n"
            run.editor.answer_held("allow-once")
            async with asyncio.timeout(TIMEOUT):
                response: PromptResponse = await prompt
    assert response.stop_reason == "end_turn"
    assert run.editor.writes == []
    assert text(a) == "value = 1\n"
    assert "changed in the editor" in outputs(run.generating[-1])[0]


async def test_a_mode_switch_applies_from_the_next_tool_call_of_the_running_turn(tmp_path: Path) -> None:
    """auto → review while a command waits: the turn's next edit asks; review → auto while that edit
    waits: the edit after it does not."""
    async with setup(tmp_path) as s:
        files(s.root)
        async with s.agent("--shell") as run:
            run.editor.permissions = [HOLD, HOLD]
            run.load(
                [
                    step(call("shell", "c_echo", command=["echo", "hi"])),
                    step(patch_call(UPDATE_A, "c_a")),
                    step(patch_call(UPDATE_B, "c_b")),
                    step(say("Done.")),
                ]
            )
            session = await run.new_session()
            prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
            await until_held(run, 1)
            await run.conn.set_session_mode(session_id=session, mode_id="review")
            run.editor.answer_held("allow-once")
            await until_held(run, 2)
            await run.conn.set_session_mode(session_id=session, mode_id="auto")
            run.editor.answer_held("allow-once")
            async with asyncio.timeout(TIMEOUT):
                response = await prompt
    assert response.stop_reason == "end_turn"
    assert [asked["tool_call"]["toolCallId"] for asked in run.editor.asked] == ["c_echo", "c_a"]
    assert (text(s.root / "a.py"), text(s.root / "b.py")) == ("value = 2\n", "other = 2\n")
    assert [status for status in statuses(run) if status != "in_progress"] == ["completed"] * 3


async def test_review_picked_again_after_allow_always_asks_again_in_the_same_turn(tmp_path: Path) -> None:
    """ "Allow all edits" is the auto mode, not an allowance hidden in the turn: choosing review again
    (while a command waits) makes the turn's next edit ask."""
    async with setup(tmp_path) as s:
        files(s.root)
        async with s.agent("--shell") as run:
            run.editor.permissions = ["allow-always", HOLD, "reject"]
            run.load(
                [
                    step(patch_call(UPDATE_A, "c_a")),
                    step(call("shell", "c_echo", command=["echo", "hi"])),
                    step(patch_call(UPDATE_B, "c_b")),
                    step(say("Done.")),
                ]
            )
            session = await review_session(run)
            prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
            await until_held(run, 1)
            await run.conn.set_session_mode(session_id=session, mode_id="review")
            run.editor.answer_held("allow-once")
            async with asyncio.timeout(TIMEOUT):
                response = await prompt
    assert response.stop_reason == "end_turn"
    assert [asked["tool_call"]["toolCallId"] for asked in run.editor.asked] == ["c_a", "c_echo", "c_b"]
    assert (text(s.root / "a.py"), text(s.root / "b.py")) == ("value = 2\n", "other = 1\n")
    assert [update["currentModeId"] for update in run.editor.of_kind("current_mode_update")] == [
        "review",
        "auto",
        "review",
    ]
