"""The line matcher's own contract (``LineIndex``), below the engine: which pass matched, searches for
lines the index was not built for, and searches that start below the previous chunk."""

from __future__ import annotations

from codex_lsp.patch.matching import LineIndex


def test_the_pass_that_matched_is_reported_strictest_first() -> None:
    lines = ["def f():  ", "    return 1", "x = ‘a’"]
    index = LineIndex(lines)
    assert index.find(["def f():  "], 0) == (0, [0])
    assert index.find(["def f():"], 0) == (1, [0])
    assert index.find(["return 1"], 0) == (2, [1])
    assert index.find(["x = 'a'"], 0) == (3, [2])


def test_an_empty_pattern_matches_where_the_search_starts_and_a_long_one_nowhere() -> None:
    index = LineIndex(["a", "b"])
    assert index.find([], 1) == (0, [1])
    assert index.find(["a", "b", "c"], 0) == (-1, [])
    assert index.find(["z"], 0) == (-1, [])


def test_a_line_outside_the_wanted_set_is_still_found() -> None:
    """The index is built for the lines a patch names; any other search falls back to a full index."""
    index = LineIndex(["alpha", "beta", "gamma"], wanted=["alpha"])
    assert index.find(["beta", "gamma"], 0) == (0, [1])
    assert index.find(["alpha"], 0) == (0, [0])


def test_matches_above_the_start_are_never_returned_whichever_line_anchors_the_search() -> None:
    """A pattern is looked up through its rarest line (here the second); an occurrence of it whose
    pattern would begin above ``start`` must not count, or a later chunk could land above an earlier one."""
    lines = ["c", "r", "c", "c", "r"]
    index = LineIndex(lines, wanted=["c", "r"])
    assert index.find(["c", "r"], 0) == (0, [0, 3])
    assert index.find(["c", "r"], 1) == (0, [3])
    assert index.find(["c", "r"], 2) == (0, [3])


def test_a_chunk_anchored_at_the_end_of_the_file_tries_every_pass() -> None:
    index = LineIndex(["head", "tail  "])
    assert index.find(["tail"], 0, at_end=True) == (1, [1])
    assert index.find(["tail"], 1, at_end=True) == (1, [1])
    assert index.find(["head"], 0, at_end=True) == (-1, [])
    assert index.find(["tail  "], 2, at_end=True) == (-1, [])
