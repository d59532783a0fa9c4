"""Text edits as offsets into one text, checked, made minimal, and carried over to a newer text.

A patch is matched against the text the server held at the time; the user may type in the buffer
before the edit is sent. :func:`rebase` moves each edit to the same content in the newer text when
the user's changes are elsewhere, and refuses (``None``) when they touch the lines the edit
replaces — the caller then sends nothing rather than clobber what the user typed.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

__all__ = ["Edit", "apply_edits", "checked_edits", "rebase", "trimmed"]

_BREAK = re.compile(r"\r\n|\r|\n")


class Edit(NamedTuple):
    """Replace ``text[start:end]`` by ``new`` (code-point offsets)."""

    start: int
    end: int
    new: str


class _Same(NamedTuple):
    """``old[old_start:old_end]`` is unchanged in the newer text, where it starts at ``new_start``."""

    old_start: int
    old_end: int
    new_start: int


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with ``edits`` (sorted, not overlapping) applied."""
    pieces, cursor = [], 0
    for edit in edits:
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.new)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search with C-level slice comparisons: fast on big texts
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle :] == b[len(b) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low


def trimmed(old: str, edit: Edit) -> Edit:
    """``edit`` without the characters it leaves unchanged at either end (never splitting ``\\r\\n``).

    Cursors and marks on the unchanged part of a line then survive the edit.
    """
    replaced = old[edit.start : edit.end]
    prefix = _common_prefix(replaced, edit.new)
    suffix = _common_suffix(replaced, edit.new, min(len(replaced), len(edit.new)) - prefix)
    start, end = edit.start + prefix, edit.end - suffix
    new = edit.new[prefix : len(edit.new) - suffix]
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n" and prefix:
        start, new = start - 1, "\r" + new
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n" and suffix:
        end, new = end + 1, new + "\n"
    return Edit(start, end, new)


def checked_edits(old: str, new: str, edits: Sequence[tuple[int, int, str]]) -> list[Edit]:
    """Edits turning ``old`` into ``new``: ``edits`` when they do exactly that, else one edit
    covering everything between the common prefix and suffix; without no-op edits."""
    candidate = [Edit(start, end, text) for start, end, text in edits]
    ordered = all(a.end <= b.start for a, b in itertools.pairwise(candidate))
    bounded = all(0 <= e.start <= e.end <= len(old) for e in candidate)
    if not (candidate and ordered and bounded and apply_edits(old, candidate) == new):
        candidate = [Edit(0, len(old), new)] if old != new else []
    if candidate == [Edit(0, len(old), new)]:
        candidate = [trimmed(old, candidate[0])]
    return [edit for edit in candidate if edit.start != edit.end or edit.new]


def _unchanged_regions(old: str, new: str) -> list[_Same]:
    """The parts of ``old`` that ``new`` keeps, compared line by line between a common prefix and
    suffix (so the common case, one region the user typed in, costs two slice comparisons)."""
    prefix = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
    regions = [_Same(0, prefix, 0)]
    old_middle, new_middle = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    old_lines, new_lines = old_middle.splitlines(True), new_middle.splitlines(True)
    old_at, new_at = _offsets(old_lines, prefix), _offsets(new_lines, prefix)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            regions.append(_Same(old_at[i1], old_at[i2], new_at[j1]))
    regions.append(_Same(len(old) - suffix, len(old), len(new) - suffix))
    return regions


def _offsets(lines: list[str], base: int) -> list[int]:
    offsets = [base]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    return offsets


def _clear_point(at: int, region: _Same, old_length: int, new_length: int) -> bool:
    """An insertion point strictly inside an unchanged region, or at an untouched start or end of the
    text (one the region keeps in both texts: nothing typed before or after it); at the edge of a
    changed region, which side it belongs to is anyone's guess."""
    new_end = region.new_start + region.old_end - region.old_start
    return (
        region.old_start < at < region.old_end
        or at == region.old_start == region.new_start == 0 < region.old_end
        or (at == region.old_end == old_length > region.old_start and new_end == new_length)
    )


def _at_line_start(text: str, offset: int) -> bool:
    if offset == 0 or offset == len(text):
        return True
    before = text[offset - 1]
    return before == "\n" or (before == "\r" and text[offset] != "\n")


def _guard(text: str, edit: Edit) -> tuple[int, int]:
    """The whole lines ``edit`` touches: a user's change anywhere in them is a conflict, as a patch
    re-matched against the new text would no longer find its lines."""
    start, end = edit.start, edit.end
    if start == end and _at_line_start(text, start):
        return start, end  # a pure insertion between lines touches no line
    while not _at_line_start(text, start):
        start -= 1
    if end == start or not _at_line_start(text, end):
        match = _BREAK.search(text, end)
        end = match.end() if match else len(text)
    return start, end


def _moved(guard: tuple[int, int], regions: list[_Same], old_length: int, new_length: int) -> int | None:
    """How far the guarded range moved, if it lies in one unchanged region."""
    start, end = guard
    for region in regions:
        if not region.old_start <= start <= end <= region.old_end:
            continue
        if start == end and not _clear_point(start, region, old_length, new_length):
            continue
        return region.new_start - region.old_start
    return None


def rebase(old: str, new: str, edits: Sequence[Edit]) -> list[Edit] | None:
    """``edits`` of ``old`` carried over to ``new``; ``None`` when ``new`` changed a line they touch."""
    if old == new:
        return list(edits)
    regions = _unchanged_regions(old, new)
    moved: list[Edit] = []
    for edit in edits:
        guard = _guard(old, edit)
        shift = _moved(guard, regions, len(old), len(new))
        if shift is None or new[guard[0] + shift : guard[1] + shift] != old[guard[0] : guard[1]]:
            return None
        moved.append(Edit(edit.start + shift, edit.end + shift, edit.new))
    return moved
