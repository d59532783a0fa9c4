"""Applying the chunks of one Update to one file's text, in memory.

Chunks are located in order, each search starting where the previous chunk ended (the reference
tool's cursor). Every replacement is computed against the original lines and then applied at once,
so a later chunk never sees an earlier chunk's output.

Beyond the reference: a chunk whose old lines fit **more than one place** is refused rather than
applied at the first — a wrong-place edit is worse than none. Fits are counted from the cursor, at
the first pass that matches. Two things legitimately pick a place: ``@@`` context (matches before
the context line's next occurrence are preferred) and then a line number — a unified diff's, or a
unified header written inside an apply_patch chunk (:mod:`codex_lsp.patch.headers`): the nearest
fit wins and a tie is refused. A line number only chooses among places where the lines fit; a
chunk of added lines only goes where the format puts it (an apply_patch chunk at the end of the
file, so a header naming another line is refused). Several chunks with identical old lines may
edit the same number of identical places, in order, because then the assignment is forced.

The ``@@`` line itself can be ambiguous too: ``@@ def f():`` in a file where two classes define
``f``. Its occurrences are weighed by what follows: the chunk's lines (and any further ``@@``
lines) must fit after exactly one of them, before the next; otherwise the chunk is refused, naming
the competing lines. Further ``@@`` lines narrow within the first's choice, each taking its first
occurrence after the previous one, as the reference does (they only say "inside the last one").
"""

from __future__ import annotations

import difflib
import itertools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from codex_lsp.patch.errors import PatchApplyError, clip
from codex_lsp.patch.hints import describe_lines, format_line_numbers, nearest_context, nearest_window
from codex_lsp.patch.matching import LineIndex
from codex_lsp.patch.model import Chunk, TextEdit
from codex_lsp.patch.text import Region, SplitText, apply_regions

__all__ = ["UpdatedText", "update_text"]


class UpdatedText(NamedTuple):
    """The new text of a file and the minimal edits from the old one."""

    text: str
    edits: tuple[TextEdit, ...]


class _Cursor:
    """Search state shared by the chunks of one Update."""

    __slots__ = ("index", "path", "position", "split", "total")

    def __init__(self, path: str, split: SplitText, index: LineIndex, total: int) -> None:
        self.path = path
        self.split = split
        self.index = index
        self.total = total
        self.position = 0


def update_text(path: str, text: str, chunks: Sequence[Chunk], *, always_final_eol: bool) -> UpdatedText:
    """Apply ``chunks`` to ``text`` (the file at ``path``) or raise :class:`PatchApplyError`.

    ``always_final_eol`` is the apply_patch rule (the result ends with a newline); unified diffs
    pass ``False`` and say per chunk whether the end of the file gains or loses its newline.
    """
    split = SplitText(text)
    wanted = [line for chunk in chunks for line in (*chunk.old_lines, *chunk.contexts)]
    wanted += [_literal(chunk) for chunk in chunks if chunk.header]
    cursor = _Cursor(path, split, LineIndex(split.contents, wanted), len(chunks))
    remaining = Counter(chunk.old_lines for chunk in chunks)
    scoped = Counter((chunk.contexts, chunk.old_lines) for chunk in chunks if chunk.contexts)
    regions: list[Region] = []
    final_eol = always_final_eol
    for number, chunk in enumerate(chunks, start=1):
        regions.extend(_place_chunk(cursor, chunk, number, remaining, scoped))
        remaining[chunk.old_lines] -= 1
        scoped[chunk.contexts, chunk.old_lines] -= 1
        if chunk.eol_at_end is True:
            final_eol = True
    regions.sort(key=lambda region: region.start)
    _check_no_overlap(path, regions)
    _terminate_last_line(split, regions, final_eol)
    new_text, edits = apply_regions(split, regions)
    return UpdatedText(new_text, edits)


