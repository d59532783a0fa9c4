"""What the client can do, resolved once at ``initialize`` into flat booleans every reply is shaped by.

Reading nested optional capability objects at every call site is how servers end up sending what a
client cannot take; here each question is answered once. One deliberate reading: Neovim 0.11
advertises ``workspaceEdit.resourceOperations`` but not ``workspaceEdit.documentChanges``, while
resource operations only exist inside ``documentChanges`` and its client applies versioned
``documentChanges`` — so advertised resource operations count as ``documentChanges`` support.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types

from codex_lsp.lsp.positions import DEFAULT_ENCODING, Encoding, as_encoding

__all__ = ["ClientCaps", "resolve_capabilities"]


@dataclass(frozen=True)
class ClientCaps:
    """The client's capabilities as the server uses them."""

    apply_edit: bool = False
    """``workspace/applyEdit``: without it no edit can reach an open buffer."""
    document_changes: bool = False
    """Versioned ``TextDocumentEdit``s (so a moved buffer rejects a stale edit)."""
    create_files: bool = False
    rename_files: bool = False
    delete_files: bool = False
    change_annotations: bool = False
    """Edits may carry a ``ChangeAnnotation`` (a label grouping them in the editor's preview)."""
    work_done_progress: bool = False
    show_message_request: bool = False
    """``window/showMessageRequest`` with action items (approvals); without it, no one can approve."""
    show_document: bool = False
    code_lens: bool = False
    """``textDocument/codeLens``: review mode puts Accept / Reject lenses on pending hunks."""
    code_lens_refresh: bool = False
    """``workspace/codeLens/refresh``: the server may ask for fresh lenses when hunks change."""
    configuration: bool = False
    """``workspace/configuration`` (settings are read from it, else from ``initializationOptions``)."""
    workspace_folders: bool = False
    code_action_literals: bool = False
    """Code actions may be returned as ``CodeAction`` objects (else only as ``Command``s)."""
    llm_tag: bool = False
    """The client understands ``CodeActionTag.LlmGenerated`` (LSP 3.18)."""
    resolve_edit: bool = False
    """``codeAction/resolve`` may fill in a code action's ``edit`` (``resolveSupport.properties``)."""
    codex_streaming: bool = False
    """The client declared ``experimental.codex``: it wants the ``codex/*`` notifications."""
    position_encoding: Encoding = DEFAULT_ENCODING
    client_name: str = ""
    """``clientInfo.name`` (``"emacs"`` is lsp-mode), for the few client quirks capabilities do not say."""

    @property
    def edits_by_resolve(self) -> bool:
        """Code actions carry their edit, computed on ``codeAction/resolve``, instead of a command: the
        client cannot take ``workspace/applyEdit`` (so a command's turn could change nothing) but can
        resolve an action's ``edit`` (:mod:`codex_lsp.lsp.features.resolve`)."""
        return self.resolve_edit and self.code_action_literals and not self.apply_edit

    @property
    def resource_operations(self) -> bool:
        """Any file operation can go through the editor."""
        return self.create_files or self.rename_files or self.delete_files


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = getattr(obj, name, None)
    return obj


def _experimental_codex(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value.get("codex"))
    return bool(getattr(value, "codex", False))


def resolve_capabilities(
    caps: types.ClientCapabilities, encoding: object = None, client: types.ClientInfo | None = None
) -> ClientCaps:
    """Resolve ``caps`` (and the position encoding negotiated for them, and who the client is) once."""
    edit = _get(caps, "workspace", "workspace_edit")
    operations = {str(getattr(op, "value", op)) for op in (_get(edit, "resource_operations") or ())}
    tags = _get(caps, "text_document", "code_action", "tag_support", "value_set") or ()
    return ClientCaps(
        apply_edit=bool(_get(caps, "workspace", "apply_edit")),
        document_changes=bool(_get(edit, "document_changes")) or bool(operations),
        create_files="create" in operations,
        rename_files="rename" in operations,
        delete_files="delete" in operations,
        change_annotations=_get(edit, "change_annotation_support") is not None,
        work_done_progress=bool(_get(caps, "window", "work_done_progress")),
        show_message_request=_get(caps, "window", "show_message") is not None,
        show_document=bool(_get(caps, "window", "show_document", "support")),
        code_lens=_get(caps, "text_document", "code_lens") is not None,
        code_lens_refresh=bool(_get(caps, "workspace", "code_lens", "refresh_support")),
        configuration=bool(_get(caps, "workspace", "configuration")),
        workspace_folders=bool(_get(caps, "workspace", "workspace_folders")),
        code_action_literals=_get(caps, "text_document", "code_action", "code_action_literal_support")
        is not None,
        llm_tag=types.CodeActionTag.LlmGenerated in tags,
        resolve_edit="edit"
        in (_get(caps, "text_document", "code_action", "resolve_support", "properties") or ()),
        codex_streaming=_experimental_codex(_get(caps, "experimental")),
        position_encoding=as_encoding(encoding),
        client_name=(client.name if client is not None else "") or "",
    )
