"""Document sync: ``didOpen`` / ``didChange`` / ``didSave`` / ``didClose`` keep the server's buffers.

The agent reads open files from these buffers (unsaved text first); a change or a close also
drops the document's stored diagnostics, which described the text before it. The text a change
replaces or a close lets go of is counted, so that its memory goes back to the system
(:mod:`codex_lsp.lsp.heap`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["setup"]


def setup(server: CodexServer) -> None:
    """Register the text document sync notifications."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodexServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.state.documents.open(params.text_document)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodexServer, params: types.DidChangeTextDocumentParams) -> None:
        before = _size(ls, params.text_document.uri)
        ls.state.documents.change(params)
        ls.state.heap.released(before)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CodexServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.state.documents.saved(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodexServer, params: types.DidCloseTextDocumentParams) -> None:
        size = _size(ls, params.text_document.uri)
        ls.state.documents.close(params.text_document.uri)
        ls.state.diagnostics.drop(params.text_document.uri)
        ls.state.heap.released(size)


def _size(ls: CodexServer, uri: str) -> int:
    """How much text the server holds for ``uri`` (what a close lets go of, a change replaces)."""
    document = ls.state.documents.get(uri)
    return len(document.text) if document is not None else 0
