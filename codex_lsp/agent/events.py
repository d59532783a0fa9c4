"""Typed events a turn emits while it runs; the LSP layer renders them, ``exec`` prints them.

Names follow Codex's app-server vocabulary (thread / turn / item) so the concepts carry over to
the ``codex/*`` notifications the LSP host sends (:mod:`codex_lsp.lsp.features.progress`,
architecture §2). Every event carries ``turn_id``; items carry an
``id`` unique within the turn so started / delta / completed events can be joined.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgentMessageDelta",
    "AgentMessageItem",
    "CommandExecutionItem",
    "CommandFinished",
    "CommandStarted",
    "FileChangeEntry",
    "FileChangeItem",
    "FileChangeProposed",
    "Item",
    "ItemCompleted",
    "ItemStarted",
    "PlanItem",
    "PlanStep",
    "PlanUpdated",
    "ReasoningItem",
    "ReasoningSummaryDelta",
    "TransportNotice",
    "TurnCompleted",
    "TurnEvent",
    "TurnResult",
    "TurnStarted",
    "TurnStatus",
    "UsageTotals",
]

TurnStatus = Literal["completed", "interrupted", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PlanStep(_Model):
    """One step of the agent's plan (Codex's ``update_plan`` shape)."""

    step: str
    status: Literal["pending", "in_progress", "completed"]


class FileChangeEntry(_Model):
    """One path a patch touches."""

    path: str
    kind: Literal["add", "update", "delete", "move"]
    move_to: str | None = None


class AgentMessageItem(_Model):
    type: Literal["agentMessage"] = "agentMessage"
    id: str
    text: str = ""


class ReasoningItem(_Model):
    type: Literal["reasoning"] = "reasoning"
    id: str
    summary: str = ""


class FileChangeItem(_Model):
    type: Literal["fileChange"] = "fileChange"
    id: str
    changes: tuple[FileChangeEntry, ...] = ()
    status: Literal["inProgress", "applied", "held", "declined", "failed"] = "inProgress"
    diff: str = ""
    """The unified diff of the change (for previews and ``--dry-run``)."""
    message: str = ""
    proposal_id: str | None = None


class CommandExecutionItem(_Model):
    type: Literal["commandExecution"] = "commandExecution"
    id: str
    command: tuple[str, ...]
    cwd: str = ""
    status: Literal["inProgress", "completed", "failed", "declined", "timedOut"] = "inProgress"
    exit_code: int | None = None
    duration_seconds: float | None = None
    output: str = ""
    sandboxed: bool = False


class PlanItem(_Model):
    type: Literal["plan"] = "plan"
    id: str
    explanation: str | None = None
    steps: tuple[PlanStep, ...] = ()


Item = Annotated[
    AgentMessageItem | ReasoningItem | FileChangeItem | CommandExecutionItem | PlanItem,
    Field(discriminator="type"),
]


class UsageTotals(_Model):
    """Tokens used by the turn's responses, summed."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0


class TurnStarted(_Model):
    type: Literal["turn/started"] = "turn/started"
    thread_id: str
    turn_id: str


class ItemStarted(_Model):
    type: Literal["item/started"] = "item/started"
    turn_id: str
    item: Item


class ItemCompleted(_Model):
    type: Literal["item/completed"] = "item/completed"
    turn_id: str
    item: Item


class AgentMessageDelta(_Model):
    type: Literal["item/agentMessage/delta"] = "item/agentMessage/delta"
    turn_id: str
    item_id: str
    delta: str


class ReasoningSummaryDelta(_Model):
    type: Literal["item/reasoning/summaryDelta"] = "item/reasoning/summaryDelta"
    turn_id: str
    item_id: str
    delta: str


class PlanUpdated(_Model):
    type: Literal["turn/plan/updated"] = "turn/plan/updated"
    turn_id: str
    explanation: str | None = None
    plan: tuple[PlanStep, ...]


class FileChangeProposed(_Model):
    """A patch matched and was turned into changes; the host is about to apply or hold them."""

    type: Literal["turn/fileChange/proposed"] = "turn/fileChange/proposed"
    turn_id: str
    item_id: str
    changes: tuple[FileChangeEntry, ...]
    diff: str


class CommandStarted(_Model):
    type: Literal["turn/command/started"] = "turn/command/started"
    turn_id: str
    item_id: str
    command: tuple[str, ...]
    cwd: str
    sandboxed: bool


class CommandFinished(_Model):
    type: Literal["turn/command/finished"] = "turn/command/finished"
    turn_id: str
    item_id: str
    exit_code: int | None
    duration_seconds: float
    status: Literal["completed", "failed", "declined", "timedOut"]


class TransportNotice(_Model):
    """The model connection is retrying or changed transport ("Reconnecting… 2/5")."""

    type: Literal["turn/transport"] = "turn/transport"
    turn_id: str
    kind: Literal["retry", "fallback"]
    message: str


class TurnResult(_Model):
    """How a turn ended: what a turn returns to its host (the LSP command's result, exec's exit)."""

    thread_id: str
    turn_id: str
    status: TurnStatus
    message: str = ""
    """The agent's final message text."""
    changed_files: tuple[str, ...] = ()
    """Paths the turn changed, in first-change order."""
    usage: UsageTotals = UsageTotals()
    error: str | None = None
    proposal_id: str | None = None
    """Review mode: the proposal holding the turn's changes (none of them applied yet)."""
    diffs: tuple[tuple[str, str], ...] = ()
    """Review mode: ``(path, unified diff)`` per file of the proposal, as it stands at the end."""


class TurnCompleted(TurnResult):
    """The turn ended: its :class:`TurnResult`, as the last event of the turn."""

    type: Literal["turn/completed"] = "turn/completed"


TurnEvent = Annotated[
    TurnStarted
    | ItemStarted
    | ItemCompleted
    | AgentMessageDelta
    | ReasoningSummaryDelta
    | PlanUpdated
    | FileChangeProposed
    | CommandStarted
    | CommandFinished
    | TransportNotice
    | TurnCompleted,
    Field(discriminator="type"),
]
