"""Patches from model text to file changes: parse, match, apply atomically. No LSP, no direct I/O.

Typical use::

    patch = parse_patch(text)                        # apply_patch format or unified diff
    result = compute_changes(patch, DiskFileSource(root))   # raises PatchError; nothing written
    write_changes(root, result.changes)              # or hand result.changes to the editor

Each change carries the :class:`Snapshot` it was computed against (``change.base``: the text,
and the editor buffer's version or the disk file's stamp), and ``write_changes`` refuses with
:class:`PatchStaleError` when the disk no longer holds it. Edits are minimal to the character,
their line numbers follow LSP's line breaks; :func:`line_starts` and :func:`offset_to_line_col`
turn any offset into a position the same way.
"""

import itertools

from codex_lsp.patch.engine import PatchResult, compute_changes
from codex_lsp.patch.errors import (
    PatchApplyError,
    PatchError,
    PatchFileError,
    PatchParseError,
    PatchPathError,
    PatchStaleError,
)
from codex_lsp.patch.model import (
    AddFile,
    ChangeKind,
    Chunk,
    DeleteFile,
    DiskStamp,
    FileChange,
    Hunk,
    Patch,
    Snapshot,
    TextEdit,
    UpdateFile,
)
from codex_lsp.patch.parser import parse_apply_patch
from codex_lsp.patch.positions import line_starts, offset_to_line_col
from codex_lsp.patch.source import DiskFileSource, FileSource, PathKind, SnapshotSource, snapshot_of
from codex_lsp.patch.text import minimal_edits
from codex_lsp.patch.writer import write_changes

__all__ = [
    "AddFile",
    "ChangeKind",
    "Chunk",
    "DeleteFile",
    "DiskFileSource",
    "DiskStamp",
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
    "PatchStaleError",
    "PathKind",
    "Snapshot",
    "SnapshotSource",
    "TextEdit",
    "UpdateFile",
    "compute_changes",
    "line_starts",
    "minimal_edits",
    "offset_to_line_col",
    "parse_apply_patch",
    "parse_patch",
    "snapshot_of",
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
