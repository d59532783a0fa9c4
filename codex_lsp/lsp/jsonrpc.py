"""JSON-RPC 2.0's rules for what a client sends: which messages are requests, and what breaks the rules.

LSP messages are JSON-RPC 2.0 messages, and the first promise a server makes is that **every request gets
exactly one answer**: a client that gets nothing waits forever. :func:`check` sorts one parsed message:

- A message is a JSON object. Anything else — an array (a JSON-RPC batch, which LSP does not have), a
  number, a string — is an Invalid Request; so is an object with neither ``method`` nor ``id``. Both are
  answered with ``"id": null``, as JSON-RPC says, since no id can be read from them. (Bytes that are not
  JSON at all are a Parse error, answered the same way by the transport, :mod:`codex_lsp.lsp.serve`.)
- With a ``method``, it is a request when it has an ``id``, else a notification. An id is an integer or a
  string (LSP's ``integer | string``); an id of any other type cannot be echoed, so its answer carries
  ``"id": null``.
- ``"jsonrpc": "2.0"`` is required. A request without it (JSON-RPC 1.0's shape; Codex's own app-server
  protocol omits it) is answered Invalid Request with its id, not dropped: every LSP client writes it, and
  a client that does not learns why at once instead of waiting.
- A notification that breaks a rule cannot be answered: it is logged and dropped.
- Without ``method``, an object with an ``id`` is a response to one of the server's own requests.

Only the members JSON-RPC defines are kept (a request carrying a stray ``error`` member stays a request).
Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_NOT_INITIALIZED",
    "Broken",
    "Message",
    "check",
    "error_response",
    "readable_path",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = -32002
"""LSP's code for a request before ``initialize``."""

Id = int | str
Kind = Literal["request", "notification", "response"]
_MEMBERS = ("jsonrpc", "id", "method", "params")
_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "null"}


@dataclass(frozen=True)
class Message:
    """A message that keeps the rules: its kind, id and method, and its members as JSON-RPC defines them."""

    kind: Kind
    data: dict[str, Any]
    id: Id | None = None
    method: str | None = None


@dataclass(frozen=True)
class Broken:
    """A message that breaks the rules; ``answer`` says whether it is answered (with ``id``)."""

    reason: str
    answer: bool
    id: Id | None = None


def valid_id(value: Any) -> bool:
    """An id LSP allows: an integer (not a boolean) or a string."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check(data: Any) -> Message | Broken:
    """Sort one parsed message: a :class:`Message` to handle, or what is wrong with it."""
    if not isinstance(data, dict):
        what = _JSON_TYPES.get(type(data), "an array (batches are not part of LSP)")
        return Broken(f"a message must be a JSON object, not {what}", answer=True)
    if "method" not in data:
        return _response(data)
    request = "id" in data
    if request and not valid_id(data["id"]):
        return Broken(f"a request id must be an integer or a string, not {data['id']!r:.40}", answer=True)
    message_id = data["id"] if request else None
    if not isinstance(data["method"], str):
        return Broken(f"method must be a string, not {data['method']!r:.40}", request, message_id)
    if data.get("jsonrpc") != "2.0":
        return Broken(
            f'{data["method"]!r:.80}: "jsonrpc": "2.0" is missing; this server speaks JSON-RPC 2.0 only',
            request,
            message_id,
        )
    kept = {key: data[key] for key in _MEMBERS if key in data}
    return Message("request" if request else "notification", kept, message_id, data["method"])


def _response(data: dict[str, Any]) -> Message | Broken:
    if "id" not in data:
        return Broken("a message needs a method (a request or notification) or an id (a response)", True)
    if data.get("jsonrpc") != "2.0":
        return Broken('a response without "jsonrpc": "2.0"', answer=False)
    return Message("response", data, data["id"] if valid_id(data["id"]) else None)


def error_response(message_id: Id | None, code: int, message: str) -> dict[str, Any]:
    """A JSON-RPC error response (``"id": null`` kept, as JSON-RPC requires)."""
    return {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}}


_SNAKE = re.compile(r"_([a-z])")


def readable_path(path: str) -> str:
    """Attribute names in LSP's own spelling: ``$.params.text_document`` → ``$.params.textDocument``."""
    return _SNAKE.sub(lambda match: match.group(1).upper(), path)