def _place_chunk(
    cursor: _Cursor,
    chunk: Chunk,
    number: int,
    remaining: Counter[tuple[str, ...]],
    scoped: Counter[tuple[tuple[str, ...], tuple[str, ...]]],
) -> list[Region]:
    if chunk.header:
        _refuse_literal_header(cursor, chunk, number)
    scope_end = _seek_contexts(cursor, chunk, number, scoped[chunk.contexts, chunk.old_lines])
    if not chunk.old_lines:
        return _insertion(cursor, chunk, number)
    old, new, found = _find_old(cursor, chunk, cursor.position)
    if not found:
        raise _not_found(cursor, chunk, number)
    position = _choose(cursor, chunk, number, found, scope_end, remaining[chunk.old_lines])
    cursor.position = position + len(old)
    trimmed = len(old) < len(chunk.old_lines)
    strip = chunk.eol_at_end is False
    if chunk.kinds and not trimmed and not strip:
        return _structural_regions(cursor.split, position, chunk)
    return _chunk_regions(position, old, new, cursor.split.eol, strip_last_eol=strip)


def _find_old(cursor: _Cursor, chunk: Chunk, start: int) -> tuple[Sequence[str], Sequence[str], list[int]]:
    """Where the chunk's old lines fit from ``start``: ``(old, new, positions)``.

    As the reference does, a chunk whose last old line is empty is tried again without it (and
    without a matching empty last new line) when it fits nowhere as sent.
    """
    old, new = chunk.old_lines, chunk.new_lines
    _, found = cursor.index.find(old, start, at_end=chunk.is_end_of_file)
    if not found and old[-1] == "":
        old = old[:-1]
        new = new[:-1] if new and new[-1] == "" else new
        _, found = cursor.index.find(old, start, at_end=chunk.is_end_of_file)
    return old, new, found


def _structural_regions(split: SplitText, position: int, chunk: Chunk) -> list[Region]:
    """One region per run of removed/added lines; context lines keep the file's own text.

    This is how the reference applies a chunk: lines the model marked as context stay exactly as
    the file has them (even when they only matched loosely), and a run is skipped when it would
    write back exactly what is already there.
    """
    regions: list[Region] = []
    old_at = new_at = 0
    run: tuple[int, int] | None = None
    for kind in chunk.kinds + " ":
        if kind != " ":
            run = run or (old_at, new_at)
            old_at += kind == "-"
            new_at += kind == "+"
            continue
        if run is not None:
            texts = tuple(line + split.eol for line in chunk.new_lines[run[1] : new_at])
            start, end = position + run[0], position + old_at
            if end - start != len(texts) or any(
                split.line_text(start + i) != text for i, text in enumerate(texts)
            ):
                regions.append(Region(start, end, texts))
            run = None
        old_at += 1
        new_at += 1
    return regions


def _seek_contexts(cursor: _Cursor, chunk: Chunk, number: int, repeats: int) -> int | None:
    """Move the cursor past each ``@@`` line; return where the chosen place's scope ends.

    The scope of an ``@@`` line's occurrence ends at its next occurrence (of the first ``@@`` line
    too, when the chunk's lines had to settle which occurrence is meant).
    """
    scope_end: int | None = None
    for level, context in enumerate(chunk.contexts):
        _, found = cursor.index.find([context], cursor.position)
        if not found:
            hint = nearest_context(cursor.index, context)
            raise PatchApplyError(
                f"Failed to find context '{clip(context)}' in {cursor.path}" + (f"\n{hint}" if hint else "")
            )
        if level == 0 and len(found) > 1 and chunk.old_lines:
            found = _settle_context(cursor, chunk, number, found, repeats)
        cursor.position = found[0] + 1
        if len(found) > 1:
            scope_end = found[1] if scope_end is None else min(scope_end, found[1])
    return scope_end


