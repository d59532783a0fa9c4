"""Parsing a call's JSON arguments into a pydantic model, with errors written for the model."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from codex_lsp.agent.tools.base import ToolCall, ToolResult

__all__ = ["ToolArgs", "failure", "parse_args"]

ArgsT = TypeVar("ArgsT", bound="ToolArgs")


class ToolArgs(BaseModel):
    """Base of every tool's arguments. Unknown keys are ignored: models add fields such as
    ``justification`` that a tool may not use, and refusing the call for them helps nobody."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def parse_args(call: ToolCall, model: type[ArgsT]) -> ArgsT | ToolResult:
    """The validated arguments of ``call``, or an error output explaining what was wrong."""
    try:
        raw = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        return ToolResult(
            output=f"Invalid arguments for {call.name}: not valid JSON ({exc.msg}).", success=False
        )
    if not isinstance(raw, dict):
        return failure(f"Invalid arguments for {call.name}: expected a JSON object.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        return failure(f"Invalid arguments for {call.name}: {problems}")


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "arguments"
    return f"{where}: {error['msg']}"


def failure(message: str) -> ToolResult:
    """An error output: the call failed in a way the model can read and act on."""
    return ToolResult(output=message, success=False)
