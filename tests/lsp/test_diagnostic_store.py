"""The diagnostics store finds the diagnostics overlapping a range by position, as a full scan would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from codex_lsp.lsp.features import diagnostics as module
from codex_lsp.lsp.features.diagnostics import DiagnosticStore, ordered, overlaps

URI = "file:///big.py"


def diagnostic(line: int, character: int, lines: int, end_character: int, message: str) -> types.Diagnostic:
    start = types.Position(line, character)
    end = types.Position(line + lines, end_character)
    return types.Diagnostic(range=types.Range(start, end), message=message)


def spot(line: int, character: int, lines: int = 0, end_character: int | None = None) -> types.Range:
    end = character if end_character is None else end_character
    return types.Range(types.Position(line, character), types.Position(line + lines, end))


def by_scan(store: DiagnosticStore, rng: types.Range) -> list[types.Diagnostic]:
    """A range that ends before it starts means the same span in order (as the store reads it)."""
    return [d for d in store.for_document(URI, 1) if overlaps(d.range, ordered(rng))]


def test_a_diagnostic_spanning_many_lines_is_found_from_its_last_line() -> None:
    store = DiagnosticStore()
    long = diagnostic(10, 0, 30, 2, "unclosed bracket")
    store.replace(URI, 1, [long, *(diagnostic(n, 0, 0, 4, f"line {n}") for n in range(0, 200, 5))])
    assert store.overlapping(URI, 1, spot(40, 1)) == [long, diagnostic(40, 0, 0, 4, "line 40")]
    assert store.overlapping(URI, 1, spot(40, 3)) == [diagnostic(40, 0, 0, 4, "line 40")]
    store.observe(URI, 1, [diagnostic(1, 0, 60, 0, "seen in a request")])
    assert [d.message for d in store.overlapping(URI, 1, spot(61, 0))] == ["seen in a request"]
    assert store.count(URI, 1) == 42


def test_touching_counts_and_other_versions_know_nothing() -> None:
    store = DiagnosticStore()
    d = diagnostic(3, 5, 0, 9, "x")
    store.replace(URI, 1, [d])
    assert store.overlapping(URI, 1, spot(3, 9)) == [d]
    assert store.overlapping(URI, 1, spot(3, 1, 0, 5)) == [d]
    assert store.overlapping(URI, 1, spot(3, 10)) == []
    assert store.overlapping(URI, 2, spot(3, 6)) == []
    assert store.count(URI, 2) == 0


def test_a_lookup_looks_only_at_the_diagnostics_that_can_reach_the_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A code-action request comes with every cursor move: a lookup compares the range with the
    diagnostics starting from the longest one's span of lines before it to its end, not with every
    diagnostic of the file, whether they were all known at the first lookup or came after it."""
    looked_at: list[str] = []

    def counted(a: types.Range, b: types.Range) -> bool:
        looked_at.append(f"{a.start.line}-{a.end.line}")
        return overlaps(a, b)

    monkeypatch.setattr(module, "overlaps", counted)
    one_per_line = [diagnostic(n, 0, 0, 4, f"line {n}") for n in range(1000)]

    def lookup(store: DiagnosticStore) -> list[str]:
        looked_at.clear()
        store.overlapping(URI, 1, spot(700, 1))
        return list(looked_at)

    later = DiagnosticStore()
    later.observe(URI, 1, [])
    assert lookup(later) == []  # the first lookup sorts what is known: nothing yet
    later.observe(URI, 1, one_per_line)
    assert lookup(later) == ["700-700"]
    later.observe(URI, 1, [diagnostic(500, 2, 3, 0, "three more lines")])
    assert lookup(later) == ["697-697", "698-698", "699-699", "700-700"]

    known = DiagnosticStore()
    known.replace(URI, 1, [*one_per_line, diagnostic(500, 2, 2, 0, "two more lines")])
    assert lookup(known) == ["698-698", "699-699", "700-700"]


positions = st.tuples(st.integers(0, 30), st.integers(0, 6), st.integers(0, 4), st.integers(0, 6))
diagnostics = st.lists(
    st.builds(
        diagnostic,
        st.integers(0, 30),
        st.integers(0, 6),
        st.integers(0, 4),
        st.integers(0, 6),
        st.text("ab", max_size=2),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    notified=diagnostics,
    seen_before=diagnostics,
    seen_after=diagnostics,
    ranges=st.lists(positions, min_size=1, max_size=5),
)
def test_overlapping_matches_a_full_scan(
    notified: list[types.Diagnostic],
    seen_before: list[types.Diagnostic],
    seen_after: list[types.Diagnostic],
    ranges: list[tuple[int, int, int, int]],
) -> None:
    """Whatever arrives in whatever order, before or after the first query: the same diagnostics as a
    scan of everything known, in document order."""
    store = DiagnosticStore()
    store.observe(URI, 1, seen_before)
    store.replace(URI, 1, notified)
    for n, (line, character, lines, end_character) in enumerate(ranges):
        rng = spot(line, character, lines, end_character)
        found = store.overlapping(URI, 1, rng)
        expected = by_scan(store, rng)
        assert sorted(map(id, found)) == sorted(map(id, expected))
        assert [(d.range.start.line, d.range.start.character) for d in found] == sorted(
            (d.range.start.line, d.range.start.character) for d in expected
        )
        assert store.count(URI, 1) == len(store.for_document(URI, 1))
        if n == 0:
            store.observe(URI, 1, seen_after)
