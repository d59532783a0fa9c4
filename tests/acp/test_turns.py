"""Turns over ACP: streaming, cancellation, permissions."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, cast

import pytest
from acp import RequestError, text_block
from acp.interfaces import Client
from acp.schema import PromptResponse

from codex_lsp.acp.permission import PermissionApprover
from codex_lsp.acp.report import Reporter
from codex_lsp.acp.server import UNFINISHED_WORK, report_unfinished_work
from codex_lsp.acp.updates import UpdateStream
from codex_lsp.agent import ApprovalDecision, ApprovalRequest
from codex_lsp.testing import ResponseIds, Step, render_response
from tests.acp.harness import HOLD, TIMEOUT, Editor, Run, call, patch_call, say, setup, step
from tests.agent.harness import outputs

CANCEL_DEADLINE_S = 1.5
"""How soon a cancelled prompt must answer (a sanity bound: it normally takes milliseconds)."""


def silent_before_completion(*output: dict[str, Any]) -> dict[str, Any]:
    """A step that streams all of its output items, then goes silent instead of completing."""
    events, _ = render_response(Step.model_validate({"output": list(output)}), "resp", "m", ResponseIds())
    return step(*output, fault={"kind": "silence", "after_events": len(events) - 1})


async def cancel_and_answer(
    run: Run, session: str, prompt: asyncio.Task[PromptResponse], *, answer_held: bool = False
) -> PromptResponse:
    """Cancel the prompt as an editor does; fail unless it answers within about a second."""
    started = time.monotonic()
    await run.conn.cancel(session_id=session)
    if answer_held:
        run.editor.cancel_held()
    done, _ = await asyncio.wait({prompt}, timeout=CANCEL_DEADLINE_S)
    if not done:
        prompt.cancel()
        raise AssertionError(f"the prompt was still running {CANCEL_DEADLINE_S} s after session/cancel")
    assert time.monotonic() - started < CANCEL_DEADLINE_S
    return prompt.result()


async def test_messages_reasoning_plan_and_usage_stream(tmp_path: Path) -> None:
    plan = [{"step": "Look", "status": "completed"}, {"step": "Fix", "status": "in_progress"}]
    async with setup(tmp_path) as s, s.agent() as run:
        run.load(
            [
                step(
                    {"type": "reasoning", "summary": ["Thinking about it."]}, call("update_plan", plan=plan)
                ),
                step(say("All done here."), chunk_size=4),
            ]
        )
        session = await run.new_session()
        response = await run.conn.prompt(session_id=session, prompt=[text_block("go")])
    assert response.stop_reason == "end_turn"
    assert run.editor.text("agent_thought_chunk") == "Thinking about it."
    assert run.editor.text() == "All done here."
    assert len(run.editor.of_kind("agent_message_chunk")) > 1, "the message should stream in chunks"
    assert run.editor.of_kind("plan")[0]["entries"] == [
        {"content": "Look", "priority": "medium", "status": "completed"},
        {"content": "Fix", "priority": "medium", "status": "in_progress"},
    ]
    assert run.editor.of_kind("tool_call") == [], "a plan update is shown as the plan, not as a card"
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (200, 40)


async def test_cancel_mid_turn_answers_cancelled_and_applies_nothing(tmp_path: Path) -> None:
    patch = "*** Begin Patch\n*** Add File: late.txt\n+too late\n*** End Patch\n"
    async with setup(tmp_path) as s, s.agent() as run:
        run.load([silent_before_completion(say("Let me write it."), patch_call(patch)), step(say("unused"))])
        session = await run.new_session()
        prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
        await run.editor.until(lambda update: update.get("sessionUpdate") == "agent_message_chunk")
        response = await cancel_and_answer(run, session, prompt)
        assert response.stop_reason == "cancelled"
        # The session is usable again, and the next turn tells the model the call was interrupted.
        run.load([step(say("Fine."))])
        again = await run.conn.prompt(session_id=session, prompt=[text_block("never mind")])
    assert again.stop_reason == "end_turn"
    assert outputs(run.generating[-1])[0].startswith("aborted")
    assert_nothing_late(run, requests=2)
    assert not (s.root / "late.txt").exists()


def assert_nothing_late(run: Run, requests: int) -> None:
    """After a cancelled prompt, a second prompt and the agent's exit: no write was sent, and no model
    request but the ``requests`` expected. The prompt answered once its turn had ended; the agent has
    exited, so its stdout holds every write it sent after that, until its last moment, whether or not
    the editor was still there to answer it (a fixed wait saw only what came within the wait); one still
    waiting to be sent then fails the harness (the agent warns about unfinished work at exit)."""
    assert run.editor.writes == []
    assert not [line for line in run.received if '"fs/write_text_file"' in line], "a write after the cancel"
    assert len(run.generating) == requests, "a model request after the cancel"


@pytest.mark.parametrize("answer", ["reject", "cancelled", "allow_once"])
async def test_a_denied_command_does_not_run(tmp_path: Path, answer: str) -> None:
    """Rejected, the question dismissed (the ``cancelled`` outcome without a cancelled prompt), or
    answered with an option the agent never offered (``allow_once`` is an option's *kind*, a client
    mixing up kind and id sends it): nothing but an offered "allow" option approves."""
    async with setup(tmp_path) as s, s.agent("--shell") as run:
        run.editor.permissions = [answer]
        run.load([step(call("shell", "call_touch", command=["touch", "marker"])), step(say("Okay."))])
        session = await run.new_session()
        response = await run.conn.prompt(session_id=session, prompt=[text_block("go")])
    assert response.stop_reason == "end_turn"
    assert not (s.root / "marker").exists()
    [asked] = run.editor.asked
    assert asked["options"] == ["allow-once", "allow-always", "reject"]
    assert asked["names"] == ["Allow once", "Always allow `touch marker` in this session", "Reject"]
    question = asked["tool_call"]
    reason = question["content"][0]["content"]["text"]
    assert reason.startswith("Runs "), "the question says how the command would run (sandboxed or not)"
    assert question == {
        "toolCallId": "call_touch",
        "title": "Run `touch marker` in the workspace root?",
        "kind": "execute",
        "status": "pending",
        "rawInput": {"command": ["touch", "marker"], "cwd": "."},
        "content": [{"type": "content", "content": {"type": "text", "text": reason}}],
    }
    card = run.editor.of_kind("tool_call")[0]
    assert (card["toolCallId"], card["kind"], card["title"]) == (
        "call_touch",
        "execute",
        "Run `touch marker`",
    )
    assert run.editor.of_kind("tool_call_update")[-1]["status"] == "failed"
    assert "declined" in outputs(run.generating[-1])[0]


async def test_questions_asked_outside_a_tool_call_get_ids_of_their_own(tmp_path: Path) -> None:
    """The approver in-process, asked for something no tool call carries (the built-in tools always ask
    from inside their call, whose card the question then names): each question gets an id of its own,
    so the editor does not take the second for the first; without a command it asks about "this"."""
    editor = Editor(tmp_path, permissions=["reject", "reject"])
    stream = UpdateStream(cast("Client", editor), "s1")
    approver = PermissionApprover(cast("Client", editor), Reporter(stream, tmp_path), lambda: None)
    request = ApprovalRequest(kind="network", title="Reach example.com?")
    try:
        for _ in range(2):
            assert await approver.request(request) == ApprovalDecision.DENY
    finally:
        await stream.aclose()
    question = {"title": "Reach example.com?", "kind": "other", "status": "pending"}
    assert [asked["tool_call"] for asked in editor.asked] == [
        {"toolCallId": "approval-1", **question},
        {"toolCallId": "approval-2", **question},
    ]
    assert editor.asked[0]["names"] == ["Allow once", "Always allow this in this session", "Reject"]


async def test_allow_always_holds_for_the_session(tmp_path: Path) -> None:
    echo = ["echo", "hi"]
    async with setup(tmp_path) as s, s.agent("--shell") as run:
        run.editor.permissions = ["allow-always"]
        run.load(
            [step(call("shell", "c1", command=echo)), step(say("Once."))],
            [step(call("shell", "c2", command=echo)), step(say("Twice."))],
        )
        session = await run.new_session()
        for text in ("one", "two"):
            response = await run.conn.prompt(session_id=session, prompt=[text_block(text)])
            assert response.stop_reason == "end_turn"
    assert len(run.editor.asked) == 1
    assert "Exit code: 0" in outputs(run.generating[-1])[0]
    last = run.editor.of_kind("tool_call_update")[-1]
    assert last["status"] == "completed"
    assert "hi" in last["content"][0]["content"]["text"]


async def test_cancel_answers_a_pending_permission_request(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent("--shell") as run:
        run.editor.permissions = [HOLD]
        run.load([step(call("shell", command=["touch", "marker"])), step(say("unused"))])
        session = await run.new_session()
        prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
        async with asyncio.timeout(TIMEOUT):
            await run.editor.holding.wait()
        response = await cancel_and_answer(run, session, prompt, answer_held=True)
    assert response.stop_reason == "cancelled"
    assert not (s.root / "marker").exists()
    assert len(run.generating) == 1


async def test_a_failed_turn_is_an_error_with_the_reason(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        run.load([step(fault={"kind": "failed", "code": "invalid_prompt", "message": "the prompt is bad"})])
        session = await run.new_session()
        with pytest.raises(RequestError, match=r"the turn failed: .*the prompt is bad"):
            await run.conn.prompt(session_id=session, prompt=[text_block("go")])


async def test_the_agent_warns_at_exit_about_work_still_running(caplog: pytest.LogCaptureFixture) -> None:
    """The harness fails any run whose agent logs this at exit; here, that it is logged (and only then)."""
    report_unfinished_work()
    assert UNFINISHED_WORK not in caplog.text
    left = asyncio.ensure_future(asyncio.Event().wait())
    try:
        report_unfinished_work()
    finally:
        left.cancel()
    assert f"{UNFINISHED_WORK}: <coroutine object Event.wait" in caplog.text
