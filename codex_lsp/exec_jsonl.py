"""``codex-lsp exec --json``: the turn's events as ``codex exec --json`` prints them, one JSON object a line.

The shapes are those of the pinned Codex CLI (0.169), recorded from its output and compared with ours by
tests/agent/test_exec_jsonl_codex.py:

- ``{"type":"thread.started","thread_id":…}`` then ``{"type":"turn.started"}``; the configuration's
  warnings come between them, as ``error`` items;
- ``item.started`` / ``item.updated`` / ``item.completed`` with ``{"item":{"id":"item_N","type":…}}``:
  ``agent_message {text}`` and ``reasoning {text}`` (the summary parts, one a line; an empty summary is not
  shown) only complete; ``command_execution {command, aggregated_output, exit_code, status}`` and
  ``file_change {changes: [{path, kind}], status}`` start and complete; ``todo_list {items: [{text,
  completed}]}`` starts at the first plan, is updated by each later one and completes when the turn ends;
  ``error {message}`` (a warning, a transport fallback) only completes;
- ``{"type":"error","message":…}`` for each retry ("Reconnecting... 2/5 (…)") and before a failure;
- ``{"type":"turn.completed","usage":{input_tokens, cached_input_tokens, output_tokens,
  reasoning_output_tokens}}`` or ``{"type":"turn.failed","error":{"message":…}}``; an interrupted turn ends
  with neither.

Item ids are numbered in the order Codex numbers them: an item that starts gets its id then, one that only
completes gets it at completion. File paths are absolute, changes sorted by path, a move is an ``update`` of
its source. A patch that was refused before it matched (the model is told why) is not shown, as Codex shows
no item for a patch that fails its verification.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from codex_lsp.agent import (
    AgentMessageItem,
    CommandExecutionItem,
    FileChangeItem,
    ItemCompleted,
    ItemStarted,
    PlanStep,
    PlanUpdated,
    ReasoningItem,
    TransportNotice,
    TurnCompleted,
    TurnEvent,
    TurnStarted,
    UsageTotals,
)

__all__ = ["JsonlPrinter", "usage_json"]

_COMMAND_STATUS = {
    "inProgress": "in_progress",
    "completed": "completed",
    "failed": "failed",
    "timedOut": "failed",
    "declined": "declined",
}
_PATCH_STATUS = {
    "inProgress": "in_progress",
    "applied": "completed",
    "failed": "failed",
    # Codex reports a declined patch as failed. Exec never holds a change for review (no review mode).
    "declined": "failed",
    "held": "failed",
}
_KIND = {"add": "add", "update": "update", "delete": "delete", "move": "update"}


def usage_json(usage: UsageTotals) -> dict[str, int]:
    """A turn's token counts as ``turn.completed`` carries them."""
    return {
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_output_tokens": usage.reasoning_output_tokens,
    }


class JsonlPrinter:
    """Writes each turn event that Codex would show as one JSON line on ``out``, flushed at once.

    ``root`` is the workspace folder (file paths are shown absolute); ``warnings`` are the configuration's,
    shown as ``error`` items once the thread has started.
    """

    def __init__(self, out: TextIO, root: Path, warnings: Sequence[str] = ()) -> None:
        self.out = out
        self.root = root
        self._warnings = list(warnings)
        self._counter = 0
        self._started: dict[str, str] = {}
        """Our item id → the id shown, for items that have started and not completed yet."""
        self._todo: tuple[str, list[dict[str, Any]]] | None = None

    def __call__(self, event: TurnEvent) -> None:
        if isinstance(event, TurnStarted):
            self._emit({"type": "thread.started", "thread_id": event.thread_id})
            for warning in self._warnings:
                self._item("item.completed", self._next_id(), "error", message=warning)
            self._warnings.clear()
            self._emit({"type": "turn.started"})
        elif isinstance(event, ItemStarted):
            self._on_started(event)
        elif isinstance(event, ItemCompleted):
            self._on_completed(event)
        elif isinstance(event, PlanUpdated):
            self._on_plan(event.plan)
        elif isinstance(event, TransportNotice) and event.kind == "retry":
            self._emit({"type": "error", "message": event.message})
        elif isinstance(event, TransportNotice):
            self._item("item.completed", self._next_id(), "error", message=event.message)
        elif isinstance(event, TurnCompleted):
            self._on_turn_completed(event)

    def _on_started(self, event: ItemStarted) -> None:
        item = event.item
        if isinstance(item, CommandExecutionItem):
            shown = self._started[item.id] = self._next_id()
            self._item("item.started", shown, "command_execution", **self._command(item))
        elif isinstance(item, FileChangeItem) and item.changes:
            shown = self._started[item.id] = self._next_id()
            self._item("item.started", shown, "file_change", **self._file_change(item))

    def _on_completed(self, event: ItemCompleted) -> None:
        item = event.item
        if isinstance(item, AgentMessageItem):
            self._item("item.completed", self._next_id(), "agent_message", text=item.text)
        elif isinstance(item, ReasoningItem) and item.summary.strip():
            self._item("item.completed", self._next_id(), "reasoning", text=item.summary)
        elif isinstance(item, CommandExecutionItem):
            shown = self._started.pop(item.id, None) or self._next_id()
            self._item("item.completed", shown, "command_execution", **self._command(item))
        elif isinstance(item, FileChangeItem) and item.id in self._started:
            shown = self._started.pop(item.id)
            self._item("item.completed", shown, "file_change", **self._file_change(item))

    def _on_plan(self, plan: Sequence[PlanStep]) -> None:
        items = [{"text": step.step, "completed": step.status == "completed"} for step in plan]
        if self._todo is None:
            self._todo = (self._next_id(), items)
            self._item("item.started", self._todo[0], "todo_list", items=items)
        else:
            self._todo = (self._todo[0], items)
            self._item("item.updated", self._todo[0], "todo_list", items=items)

    def _on_turn_completed(self, event: TurnCompleted) -> None:
        if self._todo is not None:
            shown, items = self._todo
            self._todo = None
            self._item("item.completed", shown, "todo_list", items=items)
        if event.status == "completed":
            self._emit({"type": "turn.completed", "usage": usage_json(event.usage)})
        elif event.status == "failed":
            message = event.error or "turn failed"
            self._emit({"type": "error", "message": message})
            self._emit({"type": "turn.failed", "error": {"message": message}})

    def _command(self, item: CommandExecutionItem) -> dict[str, Any]:
        ran = item.status != "declined"
        return {
            "command": shlex.join(item.command),
            "aggregated_output": item.output if ran else "",
            "exit_code": item.exit_code,
            "status": _COMMAND_STATUS[item.status],
        }

    def _file_change(self, item: FileChangeItem) -> dict[str, Any]:
        changes = sorted(
            ((self.root / change.path, change.kind) for change in item.changes), key=lambda c: c[0]
        )
        return {
            "changes": [{"path": str(path), "kind": _KIND[kind]} for path, kind in changes],
            "status": _PATCH_STATUS[item.status],
        }

    def _next_id(self) -> str:
        shown = f"item_{self._counter}"
        self._counter += 1
        return shown

    def _item(self, kind: str, shown: str, item_type: str, **fields: Any) -> None:
        self._emit({"type": kind, "item": {"id": shown, "type": item_type, **fields}})

    def _emit(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.flush()
