"""Finding a chunk's old lines in a file: four passes of decreasing strictness, indexed.

The passes are the reference tool's: exact, then trailing whitespace ignored, then both ends
trimmed, then trimmed with Unicode punctuation folded to ASCII (models often type ``-`` where the
file has ``–``). The earliest pass with any match decides; later passes are never consulted then.

Unlike the reference, which scans line by line from the cursor and stops at the first hit, we
return **every** match of that pass so the engine can refuse ambiguous chunks. To keep that cheap
on large files each pass builds, on first use, a map from normalised line to its positions; a
pattern is looked up through its rarest line, so a search costs about the number of occurrences of
that line rather than the file length.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence

__all__ = ["PASSES", "LineIndex", "fold_punctuation"]

_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys(range(0x2010, 0x2016), "-"),
        0x2212: "-",
        **dict.fromkeys(range(0x2018, 0x201C), "'"),
        **dict.fromkeys(range(0x201C, 0x2020), '"'),
        0x00A0: " ",
        **dict.fromkeys(range(0x2002, 0x200B), " "),
        0x202F: " ",
        0x205F: " ",
        0x3000: " ",
    }
)


def fold_punctuation(line: str) -> str:
    """Trim ``line`` and fold typographic dashes, quotes and spaces to their ASCII forms."""
    return line.strip().translate(_PUNCTUATION)


def _identity(line: str) -> str:
    return line


PASSES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("exact", _identity),
    ("trailing whitespace ignored", str.rstrip),
    ("surrounding whitespace ignored", str.strip),
    ("unicode punctuation folded", fold_punctuation),
)


class _PassView:
    """One pass over a file: the normalised lines and where each distinct line occurs."""

    __slots__ = ("lines", "positions")

    def __init__(self, lines: Sequence[str], normalise: Callable[[str], str]) -> None:
        self.lines: list[str] = list(lines) if normalise is _identity else [normalise(x) for x in lines]
        self.positions: dict[str, list[int]] = {}
        for number, line in enumerate(self.lines):
            bucket = self.positions.get(line)
            if bucket is None:
                self.positions[line] = [number]
            else:
                bucket.append(number)

    def matches(self, pattern: Sequence[str], start: int) -> list[int]:
        """Every position ``>= start`` where ``pattern`` occurs in this pass."""
        size = len(pattern)
        total = len(self.lines)
        buckets = [self.positions.get(line) for line in pattern]
        if any(bucket is None for bucket in buckets):
            return []
        anchor = min(range(size), key=lambda i: len(buckets[i] or ()))
        occurrences = buckets[anchor] or []
        found: list[int] = []
        window = list(pattern)
        for position in occurrences[bisect_left(occurrences, start + anchor) :]:
            begin = position - anchor
            if begin + size > total:
                break
            if self.lines[begin : begin + size] == window:
                found.append(begin)
        return found

    def matches_at(self, pattern: Sequence[str], position: int) -> bool:
        return self.lines[position : position + len(pattern)] == list(pattern)


class LineIndex:
    """Search one file's lines (without line endings) for chunks, pass by pass."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self._views: dict[int, _PassView] = {}

    def view(self, pass_number: int) -> _PassView:
        view = self._views.get(pass_number)
        if view is None:
            view = self._views[pass_number] = _PassView(self.lines, PASSES[pass_number][1])
        return view

    def find(self, pattern: Sequence[str], start: int, *, at_end: bool = False) -> tuple[int, list[int]]:
        """Return ``(pass number, positions)`` for the earliest pass with a match, else ``(-1, [])``.

        ``at_end`` anchors the pattern at the end of the file: only ``len(lines) - len(pattern)``
        is tried, as the reference does for ``*** End of File`` chunks.
        """
        if not pattern:
            return 0, [start]
        total = len(self.lines)
        if len(pattern) > total:
            return -1, []
        for number, (_, normalise) in enumerate(PASSES):
            normalised = [normalise(line) for line in pattern]
            view = self.view(number)
            if at_end:
                position = total - len(pattern)
                if position >= start and view.matches_at(normalised, position):
                    return number, [position]
                continue
            found = view.matches(normalised, start)
            if found:
                return number, found
        return -1, []
