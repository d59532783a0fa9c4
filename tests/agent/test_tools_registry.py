"""The registry: the built-in tools, the host's extras first, shell only when enabled."""

from __future__ import annotations

from typing import Any, ClassVar

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.base import Tool, ToolCall, ToolContext, ToolResult, function_spec
from codex_lsp.agent.tools.registry import build_registry


class Echo(Tool):
    name: ClassVar[str] = "echo"

    def spec(self) -> dict[str, Any]:
        return function_spec(self.name, "echo", {}, [])

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        return ToolResult(output=call.arguments)


def test_default_tools_without_shell() -> None:
    assert build_registry(AgentSettings()).names() == ["read_file", "list_dir", "search", "update_plan"]


def test_shell_only_when_enabled_and_extras_first() -> None:
    registry = build_registry(AgentSettings(shell_enabled=True), extra=[Echo()])
    assert registry.names() == ["echo", "read_file", "list_dir", "search", "update_plan", "shell"]


def test_specs_are_closed_function_schemas() -> None:
    for spec in build_registry(AgentSettings(shell_enabled=True)).specs():
        assert spec["type"] == "function"
        assert spec["strict"] is False
        parameters = spec["parameters"]
        assert parameters["additionalProperties"] is False
        assert set(parameters["required"]) <= set(parameters["properties"])
