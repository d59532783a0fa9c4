"""pygls' protocol with the adjustments the server needs.

- ``shutdown`` cancels the requests still pending over a copy of pygls' table: cancelling one runs
  its callbacks, which remove it from the table being iterated, and pygls 2.1 then fails the
  ``shutdown`` request with "dictionary changed size during iteration".
- ``workspace/executeCommand``: an unknown command gets an error a person understands, and the
  request's ``workDoneToken`` (which pygls does not pass to command handlers) is made available to
  the command through :data:`WORK_DONE_TOKEN`.
- ``codex/didChangeDiagnostics`` is parsed into typed LSP diagnostics (pygls would hand over
  nested anonymous tuples for a method it does not know).

Every request gets exactly one answer, and no answer or message carries a traceback (they are logged
here, on the server's side):

- Messages are checked whole before pygls sees them (:mod:`codex_lsp.lsp.jsonrpc`: JSON-RPC's rules),
  then structured into lsprotocol's types; a request whose params do not fit is answered Invalid
  Params naming each field that is wrong (pygls would report it in a popup and never answer). A
  request sent to a notification's method (``textDocument/didOpen`` with an id) is an Invalid Request:
  pygls would drop its id and handle it as the notification.
- The lifecycle is LSP's: before ``initialize`` every request is answered ServerNotInitialized (-32002)
  and notifications other than ``exit`` are dropped; a second ``initialize`` is refused (Invalid
  Request) and changes nothing; once ``shutdown`` has been received every request is refused (Invalid
  Request) and notifications other than ``exit`` are dropped.
- An internal error is answered with its one-line message; pygls would add the traceback as the
  error's ``data``.
- ``didChange`` for a document that was never opened is logged and ignored (pygls fails with a
  ``KeyError`` the editor shows as "Error in server"); notebook notifications are ignored, since the
  server does not offer notebook synchronisation (pygls fails the same way on an unknown notebook).
- A handler pygls runs as a step of one of its own (``initialized`` waiting for the client's
  configuration, a command) may be cancelled when the server stops: pygls would then print an asyncio
  traceback on stderr; its request is answered as cancelled instead.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any
from urllib.parse import unquote

import attrs
import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from codex_lsp.lsp import jsonrpc

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
log = logging.getLogger(__name__)


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_received = False
        self.shutdown_received = False

    # -- receiving: every message checked whole, every request answered once ---------------------------

    def structure_message(self, data: Any) -> Any:
        """Leave the parsed JSON as it is: :meth:`handle_message` checks and structures whole messages.

        (pygls calls this for every object in a message, innermost first, and structures any of them that
        has a ``jsonrpc`` member, wherever it is.)
        """
        return data

    def handle_message(self, message: Any) -> None:
        """Check one parsed message, structure it, apply the lifecycle's rules, then let pygls handle it."""
        checked = jsonrpc.check(message)
        if isinstance(checked, jsonrpc.Broken):
            self._refuse(checked.id, jsonrpc.INVALID_REQUEST, checked.reason, checked.answer)
            return
        if checked.kind == "response":
            self._handle_client_response(checked.data)
            return
        refusal = self._lifecycle_refusal(checked)
        if refusal is not None:
            self._refuse(checked.id, *refusal, answer=checked.kind == "request")
            return
        structured = self._structure(checked)
        if structured is None:
            return
        if checked.method == types.CANCEL_REQUEST and not jsonrpc.valid_id(structured.params.id):
            log.warning("Dropped a $/cancelRequest whose id is not an integer or a string")
            return
        if checked.method == types.INITIALIZE:
            self.initialize_received = True
        elif checked.method == types.SHUTDOWN:
            self.shutdown_received = True
        super().handle_message(structured)

    def _handle_client_response(self, data: dict[str, Any]) -> None:
        """The client's answer to one of the server's requests. One whose result does not parse fails
        the request (its caller gets an error) rather than leaving it waiting forever."""
        try:
            response = super().structure_message(data)
        except Exception as exc:
            log.warning("The client's answer to %.40r does not parse: %s", data.get("id"), exc)
            future = self._request_futures.pop(data["id"], None) if jsonrpc.valid_id(data["id"]) else None
            if future is not None and not future.done():
                future.set_exception(JsonRpcInvalidParams(message="the client's answer does not parse"))
            return
        super().handle_message(response)

    def _structure(self, message: jsonrpc.Message) -> Any | None:
        """The message as lsprotocol's type for its method; ``None`` when it does not fit (answered)."""
        assert message.method is not None
        request = message.kind == "request"
        kind = self.get_message_type(message.method) or (
            JsonRPCRequestMessage if request else JsonRPCNotification
        )
        if request and "id" not in attrs.fields_dict(kind):
            reason = f"{message.method} is a notification: send it without an id"
            self._refuse(message.id, jsonrpc.INVALID_REQUEST, reason, answer=True)
            return None
        try:
            return self._converter.structure(message.data, kind)
        except Exception as exc:
            problems = "; ".join(_problems(exc))
            self._refuse(message.id, jsonrpc.INVALID_PARAMS, f"{message.method}: {problems}", answer=request)
            return None

    def _lifecycle_refusal(self, message: jsonrpc.Message) -> tuple[int, str] | None:
        """The error LSP's lifecycle gives ``message`` now (``None``: handle it)."""
        method = message.method
        if method == types.EXIT:
            return None
        if self.shutdown_received:
            return jsonrpc.INVALID_REQUEST, f"{method}: the server is shutting down; only exit is accepted"
        if method == types.INITIALIZE and self.initialize_received:
            return jsonrpc.INVALID_REQUEST, "initialize was already received; it is accepted once"
        if method != types.INITIALIZE and not self.initialize_received:
            return jsonrpc.SERVER_NOT_INITIALIZED, f"{method}: the server is not initialized yet"
        return None

    def _refuse(self, message_id: Any, code: int, reason: str, answer: bool) -> None:
        """Answer a request with an error (or log a notification that cannot be answered)."""
        if not answer:
            log.warning("Dropped a message: %s", reason)
            return
        log.warning("Refused a request (%s): %s", code, reason)
        self._send_data(jsonrpc.error_response(message_id, code, reason))

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        """Send a response; an error's ``data`` never carries pygls' traceback (it is logged instead)."""
        if error is not None and isinstance(error.data, dict) and "traceback" in error.data:
            error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

    def _run_generator(
        self, future: Future[Any] | None, *, gen: Generator[Any, Any, Any], result_future: Future[Any]
    ) -> None:
        """Run pygls' next step of a built-in handler; a step cancelled when the server stops ends it."""
        if future is not None and future.cancelled():
            gen.close()
            if not result_future.done():
                result_future.cancel()
            return
        super()._run_generator(future, gen=gen, result_future=result_future)

    # -- built-in methods ------------------------------------------------------------------------------

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

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        """Apply a change to an open document; one for a document never opened is logged and ignored."""
        uri = params.text_document.uri
        if unquote(uri) not in self.workspace.text_documents:
            log.warning("didChange for %s, which is not open (didOpen comes first): ignored", uri)
            return
        yield from super().lsp_text_document__did_change(params)

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def lsp_notebook_document__did_open(self, params: Any) -> None:
        """Notebooks are not synchronised (the server does not offer ``notebookDocumentSync``)."""
        log.info("notebookDocument/didOpen ignored: this server does not synchronise notebooks")

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def lsp_notebook_document__did_change(self, params: Any) -> None:
        """Ignored, as every notebook notification (pygls fails with a ``KeyError`` on an unknown one)."""
        log.info("notebookDocument/didChange ignored: this server does not synchronise notebooks")

    @lsp_method(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def lsp_notebook_document__did_close(self, params: Any) -> None:
        """Ignored, as every notebook notification."""
        log.info("notebookDocument/didClose ignored: this server does not synchronise notebooks")

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


def _problems(exc: Exception) -> list[str]:
    """What is wrong with a message, one line per field (``cattrs`` names each by its path)."""
    if isinstance(exc, cattrs.BaseValidationError):
        return [jsonrpc.readable_path(line) for line in cattrs.transform_error(exc)]
    return [f"invalid params ({type(exc).__name__}: {exc})"]
