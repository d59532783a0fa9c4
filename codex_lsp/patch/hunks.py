"""A change to one file cut into hunks that can be decided one by one, each found again by content.

:func:`split_hunks` cuts the line diff of two texts into hunks as ``git diff`` groups them (three
lines of context; changes closer than seven lines share a hunk). Each hunk is an engine
:class:`~codex_lsp.patch.model.Chunk` — its old lines (context and removed lines) and its new lines
(context and added lines) — so placing it later is the engine's own job: :func:`place_hunk` runs
:func:`~codex_lsp.patch.update.update_text` on whatever text the file holds *then*, which finds
the old lines by content with the engine's four passes and refuses a hunk that fits nowhere or
fits more than one place. A stale line number never decides where a hunk lands.

Each hunk is unique in the text it was cut from: when its lines also occur elsewhere, context is
added on both sides until they do not. Context never reaches into another hunk's changed lines
(the two are merged instead), so accepting one hunk leaves every other hunk's lines as they were.

Line endings: a hunk that reaches the end of a file whose final newline comes or goes says so
(``eol_at_end``) and is anchored at the end of the file, as a unified diff's
``\\ No newline at end of file`` is.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import NamedTuple

from codex_lsp.patch.errors import PatchApplyError
from codex_lsp.patch.matching import LineIndex
from codex_lsp.patch.model import Chunk, TextEdit
from codex_lsp.patch.text import SplitText
from codex_lsp.patch.update import update_text

__all__ = [
    "CONTEXT",
    "DiffHunk",
    "PlacedHunk",
    "applied_edits",
    "apply_placed",
    "overlapping",
    "place_hunk",
    "span",
    "split_hunks",
]

CONTEXT = 3
"""Unchanged lines kept on each side of a change, as ``git diff`` keeps them."""


class DiffHunk(NamedTuple):
    """One hunk: an engine chunk plus where it was cut from (for display only, never for placing)."""

    chunk: Chunk
    old_start: int
    """0-based line of the chunk's first old line in the text it was cut from."""
    new_start: int
    """0-based line of the chunk's first new line in the new text."""

    @property
    def header(self) -> str:
        """The unified-diff header, ``@@ -12,7 +12,8 @@``."""
        old, new = len(self.chunk.old_lines), len(self.chunk.new_lines)
        return f"@@ -{_range(self.old_start, old)} +{_range(self.new_start, new)} @@"

    def diff_lines(self) -> list[str]:
        """The hunk's lines as a unified diff shows them (``" "``, ``"-"``, ``"+"`` prefixed)."""
        chunk = self.chunk
        old, new = iter(chunk.old_lines), iter(chunk.new_lines)
        out: list[str] = []
        for kind in chunk.kinds:
            if kind == " ":
                out.append(" " + next(old))
                next(new)
            elif kind == "-":
                out.append("-" + next(old))
            else:
                out.append("+" + next(new))
        return out

    def stat(self) -> tuple[int, int]:
        """Lines added and removed."""
        return self.chunk.kinds.count("+"), self.chunk.kinds.count("-")


class PlacedHunk(NamedTuple):
    """A hunk found in a text: where its change starts, the new text and the minimal edits."""

    line: int
    """0-based line (LSP's line breaks) of the text where the hunk's first edit starts."""
    text: str
    edits: tuple[TextEdit, ...]


class _Change(NamedTuple):
    """Old lines ``[i1, i2)`` become new lines ``[j1, j2)``."""

    i1: int
    i2: int
    j1: int
    j2: int


class _Window:
    """A group of changes and the old lines ``[lo, hi)`` its hunk covers."""

    __slots__ = ("changes", "hi", "lo")

    def __init__(self, changes: list[_Change], lo: int, hi: int) -> None:
        self.changes = changes
        self.lo = lo
        self.hi = hi


def split_hunks(old: str, new: str, context: int = CONTEXT) -> tuple[DiffHunk, ...]:
    """The hunks turning ``old`` into ``new``, in file order; empty when the texts are equal."""
    before, after = SplitText(old), SplitText(new)
    old_lines, new_lines = before.contents, after.contents
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    changes = [_Change(*op[1:]) for op in matcher.get_opcodes() if op[0] != "equal"]
    end_changes = bool(old_lines) and bool(new_lines) and before.has_final_eol != after.has_final_eol
    if end_changes and (not changes or changes[-1].i2 < len(old_lines)):
        # Only the final newline differs at the end: the last line is the change.
        changes.append(_Change(len(old_lines) - 1, len(old_lines), len(new_lines) - 1, len(new_lines)))
    if not changes:
        return ()
    windows = _unique_windows(_group(changes, context, len(old_lines)), old_lines)
    eol_at_end = after.has_final_eol if not (before.has_final_eol and after.has_final_eol) else None
    return tuple(_hunk(window, old_lines, new_lines, eol_at_end) for window in windows)


def _group(changes: list[_Change], context: int, total: int) -> list[_Window]:
    groups: list[list[_Change]] = []
    for change in changes:
        if groups and change.i1 - groups[-1][-1].i2 <= 2 * context:
            groups[-1].append(change)
        else:
            groups.append([change])
    return [_Window(g, max(g[0].i1 - context, 0), min(g[-1].i2 + context, total)) for g in groups]


