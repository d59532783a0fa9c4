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

This module names what the other layers may use (``__all__``); they import nothing else of the
package (tests/test_surfaces.py enforces it). Everything here is standard library, so hosts and
``codex-lsp apply-patch`` pay little to import it; ``run_apply_patch`` loads on first use, and
``unidiff`` only when a unified diff is parsed.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from codex_lsp.patch.engine import PatchResult, compute_changes
from codex_lsp.patch.errors import (
    PatchApplyError,
    PatchError,
    PatchFileError,
    PatchParseError,
    PatchPathError,
    PatchStaleError,
    clip,
)
from codex_lsp.patch.hunks import (
    DiffHunk,
    PlacedHunk,
    applied_edits,
    apply_placed,
    overlapping,
    place_hunk,
    span,
    split_hunks,
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
from codex_lsp.patch.paths import check_inside, normalise_path
from codex_lsp.patch.positions import line_starts, offset_to_line_col
from codex_lsp.patch.render import render_apply_patch_update, render_change, render_unified_diff
from codex_lsp.patch.source import DiskFileSource, FileSource, PathKind, SnapshotSource, snapshot_of
from codex_lsp.patch.text import minimal_edits
from codex_lsp.patch.writer import write_changes

if TYPE_CHECKING:
    from codex_lsp.patch.cli import run_apply_patch

__all__ = [
    "AddFile",
    "ChangeKind",
    "Chunk",
    "DeleteFile",
    "DiffHunk",
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
    "PlacedHunk",
    "Snapshot",
    "SnapshotSource",
    "TextEdit",
    "UpdateFile",
    "applied_edits",
    "apply_placed",
    "check_inside",
    "clip",
    "compute_changes",
    "line_starts",
    "minimal_edits",
    "normalise_path",
    "offset_to_line_col",
    "overlapping",
    "parse_apply_patch",
    "parse_patch",
    "place_hunk",
    "render_apply_patch_update",
    "render_change",
    "render_unified_diff",
    "run_apply_patch",
    "snapshot_of",
    "span",
    "split_hunks",
    "write_changes",
]


def __getattr__(name: str) -> object:
    """``run_apply_patch`` (the ``apply-patch`` command) loads on first use: it imports this package."""
    if name == "run_apply_patch":
        from codex_lsp.patch.cli import run_apply_patch

        return run_apply_patch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
