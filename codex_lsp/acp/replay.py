"""A saved thread as the ``session/update``s an editor shows for it (``session/load``).

The history holds what the model saw: user messages (the first turn's project instructions and
environment context are ours, not the user's, and are skipped), the agent's messages and reasoning,
and each tool call with its output. Calls replay as finished cards — an interrupted one as failed —
with the patch text on an edit's card (the files' texts at the time are not kept); plan updates
replay as the plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from acp import text_block, tool_content, update_agent_message_text, update_agent_thought_text
from acp import update_user_message_text as user_text
from acp.schema import ToolCallStart
from pydantic import ValidationError

from codex_lsp.acp.calls import describe_call
from codex_lsp.acp.report import clip_output, plan_update
from codex_lsp.acp.updates import SessionUpdate
from codex_lsp.agent import ABORTED, PlanStep

__all__ = ["replay"]

_OURS = (
    "# AGENTS.md instructions for ",
    "# AGENTS.md instructions\n\n<INSTRUCTIONS>",
    "<environment_context>",
)
"""How the messages the agent adds to a thread's first turn begin."""
_CALLS = {"function_call", "custom_tool_call"}


def replay(history: Sequence[dict[str, Any]], root: Path) -> Iterator[SessionUpdate]:
    """The updates showing ``history``, in order."""
    outputs = {item.get("call_id"): item.get("output") for item in history if _is_output(item)}
    for item in history:
        kind = item.get("type")
        if kind == "message":
            yield from _message(item)
        elif kind == "reasoning":
            summary = "\n".join(_texts(item.get("summary")))
            if summary:
                yield update_agent_thought_text(summary)
        elif kind in _CALLS:
            yield from _call(item, outputs.get(item.get("call_id")), root)


def _is_output(item: dict[str, Any]) -> bool:
    return str(item.get("type", "")).endswith("_call_output")


def _message(item: dict[str, Any]) -> Iterator[SessionUpdate]:
    text = "".join(_texts(item.get("content")))
    if not text:
        return
    role = item.get("role")
    if role == "assistant":
        yield update_agent_message_text(text)
    elif role == "user" and not text.startswith(_OURS):
        yield user_text(text)


def _call(item: dict[str, Any], output: object, root: Path) -> Iterator[SessionUpdate]:
    custom = item.get("type") == "custom_tool_call"
    raw = item.get("input") if custom else item.get("arguments")
    name = str(item.get("name") or "")
    info = describe_call(name, raw if isinstance(raw, str) else "", root, custom=custom)
    if info.hidden:
        steps = (info.raw_input or {}).get("plan") if isinstance(info.raw_input, dict) else None
        if isinstance(steps, list):
            yield plan_update(_steps(steps))
        return
    shown = info.raw_input.get("patch") if name == "apply_patch" else output
    yield ToolCallStart(
        session_update="tool_call",
        tool_call_id=str(item.get("call_id") or name),
        title=info.title,
        kind=info.kind,
        status="failed" if output == ABORTED or output is None else "completed",
        locations=info.locations(root) or None,
        content=[tool_content(text_block(clip_output(shown)))] if isinstance(shown, str) and shown else None,
        raw_input=info.raw_input,
    )


def _steps(raw: list[Any]) -> list[PlanStep]:
    """The well-formed steps of a saved plan (a malformed one was refused when it was sent)."""
    steps = []
    for step in raw:
        try:
            steps.append(PlanStep.model_validate(step))
        except ValidationError:
            continue
    return steps


def _texts(parts: object) -> Iterator[str]:
    if isinstance(parts, list):
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part["text"]
