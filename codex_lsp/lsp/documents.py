"""The documents the editor has open: their text and version, kept with LSP's own line rules.

pygls keeps documents too, but applies incremental changes after splitting lines with
``str.splitlines``, which also breaks at form feeds, U+2028 and friends — so a change after such a
character lands in the wrong place. The agent reads buffers from here instead, where a change's
range is resolved with :class:`~codex_lsp.lsp.positions.LineIndex`.

Documents are also found by their real path on disk, since the agent addresses files by path
while the editor names them by URI (possibly through a symlink). A ``file:`` URI that names no usable
path (``%00``, not UTF-8, another host: :mod:`codex_lsp.lsp.uris`) is kept as a buffer without a
path, like an ``untitled:`` one: the editor's notifications about it never fail, and a request that
needs its file is refused with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from lsprotocol import types

from codex_lsp.lsp.positions import DEFAULT_ENCODING, Encoding, LineIndex
from codex_lsp.lsp.uris import BadUri, real_path

__all__ = ["Content", "Document", "DocumentStore"]

log = logging.getLogger(__name__)


def _path_of(uri: str) -> str | None:
    """A document's real path, or ``None`` when its URI names no usable file (logged)."""
    try:
        return real_path(uri)
    except BadUri as exc:
        log.warning("keeping the document without a file: %s", exc)
        return None


class Content(NamedTuple):
    """A document's text with the version the editor gave it, held together: the patch engine reads
    documents from a worker thread, and one attribute read cannot see a text with another version."""

    text: str
    version: int | None


@dataclass
class Document:
    """One open document."""

    uri: str
    content: Content
    language_id: str = ""
    path: str | None = None
    """Its real path on disk, or ``None`` (``untitled:`` and other non-file documents)."""
    dirty: bool = False
    """Changed since it was opened or last saved."""

    @property
    def text(self) -> str:
        return self.content.text

    @property
    def version(self) -> int | None:
        return self.content.version


Listener = Callable[[Document], None]


class DocumentStore:
    """Open documents by URI and by real path; ``on_change`` hears of every open, change and close."""

    def __init__(self) -> None:
        self.encoding: Encoding = DEFAULT_ENCODING
        self._by_uri: dict[str, Document] = {}
        self._by_path: dict[str, Document] = {}
        self.listeners: list[Listener] = []

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._by_uri.values()))

    def get(self, uri: str) -> Document | None:
        return self._by_uri.get(uri)

    def at_path(self, path: str) -> Document | None:
        """The open document whose real path is ``path``."""
        return self._by_path.get(path)

    def open(self, item: types.TextDocumentItem) -> Document:
        content = Content(item.text, item.version)
        document = Document(item.uri, content, item.language_id, _path_of(item.uri))
        self.close(item.uri)
        self._by_uri[item.uri] = document
        if document.path:
            self._by_path[document.path] = document
        self._tell(document)
        return document

    def change(self, params: types.DidChangeTextDocumentParams) -> Document | None:
        document = self._by_uri.get(params.text_document.uri)
        if document is None:
            return None
        text = document.text
        for change in params.content_changes:
            text = self._applied(text, change)
        document.content = Content(text, params.text_document.version)
        document.dirty = True
        self._tell(document)
        return document

    def written(self, path: str, text: str) -> None:
        """The server wrote ``text`` to the file behind an open, unmodified document (an editor without
        ``workspace/applyEdit``): read it as that text until the editor reloads it and says more."""
        document = self._by_path.get(path)
        if document is not None:
            document.content = Content(text, document.version)
            self._tell(document)

    def saved(self, uri: str) -> None:
        document = self._by_uri.get(uri)
        if document is not None:
            document.dirty = False

    def close(self, uri: str) -> None:
        document = self._by_uri.pop(uri, None)
        if document is None:
            return
        if document.path and self._by_path.get(document.path) is document:
            del self._by_path[document.path]
        self._tell(document)

    def _applied(self, text: str, change: types.TextDocumentContentChangeEvent) -> str:
        if isinstance(change, types.TextDocumentContentChangePartial):
            index = LineIndex(text, self.encoding)
            start = index.offset(change.range.start.line, change.range.start.character)
            end = index.offset(change.range.end.line, change.range.end.character)
            return text[:start] + change.text + text[max(start, end) :]
        return change.text

    def _tell(self, document: Document) -> None:
        for listener in self.listeners:
            listener(document)
