"""The heap trimmer: one trim per TRIM_AFTER characters released, none below, nothing without glibc."""

from __future__ import annotations

from codex_lsp.lsp.heap import HeapTrimmer, malloc_trim


def test_it_trims_once_per_threshold_of_released_text() -> None:
    calls: list[int] = []

    def trim() -> bool:
        calls.append(1)
        return True

    trimmer = HeapTrimmer(trim, after=100)
    trimmer.released(60)
    trimmer.released(39)
    assert calls == []
    trimmer.released(1)
    assert calls == [1], "at the threshold"
    assert trimmer.pending == 0
    for _ in range(5):
        trimmer.released(50)
    assert len(calls) == 3


def test_without_malloc_trim_it_stops_trying() -> None:
    calls: list[int] = []

    def unavailable() -> bool:
        calls.append(1)
        return False

    trimmer = HeapTrimmer(unavailable, after=10)
    trimmer.released(10)
    trimmer.released(10)
    assert calls == [1]
    assert trimmer.trims == 2


def test_malloc_trim_runs_here() -> None:
    assert malloc_trim() is True, "this Linux runs glibc"
