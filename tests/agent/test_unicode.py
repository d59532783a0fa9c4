"""Escaping what UTF-8 cannot carry (lone surrogates), and byte budgets over such text."""

from __future__ import annotations

import os
from pathlib import Path

from codex_lsp.agent.threads import ThreadStore
from codex_lsp.agent.tools.text import truncate_utf8, utf8_len
from codex_lsp.agent.unicode import escape_json, escape_surrogates


def test_lone_surrogates_are_escaped_as_backslashreplace_spells_them() -> None:
    name = os.fsdecode("caf\xe9.txt".encode("latin-1"))  # what os.listdir hands out
    assert escape_surrogates(name) == "caf\\xe9.txt"
    assert escape_surrogates("a\ud800b\udfffc") == "a\\ud800b\\udfffc"
    assert escape_surrogates("\ud83d\ude00 pair") == "\U0001f600 pair", (
        "a pair is the character it stands for"
    )
    assert escape_surrogates("\ude00\ud83d") == "\\ude00\\ud83d", "low then high is no pair"
    for escaped in (escape_surrogates(name), escape_surrogates("x\ud800")):
        escaped.encode("utf-8")


def test_clean_text_is_returned_as_it_is() -> None:
    text = "déjà vu — 😀\n" * 100
    assert escape_surrogates(text) is text
    assert escape_json({"k\ud800": ["v\udcff", 1, None, {"n": "ok"}]}) == {
        "k\\ud800": ["v\\xff", 1, None, {"n": "ok"}]
    }


def test_byte_budgets_count_a_surrogate_and_never_cut_a_character() -> None:
    text = "ab\ud800cd😀e"
    assert utf8_len(text) == 2 + 3 + 2 + 4 + 1
    assert truncate_utf8(text, 4) == "ab"
    assert truncate_utf8(text, 5) == "ab\ud800"
    assert truncate_utf8(text, 10) == "ab\ud800cd"
    assert truncate_utf8(text, 11) == "ab\ud800cd😀"
    assert truncate_utf8(text, 99) is text


def test_a_thread_saves_and_reloads_what_utf8_cannot_carry(tmp_path: Path) -> None:
    thread = ThreadStore(tmp_path).create("/p")
    thread.append("t1", [{"type": "message", "content": [{"type": "output_text", "text": "x\ud800y"}]}])
    thread.finish_turn("t1", "completed", "prompt \udce9")
    loaded = ThreadStore(tmp_path).load(thread.id)
    assert loaded is not None
    assert (
        loaded.history
        == thread.history
        == [{"type": "message", "content": [{"type": "output_text", "text": "x\\ud800y"}]}]
    )
    assert loaded.prompts == thread.prompts == ["prompt \\xe9"]
