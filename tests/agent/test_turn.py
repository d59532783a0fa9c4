"""End-to-end turns against the fake Responses server: tools, failures, cancellation, threads."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, ClassVar

import pytest

from codex_lsp.agent.agent import TurnRequest
from codex_lsp.agent.errors import TurnBusyError
from codex_lsp.agent.events import (
    AgentMessageDelta,
    FileChangeItem,
    FileChangeProposed,
    ItemCompleted,
    ReasoningSummaryDelta,
    TransportNotice,
    TurnCompleted,
    TurnEvent,
    TurnStarted,
)
from codex_lsp.agent.interfaces import ApprovalDecision, Diagnostic
from codex_lsp.agent.tools.base import Tool, ToolCall, ToolContext, ToolResult, function_spec
from codex_lsp.agent.turn import ABORTED
from codex_lsp.testing import ResponseIds, Step, render_response
from tests.agent.fakes import ScriptedApprover
from tests.agent.harness import call, harness, outputs, patch_call, say, user_texts

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIX = (
    "*** Begin Patch\n*** Update File: app.py\n@@ def greet(name):\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)


async def test_read_then_patch_then_answer(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load(
            [
                {"output": [call("read_file", path="app.py")]},
                {"output": [patch_call(FIX)]},
                {"output": [say("Fixed the typo.")]},
            ]
        )
        result = await h.agent().run_turn(TurnRequest(prompt="fix the typo"))

        assert result.status == "completed", result.error
        assert result.message == "Fixed the typo."
        assert result.changed_files == ("app.py",)
        assert (h.root / "app.py").read_text() == APP.replace("+ nam\n", "+ name\n")
        first, second, third = h.generating
        assert "fix the typo" in user_texts(first)[-1]
        # The agent echoes history exactly as the transport expects, so follow-ups on the reused
        # socket chain with previous_response_id and carry only the new tool output.
        for follow_up in (second, third):
            assert follow_up.body.get("previous_response_id")
            assert [item["type"] for item in follow_up.body["input"]] in (
                ["function_call_output"],
                ["custom_tool_call_output"],
            )
        assert outputs(second) == [
            "app.py (lines 1-2 of 2)\nL1: def greet(name):\nL2:     return 'hello ' + nam"
        ]
        assert outputs(third)[-1].startswith("Exit code: 0\nWall time: ")
        assert "Success. Updated the following files:\nM app.py\n" in outputs(third)[-1]
        (proposed,) = h.of_type(FileChangeProposed)
        assert proposed.changes[0].path == "app.py"
        assert "-    return 'hello ' + nam\n+    return 'hello ' + name\n" in proposed.diff
        done = [e.item for e in h.of_type(ItemCompleted) if isinstance(e.item, FileChangeItem)]
        assert [item.status for item in done] == ["applied"]
        deltas = "".join(e.delta for e in h.of_type(AgentMessageDelta))
        assert deltas == "Fixed the typo."
        (completed,) = h.of_type(TurnCompleted)
        assert completed.status == "completed"
        # The last event announces exactly the result the turn returns.
        assert completed.model_dump(exclude={"type"}) == result.model_dump()
        assert result.usage.total_tokens > 0


async def test_fix_turn_prompt_carries_the_diagnostic(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [say("ok")]}])
        diagnostic = Diagnostic(
            path="app.py",
            start_line=1,
            start_character=23,
            end_line=1,
            end_character=26,
            message="Undefined name `nam`",
            severity="error",
            source="ruff",
            code="F821",
        )
        await h.agent().run_turn(TurnRequest(fix=(diagnostic,)))
        text = user_texts(h.generating[0])[-1]
        for needle in ("Undefined name `nam`", "F821", "ruff", "app.py", "return 'hello ' + nam"):
            assert needle in text, needle


async def test_failed_patch_hint_reaches_the_model_and_the_retry_succeeds(tmp_path: Path) -> None:
    bad = FIX.replace("-    return 'hello ' + nam\n", "-    return 'helo ' + nam\n")
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [patch_call(bad)]}, {"output": [patch_call(FIX)]}, {"output": [say("done")]}])
        result = await h.agent().run_turn(TurnRequest(prompt="fix it"))
        failure = outputs(h.generating[1])[-1]
        assert failure.startswith("apply_patch verification failed: Failed to find expected lines in app.py")
        assert "Did you mean line 2?" in failure
        assert "return 'hello ' + nam" in failure
        assert result.status == "completed"
        assert "+ name\n" in (h.root / "app.py").read_text()


async def test_ambiguous_patch_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    text = "def a():\n    return 1\n\ndef b():\n    return 1\n"
    patch = "*** Begin Patch\n*** Update File: m.py\n@@\n-    return 1\n+    return 2\n*** End Patch"
    async with harness(tmp_path) as h:
        (h.root / "m.py").write_text(text)
        h.load([{"output": [patch_call(patch)]}, {"output": [say("gave up")]}])
        await h.agent().run_turn(TurnRequest(prompt="change it"))
        refusal = outputs(h.generating[1])[-1]
        assert "ambiguous" in refusal
        assert "lines 2 and 5" in refusal
        assert (h.root / "m.py").read_text() == text


async def test_unknown_tool_gets_an_error_output_and_the_turn_goes_on(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load([{"output": [call("teleport", to="mars")]}, {"output": [say("sorry")]}])
        result = await h.agent().run_turn(TurnRequest(prompt="go"))
        assert result.status == "completed"
        (output,) = outputs(h.generating[1])
        assert output.startswith("unknown tool: 'teleport'")
        assert "apply_patch" in output


async def test_cancel_mid_stream_ends_interrupted_and_keeps_the_connection_for_others(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load(
            [
                {
                    "output": [say("a long answer that never ends")],
                    "fault": {"kind": "silence", "after_events": 6},
                }
            ],
            [{"output": [say("second turn works")]}],
        )
        agent = h.agent()
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="talk")))
        await h.until(lambda e: isinstance(e, AgentMessageDelta))
        (started,) = h.of_type(TurnStarted)
        interrupted: list[str] = []
        result = await h.interrupt(task, lambda: interrupted.extend(agent.interrupt()))
        assert interrupted == [started.turn_id]
        assert result.status == "interrupted"
        assert h.of_type(TurnCompleted)[-1].status == "interrupted"
        again = await agent.run_turn(TurnRequest(prompt="again", thread_id=result.thread_id))
        assert again.status == "completed"
        assert again.message == "second turn works"


async def test_cancel_mid_tool_answers_the_call_as_aborted(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load([{"output": [call("shell", command=["sleep", "30"])]}], [{"output": [say("fine")]}])
        agent = h.agent(shell_enabled=True, shell_allow=("sleep",), sandbox_mode="danger-full-access")
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="wait")))
        await h.until(lambda e: e.type == "turn/command/started")
        result = await h.interrupt(task, agent.interrupt)
        assert result.status == "interrupted"
        thread = agent.thread(result.thread_id)
        (shell_call,) = [i for i in thread.history if i.get("type") == "function_call"]
        answers = [i for i in thread.history if i.get("call_id") == shell_call["call_id"] and "output" in i]
        assert [a["output"] for a in answers] == [ABORTED]
        await agent.run_turn(TurnRequest(prompt="next", thread_id=result.thread_id))
        follow_up = h.generating[-1]
        assert ABORTED in outputs(follow_up)


class _SwallowingTool(Tool):
    """A mutating tool whose inner layer swallows the cancellation (as ``asyncio.wait_for`` does on
    Python 3.11 when its awaitable finishes in the same loop iteration as the cancel)."""

    name: ClassVar[str] = "slow_write"
    mutating: ClassVar[bool] = True

    def __init__(self) -> None:
        self.started = asyncio.Event()

    def spec(self) -> dict[str, Any]:
        return function_spec(self.name, "test tool", {}, [])

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        self.started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        return ToolResult(output="finished anyway")


async def test_an_interrupt_swallowed_below_the_turn_still_stops_it(tmp_path: Path) -> None:
    """No further mutating tool and no follow-up request once an interrupt was asked for."""
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [call("slow_write"), patch_call(FIX)]}, {"output": [say("done")]}])
        agent = h.agent()
        tool = _SwallowingTool()
        agent.registry.register(tool)
        task = asyncio.create_task(agent.run_turn(TurnRequest(prompt="write")))
        async with asyncio.timeout(10):
            await tool.started.wait()
        result = await h.interrupt(task, agent.interrupt)
        assert result.status == "interrupted"
        assert len(h.generating) == 1, "a model request was sent after the interrupt"
        assert (h.root / "app.py").read_text() == APP, "a patch was applied after the interrupt"
        thread = agent.thread(result.thread_id)
        answers = [i["output"] for i in thread.history if i.get("type", "").endswith("_output")]
        assert answers == ["finished anyway", ABORTED]


async def test_an_interrupt_after_the_turn_ended_keeps_its_result(tmp_path: Path) -> None:
    """Ctrl-C handled while the turn runs its last synchronous steps (here: the host's handling
    of TurnCompleted) has nothing left to stop; the turn still returns its result."""
    async with harness(tmp_path) as h:
        h.load([{"output": [say("done")]}])
        agent = h.agent()
        emit = agent.runner.emit

        def interrupt_on_completion(event: TurnEvent) -> None:
            emit(event)
            if isinstance(event, TurnCompleted):
                agent.interrupt()

        agent.runner.emit = interrupt_on_completion
        result = await agent.run_turn(TurnRequest(prompt="hi"))
        assert (result.status, result.message) == ("completed", "done")


async def test_shell_denied_by_the_user_is_reported_to_the_model(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.approver = ScriptedApprover(ApprovalDecision.DENY)
        h.load([{"output": [call("shell", command=["touch", "x"])]}, {"output": [say("ok")]}])
        await h.agent(shell_enabled=True, sandbox_mode="danger-full-access").run_turn(
            TurnRequest(prompt="touch")
        )
        assert [r.command for r in h.approver.requests] == [("touch", "x")]
        assert "declined" in outputs(h.generating[1])[-1]
        assert not (h.root / "x").exists()


async def test_agents_md_is_sent_once_at_thread_start(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "AGENTS.md").write_text("Always use tabs.\n")
        h.load([{"output": [say("one")]}], [{"output": [say("two")]}])
        agent = h.agent()
        first = await agent.run_turn(TurnRequest(prompt="first"))
        await agent.run_turn(TurnRequest(prompt="second", thread_id=first.thread_id))
        texts = user_texts(h.generating[1])
        docs = [t for t in texts if t.startswith("# AGENTS.md instructions for ")]
        assert len(docs) == 1
        assert "<INSTRUCTIONS>\nAlways use tabs.\n" in docs[0]
        assert [t for t in texts if t.startswith(("first", "second"))] == ["first", "second"]


async def test_thread_is_persisted_and_resumed_by_a_new_agent(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load([{"output": [say("remembered")]}], [{"output": [say("still here")]}])
        first = await h.agent().run_turn(TurnRequest(prompt="remember 42"))
        fresh = h.agent()
        assert [s.id for s in fresh.list_threads()] == [first.thread_id]
        assert fresh.list_threads()[0].title == "remember 42"
        second = await fresh.run_turn(TurnRequest(prompt="what was it?", thread_id=first.thread_id))
        assert second.status == "completed"
        texts = user_texts(h.generating[-1])
        assert any("remember 42" in t for t in texts)
        assert any(i.get("role") == "assistant" for i in h.generating[-1].effective_input)


async def test_two_threads_run_in_parallel(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load([{"output": [say("slow")], "delay_ms": 40}], [{"output": [say("fast")], "delay_ms": 40}])
        agent = h.agent()
        results = await asyncio.gather(
            agent.run_turn(TurnRequest(prompt="one")), agent.run_turn(TurnRequest(prompt="two"))
        )
        assert {r.status for r in results} == {"completed"}
        assert results[0].thread_id != results[1].thread_id
        assert sorted(r.message for r in results) == ["fast", "slow"]
        assert h.requests_seen_at_completion[0] == 2, "the second turn waited for the first"


async def test_turn_state_is_constant_within_a_turn_and_reset_on_the_next(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "a.txt").write_text("x\n")
        h.load(
            [
                {"output": [call("read_file", path="a.txt")], "turn_state": "ts-1"},
                {"output": [call("read_file", path="a.txt")], "turn_state": "ts-late"},
                {"output": [say("done")]},
            ],
            [
                {"output": [say("next")], "turn_state": "ts-2"},
            ],
        )
        agent = h.agent()
        first = await agent.run_turn(TurnRequest(prompt="one"))
        await agent.run_turn(TurnRequest(prompt="two", thread_id=first.thread_id))
        assert [r.turn_state for r in h.generating] == [None, "ts-1", "ts-1", None]
        assert len(h.fake.handshakes) == 1


async def test_a_retried_response_never_applies_its_patch_twice(tmp_path: Path) -> None:
    events, _ = render_response(
        Step.model_validate({"output": [patch_call(FIX)]}), "resp", "gpt-5.5", ResponseIds()
    )
    before_completed = next(i for i, e in enumerate(events) if e["type"] == "response.completed")
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load(
            [
                {"output": [patch_call(FIX)], "fault": {"kind": "close", "after_events": before_completed}},
                {"output": [patch_call(FIX)]},
                {"output": [say("done")]},
            ]
        )
        result = await h.agent().run_turn(TurnRequest(prompt="fix"))
        assert result.status == "completed", result.error
        assert [n.kind for n in h.of_type(TransportNotice)] == ["retry"]
        assert len(h.of_type(FileChangeProposed)) == 1
        assert (h.root / "app.py").read_text() == APP.replace("+ nam\n", "+ name\n")
        assert outputs(h.generating[-1])[-1].startswith("Exit code: 0")


async def test_one_turn_at_a_time_per_thread(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.load([{"output": [say("slow")], "fault": {"kind": "silence", "after_events": 6}}])
        agent = h.agent()
        first = asyncio.create_task(agent.run_turn(TurnRequest(prompt="one")))
        started = await h.until(lambda e: isinstance(e, TurnStarted))
        assert isinstance(started, TurnStarted)
        with pytest.raises(TurnBusyError, match="already running"):
            await agent.run_turn(TurnRequest(prompt="two", thread_id=started.thread_id))
        result = await h.interrupt(first, lambda: agent.interrupt(started.turn_id))
        assert result.status == "interrupted"


async def test_apply_patch_as_a_json_function(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        (h.root / "app.py").write_text(APP)
        h.load([{"output": [call("apply_patch", input=FIX)]}, {"output": [say("done")]}])
        agent = h.agent(apply_patch_tool="function")
        (spec,) = [t for t in agent.registry.specs() if t["name"] == "apply_patch"]
        assert spec["type"] == "function"
        assert spec["parameters"]["required"] == ["input"]
        result = await agent.run_turn(TurnRequest(prompt="fix"))
        assert result.changed_files == ("app.py",)
        assert outputs(h.generating[1])[-1].startswith("Exit code: 0")
        sent = h.generating[0].body["tools"]
        assert [t["name"] for t in sent if t["type"] == "function"][:1] == ["apply_patch"]


async def test_a_key_the_model_streams_back_is_masked_in_every_event_but_kept_in_the_history(
    tmp_path: Path,
) -> None:
    """The key split across deltas (chunks of 3 characters), in a message and in a reasoning summary:
    no event shows it, not even in pieces; the deltas still add up to the masked text; the history
    keeps the model's own words (the next request sends them back); the thread file masks them."""
    key = "sk-fake-server-key"
    async with harness(tmp_path) as h:
        h.load(
            [
                {
                    "output": [
                        {"type": "reasoning", "summary": [f"they gave me {key}"]},
                        say(f"your key is {key}."),
                    ],
                    "chunk_size": 3,
                }
            ]
        )
        agent = h.agent()
        result = await agent.run_turn(TurnRequest(prompt="what is my key?"))
    assert result.status == "completed", result.error
    assert result.message == "your key is ***."
    deltas = "".join(e.delta for e in h.of_type(AgentMessageDelta))
    assert deltas == "your key is ***."
    thoughts = "".join(e.delta for e in h.of_type(ReasoningSummaryDelta))
    assert thoughts == "they gave me ***"
    shown = repr(h.events)
    assert key not in shown
    assert not any(key[:4] in e.delta for e in h.of_type(AgentMessageDelta)), "not even its start"
    (thread,) = agent.threads.values()
    assert f"your key is {key}." in repr(thread.history)
    saved = "".join(p.read_text() for p in h.state.rglob("*.jsonl"))
    assert key not in saved
    assert "your key is ***." in saved
