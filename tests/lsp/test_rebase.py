"""Edits carried over to a text the user changed meanwhile: moved when the user typed elsewhere,
refused when the user touched what they replace; and trimmed to the characters that change."""

from __future__ import annotations

import pytest
from hypothesis import example, given
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


BREAKS = pytest.mark.parametrize("nl", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])


def lines(nl: str, *texts: str) -> str:
    return "".join(text + nl for text in texts)


@BREAKS
def test_typing_in_the_lines_next_to_an_edit_moves_it(nl: str) -> None:
    """The user changed the line just above and the line just below: the edited line itself is
    untouched, whether the edit replaces all of it or only a character in it."""
    old = lines(nl, "a = 1", "b = 2", "c = 3", "d = 4")
    user = lines(nl, "a = 1", "b = 20", "c = 3", "d = 40")
    c = old.index("c = 3")
    for edit, result in [
        (Edit(c, c + len("c = 3" + nl), "c = 30" + nl), lines(nl, "a = 1", "b = 20", "c = 30", "d = 40")),
        (Edit(c + 4, c + 5, "4"), lines(nl, "a = 1", "b = 20", "c = 4", "d = 40")),
    ]:
        moved = rebase(old, user, [edit])
        assert moved is not None, edit
        assert apply_edits(user, moved) == result


@BREAKS
def test_an_insertion_between_lines_moves_when_the_user_typed_elsewhere(nl: str) -> None:
    old = lines(nl, "a = 1", "b = 2", "c = 3", "d = 4")
    user = lines(nl, "# mine", "a = 10", "b = 2", "c = 3", "d = 40")
    c = old.index("c = 3")
    moved = rebase(old, user, [Edit(c, c, "x = 0" + nl)])
    assert moved is not None
    assert apply_edits(user, moved) == lines(nl, "# mine", "a = 10", "b = 2", "x = 0", "c = 3", "d = 40")


@pytest.mark.parametrize(
    ("edit", "result"),
    [(Edit(0, 5, "a = 10"), "a = 10\nb = 20"), (Edit(0, 0, "# x\n"), "# x\na = 1\nb = 20")],
    ids=["replacing", "inserting"],
)
def test_an_edit_of_the_first_line_moves_when_the_user_typed_in_a_last_line_without_break(
    edit: Edit, result: str
) -> None:
    moved = rebase("a = 1\nb = 2", "a = 1\nb = 20", [edit])
    assert moved is not None
    assert apply_edits("a = 1\nb = 20", moved) == result


@pytest.mark.parametrize("edit", [Edit(2, 2, "x"), Edit(0, 2, "A\r")], ids=["inserting", "ending-there"])
def test_an_edit_at_a_position_inside_a_crlf_touches_that_line(edit: Edit) -> None:
    """LSP has no position between ``\r`` and ``\n``; an edit there belongs to the line the pair ends."""
    assert rebase("a\r\nb\r\n", "aa\r\nb\r\n", [edit]) is None
    assert rebase("a\r\nb\r\n", "a\rb\r\n", [edit]) is None


def test_an_edit_stays_on_its_line_when_the_user_copies_that_line_above() -> None:
    user = "y = 2\nx = 1\ny = 2\n"
    moved = rebase("x = 1\ny = 2\n", user, [Edit(6, 12, "y = 20\n")])
    assert moved is not None
    assert apply_edits(user, moved) == "y = 2\nx = 1\ny = 20\n"


def test_a_line_like_the_one_the_user_deleted_does_not_take_its_place() -> None:
    """The user deleted the first ``c = 3`` line, which the edit replaces; the other one is a
    different line that happens to read the same."""
    assert rebase("c = 3\nb = 2\nc = 3\n", "b = 20\nc = 3\n", [Edit(0, 6, "c = 30\n")]) is None


