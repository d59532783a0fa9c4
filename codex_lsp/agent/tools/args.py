"""What every function tool does before its own work: parse the call's JSON arguments into a
pydantic model, and resolve path arguments inside the workspace, with errors written for the model.

A tool derives from :class:`ArgsTool` and implements :meth:`ArgsTool.run_with`; invalid arguments
never reach it, and a :class:`ToolFailure` raised anywhere below it becomes the call's error output.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from codex_lsp.agent.tools.base import Tool, ToolCall, ToolContext, ToolResult
from codex_lsp.agent.tools.walk import resolve_arg
from codex_lsp.patch import PatchPathError

__all__ = ["ArgsTool", "ToolArgs", "ToolFailure", "failure", "parse_args", "workspace_path"]

ArgsT = TypeVar("ArgsT", bound="ToolArgs")


class ToolArgs(BaseModel):
    """Base of every tool's arguments. Unknown keys are ignored: models add fields such as
    ``justification`` that a tool may not use, and refusing the call for them helps nobody."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ToolFailure(Exception):
    """The call cannot go on; the message is the error output the model reads and acts on."""


class ArgsTool(Tool, Generic[ArgsT]):
    """A function tool whose arguments validate into ``args_type`` before :meth:`run_with` sees them."""

    args_type: type[ArgsT]

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        args = parse_args(call, self.args_type)
        if isinstance(args, ToolResult):
            return args
        try:
            return await self.run_with(args, ctx)
        except ToolFailure as exc:
            return failure(str(exc))

    @abstractmethod
    async def run_with(self, args: ArgsT, ctx: ToolContext) -> ToolResult:
        """Run one call whose arguments are valid; raise :class:`ToolFailure` to refuse it."""


def parse_args(call: ToolCall, model: type[ArgsT]) -> ArgsT | ToolResult:
    """The validated arguments of ``call``, or an error output explaining what was wrong."""
    try:
        raw = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        return failure(f"Invalid arguments for {call.name}: not valid JSON ({exc.msg}).")
    if not isinstance(raw, dict):
        return failure(f"Invalid arguments for {call.name}: expected a JSON object.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        return failure(f"Invalid arguments for {call.name}: {problems}")


def workspace_path(ctx: ToolContext, raw: str | None, *, refused: str = "") -> str:
    """The workspace-relative path a path argument names ("" for the root itself).

    A path that leaves the workspace, lexically or through a link, fails the call with the patch
    engine's reason, after ``refused`` (e.g. ``"workdir refused: "``).
    """
    try:
        return resolve_arg(ctx.workspace.root, raw)
    except PatchPathError as exc:
        raise ToolFailure(f"{refused}{exc}") from None


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "arguments"
    return f"{where}: {error['msg']}"


def failure(message: str) -> ToolResult:
    """An error output: the call failed in a way the model can read and act on."""
    return ToolResult(output=message, success=False)
