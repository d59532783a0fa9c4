"""Open documents kept with LSP's line rules: incremental changes land where the editor meant them,
in every position encoding, whatever line separators Python alone would see."""

from __future__ import annotations

import pytest
from lsprotocol import types

from codex_lsp.lsp.documents import DocumentStore
from codex_lsp.lsp.heap import HeapTrimmer
from codex_lsp.lsp.positions import Encoding
from codex_lsp.lsp.server import build_server


def change(store: DocumentStore, uri: str, version: int, rng: types.Range, text: str) -> None:
    partial = types.TextDocumentContentChangePartial(range=rng, text=text)
    identifier = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
    store.change(types.DidChangeTextDocumentParams(text_document=identifier, content_changes=[partial]))


def span(line: int, start: int, end: int) -> types.Range:
    return types.Range(types.Position(line, start), types.Position(line, end))


@pytest.mark.parametrize(("encoding", "column"), [("utf-16", 5), ("utf-8", 9), ("utf-32", 4)])
def test_incremental_change_after_wide_characters(encoding: Encoding, column: int) -> None:
    store = DocumentStore()
    store.encoding = encoding
    uri = "file:///tmp/doc.py"
    # U+2028 and a form feed are not LSP line breaks (str.splitlines would split there).
    store.open(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text="a\u2028b\x0c\nx😀漢 = 1\n")
    )
    change(store, uri, 2, span(1, column, column + 1), "+")
    document = store.get(uri)
    assert document is not None
    assert document.text == "a\u2028b\x0c\nx😀漢 + 1\n"
    assert document.version == 2
    assert document.dirty


def test_full_change_save_and_close() -> None:
    store = DocumentStore()
    seen: list[str] = []
    store.listeners.append(lambda d: seen.append(d.text))
    uri = "file:///tmp/full.py"
    store.open(types.TextDocumentItem(uri=uri, language_id="python", version=1, text="old"))
    identifier = types.VersionedTextDocumentIdentifier(uri=uri, version=2)
    whole = types.TextDocumentContentChangeWholeDocument(text="new")
    store.change(types.DidChangeTextDocumentParams(text_document=identifier, content_changes=[whole]))
    store.saved(uri)
    document = store.get(uri)
    assert document is not None
    assert (document.text, document.dirty) == ("new", False)
    assert store.at_path("/tmp/full.py") is document
    store.close(uri)
    assert store.get(uri) is None
    assert store.at_path("/tmp/full.py") is None
    assert seen == ["old", "new", "new"]


def test_closing_or_replacing_a_document_counts_its_text_toward_the_next_heap_trim() -> None:
    """The server's document handlers report the text a change replaces and a close lets go of (what
    the C allocator may keep resident) to the heap trimmer; a close of a document never opened lets go
    of nothing."""
    server = build_server()
    trimmer = server.state.heap = HeapTrimmer(lambda: True, after=1_000)
    features = server.protocol.fm.features

    def notify(method: str, params: object) -> None:
        features[method](params)  # registered bound to the server

    uri = "file:///tmp/trimmed.py"
    notify(
        types.TEXT_DOCUMENT_DID_OPEN,
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, "x = 1\n")),
    )
    assert trimmer.pending == 0
    whole = types.TextDocumentContentChangeWholeDocument(text="longer = 2\n")
    identifier = types.VersionedTextDocumentIdentifier(uri=uri, version=2)
    notify(types.TEXT_DOCUMENT_DID_CHANGE, types.DidChangeTextDocumentParams(identifier, [whole]))
    assert trimmer.pending == len("x = 1\n")
    close = types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    notify(types.TEXT_DOCUMENT_DID_CLOSE, close)
    assert trimmer.pending == len("x = 1\n") + len("longer = 2\n")
    notify(types.TEXT_DOCUMENT_DID_CLOSE, close)
    assert trimmer.pending == len("x = 1\n") + len("longer = 2\n")
