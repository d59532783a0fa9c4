"""A file's text split into lines the way the engine needs it, and edits turned back into text.

Lines are split on ``\\n`` only (``\\r\\n`` counts as one ending), matching the reference tool.
The matcher sees line contents without endings; unchanged lines keep their own endings, and lines
the patch writes take the ending of the file's first line, as the reference does. A UTF-8 byte
order mark is kept out of the way and restored.

The engine replaces whole lines; the :class:`~codex_lsp.patch.model.TextEdit` list it reports is
then cut down to the characters that really change (the common prefix and suffix of each
replaced run and its replacement are left out, never splitting a ``\\r\\n``), with line numbers
by LSP's rules (:mod:`codex_lsp.patch.positions`). The cutting reads only the replaced runs, so
it costs time linear in the changed lines, not in the file.
"""

from __future__ import annotations

import difflib
import itertools
from typing import NamedTuple

from codex_lsp.patch.model import TextEdit
from codex_lsp.patch.positions import LoneCarriageReturns

__all__ = ["BOM", "Region", "SplitText", "apply_regions", "minimal_edits", "trimmed_edit"]

BOM = "\ufeff"


class Region(NamedTuple):
    """Replace old lines ``[start, end)`` by ``lines`` (each with its line ending, if any)."""

    start: int
    end: int
    lines: tuple[str, ...]


class SplitText:
    """One file's text as contents, line offsets and line-ending facts."""

    __slots__ = ("body", "bom", "contents", "eol", "has_cr", "has_final_eol", "offsets")

    def __init__(self, text: str) -> None:
        self.bom = BOM if text.startswith(BOM) else ""
        body = text[len(self.bom) :]
        self.body = body
        parts = body.split("\n")
        self.has_final_eol = parts[-1] == ""
        if self.has_final_eol:
            parts.pop()
        self.offsets = _LineOffsets(parts, len(body))
        self.has_cr = "\r" in body
        if self.has_cr:
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
    """Apply sorted, non-overlapping ``regions``; return the new text and the minimal edits.

    The new text is built from whole lines, exactly as the regions say; the edits are the same
    change cut to the characters that differ. Edit offsets index the whole old text (byte order
    mark included).
    """
    pieces: list[str] = [split.bom]
    edits: list[TextEdit] = []
    cursor = 0
    body, offsets = split.body, split.offsets
    lone = LoneCarriageReturns(body, split.has_cr)
    newlines = len(split.contents) - (0 if split.has_final_eol else 1)
    for region in _merge_touching(regions):
        start, end = offsets[region.start], offsets[region.end]
        pieces.append(body[cursor:start])
        replacement = "".join(region.lines)
        pieces.append(replacement)
        edit = trimmed_edit(body, start, end, replacement, min(region.start, newlines), lone, len(split.bom))
        if edit is not None:
            edits.append(edit)
        cursor = end
    pieces.append(body[cursor:])
    return "".join(pieces), tuple(edits)


def trimmed_edit(
    old: str, start: int, end: int, text: str, line: int, lone: LoneCarriageReturns, shift: int = 0
) -> TextEdit | None:
    """The edit replacing ``old[start:end]`` by ``text``, cut to the characters that differ.

    ``line`` is the number of ``\\n`` before ``start`` (the engine's line); ``lone`` counts the lone
    ``\\r`` that LSP also breaks at; ``shift`` is added to the offsets (a byte order mark kept out
    of ``old``). ``None`` when nothing changes. Reads only ``old[start:end]`` and ``text``.
    """
    replaced = old[start:end]
    head = _common_prefix(replaced, text)
    if head == len(replaced) == len(text):
        return None
    tail = _common_suffix(replaced, text, min(len(replaced), len(text)) - head)
    first, last, new = start + head, end - tail, text[head : len(text) - tail]
    if lone.has_cr or "\r" in text:
        first, last, new = _keep_crlf_whole(old, first, last, new)
    first_line = line + old.count("\n", start, first)
    last_line = first_line + old.count("\n", first, last)
    return TextEdit(
        first + shift, last + shift, new, first_line + lone.before(first), last_line + lone.before(last)
    )


def _keep_crlf_whole(old: str, first: int, last: int, new: str) -> tuple[int, int, str]:
    """Widen the edit ``old[first:last] → new`` by a character where a boundary splits a ``\\r\\n``.

    A boundary splits one when a ``\\r`` just before it meets a ``\\n`` just after it, in the old
    text or in the new one (an editor could otherwise leave a cursor, or a line ending, half way).
    """
    while True:
        after_new = new[:1] or old[last : last + 1]
        if first > 0 and old[first - 1] == "\r" and "\n" in (old[first : first + 1], after_new):
            first, new = first - 1, "\r" + new
            continue
        before_new = new[-1:] or old[first - 1 : first]
        if old[last : last + 1] == "\n" and "\r" in (old[last - 1 : last], before_new):
            last, new = last + 1, new + "\n"
            continue
        return first, last, new


_FIRST_STEP = 16


def _common_prefix(a: str, b: str) -> int:
    """The length of the common prefix of ``a`` and ``b``, in time linear in it.

    Slices are compared at C speed: doubling blocks while they are equal, then halving inside
    the first that differs, so a long equal run costs a few steps of Python code, not one per
    character.
    """
    limit = min(len(a), len(b))
    low, step = 0, _FIRST_STEP
    while True:
        high = low + step
        if high >= limit:
            high = limit
            if a[low:high] == b[low:high]:
                return limit
            break
        if a[low:high] != b[low:high]:
            break
        low, step = high, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the common suffix of ``a`` and ``b``, at most ``limit``; as :func:`_common_prefix`."""
    end_a, end_b = len(a), len(b)
    low, step = 0, _FIRST_STEP
    while True:
        high = low + step
        if high >= limit:
            high = limit
            if a[end_a - high : end_a - low] == b[end_b - high : end_b - low]:
                return limit
            break
        if a[end_a - high : end_a - low] != b[end_b - high : end_b - low]:
            break
        low, step = high, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if a[end_a - middle : end_a - low] == b[end_b - middle : end_b - low]:
            low = middle
        else:
            high = middle
    return low


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
    """Minimal edits from ``old`` to ``new`` for changes not built chunk by chunk.

    Common leading and trailing lines are skipped first, so the line diff only runs over the part
    that changed (the engine uses this when one patch touches a file several times, and for
    moves); each changed run is then cut to the characters that differ, as in
    :func:`apply_regions`.
    """
    split = SplitText(old)
    old_lines = [split.line_text(n) for n in range(len(split.contents))]
    new_split = SplitText(new)
    new_lines = [new_split.line_text(n) for n in range(len(new_split.contents))]
    if split.bom != new_split.bom:
        edit = trimmed_edit(old, 0, len(old), new, 0, LoneCarriageReturns(old))
        return (edit,) if edit is not None else ()
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
