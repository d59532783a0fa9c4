"""Every source's diagnostics per document, so "Fix with Codex" works whoever published them.

VS Code puts every source's diagnostics in a code-action request's context; Neovim 0.11 sends each
server only its own, and other clients vary. So the store is fed from two places: the contexts of
code-action requests, and ``codex/didChangeDiagnostics`` ``{uri, version, diagnostics[]}`` — a
notification editor plugins send with every source's diagnostics for a document. An entry belongs
to one document version: once the document changes it is no longer returned (and the next report
replaces it), and it is dropped when the document closes. A report for a document that is not open
(one sent after its ``didClose``) is not kept: it would outlive the close. The store also backs
``Workspace.diagnostics()`` for the agent's context.

A code-action request comes with every cursor move and asks only for the diagnostics at the cursor,
so each document's diagnostics are also kept sorted by start (:class:`_ByPosition`): finding those
that overlap a range costs a binary search, not a pass over every diagnostic of a large file.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from codex_lsp.lsp.protocol import DID_CHANGE_DIAGNOSTICS, DidChangeDiagnosticsParams

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["DiagnosticStore", "diagnostic_key", "ordered", "ordered_diagnostic", "overlaps", "setup"]

Key = tuple[int, int, int, int, str, str, str]


def _at(position: types.Position) -> tuple[int, int]:
    return position.line, position.character


def ordered(rng: types.Range) -> types.Range:
    """``rng`` with its ends in document order. Some clients send a range that ends before it starts
    (ALE, when the linter gave no end column); it means the same span and must not be dropped."""
    if _at(rng.end) < _at(rng.start):
        return types.Range(start=rng.end, end=rng.start)
    return rng


def ordered_diagnostic(d: types.Diagnostic) -> types.Diagnostic:
    """``d`` with a range that ends where it starts when it ended before (the same object otherwise).

    Such a diagnostic comes from ALE when the linter gave a line and a column but no end: its end is
    0:0, meaning "none". Swapping the ends would stretch the problem over every line before it; what
    is known is where it starts."""
    rng = d.range
    if (rng.end.line, rng.end.character) >= (rng.start.line, rng.start.character):
        return d
    return attrs.evolve(d, range=types.Range(start=rng.start, end=rng.start))


def overlaps(a: types.Range, b: types.Range) -> bool:
    """Whether the ranges share a position (touching counts: a cursor at a diagnostic's end)."""
    return _at(a.start) <= _at(b.end) and _at(b.start) <= _at(a.end)


def diagnostic_key(d: types.Diagnostic) -> Key:
    """What makes two diagnostics the same one (range, message, source, code)."""
    r = d.range
    return (
        r.start.line,
        r.start.character,
        r.end.line,
        r.end.character,
        d.message,
        d.source or "",
        str(d.code),
    )


class _ByPosition:
    """Diagnostics sorted by start position (equal starts in the order they came)."""

    def __init__(self, diagnostics: Iterable[types.Diagnostic]) -> None:
        ordered = sorted(diagnostics, key=lambda d: _at(d.range.start))
        self._starts = [_at(d.range.start) for d in ordered]
        self._items = ordered
        self._span = max((d.range.end.line - d.range.start.line for d in ordered), default=0)
        """The most lines any one of them spans: how far before a range one may start and reach it."""

    def add(self, d: types.Diagnostic) -> None:
        at = bisect_right(self._starts, _at(d.range.start))
        self._starts.insert(at, _at(d.range.start))
        self._items.insert(at, d)
        self._span = max(self._span, d.range.end.line - d.range.start.line)

    def overlapping(self, rng: types.Range) -> list[types.Diagnostic]:
        """The diagnostics overlapping ``rng``, by position: only those starting at most ``span`` lines
        before it and not after its end can, so only those are looked at."""
        first = bisect_left(self._starts, (rng.start.line - self._span, 0))
        last = bisect_right(self._starts, _at(rng.end))
        return [d for d in self._items[first:last] if overlaps(d.range, rng)]


@dataclass
class _Entry:
    version: int | None
    notified: dict[Key, types.Diagnostic] = field(default_factory=dict)
    seen: dict[Key, types.Diagnostic] = field(default_factory=dict)
    known: dict[Key, types.Diagnostic] = field(default_factory=dict)
    """``notified``, then what only a request showed: what is known for this version."""
    by_position: _ByPosition | None = None
    """``known`` sorted by start, built when first asked for."""

    def set_notified(self, diagnostics: Iterable[types.Diagnostic]) -> None:
        self.notified = {diagnostic_key(d): d for d in diagnostics}
        self.known = dict(self.notified)
        for key, d in self.seen.items():
            self.known.setdefault(key, d)
        self.by_position = None

    def add_seen(self, d: types.Diagnostic) -> None:
        key = diagnostic_key(d)
        self.seen.setdefault(key, d)
        if key not in self.known:
            self.known[key] = d
            if self.by_position is not None:
                self.by_position.add(d)

    def overlapping(self, rng: types.Range) -> list[types.Diagnostic]:
        if self.by_position is None:
            self.by_position = _ByPosition(self.known.values())
        return self.by_position.overlapping(rng)


class DiagnosticStore:
    """Diagnostics per document URI, for the document version they were reported against."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._reported: set[str] = set()

    def replace(self, uri: str, version: int | None, diagnostics: Iterable[types.Diagnostic]) -> None:
        """Every source's diagnostics for ``uri`` at ``version`` (from the notification)."""
        self._reported.add(uri)
        self._entry(uri, version).set_notified(ordered_diagnostic(d) for d in diagnostics)

    def observe(self, uri: str, version: int | None, diagnostics: Iterable[types.Diagnostic]) -> None:
        """Diagnostics a request context showed for ``uri`` at ``version`` (added to what is known)."""
        entry = self._entry(uri, version)
        for d in diagnostics:
            entry.add_seen(ordered_diagnostic(d))

    def for_document(self, uri: str, version: int | None) -> list[types.Diagnostic]:
        """What is known for ``uri`` at ``version`` (nothing when it was reported for another one)."""
        entry = self._current(uri, version)
        return list(entry.known.values()) if entry is not None else []

    def count(self, uri: str, version: int | None) -> int:
        """How many diagnostics are known for ``uri`` at ``version``."""
        entry = self._current(uri, version)
        return len(entry.known) if entry is not None else 0

    def overlapping(self, uri: str, version: int | None, rng: types.Range) -> list[types.Diagnostic]:
        """The diagnostics known for ``uri`` at ``version`` that overlap ``rng``, by position."""
        entry = self._current(uri, version)
        return entry.overlapping(ordered(rng)) if entry is not None else []

    def reported(self, uri: str) -> bool:
        """Whether an editor plugin ever reported this document's diagnostics (so it knows them all)."""
        return uri in self._reported

    def drop(self, uri: str) -> None:
        self._entries.pop(uri, None)

    def _current(self, uri: str, version: int | None) -> _Entry | None:
        entry = self._entries.get(uri)
        return entry if entry is not None and entry.version == version else None

    def _entry(self, uri: str, version: int | None) -> _Entry:
        entry = self._entries.get(uri)
        if entry is None or entry.version != version:
            entry = self._entries[uri] = _Entry(version)
        return entry


def setup(server: CodexServer) -> None:
    """Register ``codex/didChangeDiagnostics``."""

    @server.feature(DID_CHANGE_DIAGNOSTICS)
    def did_change_diagnostics(ls: CodexServer, params: DidChangeDiagnosticsParams) -> None:
        document = ls.state.documents.get(params.uri)
        if document is None:
            return  # not open (a report sent after the close): the plugin reports it again once opened
        if params.version is not None and params.version != document.version:
            return  # reported for a text the user has already changed
        ls.state.diagnostics.replace(params.uri, document.version, params.diagnostics)
