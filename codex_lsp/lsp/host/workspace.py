"""One workspace folder as the agent sees it: editor buffers first, then edits on their way, then disk.

:class:`LspWorkspace` implements the agent's ``Workspace``: a file open in the editor is read from
its buffer (unsaved text included), any other file from disk, fresh on every read. Between an
applied workspace edit and the editor reporting the result (``didOpen`` of a file it opened to
edit, or the file written), reads see the text the edit produced — the "expected" texts, which
are forgotten as soon as the editor or the disk says something newer.

Paths are workspace-relative and confined to the folder by the patch layer's path rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from lsprotocol import types
from pygls.uris import from_fs_path

from codex_lsp.agent import Diagnostic, OpenBuffer, read_workspace_text
from codex_lsp.lsp.documents import Document, DocumentStore
from codex_lsp.lsp.features.diagnostics import DiagnosticStore
from codex_lsp.lsp.host.edits import Current
from codex_lsp.lsp.positions import Encoding, LineIndex
from codex_lsp.patch import DiskFileSource, PatchError, PathKind, Snapshot

__all__ = ["BufferFileSource", "Expected", "LspWorkspace", "agent_diagnostics"]

_SEVERITY = {1: "error", 2: "warning", 3: "information", 4: "hint"}


class _Stamp(NamedTuple):
    exists: bool
    mtime_ns: int
    size: int


def _stamp(path: str) -> _Stamp:
    try:
        info = os.stat(path)
    except OSError:
        return _Stamp(False, 0, 0)
    return _Stamp(True, info.st_mtime_ns, info.st_size)


class Expected:
    """Texts files will have once the editor has applied our edits (``None``: deleted), by real path."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[str | None, _Stamp]] = {}

    def set(self, path: str, text: str | None) -> None:
        self._texts[path] = (text, _stamp(path))

    def get(self, path: str) -> tuple[bool, str | None]:
        """``(True, text)`` while the expectation holds; it ends when the disk changes."""
        entry = self._texts.get(path)
        if entry is None:
            return False, None
        if _stamp(path) != entry[1]:
            del self._texts[path]
            return False, None
        return True, entry[0]

    def forget(self, document: Document) -> None:
        """The editor reported on this file: its word wins from now on."""
        if document.path:
            self._texts.pop(document.path, None)


class BufferFileSource:
    """The patch engine's view of one folder: buffers, then expected texts, then disk.

    A :class:`~codex_lsp.patch.SnapshotSource`: every change the engine computes records which state
    of its file it was computed against (``FileChange.base``), and the edit builder names that
    buffer version in the versioned edit it sends.
    """

    def __init__(self, root: Path, documents: DocumentStore, expected: Expected) -> None:
        self.disk = DiskFileSource(root)
        self.documents = documents
        self.expected = expected

    def resolve(self, raw: str) -> str:
        return self.disk.resolve(raw)

    def absolute(self, path: str) -> str:
        return self.disk.absolute(path)

    def kind(self, path: str) -> PathKind:
        absolute = self.absolute(path)
        if self.documents.at_path(absolute) is not None:
            return PathKind.FILE
        known, text = self.expected.get(absolute)
        if known:
            return PathKind.MISSING if text is None else PathKind.FILE
        return self.disk.kind(path)

    def read_text(self, path: str) -> str:
        return self.snapshot(path).text

    def snapshot(self, path: str) -> Snapshot:
        """What the engine reads ``path`` as: an open buffer's text with its version, else the text an
        applied edit is known to have produced (no version, no stamp: the editor has not reported it
        yet), else the disk's snapshot with its stamp."""
        absolute = self.absolute(path)
        document = self.documents.at_path(absolute)
        if document is not None:
            content = document.content  # one read: text and version of the same state
            return Snapshot(content.text, content.version)
        known, text = self.expected.get(absolute)
        if known:
            if text is None:
                raise FileNotFoundError(path)
            return Snapshot(text)
        return self.disk.snapshot(path)


