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
from collections.abc import Callable, Iterable, Sequence
from itertools import compress

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
    """One pass over a file: the normalised lines and where the lines of interest occur.

    ``wanted`` (normalised) limits the index to the lines some chunk can ask for, which is what a
    patch needs: the file is scanned once at C speed (``compress`` over a ``set`` membership map)
    and only matching positions are grouped in Python. ``None`` indexes every line (error hints).
    """

    __slots__ = ("_positions", "lines")

    def __init__(
        self, lines: Sequence[str], normalise: Callable[[str], str], wanted: set[str] | None
    ) -> None:
        self.lines: list[str] = (
            lines if isinstance(lines, list) and normalise is _identity else list(map(normalise, lines))
        )
        numbers: Iterable[int] = range(len(self.lines))
        if wanted is not None:
            numbers = compress(numbers, map(wanted.__contains__, self.lines))
        positions: dict[str, list[int]] = {}
        for number in numbers:
            positions.setdefault(self.lines[number], []).append(number)
        self._positions = positions

    def positions(self, line: str) -> list[int]:
        """Every position of ``line``, ascending (empty when absent or not indexed)."""
        return self._positions.get(line, [])

    def distinct(self) -> Iterable[str]:
        """The distinct lines this view indexes, in order of first occurrence."""
        return self._positions.keys()

    def matches(self, pattern: Sequence[str], start: int) -> list[int]:
        """Every position ``>= start`` where ``pattern`` occurs in this pass."""
        size = len(pattern)
        total = len(self.lines)
        get = self._positions.get
        anchor, occurrences = 0, get(pattern[0], ())
        for offset in range(1, size):
            bucket = get(pattern[offset], ())
            if len(bucket) < len(occurrences):
                anchor, occurrences = offset, bucket
        found: list[int] = []
        window = pattern if isinstance(pattern, list) else list(pattern)
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
    """Search one file's lines (without line endings) for chunks, pass by pass.

    ``wanted`` is every line the caller may search for (chunk lines and ``@@`` contexts); a search
    for anything else is still correct but goes through a full index built on demand.
    """

    def __init__(self, lines: Sequence[str], wanted: Iterable[str] | None = None) -> None:
        self.lines = lines
        self._wanted = None if wanted is None else set(wanted)
        self._views: dict[tuple[int, bool], _PassView] = {}

    def view(self, pass_number: int, *, full: bool = False) -> _PassView:
        """The index of one pass; ``full`` indexes every line rather than the wanted ones."""
        full = full or self._wanted is None
        key = (pass_number, full)
        view = self._views.get(key)
        if view is None:
            normalise = PASSES[pass_number][1]
            wanted = None if full or self._wanted is None else {normalise(line) for line in self._wanted}
            view = self._views[key] = _PassView(self.lines, normalise, wanted)
        return view

    def _view_for(self, pass_number: int, pattern: Sequence[str]) -> _PassView:
        if self._wanted is not None and not self._wanted.issuperset(pattern):
            return self.view(pass_number, full=True)
        return self.view(pass_number)

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
            normalised = list(pattern) if normalise is _identity else [normalise(line) for line in pattern]
            view = self._view_for(number, pattern)
            if at_end:
                position = total - len(pattern)
                if position >= start and view.matches_at(normalised, position):
                    return number, [position]
                continue
            found = view.matches(normalised, start)
            if found:
                return number, found
        return -1, []
