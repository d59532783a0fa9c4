"""A file's text split into lines the way the engine needs it, and edits turned back into text.

Lines are split on ``\\n`` only (``\\r\\n`` counts as one ending), matching the reference tool.
The matcher sees line contents without endings; unchanged lines keep their own endings, and lines
the patch writes take the ending of the file's first line, as the reference does. A UTF-8 byte
order mark is kept out of the way and restored.
"""

from __future__ import annotations

import difflib
import itertools
from typing import NamedTuple

from codex_lsp.patch.model import TextEdit

__all__ = ["BOM", "Region", "SplitText", "apply_regions", "minimal_edits"]

BOM = "\ufeff"


class Region(NamedTuple):
    """Replace old lines ``[start, end)`` by ``lines`` (each with its line ending, if any)."""

    start: int
    end: int
    lines: tuple[str, ...]


class SplitText:
    """One file's text as contents, line offsets and line-ending facts."""

    __slots__ = ("body", "bom", "contents", "eol", "has_final_eol", "offsets")

    def __init__(self, text: str) -> None:
        self.bom = BOM if text.startswith(BOM) else ""
        body = text[len(self.bom) :]
        self.body = body
        parts = body.split("\n")
        self.has_final_eol = parts[-1] == ""
        if self.has_final_eol:
            parts.pop()
        self.offsets = _LineOffsets(parts, len(body))
        if "\r" in body:
            parts = [part.removesuffix("\r") for part in parts]
        self.contents: list[str] = parts
        first_end = self.offsets[1] if len(self.offsets) > 1 else 0
        self.eol = "\r\n" if body[max(first_end - 2, 0) : first_end] == "\r\n" else "\n"

    def line_text(self, number: int) -> str:
        """The old line ``number`` with its own ending."""
        return self.body[self.offsets[number] : self.offsets[number + 1]]


class _LineOffsets:
    """``offsets[n]``: where line ``n`` starts in the body; ``offsets[len]`` is the body's length.

    The prefix sums of the line lengths are built on first use only (C-level
    ``accumulate(map(len, …))``), since many texts are split for matching but never edited; the
    one-character ``\\n`` of each earlier line is added on lookup.
    """

    __slots__ = ("_parts", "_sums", "_total")

    def __init__(self, parts: list[str], total: int) -> None:
        self._parts = parts
        self._total = total
        self._sums: list[int] | None = None

    def __getitem__(self, line: int) -> int:
        if line >= len(self._parts):
            return self._total
        sums = self._sums
        if sums is None:
            sums = self._sums = [0, *itertools.accumulate(map(len, self._parts))]
        return sums[line] + line

    def __len__(self) -> int:
        return len(self._parts) + 1


def apply_regions(split: SplitText, regions: list[Region]) -> tuple[str, tuple[TextEdit, ...]]:
    """Apply sorted, non-overlapping ``regions``; return the new text and the matching edits.

    Edit offsets index the whole old text (byte order mark included).
    """
    shift = len(split.bom)
    pieces: list[str] = [split.bom]
    edits: list[TextEdit] = []
    cursor = 0
    body, offsets = split.body, split.offsets
    for region in _merge_touching(regions):
        start, end = offsets[region.start], offsets[region.end]
        pieces.append(body[cursor:start])
        replacement = "".join(region.lines)
        pieces.append(replacement)
        edits.append(TextEdit(start + shift, end + shift, replacement, region.start, region.end))
        cursor = end
    pieces.append(body[cursor:])
    return "".join(pieces), tuple(edits)


def _merge_touching(regions: list[Region]) -> list[Region]:
    """Join regions that touch so that each edit covers one contiguous change."""
    merged: list[Region] = []
    for region in regions:
        if merged and merged[-1].end == region.start:
            last = merged[-1]
            merged[-1] = Region(last.start, region.end, last.lines + region.lines)
        else:
            merged.append(region)
    return merged


def minimal_edits(old: str, new: str) -> tuple[TextEdit, ...]:
    """Line-level minimal edits from ``old`` to ``new`` for changes not built chunk by chunk.

    Common leading and trailing lines are skipped first, so the line diff only runs over the part
    that changed (the engine uses this when one patch touches a file several times).
    """
    split = SplitText(old)
    old_lines = [split.line_text(n) for n in range(len(split.contents))]
    new_split = SplitText(new)
    new_lines = [new_split.line_text(n) for n in range(len(new_split.contents))]
    if split.bom != new_split.bom:
        return (TextEdit(0, len(old), new, 0, len(old_lines)),)
    head = 0
    limit = min(len(old_lines), len(new_lines))
    while head < limit and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_lines[-1 - tail] == new_lines[-1 - tail]:
        tail += 1
    middle_old = old_lines[head : len(old_lines) - tail]
    middle_new = new_lines[head : len(new_lines) - tail]
    matcher = difflib.SequenceMatcher(None, middle_old, middle_new, autojunk=False)
    regions = [
        Region(head + i1, head + i2, tuple(middle_new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
    return apply_regions(split, regions)[1]