def agent_diagnostics(
    path: str, text: str, diagnostics: Iterable[types.Diagnostic], encoding: Encoding
) -> list[Diagnostic]:
    """LSP diagnostics (positions in the client's encoding) as the agent's, in code points, all against
    one line index of ``text``: a "fix all" of thousands of diagnostics on a large file costs one pass
    over the file, not one (or two) per diagnostic."""
    found = list(diagnostics)
    if not found:
        return []
    index = LineIndex(text, encoding)
    return [_agent_diagnostic(path, index, d) for d in found]


def _agent_diagnostic(path: str, index: LineIndex, d: types.Diagnostic) -> Diagnostic:
    start = index.point(index.offset(d.range.start.line, d.range.start.character))
    end = index.point(index.offset(d.range.end.line, d.range.end.character))
    return Diagnostic(
        path=path,
        start_line=start[0],
        start_character=start[1],
        end_line=end[0],
        end_character=end[1],
        message=d.message,
        severity=_SEVERITY.get(int(d.severity)) if d.severity is not None else None,
        source=d.source,
        code=d.code if isinstance(d.code, str | int) else None,
    )


class LspWorkspace:
    """The agent's ``Workspace`` for one folder of the editor's workspace."""

    def __init__(
        self,
        root: Path,
        documents: DocumentStore,
        diagnostics: DiagnosticStore,
        expected: Expected,
        encoding: Encoding,
    ) -> None:
        self._root = root.resolve()
        self.documents = documents
        self.store = diagnostics
        self.expected = expected
        self.encoding = encoding
        self.source = BufferFileSource(self._root, documents, expected)

    @property
    def root(self) -> Path:
        return self._root

    def relative(self, absolute: str) -> str | None:
        """``absolute`` relative to the folder, or ``None`` when it is outside."""
        root = str(self._root)
        if absolute == root or not absolute.startswith(root.rstrip(os.sep) + os.sep):
            return None
        return os.path.relpath(absolute, root).replace(os.sep, "/")

    def uri(self, path: str) -> str:
        """The URI the editor knows ``path`` by (the open document's own, else a ``file:`` URI)."""
        absolute = self.source.absolute(path)
        document = self.documents.at_path(absolute)
        return document.uri if document is not None else (from_fs_path(absolute) or absolute)

    def read_text(self, path: str) -> str:
        return read_workspace_text(self.source, path)

    def open_buffers(self) -> list[OpenBuffer]:
        buffers = []
        for document in self.documents:
            relative = self.relative(document.path) if document.path else None
            if relative is not None:
                buffers.append(
                    OpenBuffer(
                        path=relative,
                        version=document.version,
                        dirty=document.dirty,
                        language_id=document.language_id or None,
                    )
                )
        return buffers

    def diagnostics(self, path: str | None = None) -> list[Diagnostic]:
        found: list[Diagnostic] = []
        for document in self.documents:
            relative = self.relative(document.path) if document.path else None
            if relative is None or (path is not None and relative != path):
                continue
            content = document.content  # one snapshot: the diagnostics' version and its text
            known = self.store.for_document(document.uri, content.version)
            found += agent_diagnostics(relative, content.text, known, self.encoding)
        return found

    def file_source(self) -> BufferFileSource:
        return self.source

    def current(self, path: str) -> Current:
        """What ``path`` holds now, for checking an edit right before it is sent."""
        uri = self.uri(path)
        document = self.documents.at_path(self.source.absolute(path))
        if document is not None:
            return Current(uri, document.text, document.version, True)
        exists = self.source.kind(path) is PathKind.FILE
        try:
            text = self.source.read_text(path) if exists else None
        except (OSError, PatchError):  # not text (binary, not UTF-8) or unreadable
            text = None
        return Current(uri, text, exists=exists)

    def expect(self, texts: dict[str, str | None]) -> None:
        """Remember what an applied edit made of these paths until the editor or the disk says more."""
        for path, text in texts.items():
            if self.documents.at_path(self.source.absolute(path)) is None:
                self.expected.set(self.source.absolute(path), text)
