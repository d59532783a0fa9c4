"""Failure messages written for the model: what was expected and what the file really has there.

Every quoted line is clipped (:func:`~codex_lsp.patch.errors.clip`) and the similarity search
looks at the first :data:`_SIMILAR_CHARS` characters of each line only: one line of megabytes must
neither flood the message nor stall :mod:`difflib`.
"""

from __future__ import annotations

import difflib
import itertools
from collections import Counter
from collections.abc import Sequence

from codex_lsp.patch.errors import clip
from codex_lsp.patch.matching import LineIndex

__all__ = ["describe_lines", "format_line_numbers", "nearest_context", "nearest_window"]

_MAX_SHOWN = 20
_MAX_VOTES_PER_LINE = 200
_MAX_CANDIDATES = 20_000
_SIMILAR_CHARS = 400


def describe_lines(lines: Sequence[str]) -> str:
    """Render expected lines as the model sent them, capped so a huge chunk stays readable."""
    shown = [clip(line) for line in lines[:_MAX_SHOWN]]
    extra = len(lines) - len(shown)
    return "\n".join(shown) + (f"\n… ({extra} more lines)" if extra > 0 else "")


def format_line_numbers(positions: Sequence[int], limit: int = 5) -> str:
    """``[2, 8]`` → ``lines 3 and 9`` (1-based); long lists end with ``and N more``."""
    numbers = [str(p + 1) for p in positions[:limit]]
    rest = len(positions) - len(numbers)
    if rest > 0:
        return f"lines {', '.join(numbers)} and {rest} more"
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    return f"lines {', '.join(numbers[:-1])} and {numbers[-1]}"


def nearest_window(index: LineIndex, expected: Sequence[str]) -> str:
    """Show the stretch of the file that shares the most lines with ``expected``, numbered.

    Each non-blank expected line votes, through the whitespace-insensitive index, for the window
    start it would imply; the best-voted window wins. When nothing matches even loosely, the line
    most similar to the first expected line anchors the window. Returns ``""`` if nothing is near.
    """
    start = _best_vote(index, expected)
    if start is None:
        start = _closest_line(index, expected)
    if start is None:
        return ""
    total = len(index.lines)
    start = max(0, min(start, total - len(expected)))
    end = min(total, start + max(len(expected), 1), start + _MAX_SHOWN)
    body = "\n".join(f"{n + 1:>6} | {clip(index.lines[n])}" for n in range(start, end))
    span = f"line {start + 1}" if end - start == 1 else f"lines {start + 1}-{end}"
    return f"Did you mean {span}?\n{body}"


def nearest_context(index: LineIndex, context: str) -> str:
    """Suggest the file line closest to an ``@@`` context line that was not found."""
    candidates = _closest(context.strip(), index)
    if not candidates:
        return ""
    position, line = candidates
    return f"Did you mean line {position + 1}?\n{position + 1:>6} | {clip(line)}"


def _best_vote(index: LineIndex, expected: Sequence[str]) -> int | None:
    view = index.view(2, full=True)
    votes: Counter[int] = Counter()
    for offset, line in enumerate(expected):
        key = line.strip()
        if key:
            for position in view.positions(key)[:_MAX_VOTES_PER_LINE]:
                votes[position - offset] += 1
    if not votes:
        return None
    best = max(votes.values())
    return min(start for start, count in votes.items() if count == best)


def _closest_line(index: LineIndex, expected: Sequence[str]) -> int | None:
    for offset, line in enumerate(expected):
        if line.strip():
            found = _closest(line.strip(), index)
            if found:
                return found[0] - offset
    return None


def _closest(target: str, index: LineIndex) -> tuple[int, str] | None:
    view = index.view(2, full=True)
    keys: dict[str, str] = {}
    for key in itertools.islice(view.distinct(), _MAX_CANDIDATES):
        if key:
            keys.setdefault(key[:_SIMILAR_CHARS], key)
    match = difflib.get_close_matches(target[:_SIMILAR_CHARS], keys, n=1, cutoff=0.6)
    if not match:
        return None
    position = view.positions(keys[match[0]])[0]
    return position, index.lines[position]
