"""The agent: threads, turns, tools and context. No LSP here; the editor is reached through
the small interfaces of :mod:`codex_lsp.agent.interfaces`.

This module names what hosts may use (``__all__``): the :class:`Agent` and its requests and
results, the events a turn emits, the interfaces a host implements, the terminal's own
implementations of them, the tool types a host may wrap, and the errors. Hosts import nothing
else of the package (tests/test_surfaces.py enforces it). Each name loads its module on first
use (PEP 562), so reaching ``AgentSettings`` does not load the model client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_lsp._exports import lazy_exports

if TYPE_CHECKING:
    from codex_lsp.agent.agent import Agent, TurnRequest
    from codex_lsp.agent.book import ProposalBook
    from codex_lsp.agent.cancellation import checkpoint
    from codex_lsp.agent.errors import ThreadNotFoundError, TurnBusyError, TurnError
    from codex_lsp.agent.events import (
        AgentMessageDelta,
        AgentMessageItem,
        CommandExecutionItem,
        CommandFinished,
        CommandStarted,
        FileChangeEntry,
        FileChangeItem,
        FileChangeProposed,
        Item,
        ItemCompleted,
        ItemStarted,
        PlanItem,
        PlanStep,
        PlanUpdated,
        ReasoningItem,
        ReasoningSummaryDelta,
        TransportNotice,
        TurnCompleted,
        TurnEvent,
        TurnResult,
        TurnStarted,
        TurnStatus,
        UsageTotals,
    )
    from codex_lsp.agent.interfaces import (
        ApplyOutcome,
        ApprovalDecision,
        ApprovalRequest,
        Approver,
        ChangeApplier,
        Diagnostic,
        EditorContext,
        OpenBuffer,
        Selection,
        Workspace,
        read_workspace_text,
    )
    from codex_lsp.agent.local import DiskApplier, DryRunApplier, LocalWorkspace, TerminalApprover
    from codex_lsp.agent.proposals import (
        Decision,
        HunkState,
        Prepared,
        Proposal,
        ProposalEvent,
        ProposalStore,
    )
    from codex_lsp.agent.sandbox import SandboxStatus, sandbox_status
    from codex_lsp.agent.settings import AgentSettings
    from codex_lsp.agent.threads import (
        TITLE_MAX_CHARS,
        ThreadStore,
        ThreadSummary,
        default_state_dir,
        turn_title,
    )
    from codex_lsp.agent.tools.base import Tool, ToolCall, ToolContext, ToolResult
    from codex_lsp.agent.tools.walk import find_git_root, workspace_relative
    from codex_lsp.agent.turn import ABORTED

__all__ = [
    "ABORTED",
    "TITLE_MAX_CHARS",
    "Agent",
    "AgentMessageDelta",
    "AgentMessageItem",
    "AgentSettings",
    "ApplyOutcome",
    "ApprovalDecision",
    "ApprovalRequest",
    "Approver",
    "ChangeApplier",
    "CommandExecutionItem",
    "CommandFinished",
    "CommandStarted",
    "Decision",
    "Diagnostic",
    "DiskApplier",
    "DryRunApplier",
    "EditorContext",
    "FileChangeEntry",
    "FileChangeItem",
    "FileChangeProposed",
    "HunkState",
    "Item",
    "ItemCompleted",
    "ItemStarted",
    "LocalWorkspace",
    "OpenBuffer",
    "PlanItem",
    "PlanStep",
    "PlanUpdated",
    "Prepared",
    "Proposal",
    "ProposalBook",
    "ProposalEvent",
    "ProposalStore",
    "ReasoningItem",
    "ReasoningSummaryDelta",
    "SandboxStatus",
    "Selection",
    "TerminalApprover",
    "ThreadNotFoundError",
    "ThreadStore",
    "ThreadSummary",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolResult",
    "TransportNotice",
    "TurnBusyError",
    "TurnCompleted",
    "TurnError",
    "TurnEvent",
    "TurnRequest",
    "TurnResult",
    "TurnStarted",
    "TurnStatus",
    "UsageTotals",
    "Workspace",
    "checkpoint",
    "default_state_dir",
    "find_git_root",
    "read_workspace_text",
    "sandbox_status",
    "turn_title",
    "workspace_relative",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "agent": ("Agent", "TurnRequest"),
    "book": ("ProposalBook",),
    "cancellation": ("checkpoint",),
    "errors": ("ThreadNotFoundError", "TurnBusyError", "TurnError"),
    "events": (
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
    ),
    "interfaces": (
        "ApplyOutcome",
        "ApprovalDecision",
        "ApprovalRequest",
        "Approver",
        "ChangeApplier",
        "Diagnostic",
        "EditorContext",
        "OpenBuffer",
        "Selection",
        "Workspace",
        "read_workspace_text",
    ),
    "local": ("DiskApplier", "DryRunApplier", "LocalWorkspace", "TerminalApprover"),
    "proposals": ("Decision", "HunkState", "Prepared", "Proposal", "ProposalEvent", "ProposalStore"),
    "sandbox": ("SandboxStatus", "sandbox_status"),
    "settings": ("AgentSettings",),
    "threads": ("TITLE_MAX_CHARS", "ThreadStore", "ThreadSummary", "default_state_dir", "turn_title"),
    "tools.base": ("Tool", "ToolCall", "ToolContext", "ToolResult"),
    "tools.walk": ("find_git_root", "workspace_relative"),
    "turn": ("ABORTED",),
}

__getattr__ = lazy_exports(__name__, _LAZY)
