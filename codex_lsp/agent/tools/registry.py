"""The tool set offered to the model, built from the settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.base import Tool, ToolRegistry
from codex_lsp.agent.tools.list_dir import ListDirTool
from codex_lsp.agent.tools.read_file import ReadFileTool
from codex_lsp.agent.tools.search import SearchTool
from codex_lsp.agent.tools.shell import ShellTool
from codex_lsp.agent.tools.update_plan import UpdatePlanTool

__all__ = ["build_registry"]


def build_registry(
    settings: AgentSettings, extra: Iterable[Tool] = (), wrap: Callable[[Tool], Tool] | None = None
) -> ToolRegistry:
    """``extra`` first (the host's own tools, such as ``apply_patch``), then the built-in tools;
    ``shell`` only when the user enabled it. ``wrap``, when given, replaces each tool by what it
    returns (a host that reports every call, or reads through the editor first)."""
    tools: list[Tool] = [*extra, ReadFileTool(), ListDirTool(), SearchTool(), UpdatePlanTool()]
    if settings.shell_enabled:
        tools.append(ShellTool())
    return ToolRegistry(map(wrap, tools) if wrap is not None else tools)
