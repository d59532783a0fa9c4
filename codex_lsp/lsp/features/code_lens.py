"""``textDocument/codeLens``: Accept / Reject above every hunk pending review in the document.

Each pending hunk gets "Codex: Accept" and "Reject" lenses on the first line it changes (found by
content in the text the editor has now, so lenses follow the user's edits); the first one of a
proposal in each document also gets "Accept all", "Discard all" and, where the client can show
them, "Show diff" (``window/showDocument``) and "Preview" (the refactor preview of clients with
change annotations). A hunk that no longer matches the file gets a lens on the first line saying
so (it shows the diff) and "Reject". Lenses are built from what the server knows, instantly; they
are refreshed with ``workspace/codeLens/refresh`` whenever a proposal changes (see :mod:`.review`).

Nothing is built before the agent side is loaded: until then no proposal can exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from codex_lsp.lsp.capabilities import ClientCaps
from codex_lsp.lsp.features.review import ACCEPT, APPLY, DISCARD, PREVIEW, REJECT, SHOW

if TYPE_CHECKING:
    from codex_lsp.agent import HunkState, Proposal
    from codex_lsp.lsp.state import CodexServer

__all__ = ["hunk_lenses", "setup"]


def _lens(line: int, title: str, command: str, arguments: dict[str, str]) -> types.CodeLens:
    at = types.Range(types.Position(line, 0), types.Position(line, 0))
    return types.CodeLens(
        range=at, command=types.Command(title=title, command=command, arguments=[arguments])
    )


def hunk_lenses(
    caps: ClientCaps, proposal: Proposal, states: dict[str, HunkState], path: str
) -> list[types.CodeLens]:
    """The lenses of one proposal's pending hunks in the file ``path``."""
    lenses: list[types.CodeLens] = []
    pending = proposal.pending()
    whole = {"proposalId": proposal.id}
    first = True
    for hunk in pending:
        if hunk.path != path:
            continue
        state = states.get(hunk.id)
        ids = {"proposalId": proposal.id, "hunkId": hunk.id}
        if state is None or state.line is None or state.conflict is not None:
            lenses.append(_lens(0, f"Codex: {hunk.id} no longer matches this file", SHOW, whole))
            lenses.append(_lens(0, "Reject", REJECT, ids))
            continue
        lenses.append(_lens(state.line, f"Codex: Accept {hunk.id}", ACCEPT, ids))
        lenses.append(_lens(state.line, "Reject", REJECT, ids))
        if first:
            first = False
            lenses.append(_lens(state.line, f"Accept all ({len(pending)})", APPLY, whole))
            lenses.append(_lens(state.line, "Discard all", DISCARD, whole))
            if caps.show_document:
                lenses.append(_lens(state.line, "Show diff", SHOW, whole))
            if caps.change_annotations and caps.document_changes:
                lenses.append(_lens(state.line, "Preview", PREVIEW, whole))
    return lenses


def setup(server: CodexServer) -> None:
    """Register ``textDocument/codeLens``."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lenses(ls: CodexServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
        state = ls.state
        host = state.built_host()
        document = state.documents.get(params.text_document.uri)
        if host is None or document is None or document.path is None:
            return None
        lenses: list[types.CodeLens] = []
        for book, _ in host.books.values():
            root = book.workspace.root
            if root not in Path(document.path).parents:
                continue
            path = Path(document.path).relative_to(root).as_posix()
            for proposal in book.listed():
                if path in proposal.paths():
                    lenses += hunk_lenses(state.caps, proposal, book.states(proposal), path)
        return lenses or None