def _settle_context(
    cursor: _Cursor, chunk: Chunk, number: int, occurrences: list[int], repeats: int
) -> list[int]:
    """Pick the occurrence of the first ``@@`` line after which the rest of the chunk fits.

    A rest that fits after several occurrences (each before the next) is refused as ambiguous,
    unless as many identical chunks remain to take them in order. Returns ``occurrences`` from
    the chosen one on; when the rest fits nowhere, all of them, so the usual error is raised.
    Each occurrence costs a few bisections over positions found once.
    """
    first = occurrences[0] + 1
    inner = [cursor.index.find([context], first)[1] for context in chunk.contexts[1:]]
    matches = _find_old(cursor, chunk, first)[2]
    fits: list[int] = []
    for at, occurrence in enumerate(occurrences):
        place = occurrence
        for positions in inner:
            following = bisect_right(positions, place)
            if following == len(positions):
                break
            place = positions[following]
        else:
            candidate = bisect_left(matches, place + 1)
            end = occurrences[at + 1] if at + 1 < len(occurrences) else len(cursor.split.contents)
            if candidate < len(matches) and matches[candidate] < end:
                fits.append(at)
    if not fits:
        return occurrences
    if len(fits) > max(repeats, 1):
        raise _ambiguous_context(cursor, chunk, number, [occurrences[at] for at in fits])
    return occurrences[fits[0] :]


def _insertion(cursor: _Cursor, chunk: Chunk, number: int) -> list[Region]:
    """A chunk without old lines: at its diff line if it has one, else at the end of the file.

    An apply_patch chunk goes to the end of the file even under a unified header; a header naming
    another place is a second reading, refused.
    """
    contents = cursor.split.contents
    end = len(contents) - 1 if contents and contents[-1] == "" else len(contents)
    if chunk.header and chunk.hint_line != end:
        raise PatchApplyError(
            f"Chunk {number} of {cursor.total} in {cursor.path} has only added lines, which apply_patch "
            f"adds at the end of the file (after line {end}), but its header '{clip(chunk.header)}' puts "
            f"them after line {chunk.hint_line}. Include the unchanged lines around the insertion as "
            "context lines (starting with a space), so that the place is certain."
        )
    at = end if chunk.hint_line is None else min(max(chunk.hint_line, 0), len(contents))
    lines = _with_eol(chunk.new_lines, cursor.split.eol, strip_last_eol=chunk.eol_at_end is False)
    return [Region(at, at, lines)] if lines else []


def _choose(
    cursor: _Cursor, chunk: Chunk, number: int, found: list[int], scope_end: int | None, same: int
) -> int:
    if chunk.is_end_of_file:
        return found[0]
    candidates = found
    if scope_end is not None:
        candidates = [p for p in found if p < scope_end] or found
    if chunk.hint_line is not None:
        hint = chunk.hint_line
        ranked = sorted(candidates, key=lambda p: (abs(p - hint), p))
        if len(ranked) > 1 and abs(ranked[0] - hint) == abs(ranked[1] - hint):
            raise _ambiguous(cursor, number, ranked[:2], hint)
        return ranked[0]
    if len(candidates) > max(same, 1):
        raise _ambiguous(cursor, number, candidates)
    return candidates[0]


def _chunk_regions(
    position: int, old: Sequence[str], new: Sequence[str], eol: str, *, strip_last_eol: bool
) -> list[Region]:
    """The smallest line regions that turn ``old`` into ``new`` at ``position``."""
    # A chunk that removes the final newline must rewrite its last line even if the text is equal.
    limit = min(len(old), len(new)) - (1 if strip_last_eol and new else 0)
    head = 0
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while not strip_last_eol and tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    middle_old = old[head : len(old) - tail]
    middle_new = new[head : len(new) - tail]
    strip = strip_last_eol and tail == 0
    base = position + head
    if not middle_old and not middle_new:
        return []
    if strip or not middle_old or not middle_new or not set(middle_old) & set(middle_new):
        return [Region(base, base + len(middle_old), _with_eol(middle_new, eol, strip_last_eol=strip))]
    matcher = difflib.SequenceMatcher(None, list(middle_old), list(middle_new), autojunk=False)
    regions = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            last = strip and j2 == len(middle_new)
            regions.append(
                Region(base + i1, base + i2, _with_eol(middle_new[j1:j2], eol, strip_last_eol=last))
            )
    return regions


