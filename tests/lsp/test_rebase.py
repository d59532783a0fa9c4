"""Edits carried over to a text the user changed meanwhile: moved when the user typed elsewhere,
refused when the user touched what they replace; and trimmed to the characters that change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_lsp.lsp.host.rebase import Edit, apply_edits, checked_edits, rebase, trimmed

OLD = "a = 1\nb = 2\nc = 3\nd = 4\n"
EDIT_C = Edit(12, 18, "c = 30\n")  # replaces the whole line "c = 3\n"


def test_unchanged_text_keeps_the_edits() -> None:
    assert rebase(OLD, OLD, [EDIT_C]) == [EDIT_C]


def test_typing_above_moves_the_edit() -> None:
    new = "# header\n" + OLD
    (moved,) = rebase(OLD, new, [EDIT_C]) or []
    assert apply_edits(new, [moved]) == "# header\na = 1\nb = 2\nc = 30\nd = 4\n"


def test_typing_below_and_above_in_two_places() -> None:
    new = OLD.replace("a = 1", "a = 100").replace("d = 4", "d = 400")
    moved = rebase(OLD, new, [EDIT_C])
    assert moved is not None
    assert apply_edits(new, moved) == "a = 100\nb = 2\nc = 30\nd = 400\n"


def test_typing_in_the_replaced_line_is_a_conflict() -> None:
    assert rebase(OLD, OLD.replace("c = 3", "c = 3  # mine"), [EDIT_C]) is None


def test_an_insertion_where_the_user_inserted_is_a_conflict() -> None:
    insert = Edit(6, 6, "x = 0\n")
    assert rebase(OLD, OLD[:6] + "y = 9\n" + OLD[6:], [insert]) is None


AT_START, AT_END = Edit(0, 0, "# x\n"), Edit(len(OLD), len(OLD), "e = 5\n")


@pytest.mark.parametrize(
    ("user", "insert"),
    [
        ("# mine\n" + OLD, AT_START),
        (OLD.removeprefix("a = 1\n"), AT_START),
        (OLD + "f = 6\n", AT_END),
        (OLD.removesuffix("d = 4\n"), AT_END),
    ],
    ids=["inserted-at-start", "deleted-at-start", "appended", "deleted-at-end"],
)
def test_an_insertion_at_an_end_of_the_text_the_user_changed_there_is_a_conflict(
    user: str, insert: Edit
) -> None:
    """The start and end of the text are no different from a line between two others: whether the
    edit's lines go before or after what the user typed there is anyone's guess."""
    assert rebase(OLD, user, [insert]) is None


@pytest.mark.parametrize(
    ("user", "insert", "result"),
    [
        (OLD.replace("d = 4", "d = 40"), AT_START, "# x\na = 1\nb = 2\nc = 3\nd = 40\n"),
        (OLD + "f = 6\n", AT_START, "# x\n" + OLD + "f = 6\n"),
        (OLD.replace("a = 1", "a = 10"), AT_END, "a = 10\nb = 2\nc = 3\nd = 4\ne = 5\n"),
        ("# mine\n" + OLD, AT_END, "# mine\n" + OLD + "e = 5\n"),
    ],
    ids=["start-typed-in-last-line", "start-appended", "end-typed-in-first-line", "end-inserted-at-start"],
)
def test_an_insertion_at_an_end_of_the_text_moves_when_the_user_typed_at_the_other(
    user: str, insert: Edit, result: str
) -> None:
    moved = rebase(OLD, user, [insert])
    assert moved is not None
    assert apply_edits(user, moved) == result


@pytest.mark.parametrize(
    "typed",
    ["cc = 3", "c == 3", "C = 3", "c= 3", "c =3"],
    ids=["inserted", "inserted-next-to-it", "replaced-at-line-start", "deleted", "deleted-next-to-it"],
)
@pytest.mark.parametrize(
    "edit", [Edit(16, 17, "4"), Edit(17, 17, "0")], ids=["replacing-the-3", "inserting-after-the-3"]
)
def test_typing_in_the_same_line_before_the_edit_is_a_conflict(typed: str, edit: Edit) -> None:
    """The user typed in the line the edit touches, before the characters it replaces: the patch's
    line is gone from the new text, so the edit is not carried over, however far it is from the
    typing and however little the edit itself changes."""
    assert rebase(OLD, OLD.replace("c = 3", typed), [edit]) is None
    crlf = OLD.replace("\n", "\r\n")
    assert rebase(crlf, crlf.replace("c = 3", typed), [Edit(edit.start + 2, edit.end + 2, edit.new)]) is None


def test_trimmed_keeps_only_the_changed_characters() -> None:
    assert trimmed(OLD, EDIT_C) == Edit(17, 17, "0")


def test_typing_in_a_line_the_edit_only_partly_replaces_is_a_conflict() -> None:
    assert rebase(OLD, OLD.replace("c = 3", "c = 33"), [Edit(16, 17, "4")]) is None


def splits_crlf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\r\nb\r\n", "a\r\r\nb\r\n"),  # both ends of the changed part fall inside a pair
        ("x\nb = 2\r\nc\r\n", "x\nb = 20\nc\r\n"),  # CRLF becomes LF: the end would fall inside
        ("x\r\nb = 2\r\n", "x\rB = 2\r\n"),  # CRLF becomes a lone CR: the start would fall inside
    ],
)
def test_trimmed_never_splits_crlf(old: str, new: str) -> None:
    """A position between ``\r`` and ``\n`` does not exist in LSP (it means the end of the line,
    before the ``\r``): an edit ending or starting there would be applied elsewhere."""
    edit = trimmed(old, Edit(0, len(old), new))
    assert not splits_crlf(old, edit.start), edit
    assert not splits_crlf(old, edit.end), edit
    assert apply_edits(old, [edit]) == new


def test_checked_edits_fall_back_to_one_edit_when_offsets_disagree() -> None:
    (edit,) = checked_edits("one\ntwo\n", "one\n2\n", [(99, 100, "nonsense")])
    assert apply_edits("one\ntwo\n", [edit]) == "one\n2\n"
    assert edit == Edit(4, 7, "2")


LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "dd\n", "\n", "é😀\n"]), max_size=8)


@given(LINES, LINES, st.data())
def test_rebased_edits_never_clobber_and_keep_the_intent(
    old_lines: list[str], new_lines: list[str], data: st.DataObject
) -> None:
    old, user = "".join(old_lines), "".join(new_lines)
    start = data.draw(st.integers(0, len(old)))
    end = data.draw(st.integers(start, len(old)))
    edit = Edit(start, end, data.draw(st.sampled_from(["", "X", "Y\n"])))
    moved = rebase(old, user, [edit])
    if moved is None:
        return
    (target,) = moved
    assert user[target.start : target.end] == old[start:end]
    result = apply_edits(user, moved)
    # What the user typed outside the replaced range survives.
    assert result[: target.start] == user[: target.start]
    assert result[target.start + len(edit.new) :] == user[target.end :]
