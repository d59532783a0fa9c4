"""Hunks for review: cut like ``git diff``, unique where they were cut, placed later by content."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_lsp.patch import PatchApplyError
from codex_lsp.patch.hunks import PlacedHunk, applied_edits, apply_placed, place_hunk, split_hunks

LINES = st.lists(st.sampled_from(["a", "b", "c", "", "  d", "e–f"]), max_size=14)


def text_of(lines: list[str], eol: str, final: bool) -> str:
    body = eol.join(lines)
    return body + eol if lines and final else body


@settings(max_examples=400, deadline=None)
@given(LINES, LINES, st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans(), st.randoms())
def test_every_order_of_accepting_gives_the_new_text(
    old_lines: list[str], new_lines: list[str], eol: str, old_final: bool, new_final: bool, rng: random.Random
) -> None:
    """Each hunk is unique where it was cut and never reaches into another's changed lines, so the
    hunks apply in any order, each found by content, and together give exactly the new text.
    (Lines written into a file without a line break end in ``\n``, as the engine writes them.)"""
    eol = eol if len(old_lines) > 1 or (old_lines and old_final) else "\n"
    old, new = text_of(old_lines, eol, old_final), text_of(new_lines, eol, new_final)
    hunks = list(split_hunks(old, new))
    assert (hunks == []) == (old == new)
    rng.shuffle(hunks)
    text = old
    for hunk in hunks:
        text = place_hunk("f.txt", text, hunk).text
    assert text == new


def numbered(count: int, changed: dict[int, str] | None = None) -> str:
    changed = changed or {}
    return "".join(changed.get(n, f"line {n}") + "\n" for n in range(count))


def test_changes_seven_lines_apart_are_separate_hunks() -> None:
    old = numbered(30)
    new = numbered(30, {3: "three", 11: "eleven", 17: "seventeen", 25: "twenty-five"})
    hunks = split_hunks(old, new)
    assert [h.header for h in hunks] == ["@@ -1,7 +1,7 @@", "@@ -9,13 +9,13 @@", "@@ -23,7 +23,7 @@"]
    assert hunks[0].diff_lines() == [
        " line 0",
        " line 1",
        " line 2",
        "-line 3",
        "+three",
        " line 4",
        " line 5",
        " line 6",
    ]


def test_a_hunk_whose_lines_repeat_gets_more_context() -> None:
    block = ["def f():", "    return 1", ""]
    old = "\n".join(["# first", *block, "# second", *block, "# end"]) + "\n"
    new = old.replace("# second\ndef f():\n    return 1", "# second\ndef f():\n    return 2")
    (hunk,) = split_hunks(old, new, context=1)
    assert hunk.chunk.old_lines[0] == "# second", "grown until it fits one place only"
    assert place_hunk("f.py", old, hunk).text == new


def test_hunks_that_more_context_cannot_tell_apart_are_merged() -> None:
    """Two equal changes in a file of equal lines: neither hunk can be made unique without reaching
    into the other's changed line, so they become one hunk."""
    old = ["x"] * 30
    old[5] = old[13] = "p"
    new = ["q" if line == "p" else line for line in old]
    (hunk,) = split_hunks("\n".join(old) + "\n", "\n".join(new) + "\n")
    assert hunk.chunk.kinds.count("-") == 2
    assert place_hunk("f.txt", "\n".join(old) + "\n", hunk).text == "\n".join(new) + "\n"


def test_placing_follows_the_content_not_the_line_number() -> None:
    old = numbered(20)
    (hunk,) = split_hunks(old, numbered(20, {15: "fifteen"}))
    moved = "# added by the user\n" * 4 + old
    placed = place_hunk("f.txt", moved, hunk)
    assert placed.line == 19
    assert placed.text == "# added by the user\n" * 4 + numbered(20, {15: "fifteen"})


def test_a_hunk_made_ambiguous_or_gone_is_refused() -> None:
    old = numbered(20)
    (hunk,) = split_hunks(old, numbered(20, {10: "ten"}))
    window = "".join(f"line {n}\n" for n in range(7, 14))
    with pytest.raises(PatchApplyError, match="ambiguous"):
        place_hunk("f.txt", old + window, hunk)
    with pytest.raises(PatchApplyError, match="Failed to find"):
        place_hunk("f.txt", old.replace("line 10\n", "line 10 edited\n"), hunk)


def test_several_hunks_apply_at_once_from_one_text() -> None:
    old = numbered(30)
    new = numbered(30, {2: "two", 20: "twenty"})
    placed = [place_hunk("f.txt", old, hunk) for hunk in split_hunks(old, new)]
    text, edits = apply_placed(old, placed)
    assert text == new
    assert [e.start_line for e in edits] == [2, 20]


def test_a_new_file_and_an_emptied_file() -> None:
    (created,) = split_hunks("", "one\ntwo")
    assert place_hunk("f.txt", "", created).text == "one\ntwo"
    with pytest.raises(PatchApplyError, match="no longer"):
        place_hunk("f.txt", "typed\n", created)
    (emptied,) = split_hunks("one\n", "")
    assert place_hunk("f.txt", "one\n", emptied).text == ""


@settings(max_examples=300, deadline=None)
@given(LINES, LINES, st.randoms())
def test_which_edits_an_editor_applied_is_recovered(
    old_lines: list[str], new_lines: list[str], rng: random.Random
) -> None:
    """A refactor preview may apply any subset of the hunks; a subset that gives the same text is
    recovered (two edits can be indistinguishable when they write what was there)."""
    old, new = text_of(old_lines, "\n", True), text_of(new_lines, "\n", True)
    placed = [place_hunk("f.txt", old, hunk) for hunk in split_hunks(old, new)]
    after = apply_placed(old, [p for p in placed if rng.random() < 0.5])[0]
    _, every = apply_placed(old, placed)
    found = applied_edits(old, after, every)
    assert found is not None
    kept = tuple(edit for edit, taken in zip(every, found, strict=True) if taken)
    assert apply_placed(old, [PlacedHunk(0, "", kept)])[0] == after


def test_edits_an_editor_did_not_make_are_told() -> None:
    old = numbered(20)
    placed = [place_hunk("f.txt", old, h) for h in split_hunks(old, numbered(20, {2: "two", 15: "fifteen"}))]
    _, every = apply_placed(old, placed)
    after = apply_placed(old, placed[1:])[0]
    assert applied_edits(old, after, every) == [False, True]
    assert applied_edits(old, "# typed\n" + after, every) is None
