"""``exec --json``'s printer on its own: the events the Codex differential cannot produce (a plan, a declined
command or patch, a refused patch, a fallback, an interrupted turn) and how each line is written."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from codex_lsp.agent import (
    AgentMessageItem,
    CommandExecutionItem,
    FileChangeEntry,
    FileChangeItem,
    ItemCompleted,
    ItemStarted,
    PlanStep,
    PlanUpdated,
    TransportNotice,
    TurnCompleted,
    TurnEvent,
    TurnStarted,
    UsageTotals,
)
from codex_lsp.exec_jsonl import JsonlPrinter

ROOT = Path("/work/space")
T = "turn-1"


class Lines(io.StringIO):
    """A stdout that remembers how many lines had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[int] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue().count("\n"))


def printed(*events: TurnEvent, warnings: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    out = Lines()
    printer = JsonlPrinter(out, ROOT, warnings)
    for event in events:
        printer(event)
    text = out.getvalue()
    assert text.endswith("\n") or not text
    lines = text.splitlines()
    assert out.flushed == list(range(1, len(lines) + 1)), "every line is flushed as it is written"
    return [json.loads(line) for line in lines]


def turn(status: str = "completed", error: str | None = None) -> TurnCompleted:
    return TurnCompleted(
        thread_id="th-1",
        turn_id=T,
        status=status,  # type: ignore[arg-type]
        error=error,
        usage=UsageTotals(input_tokens=5, cached_input_tokens=1, output_tokens=3, reasoning_output_tokens=2),
    )


def test_a_plan_is_one_todo_list_started_updated_and_completed_with_the_turn() -> None:
    first = (PlanStep(step="read", status="completed"), PlanStep(step="fix", status="in_progress"))
    second = (PlanStep(step="read", status="completed"), PlanStep(step="fix", status="completed"))
    events = printed(
        TurnStarted(thread_id="th-1", turn_id=T),
        PlanUpdated(turn_id=T, plan=first),
        ItemCompleted(turn_id=T, item=AgentMessageItem(id="m1", text="half way")),
        PlanUpdated(turn_id=T, plan=second),
        turn(),
    )
    todo = {"id": "item_0", "type": "todo_list"}
    assert events == [
        {"type": "thread.started", "thread_id": "th-1"},
        {"type": "turn.started"},
        {
            "type": "item.started",
            "item": {
                **todo,
                "items": [{"text": "read", "completed": True}, {"text": "fix", "completed": False}],
            },
        },
        {"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "half way"}},
        {
            "type": "item.updated",
            "item": {
                **todo,
                "items": [{"text": "read", "completed": True}, {"text": "fix", "completed": True}],
            },
        },
        {
            "type": "item.completed",
            "item": {
                **todo,
                "items": [{"text": "read", "completed": True}, {"text": "fix", "completed": True}],
            },
        },
        {
            "type": "turn.completed",
            "usage": {
                "input_tokens": 5,
                "cached_input_tokens": 1,
                "output_tokens": 3,
                "reasoning_output_tokens": 2,
            },
        },
    ]


def test_a_declined_command_ran_nothing() -> None:
    item = CommandExecutionItem(id="c1", command=("rm", "-rf", "build dir"))
    declined = item.model_copy(
        update={"status": "declined", "output": "The user declined to run this command."}
    )
    events = printed(ItemStarted(turn_id=T, item=item), ItemCompleted(turn_id=T, item=declined))
    shown = {"id": "item_0", "type": "command_execution", "command": "rm -rf 'build dir'"}
    assert events == [
        {
            "type": "item.started",
            "item": {**shown, "aggregated_output": "", "exit_code": None, "status": "in_progress"},
        },
        {
            "type": "item.completed",
            "item": {**shown, "aggregated_output": "", "exit_code": None, "status": "declined"},
        },
    ]


def test_a_command_that_timed_out_failed() -> None:
    item = CommandExecutionItem(id="c1", command=("sleep", "9"))
    done = item.model_copy(update={"status": "timedOut", "exit_code": None, "output": "partial"})
    events = printed(ItemStarted(turn_id=T, item=item), ItemCompleted(turn_id=T, item=done))
    assert events[-1]["item"]["status"] == "failed"
    assert events[-1]["item"]["aggregated_output"] == "partial"


def test_patches_show_absolute_sorted_paths_and_codexs_statuses() -> None:
    changes = (
        FileChangeEntry(path="src/z.py", kind="add"),
        FileChangeEntry(path="old.py", kind="move", move_to="new.py"),
        FileChangeEntry(path="gone.py", kind="delete"),
    )
    applied = FileChangeItem(id="p1", changes=changes)
    declined = FileChangeItem(id="p2", changes=changes[:1])
    events = printed(
        ItemStarted(turn_id=T, item=applied),
        ItemCompleted(turn_id=T, item=applied.model_copy(update={"status": "applied"})),
        ItemStarted(turn_id=T, item=declined),
        ItemCompleted(turn_id=T, item=declined.model_copy(update={"status": "declined"})),
    )
    assert [(e["type"], e["item"]["id"], e["item"]["status"]) for e in events] == [
        ("item.started", "item_0", "in_progress"),
        ("item.completed", "item_0", "completed"),
        ("item.started", "item_1", "in_progress"),
        ("item.completed", "item_1", "failed"),
    ]
    assert events[1]["item"]["changes"] == [
        {"path": "/work/space/gone.py", "kind": "delete"},
        {"path": "/work/space/old.py", "kind": "update"},
        {"path": "/work/space/src/z.py", "kind": "add"},
    ]


def test_a_patch_refused_before_it_matched_is_not_shown() -> None:
    refused = FileChangeItem(id="p1")
    events = printed(
        ItemStarted(turn_id=T, item=refused),
        ItemCompleted(turn_id=T, item=refused.model_copy(update={"status": "failed", "message": "no match"})),
        ItemCompleted(turn_id=T, item=AgentMessageItem(id="m1", text="retrying")),
    )
    assert events == [
        {"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": "retrying"}}
    ]


def test_warnings_come_between_thread_and_turn_and_notices_as_codex_shows_them() -> None:
    events = printed(
        TurnStarted(thread_id="th-1", turn_id=T),
        TransportNotice(turn_id=T, kind="retry", message="Reconnecting... 1/5 (reset)"),
        TransportNotice(
            turn_id=T, kind="fallback", message="Falling back from WebSockets to HTTP transport."
        ),
        turn("failed", "boom"),
        warnings=("Codex is ignoring 1 unrecognized configuration setting.",),
    )
    assert events == [
        {"type": "thread.started", "thread_id": "th-1"},
        {
            "type": "item.completed",
            "item": {
                "id": "item_0",
                "type": "error",
                "message": "Codex is ignoring 1 unrecognized configuration setting.",
            },
        },
        {"type": "turn.started"},
        {"type": "error", "message": "Reconnecting... 1/5 (reset)"},
        {
            "type": "item.completed",
            "item": {
                "id": "item_1",
                "type": "error",
                "message": "Falling back from WebSockets to HTTP transport.",
            },
        },
        {"type": "error", "message": "boom"},
        {"type": "turn.failed", "error": {"message": "boom"}},
    ]


def test_an_interrupted_turn_ends_without_a_turn_event() -> None:
    events = printed(TurnStarted(thread_id="th-1", turn_id=T), turn("interrupted"))
    assert [e["type"] for e in events] == ["thread.started", "turn.started"]


def test_text_is_written_as_is_on_one_compact_line() -> None:
    out = Lines()
    JsonlPrinter(out, ROOT)(ItemCompleted(turn_id=T, item=AgentMessageItem(id="m", text='héllo "✓"\nnext')))
    item = '{"id":"item_0","type":"agent_message","text":"héllo \\"✓\\"\\nnext"}'
    assert out.getvalue() == '{"type":"item.completed","item":' + item + "}\n"
