"""``list_dir``: the entries of a workspace directory, as git sees the tree.

Entries are sorted, directories end with ``/``, each level is indented two spaces; ``.git`` and
everything ``.gitignore`` excludes are left out. At most ``list_max_entries`` are shown, followed
by how many were left out, so the model knows to narrow the listing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from codex_lsp.agent.tools.args import ArgsTool, ToolArgs, failure, workspace_path
from codex_lsp.agent.tools.base import ToolContext, ToolResult, function_spec
from codex_lsp.agent.tools.walk import WalkEntry, walk

__all__ = ["ListDirTool", "render_listing"]

DESCRIPTION = (
    "List a workspace directory: sorted entries, directories ending in '/', nested levels indented. "
    "Files ignored by .gitignore and the .git directory are not shown. depth 1 lists direct children; "
    "up to 3 levels."
)
MAX_DEPTH = 3


class ListDirArgs(ToolArgs):
    path: str = "."
    depth: int = Field(default=1, ge=1, le=MAX_DEPTH)


def render_listing(display: str, entries: list[WalkEntry], left_out: int) -> str:
    """The tool output: a header line, the indented entries and a note on what was left out."""
    lines = [f"{display}/"]
    for entry in entries:
        name = entry.path.rsplit("/", 1)[-1]
        lines.append("  " * entry.depth + name + ("/" if entry.is_dir else ""))
    if not entries:
        lines.append("  (empty)")
    if left_out:
        lines.append(f"[{left_out} more entries not shown; list a sub-directory or use a smaller depth]")
    return "\n".join(lines)


def _collect(root: Path, start: str, depth: int, cap: int) -> tuple[list[WalkEntry], int]:
    shown: list[WalkEntry] = []
    left_out = 0
    for entry in walk(root, start, max_depth=depth):
        if len(shown) < cap:
            shown.append(entry)
        else:
            left_out += 1
    return shown, left_out


class ListDirTool(ArgsTool[ListDirArgs]):
    """Lists directories of the workspace, honouring ``.gitignore``."""

    name: ClassVar[str] = "list_dir"
    args_type = ListDirArgs

    def spec(self) -> dict[str, Any]:
        return function_spec(
            self.name,
            DESCRIPTION,
            {
                "path": {"type": "string", "description": 'Workspace-relative directory (default ".").'},
                "depth": {"type": "integer", "description": "Levels to list, 1 to 3 (default 1)."},
            },
            [],
        )

    async def run_with(self, args: ListDirArgs, ctx: ToolContext) -> ToolResult:
        root = ctx.workspace.root
        start = workspace_path(ctx, args.path)
        target = root / start
        if not target.is_dir():
            what = "is a file; use read_file to read it" if target.exists() else "does not exist"
            return failure(f"{start or '.'} {what}.")
        entries, left_out = await asyncio.to_thread(
            _collect, root, start, args.depth, ctx.settings.list_max_entries
        )
        return ToolResult(output=render_listing(start or ".", entries, left_out))
