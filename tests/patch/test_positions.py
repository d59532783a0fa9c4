"""Edits minimal to the character, with line numbers by LSP's rules (a lone ``\\r`` breaks too)."""

from __future__ import annotations

import itertools

from hypothesis import event, given, settings
from hypothesis import strategies as st

from codex_lsp.patch import (
    PatchApplyError,
    TextEdit,
    compute_changes,
    line_starts,
    minimal_edits,
    offset_to_line_col,
    parse_apply_patch,
    parse_patch,
)
from codex_lsp.patch.render import render_apply_patch_update
from tests.patch.memory import MemorySource, apply_edits

PIECES = ["a", "b", "é", "e\u0301", "字", "😀", "👩\u200d💻", " ", "\t", "\n", "\r", "\r\n", "\ufeff"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
LINE = st.lists(st.sampled_from([p for p in PIECES if p not in ("\n", "\r\n")]), max_size=6).map("".join)
LINES = st.lists(LINE, max_size=12)


def _patch(*lines: str) -> str:
    return "\n".join(("*** Begin Patch", *lines, "*** End Patch")) + "\n"


def _new_text_positions(old: str, edits: tuple[TextEdit, ...]) -> list[int]:
    """Where each edit's start and end fall in the new text."""
    positions: list[int] = []
    shift = 0
    for edit in edits:
        positions.append(edit.start + shift)
        shift += len(edit.text) - (edit.end - edit.start)
        positions.append(edit.end + shift)
    return positions


def _check_edits(old: str, new: str, edits: tuple[TextEdit, ...]) -> None:
    """The properties every edit list has: exact, ordered, disjoint, LSP lines, no split ``\\r\\n``."""
    assert apply_edits(old, edits) == new
    for before, after in itertools.pairwise(edits):
        assert before.end < after.start, "edits touch or overlap"
    starts = line_starts(old)
    for edit in edits:
        assert 0 <= edit.start <= edit.end <= len(old)
        assert old[edit.start : edit.end] != edit.text
        assert edit.start_line == offset_to_line_col(starts, edit.start)[0]
        assert edit.end_line == offset_to_line_col(starts, edit.end)[0]
        assert edit.end_line < len(starts)
        assert old[edit.start - 1 : edit.start + 1] != "\r\n" or edit.start == 0
        assert old[edit.end - 1 : edit.end + 1] != "\r\n" or edit.end == 0
    for at in _new_text_positions(old, edits):
        assert at == 0 or new[at - 1 : at + 1] != "\r\n"


# --- the helpers hosts use ---


def test_line_starts_break_where_lsp_does() -> None:
    text = "one\rtwo\nthree\r\nfour\u2028five\x0csix\n"
    assert line_starts(text) == [0, 4, 8, 15, 29]
    assert line_starts("") == [0]
    assert line_starts("no break") == [0]
    assert offset_to_line_col(line_starts(text), 9) == (2, 1)
    assert offset_to_line_col(line_starts(text), len(text)) == (4, 0)


def test_a_lone_carriage_return_counts_as_a_line_break() -> None:
    """The engine matches ``three`` on its line 1; an editor shows it on line 2."""
    old = "one\rtwo\nthree\n"
    (change,) = compute_changes(
        parse_patch(_patch("*** Update File: f.txt", "@@", "-three", "+THREE")), MemorySource({"f.txt": old})
    ).changes
    (edit,) = change.edits
    assert (edit.start, edit.end, edit.text, edit.start_line, edit.end_line) == (8, 13, "THREE", 2, 2)


def test_end_line_stays_inside_a_file_without_a_final_newline() -> None:
    old = "keep\nlast"
    patch = _patch("*** Update File: f.txt", "@@", " keep", "-last")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"f.txt": old})).changes
    assert change.new_text == "keep\n"
    (edit,) = change.edits
    assert (edit.start, edit.end, edit.text) == (5, 9, "")
    assert (edit.start_line, edit.end_line) == (1, 1)  # line 2 does not exist
    (whole,) = minimal_edits("a\nb", "\ufeffa\nc")
    assert whole.end_line <= 1


# --- minimal to the character ---


def test_changing_one_word_in_a_long_line_touches_only_that_word() -> None:
    words = [f"word{n}" for n in range(2000)]
    old = "first line\n" + " ".join(words) + "\nlast line\n"
    target = old.index(" word1234 ") + 1
    new_line = " ".join("renamed" if w == "word1234" else w for w in words)
    patch = _patch("*** Update File: f.txt", "@@", f"-{' '.join(words)}", f"+{new_line}")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"f.txt": old})).changes
    (edit,) = change.edits
    assert target <= edit.start
    assert edit.end <= target + len("word1234")
    assert old[edit.start : edit.end] == "word1234"[edit.start - target : edit.end - target]
    assert (edit.start_line, edit.end_line) == (1, 1)
    assert apply_edits(old, change.edits) == change.new_text


def test_cursors_before_and_after_the_change_on_its_line_keep_their_place() -> None:
    old = "    total = compute(alpha, beta)  # why\n"
    (edit,) = minimal_edits(old, "    total = compute(alpha, gamma)  # why\n")
    assert (old[: edit.start], old[edit.start : edit.end], edit.text) == (
        "    total = compute(alpha, ",
        "bet",
        "gamm",
    )


def test_a_crlf_pair_is_never_split() -> None:
    """An edit that would begin or end inside a ``\\r\\n`` (old or new) takes the whole pair."""
    assert minimal_edits("x\r\ny\r\n", "x\ny\r\n") == (TextEdit(1, 3, "\n", 0, 1),)
    assert minimal_edits("a\rb\n", "a\r\nb\n") == (TextEdit(1, 2, "\r\n", 0, 1),)
    assert minimal_edits("a\r\nb\n", "a\r\r\nb\n") == (TextEdit(1, 3, "\r\r\n", 0, 1),)


@given(TEXT, TEXT)
@settings(max_examples=500)
def test_minimal_edits_turn_any_text_into_any_other(old: str, new: str) -> None:
    _check_edits(old, new, minimal_edits(old, new))


@given(LINES, LINES, st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=300)
def test_engine_edits_reproduce_its_new_text(old_lines: list[str], new_lines: list[str], eol: str) -> None:
    """Edits built chunk by chunk, on lines holding lone ``\\r``, emoji, CJK and combining marks."""
    old = "".join(line + eol for line in old_lines)
    patch_text = render_apply_patch_update("f.txt", old, "".join(line + eol for line in new_lines))
    if not patch_text:
        return
    try:
        result = compute_changes(parse_apply_patch(patch_text), MemorySource({"f.txt": old}))
    except PatchApplyError:  # lines that only differ by a trailing "\r" match alike, as in Codex
        event("the rendered patch does not fit one place")
        return
    for change in result.changes:
        assert change.new_text is not None
        _check_edits(old, change.new_text, change.edits)
