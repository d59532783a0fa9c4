"""The tool interface, the per-call context, and the registry.

A tool is a small class: its JSON spec for the Responses ``tools`` array, and an async ``run``
that turns one call into one string output. Failures the model can fix are returned as output
(``success=False``), never raised; only cancellation propagates. Mutating tools (``apply_patch``,
``shell``) are run one at a time by the turn loop.
"""

from __future__ import annotations

import asyncio
import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from codex_lsp.agent.events import PlanStep, TurnEvent
from codex_lsp.agent.interfaces import Approver, ChangeApplier, Workspace
from codex_lsp.agent.settings import AgentSettings

__all__ = [
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolInterrupted",
    "ToolRegistry",
    "ToolResult",
    "function_spec",
]


class ToolCall(BaseModel):
    """A call the model made: ``arguments`` is the raw JSON string (function) or raw input (custom)."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    name: str
    kind: Literal["function", "custom"]
    arguments: str


class ToolResult(BaseModel):
    """The output sent back to the model for one call."""

    model_config = ConfigDict(frozen=True)

    output: str
    success: bool = True


class ToolInterrupted(asyncio.CancelledError):
    """The turn was interrupted after the call had already taken effect (an edit the editor applied).

    It propagates like any cancellation, but carries the call's real result so the history tells the
    model what happened instead of "aborted".
    """

    def __init__(self, result: ToolResult) -> None:
        super().__init__("interrupted after the call took effect")
        self.result = result


@dataclass
class ToolContext:
    """Everything a tool may use during one turn."""

    workspace: Workspace
    approver: Approver
    applier: ChangeApplier
    settings: AgentSettings
    turn_id: str
    emit: Callable[[TurnEvent], None]
    approved_for_turn: set[tuple[str, ...]] = field(default_factory=set)
    """Commands the user approved "for this turn"."""
    changes_approved_for_turn: bool = False
    """The user approved file changes "for this turn": later ones apply without asking."""
    proposal_id: str | None = None
    """The proposal this turn's changes are held in (review mode), once it has one."""
    plan: list[PlanStep] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    """Paths changed by this turn so far, in first-change order."""
    secret_env_names: frozenset[str] = frozenset({"OPENAI_API_KEY", "CODEX_API_KEY"})
    """Environment variables a child process must never inherit (the API key variables, the provider's
    ``env_key`` and ``env_http_headers`` variables)."""
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def new_item_id(self, prefix: str) -> str:
        """A fresh item id for events, unique within the turn."""
        return f"{prefix}_{next(self._ids)}"

    def note_changed(self, paths: Iterable[str]) -> None:
        for path in paths:
            if path not in self.changed_files:
                self.changed_files.append(path)


class Tool(ABC):
    """One tool the model can call."""

    name: ClassVar[str]
    mutating: ClassVar[bool] = False

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """The tool's entry in the request's ``tools`` array."""

    @abstractmethod
    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Run one call; return the output for the model (errors included)."""


class ToolRegistry:
    """The tools offered to the model, by name, in registration order."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is registered twice")
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self._tools.values()]


def function_spec(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    """A Responses function tool with a closed schema (``strict: false``, as Codex sends them)."""
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }
