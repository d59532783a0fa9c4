"""What a tool call looks like in an ACP editor: its title, kind and the files it touches.

Used for live calls and for calls replayed from a saved thread alike. Arguments are read leniently:
a call whose arguments do not parse still gets a card (titled by the tool's name), and the tool
itself reports what was wrong with them.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acp.schema import ToolCallLocation, ToolKind

from codex_lsp.agent import workspace_relative
from codex_lsp.patch import PatchError, UpdateFile, parse_patch

__all__ = ["CallInfo", "describe_call", "patch_paths"]

MAX_TITLE_PATHS = 3
"""An edit's title names this many files, then says how many more."""


@dataclass(frozen=True)
class CallInfo:
    """How to show one call."""

    title: str
    kind: ToolKind
    paths: tuple[str, ...] = ()
    """Workspace-relative files the call reads or edits (its locations)."""
    line: int | None = None
    """The 1-based line a read starts at, when it does not start at the top."""
    raw_input: Any = None
    hidden: bool = False
    """Calls shown some other way (a plan update is shown as the plan itself)."""

    def locations(self, root: Path) -> list[ToolCallLocation]:
        """The call's files as ACP locations (absolute paths; 0-based line)."""
        line = self.line - 1 if self.line is not None else None
        return [ToolCallLocation(path=str(root / path), line=line) for path in self.paths]


def describe_call(name: str, arguments: str, root: Path, *, custom: bool = False) -> CallInfo:
    """The card for a call of tool ``name`` with raw ``arguments`` (JSON, or the freeform input)."""
    if name == "apply_patch":
        text = arguments if custom else _string(_json(arguments).get("input"))
        return _describe_patch(text)
    args = _json(arguments)
    path = workspace_relative(root, _string(args.get("path")) or ".")
    if name == "read_file":
        start = args.get("start_line")
        line = start if isinstance(start, int) and start > 1 else None
        return CallInfo(f"Read {path}", "read", (path,), line, raw_input=args)
    if name == "list_dir":
        return CallInfo(f"List {path}", "read", (path,), raw_input=args)
    if name == "search":
        where = "" if path in (".", "") else f" in {path}"
        return CallInfo(f"Search {_string(args.get('pattern'))!r}{where}", "search", raw_input=args)
    if name == "shell":
        command = args.get("command")
        argv = [str(word) for word in command] if isinstance(command, list) else []
        return CallInfo(f"Run `{shlex.join(argv)}`" if argv else "Run a command", "execute", raw_input=args)
    if name == "update_plan":
        return CallInfo("Update the plan", "think", raw_input=args, hidden=True)
    return CallInfo(name or "tool", "other", raw_input=args)


def patch_paths(text: str) -> tuple[str, ...] | None:
    """Every path a patch names (sources and move targets), in order; ``None`` if it does not parse."""
    try:
        hunks = parse_patch(text).hunks
    except PatchError:
        return None
    paths: list[str] = []
    for hunk in hunks:
        names = [hunk.path, hunk.move_to] if isinstance(hunk, UpdateFile) else [hunk.path]
        paths.extend(name for name in names if name and name not in paths)
    return tuple(paths)


def _describe_patch(text: str) -> CallInfo:
    paths = patch_paths(text)
    if not paths:
        return CallInfo("Edit files", "edit", raw_input={"patch": text})
    shown = ", ".join(paths[:MAX_TITLE_PATHS])
    more = len(paths) - MAX_TITLE_PATHS
    title = f"Edit {shown}" + (f" and {more} more" if more > 0 else "")
    return CallInfo(title, "edit", paths, raw_input={"patch": text})


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
