"""Unified diffs (as ``git diff`` and ``diff -u`` print them) parsed into the same hunk model.

``unidiff`` does the line-level parsing; this module maps its files and hunks onto Add, Delete and
Update (with a move for renames). Each hunk keeps its old-side line number as a hint: matching is
still by content, so a diff made against a slightly different file applies, but when the same
lines occur several times the number picks the place. ``\\ No newline at end of file`` markers
become per-chunk end-of-file newline rules instead of the apply_patch "always end with a newline".
"""

from __future__ import annotations

from typing import Any

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from codex_lsp.patch.errors import PatchParseError
from codex_lsp.patch.model import AddFile, Chunk, DeleteFile, Hunk, Patch, UpdateFile
from codex_lsp.patch.parser import NUL_ADDED

__all__ = ["parse_unified_diff"]

_DEV_NULL = "/dev/null"


def parse_unified_diff(text: str) -> Patch:
    """Parse a unified diff; raise :class:`PatchParseError` for malformed or binary diffs."""
    try:
        patch_set = PatchSet(text if text.endswith("\n") else text + "\n")
    except (UnidiffParseError, ValueError, IndexError) as exc:
        raise PatchParseError(f"malformed unified diff: {exc}") from exc
    if "\0" in text:
        _refuse_added_nul(patch_set)
    hunks: list[Hunk] = [_file_hunk(patched) for patched in patch_set]
    return Patch(tuple(hunks))


def _refuse_added_nul(patch_set: Any) -> None:
    """Raise for the first added line with a NUL, as the apply_patch parser does."""
    for patched in patch_set:
        for hunk in patched:
            for line in hunk:
                if line.line_type == "+" and "\0" in str(line.value):
                    raise PatchParseError(NUL_ADDED, int(line.diff_line_no))


def _strip_prefix(name: str, prefix: str, git_style: bool) -> str:
    name = name.split("\t", 1)[0]
    return name[len(prefix) :] if git_style and name.startswith(prefix) else name


def _file_hunk(patched: Any) -> Hunk:
    source, target = str(patched.source_file or ""), str(patched.target_file or "")
    git_style = (source.startswith("a/") or source == _DEV_NULL) and (
        target.startswith("b/") or target == _DEV_NULL
    )
    old_path = _strip_prefix(source, "a/", git_style)
    new_path = _strip_prefix(target, "b/", git_style)
    if patched.is_binary_file:
        raise PatchParseError(f"binary diff for {new_path or old_path} cannot be applied as text")
    if old_path == _DEV_NULL:
        return AddFile(new_path, _added_text(patched))
    if new_path == _DEV_NULL:
        return DeleteFile(old_path)
    chunks = tuple(_chunk(hunk) for hunk in patched)
    if not chunks and old_path == new_path:
        raise PatchParseError(f"the diff for {old_path} has no hunks")
    return UpdateFile(old_path, chunks, new_path if new_path != old_path else None)


def _added_text(patched: Any) -> str:
    pieces: list[str] = []
    for hunk in patched:
        for line in hunk:
            if line.line_type == "+":
                pieces.append(str(line.value))
            elif line.line_type == "\\" and pieces:
                pieces[-1] = pieces[-1].removesuffix("\n").removesuffix("\r")
    return "".join(pieces)


def _chunk(hunk: Any) -> Chunk:
    """One unified hunk as a chunk: context and removed lines are old, context and added are new."""
    old: list[str] = []
    new: list[str] = []
    kinds: list[str] = []
    old_lacks_eol = new_lacks_eol = False
    previous = ""
    for line in hunk:
        kind = line.line_type
        value = str(line.value).removesuffix("\n").removesuffix("\r")
        if kind == "\\":
            old_lacks_eol = old_lacks_eol or previous in (" ", "-")
            new_lacks_eol = new_lacks_eol or previous in (" ", "+")
            continue
        if kind in (" ", "-"):
            old.append(value)
        if kind in (" ", "+"):
            new.append(value)
        if kind in (" ", "-", "+"):
            kinds.append(kind)
        previous = kind
    eol_at_end: bool | None = None
    if new_lacks_eol:
        eol_at_end = False
    elif old_lacks_eol and not new_lacks_eol:
        eol_at_end = True
    start = int(hunk.source_start)
    hint = start if int(hunk.source_length) == 0 else start - 1
    return Chunk(tuple(old), tuple(new), hint_line=hint, eol_at_end=eol_at_end, kinds="".join(kinds))
