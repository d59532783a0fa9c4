"""Test doubles for the agent's host interfaces, general enough for any agent test.

- :class:`DiskWorkspace` — a real folder with optional unsaved-buffer overrides and diagnostics;
- :class:`ScriptedApprover` — answers from a script and records every request;
- :class:`RecordingApplier` — accepts every change and records it;
- :func:`tool_context` / :func:`call_tool` — run one tool call the way the turn loop would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from codex_lsp.agent.events import TurnEvent
from codex_lsp.agent.interfaces import (
    ApplyOutcome,
    ApprovalDecision,
    ApprovalRequest,
    Diagnostic,
    OpenBuffer,
)
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.base import Tool, ToolCall, ToolContext, ToolResult
from codex_lsp.patch import DiskFileSource, FileSource, PatchResult, PathKind

EventT = TypeVar("EventT")


class _BufferFirstSource:
    """A patch-engine source that sees open buffers before the disk."""

    def __init__(self, disk: DiskFileSource, buffers: Mapping[str, str]) -> None:
        self.disk = disk
        self.buffers = buffers

    def resolve(self, raw: str) -> str:
        return self.disk.resolve(raw)

    def kind(self, path: str) -> PathKind:
        return PathKind.FILE if path in self.buffers else self.disk.kind(path)

    def read_text(self, path: str) -> str:
        return self.buffers[path] if path in self.buffers else self.disk.read_text(path)


class DiskWorkspace:
    """A :class:`~codex_lsp.agent.interfaces.Workspace` over a real folder.

    ``buffers`` maps workspace-relative paths to the text open in the "editor" (unsaved unless
    listed in ``saved``); ``diagnostics`` are what the editor would publish.
    """

    def __init__(
        self,
        root: Path,
        buffers: Mapping[str, str] | None = None,
        diagnostics: Iterable[Diagnostic] = (),
        saved: Iterable[str] = (),
    ) -> None:
        self.disk = DiskFileSource(root)
        self.buffers = dict(buffers or {})
        self.saved = set(saved)
        self.published = list(diagnostics)
        self.reads: list[str] = []

    @property
    def root(self) -> Path:
        return Path(self.disk.root)

    def read_text(self, path: str) -> str:
        relative = self.disk.resolve(path)
        self.reads.append(relative)
        if relative in self.buffers:
            return self.buffers[relative]
        return self.disk.read_text(relative)

    def open_buffers(self) -> list[OpenBuffer]:
        return [OpenBuffer(path=p, version=1, dirty=p not in self.saved) for p in self.buffers]

    def diagnostics(self, path: str | None = None) -> list[Diagnostic]:
        return [d for d in self.published if path is None or d.path == path]

    def file_source(self) -> FileSource:
        return _BufferFirstSource(self.disk, self.buffers)


class ScriptedApprover:
    """Answers with ``decisions`` in order, then ``default`` (None: fail the test on any extra ask)."""

    def __init__(self, *decisions: ApprovalDecision, default: ApprovalDecision | None = None) -> None:
        self.decisions = list(decisions)
        self.default = default
        self.requests: list[ApprovalRequest] = []

    async def request(self, request: ApprovalRequest) -> ApprovalDecision:
        self.requests.append(request)
        if self.decisions:
            return self.decisions.pop(0)
        if self.default is None:
            raise AssertionError(f"unexpected approval request: {request.title}")
        return self.default


@dataclass
class RecordingApplier:
    """Applies nothing, accepts everything, remembers what it was given."""

    applied: list[PatchResult] = field(default_factory=list)

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        self.applied.append(result)
        return ApplyOutcome(applied=True)


@dataclass
class EventLog:
    """The events a tool emitted, in order."""

    events: list[TurnEvent] = field(default_factory=list)

    def emit(self, event: TurnEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[EventT]) -> list[EventT]:
        return [event for event in self.events if isinstance(event, kind)]

    def types(self) -> list[str]:
        return [event.type for event in self.events]


def tool_context(
    workspace: DiskWorkspace,
    settings: AgentSettings | None = None,
    approver: ScriptedApprover | None = None,
    log: EventLog | None = None,
) -> ToolContext:
    """A turn context for direct tool calls; events go to ``log`` (its ``emit``)."""
    return ToolContext(
        workspace=workspace,
        approver=approver or ScriptedApprover(),
        applier=RecordingApplier(),
        settings=settings or AgentSettings(),
        turn_id="turn_test",
        emit=(log or EventLog()).emit,
    )


async def call_tool(tool: Tool, ctx: ToolContext, **arguments: Any) -> ToolResult:
    """Run ``tool`` once with ``arguments`` encoded as the model would send them."""
    call = ToolCall(call_id="call_1", name=tool.name, kind="function", arguments=json.dumps(arguments))
    return await tool.run(call, ctx)


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Create ``files`` (relative path → text or bytes) under ``root``."""
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
