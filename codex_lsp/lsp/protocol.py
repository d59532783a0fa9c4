"""pygls' protocol with three adjustments the server needs.

- ``workspace/executeCommand``: an unknown command gets an error a person understands, and the
  request's ``workDoneToken`` (which pygls does not pass to command handlers) is made available to
  the command through :data:`WORK_DONE_TOKEN`.
- ``codex/didChangeDiagnostics`` is parsed into typed LSP diagnostics (pygls would hand over
  nested anonymous tuples for a method it does not know).
"""

from __future__ import annotations

import contextvars
from collections.abc import Generator
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

__all__ = [
    "DID_CHANGE_DIAGNOSTICS",
    "WORK_DONE_TOKEN",
    "CodexProtocol",
    "DidChangeDiagnosticsNotification",
    "DidChangeDiagnosticsParams",
]

DID_CHANGE_DIAGNOSTICS = "codex/didChangeDiagnostics"
WORK_DONE_TOKEN: contextvars.ContextVar[types.ProgressToken | None] = contextvars.ContextVar(
    "work_done_token", default=None
)
"""The ``workDoneToken`` of the ``workspace/executeCommand`` request being handled, if any."""


@attrs.define
class DidChangeDiagnosticsParams:
    """Every source's diagnostics for one document, as an editor plugin sees them."""

    uri: str
    diagnostics: list[types.Diagnostic] = attrs.field(factory=list)
    version: int | None = None


@attrs.define
class DidChangeDiagnosticsNotification:
    params: DidChangeDiagnosticsParams
    method: str = DID_CHANGE_DIAGNOSTICS
    jsonrpc: str = "2.0"


class CodexProtocol(LanguageServerProtocol):
    """The language server protocol as codex-lsp speaks it."""

    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method == DID_CHANGE_DIAGNOSTICS:
            return DidChangeDiagnosticsNotification
        return super().get_message_type(method)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Generator[Any, Any, Any]:
        """Run a command, with a readable error for an unknown one and its progress token at hand."""
        if params.command not in self.fm.commands:
            known = ", ".join(sorted(self.fm.commands))
            raise JsonRpcInvalidParams(
                message=f"unknown command {params.command!r}; this server offers {known}"
            )
        WORK_DONE_TOKEN.set(params.work_done_token)
        return (yield from super().lsp_workspace__execute_command(params))
