"""LSP positions: LSP's line breaks, and characters in each encoding, checked against a plain
reference implementation written from the specification."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_lsp.lsp.positions import Encoding, LineIndex, as_encoding, unit_length

ENCODINGS: tuple[Encoding, ...] = ("utf-8", "utf-16", "utf-32")


def reference_position(text: str, offset: int, encoding: Encoding) -> tuple[int, int]:
    """Walk the text one character at a time, as the specification describes it."""
    line, character, index = 0, 0, 0
    while index < offset:
        char = text[index]
        if char == "\r" and index + 1 < len(text) and text[index + 1] == "\n":
            if index + 1 == offset:  # between \r and \n: the end of the line's content
                return line, character
            line, character, index = line + 1, 0, index + 2
            continue
        if char in "\r\n":
            line, character = line + 1, 0
        else:
            size = {"utf-8": len(char.encode("utf-8")), "utf-16": 2 if ord(char) > 0xFFFF else 1}
            character += size.get(encoding, 1)
        index += 1
    return line, character


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_lone_carriage_return_breaks_a_line(encoding: Encoding) -> None:
    index = LineIndex("one\rtwo\nthree\r\nfour", encoding)
    assert index.line_count == 4
    assert index.position(4) == (1, 0)  # "t" of two
    assert index.position(8) == (2, 0)  # "t" of three
    assert index.position(15) == (3, 0)
    assert index.offset(1, 0) == 4
    assert index.offset(3, 2) == 17


@pytest.mark.parametrize("char", ["\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\x0b"])
def test_only_lsp_line_breaks_count(char: str) -> None:
    index = LineIndex(f"a{char}b\nc")
    assert index.line_count == 2
    assert index.position(3) == (0, 3)


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-16", (0, 6)), ("utf-8", (0, 11)), ("utf-32", (0, 5))]
)
def test_emoji_cjk_and_combining_characters(encoding: Encoding, expected: tuple[int, int]) -> None:
    text = "😀漢e\u0301x = 1\n"  # emoji (2 UTF-16 units, 4 bytes), CJK (3 bytes), e + combining acute
    index = LineIndex(text, encoding)
    assert index.position(5) == expected  # just after "x"
    assert index.offset(*expected) == 5


def test_positions_inside_a_character_or_a_line_break_move_back() -> None:
    index = LineIndex("😀a\r\nb", "utf-16")
    assert index.offset(0, 1) == 0  # the middle of the surrogate pair
    assert index.offset(0, 99) == 2  # past the end of the line: its end, before \r\n
    assert index.position(3) == (0, 3)  # between \r and \n
    assert index.offset(7, 0) == len(index.text)  # past the last line: the end of the text


def test_end_of_text_without_final_newline() -> None:
    index = LineIndex("é𝄞a", "utf-16")
    assert index.position(3) == (0, 4)  # not (1, 0): the text has one line


def test_encoding_names() -> None:
    assert as_encoding("utf-8") == "utf-8"
    assert as_encoding(None) == "utf-16"
    assert as_encoding("latin-1") == "utf-16"
    assert unit_length("𝄞", "utf-16") == 2


TEXT = st.text(alphabet=st.sampled_from(list("ab \r\n\t😀漢é\u0301\u2028")), max_size=40)


@given(TEXT, st.data())
def test_positions_match_the_reference(text: str, data: st.DataObject) -> None:
    encoding = data.draw(st.sampled_from(ENCODINGS))
    offset = data.draw(st.integers(0, len(text)))
    index = LineIndex(text, encoding)
    expected = reference_position(text, offset, encoding)
    assert index.position(offset) == expected
    back = index.offset(*expected)
    assert reference_position(text, back, encoding) == expected


@given(st.text(alphabet="ab\r\n\u00e9\U0001f600\u2028", max_size=30), st.integers(-2, 40))
def test_point_counts_code_points_whatever_the_encoding(text: str, offset: int) -> None:
    """``point`` is what a code-point index's ``position`` says, from an index of any encoding (so one
    index per text converts a client's positions to the agent's)."""
    expected = LineIndex(text, "utf-32").position(offset)
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert LineIndex(text, encoding).point(offset) == expected
