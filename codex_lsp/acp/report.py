"""What an ACP editor shows of a turn: the agent's events and tool calls as ``session/update``.

- Agent text and reasoning summaries stream as ``agent_message_chunk`` / ``agent_thought_chunk``;
  the plan as ``plan`` entries.
- Every tool call (but ``update_plan``, shown as the plan) is a ``tool_call`` card with a kind
  (read, search, edit, execute), its files as locations, then ``tool_call_update``s: an edit's
  ``diff`` per file (old and new text, as computed by the patch engine before anything is written),
  and the final status with the output or the error. Cards come from wrapping each tool
  (:func:`reported_tool`); the card of the call running in a task is :data:`CURRENT_CALL`, so the
  applier and the approver, called from inside the tool, attach to the right card.
- Each call runs under the session's mode as it is when the call starts (a ``session/set_mode``
  applies from the next call, in a running turn too): in read-only mode a tool that changes files
  refuses before it runs; in review mode the agent asks before each edit (see
  :mod:`codex_lsp.acp.permission`), and the question shows the edit's diffs on its card.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from acp import (
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
)
from acp.schema import (
    AgentPlanUpdate,
    ContentToolCallContent,
    FileEditToolCallContent,
    PlanEntry,
    TerminalToolCallContent,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolCallStatus,
)

from codex_lsp.acp.calls import CallInfo, describe_call
from codex_lsp.acp.updates import UpdateStream
from codex_lsp.agent import (
    AgentMessageDelta,
    AgentMessageItem,
    AgentSettings,
    ApplyOutcome,
    ChangeApplier,
    CommandStarted,
    FileChangeItem,
    ItemCompleted,
    PlanStep,
    PlanUpdated,
    ReasoningItem,
    ReasoningSummaryDelta,
    Tool,
    ToolCall,
    ToolContext,
    ToolResult,
    TransportNotice,
    TurnEvent,
)
from codex_lsp.patch import FileChange, PatchResult

__all__ = [
    "CURRENT_CALL",
    "ReportedCall",
    "Reporter",
    "ReportingApplier",
    "ToolHost",
    "clip_output",
    "plan_update",
    "reported_tool",
]

log = logging.getLogger(__name__)

MAX_OUTPUT_CHARS = 8_000
"""A card shows at most this much of a tool's output (the model gets all of it)."""
READ_ONLY_REFUSAL = (
    "{name} refused: this session is in read-only mode, so no file may be changed and no command run. "
    "Describe the change instead; the user can switch the session to auto mode to let you make it."
)

_OUTPUT_SHOWN = frozenset({"shell", "search", "list_dir"})
"""Tools whose output a finished card shows (a read shows its file, an edit its diffs)."""

ToolContent = ContentToolCallContent | FileEditToolCallContent | TerminalToolCallContent


@dataclass
class ReportedCall:
    """The card of one tool call."""

    id: str
    info: CallInfo
    content: list[ToolContent] = field(default_factory=list)
    """What the card shows besides the final output (an edit's diffs)."""
    applied: bool = False
    """Whether the call already changed files (an edit the turn's interrupt must not hide)."""


CURRENT_CALL: ContextVar[ReportedCall | None] = ContextVar("codex_lsp_acp_current_call", default=None)


def plan_update(steps: Iterable[PlanStep]) -> AgentPlanUpdate:
    """The ``plan`` update for a step list."""
    entries = [PlanEntry(content=step.step, priority="medium", status=step.status) for step in steps]
    return AgentPlanUpdate(session_update="plan", entries=entries)


