"""Patches from model text to file changes: parse, match, apply atomically. No LSP, no direct I/O.

Typical use::

    patch = parse_patch(text)                        # apply_patch format or unified diff
    result = compute_changes(patch, DiskFileSource(root))   # raises PatchError; nothing written
    write_changes(root, result.changes)              # or hand result.changes to the editor
"""

import itertools

from codex_lsp.patch.engine import PatchResult, compute_changes
from codex_lsp.patch.errors import (
    PatchApplyError,
    PatchError,
    PatchFileError,
    PatchParseError,
    PatchPathError,
)
from codex_lsp.patch.model import (
    AddFile,
    ChangeKind,
    Chunk,
    DeleteFile,
    FileChange,
    Hunk,
    Patch,
    TextEdit,
    UpdateFile,
)
from codex_lsp.patch.parser import parse_apply_patch
from codex_lsp.patch.source import DiskFileSource, FileSource, PathKind
from codex_lsp.patch.text import minimal_edits
from codex_lsp.patch.writer import write_changes

__all__ = [
    "AddFile",
    "ChangeKind",
    "Chunk",
    "DeleteFile",
    "DiskFileSource",
    "FileChange",
    "FileSource",
    "Hunk",
    "Patch",
    "PatchApplyError",
    "PatchError",
    "PatchFileError",
    "PatchParseError",
    "PatchPathError",
    "PatchResult",
    "PathKind",
    "TextEdit",
    "UpdateFile",
    "compute_changes",
    "minimal_edits",
    "parse_apply_patch",
    "parse_patch",
    "write_changes",
]


def parse_patch(text: str) -> Patch:
    """Parse ``text`` as an apply_patch patch, or as a unified diff when it clearly is one."""
    stripped = text.lstrip()
    if not stripped.startswith(("*** Begin Patch", "<<")) and _looks_like_unified_diff(stripped):
        from codex_lsp.patch.unified import parse_unified_diff  # unidiff loads only when needed

        return parse_unified_diff(text)
    return parse_apply_patch(text)


def _looks_like_unified_diff(text: str) -> bool:
    """True when ``text`` has a ``diff --git`` header or a ``---``/``+++`` pair before a hunk."""
    lines = text.split("\n", 200)[:200]
    return any(line.startswith("diff --git ") for line in lines) or any(
        first.startswith("--- ") and second.startswith("+++ ") for first, second in itertools.pairwise(lines)
    )
