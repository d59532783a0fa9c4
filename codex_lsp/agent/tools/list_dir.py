"""``list_dir``: the entries of a workspace directory, as git sees the tree.

Entries are sorted, directories end with ``/``, each level is indented two spaces; ``.git`` and
everything ``.gitignore`` excludes are left out. At most ``list_max_entries`` are shown, followed
by how many were left out, so the model knows to narrow the listing. In review mode the listing
shows the turn's pending changes: files it added are there, files it deleted are not.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from codex_lsp.agent.review import pending_changes
from codex_lsp.agent.tools.args import ArgsTool, ToolArgs, failure, workspace_path
from codex_lsp.agent.tools.base import ToolContext, ToolResult, function_spec
from codex_lsp.agent.tools.walk import IgnoreRules, WalkEntry, walk

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


def _collect(
    root: Path, start: str, depth: int, cap: int, pending: dict[str, str | None] | None = None
) -> tuple[list[WalkEntry], int]:
    if not pending:
        shown: list[WalkEntry] = []
        left_out = 0
        for entry in walk(root, start, max_depth=depth):
            if len(shown) < cap:
                shown.append(entry)
            else:
                left_out += 1
        return shown, left_out
    entries = [e for e in walk(root, start, max_depth=depth) if pending.get(e.path, "") is not None]
    entries += _pending_entries(root, {e.path for e in entries}, pending, start, depth)
    entries.sort(key=lambda entry: entry.path.split("/"))  # the walk's order: sorted pre-order
    return entries[:cap], max(len(entries) - cap, 0)


def _pending_entries(
    root: Path, listed: set[str], pending: dict[str, str | None], start: str, depth: int
) -> list[WalkEntry]:
    """Entries for files a pending change adds (and their new directories) within the listing."""
    rules = IgnoreRules(root)
    added: dict[str, WalkEntry] = {}
    prefix = start + "/" if start else ""
    for path, text in pending.items():
        if text is None or not path.startswith(prefix) or rules.ignored_anywhere(path):
            continue
        parts = path[len(prefix) :].split("/")
        for level in range(1, min(len(parts), depth) + 1):
            entry_path = prefix + "/".join(parts[:level])
            if entry_path not in listed:
                added.setdefault(entry_path, WalkEntry(entry_path, level < len(parts), False, level))
    return list(added.values())


def _pending_directory(pending: dict[str, str | None], start: str) -> bool:
    return bool(start) and any(
        path.startswith(start + "/") and text is not None for path, text in pending.items()
    )


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
        if not target.is_dir() and not _pending_directory(pending_changes(ctx.workspace), start):
            what = "is a file; use read_file to read it" if target.exists() else "does not exist"
            return failure(f"{start or '.'} {what}.")
        pending = pending_changes(ctx.workspace)
        entries, left_out = await asyncio.to_thread(
            _collect, root, start, args.depth, ctx.settings.list_max_entries, pending
        )
        return ToolResult(output=render_listing(start or ".", entries, left_out))