class Reporter:
    """One session's view of its turns: the agent's ``emit`` callback, and the cards of tool calls."""

    def __init__(self, stream: UpdateStream, root: Path) -> None:
        self.stream = stream
        self.root = root
        self._streamed: set[tuple[str, str]] = set()
        self._ids: set[str] = set()

    def __call__(self, event: TurnEvent) -> None:
        if isinstance(event, AgentMessageDelta | ReasoningSummaryDelta):
            self._streamed.add((event.turn_id, event.item_id))
            chunk = (
                update_agent_message_text
                if isinstance(event, AgentMessageDelta)
                else update_agent_thought_text
            )
            self.stream.post(chunk(event.delta))
        elif isinstance(event, ItemCompleted):
            self._completed(event)
        elif isinstance(event, PlanUpdated):
            self.stream.post(plan_update(event.plan))
        elif isinstance(event, CommandStarted) and (call := CURRENT_CALL.get()) is not None:
            self.stream.post(
                ToolCallProgress(
                    session_update="tool_call_update", tool_call_id=call.id, status="in_progress"
                )
            )
        elif isinstance(event, TransportNotice):
            log.info("%s", event.message)

    def _completed(self, event: ItemCompleted) -> None:
        item = event.item
        unseen = (event.turn_id, item.id) not in self._streamed
        if isinstance(item, AgentMessageItem) and unseen and item.text:
            self.stream.post(update_agent_message_text(item.text))
        elif isinstance(item, ReasoningItem) and unseen and item.summary:
            self.stream.post(update_agent_thought_text(item.summary))
        elif isinstance(item, FileChangeItem) and item.status in ("applied", "held"):
            call = CURRENT_CALL.get()
            if call is not None:
                call.applied = True

    # -- cards --------------------------------------------------------------------------------------

    def start(self, call: ToolCall, info: CallInfo) -> ReportedCall:
        """Open the card of ``call``."""
        reported = ReportedCall(self._fresh_id(call.call_id), info)
        self.stream.post(
            ToolCallStart(
                session_update="tool_call",
                tool_call_id=reported.id,
                title=info.title,
                kind=info.kind,
                status="in_progress",
                locations=info.locations(self.root) or None,
                raw_input=info.raw_input,
            )
        )
        return reported

    def show_diffs(self, reported: ReportedCall, changes: Iterable[FileChange]) -> None:
        """Put an edit's diffs on its card: one per file, the old and new text as computed.

        Shown once: an edit asked about first (review mode) shows them before the question, and
        applying it then sends nothing new.
        """
        changes = tuple(changes)
        content: list[ToolContent] = list(self.diffs(changes))
        if content == reported.content:
            return
        reported.content = content
        self.stream.post(
            ToolCallProgress(
                session_update="tool_call_update",
                tool_call_id=reported.id,
                content=list(content),
                locations=self.edit_locations(changes),
            )
        )

    def diffs(self, changes: Iterable[FileChange]) -> list[FileEditToolCallContent]:
        """An edit's ``diff`` contents, one per file."""
        return [_diff(self.root, change) for change in changes]

    def edit_locations(self, changes: Iterable[FileChange]) -> list[ToolCallLocation]:
        """The files an edit leaves behind (a move's new place, a deletion's old one)."""
        paths = tuple(change.move_to or change.path for change in changes)
        return CallInfo("", "edit", paths).locations(self.root)

    def finish(self, reported: ReportedCall, status: ToolCallStatus, output: str | None) -> None:
        """Close the card with its status, and the output (clipped) after what it shows already."""
        # An update's content replaces the card's: keep what it shows, add the output after it.
        content = [*reported.content, tool_content(text_block(clip_output(output)))] if output else None
        self.stream.post(
            ToolCallProgress(
                session_update="tool_call_update", tool_call_id=reported.id, status=status, content=content
            )
        )

    def reserve(self, tool_call_id: str) -> None:
        """A card the editor already shows (replayed): new cards get other ids."""
        self._ids.add(tool_call_id)

    def _fresh_id(self, call_id: str) -> str:
        """The model's call id, made unique within the session (scripts and models may reuse one)."""
        candidate, number = call_id or "call", 1
        while candidate in self._ids:
            number += 1
            candidate = f"{call_id}#{number}"
        self._ids.add(candidate)
        return candidate


def _diff(root: Path, change: FileChange) -> FileEditToolCallContent:
    """A file's diff: a deletion shows its old text going to nothing, a move its new place."""
    target = change.move_to or change.path
    return tool_diff_content(str(root / target), change.new_text or "", change.old_text)


def clip_output(text: str) -> str:
    """``text``, cut to what a card shows."""
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n[… {len(text) - MAX_OUTPUT_CHARS} more characters]"


class ToolHost(Protocol):
    """What a reported tool needs from its session."""

    reporter: Reporter

    @property
    def read_only(self) -> bool:
        """Whether the session may change nothing (no edit, no command)."""
        ...

    @property
    def settings(self) -> AgentSettings:
        """The agent's settings under the session's current mode (review mode asks for every edit)."""
        ...

    def editor_view(self, paths: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """Reads of ``paths`` show the editor's text while the block runs."""
        ...


class _ReportedTool(Tool):
    """A tool whose calls get cards; subclassed per tool so ``name`` and ``mutating`` stay class-level."""

    def __init__(self, inner: Tool, host: ToolHost) -> None:
        self.inner = inner
        self.host = host

    def spec(self) -> dict[str, object]:
        return self.inner.spec()

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        # The turn's context was made when the turn began; the session's mode may have changed
        # since, and a mode applies from the next tool call on.
        ctx.settings = self.host.settings
        info = describe_call(call.name, call.arguments, ctx.workspace.root, custom=call.kind == "custom")
        if info.hidden:
            return await self.inner.run(call, ctx)
        reporter = self.host.reporter
        reported = reporter.start(call, info)
        if self.mutating and self.host.read_only:
            refusal = ToolResult(output=READ_ONLY_REFUSAL.format(name=call.name), success=False)
            reporter.finish(reported, "failed", refusal.output)
            return refusal
        token = CURRENT_CALL.set(reported)
        try:
            async with self.host.editor_view(info.paths):
                result = await self.inner.run(call, ctx)
        except BaseException:
            # Interrupted (or a bug, which the turn reports): an edit that reached the files stays done.
            reporter.finish(reported, "completed" if reported.applied else "failed", "Interrupted.")
            raise
        finally:
            CURRENT_CALL.reset(token)
        shown = result.output if call.name in _OUTPUT_SHOWN or not result.success else None
        reporter.finish(reported, "completed" if result.success else "failed", shown)
        return result


def reported_tool(inner: Tool, host: ToolHost) -> Tool:
    """``inner``, with a card for each call and the editor's text for the files it reads."""

    class Reported(_ReportedTool):
        name: ClassVar[str] = inner.name
        mutating: ClassVar[bool] = inner.mutating

    Reported.__name__ = Reported.__qualname__ = f"Reported{type(inner).__name__}"
    return Reported(inner, host)


class ReportingApplier:
    """Shows an edit's diffs on its card, then hands the changes to the applier doing the writing."""

    def __init__(self, inner: ChangeApplier, reporter: Reporter) -> None:
        self.inner = inner
        self.reporter = reporter

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        call = CURRENT_CALL.get()
        if call is not None:
            self.reporter.show_diffs(call, result.changes)
        return await self.inner.apply(result, turn_id=turn_id, summary=summary)
