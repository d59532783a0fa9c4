"""``search``: text or regex search over the workspace, as the user sees it.

Files come from a git-aware walk (``.gitignore`` files at every level, ``.git`` skipped); binary
files and very large files are skipped. Files open in the editor are searched in their unsaved
text, and an open buffer not yet saved to disk is searched too; in review mode, so are the turn's
pending changes (a file it deleted is not searched, one it added is). Results are ``path:line: text``,
sorted by path then line, at most ``search_max_results`` of them plus a count of the rest.

The disk scan runs in a worker thread so a large workspace does not stall the event loop; a
cancelled turn stops the scan at the next file.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pathspec import GitIgnoreSpec
from pydantic import Field

from codex_lsp.agent.interfaces import Workspace
from codex_lsp.agent.review import pending_changes
from codex_lsp.agent.tools.args import ArgsTool, ToolArgs, ToolFailure, workspace_path
from codex_lsp.agent.tools.base import ToolContext, ToolResult, function_spec
from codex_lsp.agent.tools.read_file import split_lines
from codex_lsp.agent.tools.walk import IgnoreRules, walk
from codex_lsp.patch import PatchError

__all__ = ["SearchTool", "read_disk_text"]

DESCRIPTION = (
    "Search the workspace for a string (or a Python regular expression with regex=true), line by line. "
    "Honours .gitignore, skips binary files, and searches open editor buffers in their unsaved text. "
    "Returns `path:line: text` lines sorted by path and line. Narrow with path (a directory or file) "
    'and glob (gitignore-style, e.g. "*.py" or "src/**/*.ts").'
)
MAX_LINE_CHARS = 200
MAX_FILE_BYTES = 8 * 1024 * 1024
"""Larger files are skipped: they are almost always generated data, not code to read."""
SNIFF_BYTES = 8192


class SearchArgs(ToolArgs):
    pattern: str = Field(min_length=1)
    regex: bool = False
    path: str = "."
    glob: str | None = None
    case_sensitive: bool = False


@dataclass
class _Results:
    cap: int
    lines: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, path: str, number: int, text: str) -> None:
        if len(self.lines) >= self.cap:
            self.more += 1
            return
        text = text.rstrip()
        if len(text) > MAX_LINE_CHARS:
            text = text[:MAX_LINE_CHARS] + "…"
        self.lines.append(f"{path}:{number}: {text}")


def read_disk_text(path: Path) -> str | None:
    """The text of a file for searching, or None when it is binary, huge or unreadable.

    Text that is not valid UTF-8 is still searched (with replacement characters), as grep would.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


def _compile(args: SearchArgs) -> re.Pattern[str]:
    """The compiled pattern; an invalid one fails the call."""
    source = args.pattern if args.regex else re.escape(args.pattern)
    try:
        return re.compile(source, 0 if args.case_sensitive else re.IGNORECASE)
    except re.error as exc:
        raise ToolFailure(
            f"Invalid regular expression {args.pattern!r}: {exc}. Use regex=false for a literal search."
        ) from None


@dataclass(frozen=True)
class _Scope:
    """What to search: a sub-directory ("" for all) or a single file, and an optional glob."""

    start: str
    single_file: bool
    glob: GitIgnoreSpec | None

    def covers(self, path: str) -> bool:
        if self.single_file:
            return path == self.start
        inside = not self.start or path.startswith(self.start + "/")
        return inside and (self.glob is None or self.glob.match_file(path))


def _disk_files(root: Path, scope: _Scope, rules: IgnoreRules) -> Iterable[str]:
    if scope.single_file:
        return [scope.start] if (root / scope.start).is_file() else []
    entries = walk(root, scope.start, rules=rules)
    return (e.path for e in entries if not e.is_dir and not e.is_symlink and scope.covers(e.path))


def _scan(
    root: Path,
    scope: _Scope,
    buffers: dict[str, str],
    matcher: re.Pattern[str],
    cap: int,
    stop: threading.Event,
    gone: frozenset[str] = frozenset(),
) -> _Results:
    results = _Results(cap)
    for path in sorted({*_disk_files(root, scope, IgnoreRules(root)), *buffers} - gone):
        if stop.is_set():
            break
        text = buffers[path] if path in buffers else read_disk_text(root / path)
        for number, line in enumerate(split_lines(text or ""), start=1):
            if matcher.search(line):
                results.add(path, number, line)
    return results


def _buffer_texts(workspace: Workspace, scope: _Scope) -> tuple[dict[str, str], frozenset[str]]:
    """The text of every open buffer and pending change the search covers (read on the event-loop
    thread), and the paths a pending change deletes."""
    rules = IgnoreRules(workspace.root)
    pending = pending_changes(workspace)
    texts: dict[str, str] = {}
    for path in [buffer.path for buffer in workspace.open_buffers()] + list(pending):
        if not scope.covers(path) or (not scope.single_file and rules.ignored_anywhere(path)):
            continue
        try:
            texts[path] = workspace.read_text(path)
        except (OSError, PatchError):
            continue
    return texts, frozenset(path for path, text in pending.items() if text is None)


class SearchTool(ArgsTool[SearchArgs]):
    """Searches workspace files (open buffers in their unsaved text), honouring ``.gitignore``."""

    name: ClassVar[str] = "search"
    args_type = SearchArgs

    def spec(self) -> dict[str, Any]:
        return function_spec(
            self.name,
            DESCRIPTION,
            {
                "pattern": {"type": "string", "description": "Text to find (a regex when regex=true)."},
                "regex": {"type": "boolean", "description": "Treat pattern as a regex (default false)."},
                "path": {"type": "string", "description": 'Directory or file to search (default ".").'},
                "glob": {"type": "string", "description": 'Only files matching this glob, e.g. "*.py".'},
                "case_sensitive": {"type": "boolean", "description": "Match case exactly (default false)."},
            },
            ["pattern"],
        )

    async def run_with(self, args: SearchArgs, ctx: ToolContext) -> ToolResult:
        matcher = _compile(args)
        scope = _make_scope(ctx, args)
        buffers, gone = _buffer_texts(ctx.workspace, scope)
        if (
            scope.single_file
            and scope.start not in buffers
            and (scope.start in gone or not (ctx.workspace.root / scope.start).is_file())
        ):
            raise ToolFailure(f"{args.path} does not exist in the workspace.")
        stop = threading.Event()
        cap = ctx.settings.search_max_results
        root = ctx.workspace.root
        try:
            results = await asyncio.to_thread(_scan, root, scope, buffers, matcher, cap, stop, gone)
        except asyncio.CancelledError:
            stop.set()
            raise
        return ToolResult(output=_render(results, args))


def _make_scope(ctx: ToolContext, args: SearchArgs) -> _Scope:
    root = ctx.workspace.root
    start = workspace_path(ctx, args.path)
    glob = GitIgnoreSpec.from_lines([args.glob]) if args.glob else None
    return _Scope(start, bool(start) and not (root / start).is_dir(), glob)


def _render(results: _Results, args: SearchArgs) -> str:
    if not results.lines:
        return f"No matches for {args.pattern!r} in {args.path or '.'}."
    more = [f"[{results.more} more matches not shown]"] if results.more else []
    return "\n".join([*results.lines, *more])
