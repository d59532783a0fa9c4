"""``read_file``: lines of a workspace file as the user sees it (unsaved buffer text first).

Output is a header ``<path> (lines A-B of N)`` and one ``L<n>: <text>`` line per file line, so the
model can cite line numbers. A call returns at most ``read_max_lines`` lines and
``read_max_bytes`` bytes; when it is cut, the last line names the ``start_line`` to ask for next.
Every failure (missing, directory, binary, outside the workspace…) is an error output.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.args import ArgsTool, ToolArgs, failure
from codex_lsp.agent.tools.base import ToolContext, ToolResult, function_spec
from codex_lsp.agent.tools.text import truncate_utf8, utf8_len
from codex_lsp.agent.tools.walk import workspace_relative
from codex_lsp.patch import PatchError

__all__ = ["ReadFileTool", "format_lines", "split_lines"]

DESCRIPTION = (
    "Read a text file of the workspace, as currently shown in the editor (unsaved changes included). "
    "Returns numbered lines `L<n>: <text>`. Use start_line/end_line (1-based, inclusive) for large files; "
    "long outputs are cut and say which start_line to request next."
)


class ReadFileArgs(ToolArgs):
    path: str = Field(min_length=1)
    start_line: int = Field(default=1, ge=1)
    end_line: int | None = Field(default=None, ge=1)


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as an editor numbers them: split on LF, CR of CRLF dropped, no phantom
    empty line after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def format_lines(path: str, lines: list[str], start: int, end: int, settings: AgentSettings) -> str:
    """The tool output for ``lines[start-1:end]`` under the line and byte caps."""
    budget = settings.read_max_bytes
    shown: list[str] = []
    last = start - 1
    for number in range(start, min(end, start + settings.read_max_lines - 1) + 1):
        rendered = f"L{number}: {lines[number - 1]}"
        size = utf8_len(rendered) + 1
        if size > budget:
            if not shown:
                cut = truncate_utf8(rendered, budget - 64)
                shown.append(f"{cut} [line cut: {size - utf8_len(cut)} more bytes]")
                last = number
            break
        shown.append(rendered)
        budget -= size
        last = number
    header = f"{path} (lines {start}-{last} of {len(lines)})"
    footer = [] if last >= end else [_continue_note(last, end, len(lines))]
    return "\n".join([header, *shown, *footer])


def _continue_note(last: int, end: int, total: int) -> str:
    upto = f" (up to line {end})" if end < total else ""
    return f"[Output cut after line {last}: call read_file with start_line={last + 1} to read on{upto}.]"


class ReadFileTool(ArgsTool[ReadFileArgs]):
    """Reads line ranges of workspace files through the editor's view of them."""

    name: ClassVar[str] = "read_file"
    args_type = ReadFileArgs

    def spec(self) -> dict[str, Any]:
        return function_spec(
            self.name,
            DESCRIPTION,
            {
                "path": {"type": "string", "description": "Workspace-relative path of the file."},
                "start_line": {"type": "integer", "description": "First line to read, 1-based (default 1)."},
                "end_line": {
                    "type": "integer",
                    "description": "Last line, inclusive (default: end).",
                },
            },
            ["path"],
        )

    async def run_with(self, args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
        path = workspace_relative(ctx.workspace.root, args.path)
        try:
            text = ctx.workspace.read_text(path)
        except (OSError, PatchError) as exc:
            return failure(_describe_failure(path, exc))
        return _window(path, split_lines(text), args, ctx.settings)


def _window(path: str, lines: list[str], args: ReadFileArgs, settings: AgentSettings) -> ToolResult:
    total = len(lines)
    if total == 0:
        return ToolResult(output=f"{path} (empty file, 0 lines)")
    end = min(args.end_line or total, total)
    if args.start_line > total:
        return ToolResult(
            output=f"start_line {args.start_line} is past the end of {path} ({total} lines).", success=False
        )
    if end < args.start_line:
        return ToolResult(
            output=f"end_line {args.end_line} is before start_line {args.start_line}.", success=False
        )
    return ToolResult(output=format_lines(path, lines, args.start_line, end, settings))


def _describe_failure(path: str, exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"File not found: {path}"
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a directory, not a file; use list_dir to see its entries."
    if isinstance(exc, PatchError):
        return str(exc)
    return f"Cannot read {path}: {exc.strerror or exc}" if isinstance(exc, OSError) else str(exc)
