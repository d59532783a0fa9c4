"""Offsets as (line, column) by the Language Server Protocol's rules, for hosts and for the engine's edits.

LSP ends a line at ``\\n``, ``\\r\\n`` or a lone ``\\r``. The engine *matches* lines split on
``\\n`` only, as Codex does, so in ``"one\\rtwo\\nthree"`` the engine sees two lines where an editor
shows three; the positions it reports (:class:`~codex_lsp.patch.model.TextEdit` lines) follow LSP.
Nothing else counts as a break (not U+2028, not form feed: ``str.splitlines`` would). Columns here
are code points; a host converts them to its negotiated encoding (UTF-16 code units by default)
from the line's text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

__all__ = ["LoneCarriageReturns", "line_starts", "offset_to_line_col"]

_BREAK = re.compile(r"\r\n?|\n")
_LONE_CR = re.compile(r"\r(?!\n)")


def line_starts(text: str) -> list[int]:
    """The offset where each line of ``text`` starts; ``[0]`` for an empty text.

    After a final line break there is one more, empty line (its start is ``len(text)``), as an
    editor shows it.
    """
    if "\r" not in text:
        starts = [0]
        find = text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        return starts
    return [0, *(match.end() for match in _BREAK.finditer(text))]


def offset_to_line_col(starts: Sequence[int], offset: int) -> tuple[int, int]:
    """The 0-based line and code-point column of ``offset``, given the text's :func:`line_starts`."""
    line = bisect_right(starts, offset) - 1
    return line, offset - starts[line]


class LoneCarriageReturns:
    """Counts the lone ``\\r`` of a text before an offset: what LSP's line number adds to the engine's.

    ``has_cr`` says whether the text has any ``\\r`` (pass it when known, to save a scan). The
    lone ones are found on first use, and only in a text that has one at all (two C-speed counts
    tell); most texts never pay more than that.
    """

    __slots__ = ("_positions", "_text", "has_cr")

    def __init__(self, text: str, has_cr: bool | None = None) -> None:
        self._text = text
        self.has_cr = "\r" in text if has_cr is None else has_cr
        self._positions: list[int] | None = None if self.has_cr else []

    def before(self, offset: int) -> int:
        """How many lone ``\\r`` end a line before ``offset``."""
        positions = self._positions
        if positions is None:
            text = self._text
            lone = text.count("\r") != text.count("\r\n")
            positions = self._positions = [m.start() for m in _LONE_CR.finditer(text)] if lone else []
        return bisect_left(positions, offset) if positions else 0
