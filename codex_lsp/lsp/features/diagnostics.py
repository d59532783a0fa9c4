"""Every source's diagnostics per document, so "Fix with Codex" works whoever published them.

VS Code puts every source's diagnostics in a code-action request's context; Neovim 0.11 sends each
server only its own, and other clients vary. So the store is fed from two places: the contexts of
code-action requests, and ``codex/didChangeDiagnostics`` ``{uri, version, diagnostics[]}`` — a
notification editor plugins send with every source's diagnostics for a document. An entry belongs
to one document version: once the document changes it is no longer returned (and the next report
replaces it), and it is dropped when the document closes. The store also backs
``Workspace.diagnostics()`` for the agent's context.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lsprotocol import types

from codex_lsp.lsp.protocol import DID_CHANGE_DIAGNOSTICS, DidChangeDiagnosticsParams

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["DiagnosticStore", "diagnostic_key", "setup"]

Key = tuple[int, int, int, int, str, str, str]


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


@dataclass
class _Entry:
    version: int | None
    notified: dict[Key, types.Diagnostic] = field(default_factory=dict)
    seen: dict[Key, types.Diagnostic] = field(default_factory=dict)


class DiagnosticStore:
    """Diagnostics per document URI, for the document version they were reported against."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._reported: set[str] = set()

    def replace(self, uri: str, version: int | None, diagnostics: Iterable[types.Diagnostic]) -> None:
        """Every source's diagnostics for ``uri`` at ``version`` (from the notification)."""
        self._reported.add(uri)
        entry = self._entry(uri, version)
        entry.notified = {diagnostic_key(d): d for d in diagnostics}

    def observe(self, uri: str, version: int | None, diagnostics: Iterable[types.Diagnostic]) -> None:
        """Diagnostics a request context showed for ``uri`` at ``version`` (added to what is known)."""
        entry = self._entry(uri, version)
        for d in diagnostics:
            entry.seen.setdefault(diagnostic_key(d), d)

    def for_document(self, uri: str, version: int | None) -> list[types.Diagnostic]:
        """What is known for ``uri`` at ``version`` (nothing when it was reported for another one)."""
        entry = self._entries.get(uri)
        if entry is None or entry.version != version:
            return []
        merged = dict(entry.notified)
        for key, d in entry.seen.items():
            merged.setdefault(key, d)
        return list(merged.values())

    def reported(self, uri: str) -> bool:
        """Whether an editor plugin ever reported this document's diagnostics (so it knows them all)."""
        return uri in self._reported

    def drop(self, uri: str) -> None:
        self._entries.pop(uri, None)

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
        version = params.version
        if document is not None:
            if version is not None and version != document.version:
                return  # reported for a text the user has already changed
            version = document.version
        ls.state.diagnostics.replace(params.uri, version, params.diagnostics)
