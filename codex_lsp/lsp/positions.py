"""LSP positions: lines broken the way LSP breaks them, characters counted in the negotiated encoding.

LSP ends a line at ``\\n``, ``\\r\\n`` or a lone ``\\r`` — and nowhere else (Python's
``str.splitlines`` also breaks at form feeds, ``\\x1c``…``\\x1e``, ``\\x85``, U+2028 and U+2029, so it
is never used here). A ``character`` counts UTF-16 code units unless the client and server agreed
on ``utf-8`` (bytes) or ``utf-32`` (code points) at ``initialize``. Python strings index code
points, so every position crossing the wire goes through :class:`LineIndex`.

A position past the end of a line means the end of that line; a line past the last one means the
end of the text (both as the specification asks). A position inside a ``\\r\\n`` pair or inside a
character's code units is moved back to the start of that pair or character.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Literal

__all__ = ["DEFAULT_ENCODING", "Encoding", "LineIndex", "as_encoding", "unit_length"]

Encoding = Literal["utf-8", "utf-16", "utf-32"]
DEFAULT_ENCODING: Encoding = "utf-16"
_BREAK = re.compile(r"\r\n|\r|\n")


def as_encoding(value: object) -> Encoding:
    """The encoding named by ``value`` (a ``PositionEncodingKind`` or its string), UTF-16 otherwise."""
    name = str(getattr(value, "value", value) or "").lower()
    if name in ("utf-8", "utf-32"):
        return "utf-8" if name == "utf-8" else "utf-32"
    return DEFAULT_ENCODING


def unit_length(text: str, encoding: Encoding) -> int:
    """How many ``encoding`` units ``text`` takes."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _char_units(char: str, encoding: Encoding) -> int:
    code = ord(char)
    if encoding == "utf-32" or code < 0x80:
        return 1
    if encoding == "utf-16":
        return 2 if code > 0xFFFF else 1
    return 2 if code < 0x800 else 3 if code < 0x10000 else 4


class LineIndex:
    """Converts between code-point offsets into ``text`` and LSP ``(line, character)`` positions."""

    __slots__ = ("encoding", "starts", "text")

    def __init__(self, text: str, encoding: Encoding = DEFAULT_ENCODING) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = [0, *(match.end() for match in _BREAK.finditer(text))]
        """Where each line starts; a text ending with a line break has an empty last line."""

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_end(self, line: int) -> int:
        """Where line ``line``'s content ends (before its line break)."""
        if line + 1 >= len(self.starts):
            return len(self.text)
        end = self.starts[line + 1]
        if self.text[end - 1] == "\n" and end >= 2 and self.text[end - 2] == "\r":
            return end - 2
        return end - 1

    def position(self, offset: int) -> tuple[int, int]:
        """The ``(line, character)`` of code-point ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        end = self.line_end(line)
        offset = min(offset, end)  # inside the line break itself: the end of the line's content
        start = self.starts[line]
        return line, unit_length(self.text[start:offset], self.encoding)

    def point(self, offset: int) -> tuple[int, int]:
        """The ``(line, column)`` of code-point ``offset`` with the column in code points, whatever the
        index's encoding (what the agent counts in): one index converts both ways."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        return line, min(offset, self.line_end(line)) - self.starts[line]

    def offset(self, line: int, character: int) -> int:
        """The code-point offset of an LSP position (clamped as the specification asks)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.line_end(line)
        if character <= 0:
            return start
        if self.encoding == "utf-32":
            return min(start + character, end)
        units = 0
        for index in range(start, end):
            units += _char_units(self.text[index], self.encoding)
            if units > character:
                return index
            if units == character:
                return index + 1
        return end