def _with_eol(lines: Sequence[str], eol: str, *, strip_last_eol: bool) -> tuple[str, ...]:
    ended = [line + eol for line in lines]
    if strip_last_eol and ended:
        ended[-1] = lines[-1]
    return tuple(ended)


def _check_no_overlap(path: str, regions: list[Region]) -> None:
    for before, after in itertools.pairwise(regions):
        if after.start < before.end:
            raise PatchApplyError(
                f"Chunks of the update to {path} overlap around line {after.start + 1}; "
                "send one chunk for that part of the file"
            )


def _terminate_last_line(split: SplitText, regions: list[Region], final_eol: bool) -> None:
    """Give the old last line an ending when it stops being last or the rules want one."""
    total = len(split.contents)
    if total == 0 or split.has_final_eol:
        return
    last = total - 1
    if any(region.start <= last < region.end for region in regions):
        return
    if final_eol or any(region.start == total for region in regions):
        fixed = Region(last, total, (split.line_text(last) + split.eol,))
        position = next(
            (i for i, region in enumerate(regions) if region.start > last or region.end > last), len(regions)
        )
        regions.insert(position, fixed)


def _not_found(cursor: _Cursor, chunk: Chunk, number: int) -> PatchApplyError:
    where = f" (chunk {number} of {cursor.total})" if cursor.total > 1 else ""
    hint = nearest_window(cursor.index, chunk.old_lines)
    message = (
        f"Failed to find expected lines in {cursor.path}{where}:\n{describe_lines(chunk.old_lines)}"
        + (f"\n{hint}" if hint else "")
        + "\nCopy the lines exactly as they are in the file (context lines start with a space)."
    )
    return PatchApplyError(message)


def _ambiguous_context(
    cursor: _Cursor, chunk: Chunk, number: int, occurrences: Sequence[int]
) -> PatchApplyError:
    rest = (
        "the further '@@' lines and the chunk's lines fit"
        if len(chunk.contexts) > 1
        else "the chunk's lines fit"
    )
    return PatchApplyError(
        f"The '@@ {clip(chunk.contexts[0])}' line of chunk {number} of {cursor.total} in {cursor.path} "
        f"is ambiguous: it matches {format_line_numbers(occurrences)}, and {rest} after each of them. "
        "Add an outer '@@' line (the enclosing class or function) first, or include more unchanged "
        "lines, so that the chunk fits exactly one place."
    )


def _ambiguous(
    cursor: _Cursor, number: int, candidates: Sequence[int], hint: int | None = None
) -> PatchApplyError:
    tie = "" if hint is None else f", as near to line {hint + 1} (its line number) as each other"
    return PatchApplyError(
        f"The expected lines of chunk {number} of {cursor.total} in {cursor.path} are ambiguous: "
        f"they match at {format_line_numbers(candidates)}{tie}. Add an '@@' line naming the enclosing "
        "class or function, or include more unchanged lines around the change, so that the chunk "
        "fits exactly one place."
    )


def _literal(chunk: Chunk) -> str:
    """The ``@@`` context text the grammar reads in a chunk's unified header."""
    return chunk.header.removeprefix("@@ ")


def _refuse_literal_header(cursor: _Cursor, chunk: Chunk, number: int) -> None:
    """Refuse a unified header that the file also holds as a line: the grammar reads it as ``@@`` context."""
    _, found = cursor.index.find([_literal(chunk)], 0)
    if found:
        line = found[0]
        raise PatchApplyError(
            f"The line '{clip(chunk.header)}' of chunk {number} of {cursor.total} in {cursor.path} reads "
            f"two ways: as a unified hunk header (a line number), or as an '@@' line naming line {line + 1} "
            f"of the file, '{clip(cursor.index.lines[line])}'. Start the chunk with a bare '@@' line, then "
            "'@@ ' and that line if the chunk comes after it."
        )