def test_in_a_long_file_a_common_line_between_two_the_user_changed_is_still_matched() -> None:
    """Blank lines are frequent in a long file; the line diff still tells one from another (with
    difflib's "junk" heuristic, popular lines are not matched on their own)."""
    numbered = [("" if i % 3 == 2 else f"v{i} = {i}") for i in range(300)]
    old = lines("\n", *numbered)
    changed = {i: f"v{i} = -{i}" for i in (0, 100, 102, 298)}
    user = lines("\n", *(changed.get(i, text) for i, text in enumerate(numbered)))
    blank = len(lines("\n", *numbered[:101]))  # line 101, between the changed lines 100 and 102
    moved = rebase(old, user, [Edit(blank, blank + 1, "v101 = 101\n")])
    assert moved is not None
    assert apply_edits(user, moved) == user.replace("v100 = -100\n\n", "v100 = -100\nv101 = 101\n")


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
        ("\r\nb", "\rb"),  # the same in the first line break of the text
        ("\r\nb", "x\nb"),  # the end would fall inside the first line break of the text
    ],
)
def test_trimmed_never_splits_crlf(old: str, new: str) -> None:
    """A position between ``\r`` and ``\n`` does not exist in LSP (it means the end of the line,
    before the ``\r``): an edit ending or starting there would be applied elsewhere."""
    edit = trimmed(old, Edit(0, len(old), new))
    assert not splits_crlf(old, edit.start), edit
    assert not splits_crlf(old, edit.end), edit
    assert apply_edits(old, [edit]) == new


def common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, Edit]:
    """A text of ``a``, CR and LF, and an edit of it that does not start or end inside a CRLF."""
    texts = st.text(alphabet="a\r\n", max_size=8)
    old = draw(texts)
    start = draw(st.integers(0, len(old)).filter(lambda at: not splits_crlf(old, at)))
    end = draw(st.integers(start, len(old)).filter(lambda at: not splits_crlf(old, at)))
    return old, Edit(start, end, draw(texts))


@given(edits())
@example(("aab", Edit(0, 3, "bbb")))  # the last character kept, the two before it changed
@example(("\nx\r", Edit(0, 1, "y\n")))  # inserting "y": the first "\n" and the last "\r" are no pair
@example(("a\r", Edit(0, 2, "a\rb")))  # appending after a lone CR ending the text
@example(("a\r", Edit(0, 2, "b")))  # replacing up to a lone CR ending the text
def test_trimmed_drops_exactly_the_unchanged_ends(case: tuple[str, Edit]) -> None:
    """The trimmed edit does the same, without the characters the replaced text and the new text
    share at the start (first) and end; it keeps one more only to not split a CRLF."""
    old, edit = case
    replaced = old[edit.start : edit.end]
    prefix = common_prefix(replaced, edit.new)
    suffix = common_prefix(replaced[prefix:][::-1], edit.new[prefix:][::-1])
    start, end = edit.start + prefix, edit.end - suffix
    result = trimmed(old, edit)
    assert apply_edits(old, [result]) == apply_edits(old, [edit])
    assert result.start == start - splits_crlf(old, start), result
    assert result.end == end + splits_crlf(old, end), result


def test_checked_edits_fall_back_to_one_edit_when_offsets_disagree() -> None:
    (edit,) = checked_edits("one\ntwo\n", "one\n2\n", [(99, 100, "nonsense")])
    assert apply_edits("one\ntwo\n", [edit]) == "one\n2\n"
    assert edit == Edit(4, 7, "2")


def test_checked_edits_keep_the_edits_that_do_exactly_the_change() -> None:
    """Edits from the start to the end of the text, touching each other, inserting and deleting:
    kept as they are (each may then be carried over on its own), without the ones that change nothing."""
    given_edits = [(0, 1, "O"), (1, 1, "+"), (2, 2, ""), (4, 8, ""), (8, 14, "3\n")]
    new = apply_edits("one\ntwo\nthree\n", [Edit(*e) for e in given_edits])
    assert new == "O+ne\n3\n"
    kept = checked_edits("one\ntwo\nthree\n", new, given_edits)
    assert kept == [Edit(0, 1, "O"), Edit(1, 1, "+"), Edit(4, 8, ""), Edit(8, 14, "3\n")]


@pytest.mark.parametrize(
    ("new", "edit"),
    [("one\n2\n", Edit(4, 7, "2")), ("one\ntwo\nthree\n", Edit(8, 8, "three\n")), ("one\n", Edit(4, 8, ""))],
    ids=["replacing", "inserting", "deleting"],
)
def test_checked_edits_replace_edits_that_do_something_else_by_the_change(new: str, edit: Edit) -> None:
    assert checked_edits("one\ntwo\n", new, [(0, 3, "ONE")]) == [edit]
    assert checked_edits("one\ntwo\n", new, []) == [edit]


def test_checked_edits_of_an_unchanged_text_are_none() -> None:
    assert checked_edits("one\n", "one\n", [(0, 3, "ONE")]) == []
    assert checked_edits("one\n", "one\n", [(1, 1, "")]) == []


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
