"""pygls' protocol with the adjustments the server needs.

- ``shutdown`` cancels the requests still pending over a copy of pygls' table: cancelling one runs
  its callbacks, which remove it from the table being iterated, and pygls 2.1 then fails the
  ``shutdown`` request with "dictionary changed size during iteration".
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

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """Run the server's own shutdown handler, then cancel every other pending request."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True
        return None

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