def _unique_windows(windows: list[_Window], old_lines: list[str]) -> list[_Window]:
    """Grow (or merge) windows until each one's old lines occur exactly once in ``old_lines``."""
    index = LineIndex(old_lines)
    settled = False
    while not settled:
        settled = True
        for number, window in enumerate(windows):
            if window.lo == window.hi or index.find(old_lines[window.lo : window.hi], 0)[1] == [window.lo]:
                continue
            floor = windows[number - 1].changes[-1].i2 if number else 0
            ceiling = windows[number + 1].changes[0].i1 if number + 1 < len(windows) else len(old_lines)
            if window.lo > floor or window.hi < ceiling:
                window.lo, window.hi = max(window.lo - 1, floor), min(window.hi + 1, ceiling)
            elif len(windows) > 1:
                other = number - 1 if number else number + 1
                first, second = sorted((windows[other], window), key=lambda w: w.lo)
                merged = _Window(first.changes + second.changes, first.lo, second.hi)
                windows[min(number, other)] = merged
                del windows[max(number, other)]
            else:
                continue  # the whole file: as unique as it gets
            settled = False
            break
    return windows


def _hunk(window: _Window, old_lines: list[str], new_lines: list[str], eol_at_end: bool | None) -> DiffHunk:
    first = window.changes[0]
    new_start = window.lo - first.i1 + first.j1
    new: list[str] = list(old_lines[window.lo : first.i1])
    kinds = " " * (first.i1 - window.lo)
    for number, change in enumerate(window.changes):
        new += new_lines[change.j1 : change.j2]
        kinds += "-" * (change.i2 - change.i1) + "+" * (change.j2 - change.j1)
        following = window.changes[number + 1].i1 if number + 1 < len(window.changes) else window.hi
        new += old_lines[change.i2 : following]
        kinds += " " * (following - change.i2)
    at_end = window.hi == len(old_lines) and eol_at_end is not None
    chunk = Chunk(
        old_lines=tuple(old_lines[window.lo : window.hi]),
        new_lines=tuple(new),
        is_end_of_file=at_end and bool(old_lines),
        eol_at_end=eol_at_end if at_end or not old_lines else None,
        kinds=kinds,
    )
    return DiffHunk(chunk, window.lo, new_start)


def place_hunk(path: str, text: str, hunk: DiffHunk) -> PlacedHunk:
    """Apply ``hunk`` to ``text`` (the file at ``path`` now), found by content.

    Raises :class:`PatchApplyError` when its lines fit nowhere or more than one place. A hunk cut
    from an empty file fits only an empty file.
    """
    chunk = hunk.chunk
    if not chunk.old_lines and text:
        raise PatchApplyError(f"{path} was empty when the change was proposed and no longer is")
    updated = update_text(path, text, [chunk], always_final_eol=False)
    line = updated.edits[0].start_line if updated.edits else 0
    return PlacedHunk(line, updated.text, updated.edits)


def apply_placed(text: str, placed: Sequence[PlacedHunk]) -> tuple[str, tuple[TextEdit, ...]]:
    """``text`` with several hunks applied at once, each placed against ``text`` itself.

    The hunks' edits must not overlap (:func:`overlapping` tells); returns the new text and the
    edits, sorted.
    """
    edits = sorted((edit for hunk in placed for edit in hunk.edits), key=lambda e: (e.start, e.end))
    pieces, cursor = [], 0
    for edit in edits:
        pieces += [text[cursor : edit.start], edit.text]
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces), tuple(edits)


def span(placed: PlacedHunk) -> tuple[int, int] | None:
    """The offsets a placed hunk's edits cover (``None`` when it changes nothing)."""
    if not placed.edits:
        return None
    return min(e.start for e in placed.edits), max(e.end for e in placed.edits)


def overlapping(first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether two spans touch the same text (two insertions at one point count: their order is a guess)."""
    (a, b), (c, d) = sorted((first, second))
    return c < b or c == a or (c == b and (a == b or c == d))


def applied_edits(before: str, after: str, edits: Sequence[TextEdit]) -> list[bool] | None:
    """Which of ``edits`` (sorted, not overlapping, against ``before``) an editor applied to give
    ``after``, when it may have left some out (a refactor preview lets the user untick changes).

    ``None`` when no subset of them explains ``after`` (something else changed the text too).
    """
    chosen: list[bool] = []

    def explain(number: int, at_before: int, at_after: int) -> bool:
        if number == len(edits):
            return after[at_after:] == before[at_before:]
        edit = edits[number]
        gap = before[at_before : edit.start]
        if not after.startswith(gap, at_after):
            return False
        at_after += len(gap)
        for taken, text in ((True, edit.text), (False, before[edit.start : edit.end])):
            if after.startswith(text, at_after):
                chosen.append(taken)
                if explain(number + 1, edit.end, at_after + len(text)):
                    return True
                chosen.pop()
        return False

    return chosen if explain(0, 0, 0) else None


def _range(start: int, count: int) -> str:
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"
