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
``codex-lsp apply-patch`` pay little to import it; ``run_apply_patch`` loads on first use,
``unidiff`` only when a unified diff is parsed, and the search for a wrapped patch only for a text
that is not a bare one.
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
from codex_lsp.patch.headers import read_headers
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
from codex_lsp.patch.parser import BEGIN_PATCH, END_PATCH, parse_apply_patch
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
    """Parse what a model sent: an apply_patch patch or a unified diff, repaired where one reading exists.

    A text that is a patch by the grammar is read as Codex reads it (:func:`parse_apply_patch`).
    Otherwise the one patch in it is found (:mod:`codex_lsp.patch.envelope`: a markdown fence, a
    heredoc, prose around it, a missing ``*** End Patch``), and two patches are refused. In an
    apply_patch patch, a unified ``@@ -a,b +c,d @@`` header is read as a bare ``@@`` and a line
    hint (:mod:`codex_lsp.patch.headers`). What was repaired is in ``Patch.notes``; a refusal
    after a repair carries them in ``PatchError.notes``.
    """
    stripped = text.strip()
    if stripped.startswith(BEGIN_PATCH) and stripped.endswith(END_PATCH):
        try:
            return read_headers(parse_apply_patch(text))
        except PatchParseError as exc:
            from codex_lsp.patch.envelope import refuse_several

            refuse_several(text)  # two patches in one text are named, rather than a line between them
            raise exc from None
    if not any(mark in text for mark in _WRAPPING) and _looks_like_unified_diff(stripped):
        return _parse_unified(text)
    from codex_lsp.patch.envelope import unwrap  # loads only for a text that is not a bare patch

    envelope = unwrap(text)
    if envelope is None:
        return parse_apply_patch(text)  # raises the grammar's own error
    try:
        if envelope.unified:
            return _parse_unified(envelope.text)._replace(notes=envelope.notes)
        patch = parse_apply_patch(envelope.text)
        return read_headers(patch._replace(notes=envelope.notes))
    except PatchParseError as exc:
        if exc.line is not None and envelope.first_line:
            exc = PatchParseError(exc.reason, exc.line + envelope.first_line)
        exc.notes = envelope.notes
        raise exc from None


_WRAPPING = (BEGIN_PATCH, "```", "~~~", "<<")
"""What a wrapped patch holds somewhere; a text with none of these is a bare unified diff or no patch."""


def _parse_unified(text: str) -> Patch:
    from codex_lsp.patch.unified import parse_unified_diff  # unidiff loads only when needed

    return parse_unified_diff(text)


def _looks_like_unified_diff(text: str) -> bool:
    """True when ``text`` has a ``diff --git`` header or a ``---``/``+++`` pair before a hunk."""
    lines = text.split("\n", 200)[:200]
    return any(line.startswith("diff --git ") for line in lines) or any(
        first.startswith("--- ") and second.startswith("+++ ") for first, second in itertools.pairwise(lines)
    )
