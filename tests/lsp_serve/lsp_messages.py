"""Hypothesis strategies for what an LSP client may send: lsprotocol's messages, and malformed variants.

Valid params are built from lsprotocol's attrs classes (``METHOD_TO_TYPES``), field by field from their type
hints, and written as JSON by lsprotocol's own converter, so they are what a conforming client sends. The
methods the server handles are drawn most often; every other method of the specification (requests it does
not serve, notifications it ignores, and the server-to-client ones) also appears. ``codex.*`` commands get
arguments shaped like theirs, with values of every JSON type.

Malformed variants break one thing at a time, as a careless client or a fuzzer would: ``jsonrpc`` missing or
wrong, an id of a type JSON-RPC does not allow, a method that is not a string or not known, params of the
wrong type, one field of the params replaced by a wrong or huge value or removed; and bodies that are not a
JSON object at all (arrays, numbers, strings, broken JSON, bytes that are not UTF-8, deep nesting).

:func:`expected` says, from JSON-RPC's rules alone, which answers each sent body must get.
"""

from __future__ import annotations

import enum
import functools
import json
import types as pytypes
import typing
from dataclasses import dataclass
from typing import Any

import attrs
from hypothesis import strategies as st
from lsprotocol import types
from lsprotocol.converters import get_converter

from codex_lsp.lsp.features.account import LOGIN
from codex_lsp.lsp.protocol import DID_CHANGE_DIAGNOSTICS, DidChangeDiagnosticsParams
from codex_lsp.lsp.server import build_server
from tests.fuzzing import SMALL_INT, SMALL_JSON, WRONG_VALUES, paths_in, replaced

Body = dict[str, Any] | bytes
"""One message as sent: a JSON object, or raw bytes framed as they are."""

NEVER_SENT = {types.EXIT, types.SHUTDOWN}
"""The test ends the server itself; these would end it in the middle of a run."""
SLOW_COMMANDS = {LOGIN}
"""``codex.login`` waits for the user to sign in in a browser."""
URIS = ("file:///tmp/codex-fuzz/app.py", "file:///tmp/codex-fuzz/", "untitled:Untitled-1", "file:///%00", "")
INVALID_IDS: tuple[Any, ...] = (None, 1.5, True, [1], {"id": 1})
NOT_OBJECTS = (b"[1,2]", b"[]", b"42", b'"text"', b"null", b"true", b"{not json", b"\xff\xfe{}", b"NaN")
DEEP = b"[" * 100_000


def _server_methods() -> tuple[str, ...]:
    protocol = build_server().protocol
    handled = {*protocol.fm.features, *protocol.fm.builtin_features}
    return tuple(sorted(handled - NEVER_SENT))


HANDLED = _server_methods()
OTHERS = tuple(sorted(set(types.METHOD_TO_TYPES) - set(HANDLED) - NEVER_SENT))
COMMANDS = tuple(sorted(set(build_server().protocol.fm.commands) - SLOW_COMMANDS))
CORE = (
    *(types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE, types.TEXT_DOCUMENT_DID_CHANGE),
    *(types.TEXT_DOCUMENT_DID_CLOSE, types.TEXT_DOCUMENT_DID_SAVE, DID_CHANGE_DIAGNOSTICS),
    *(types.TEXT_DOCUMENT_CODE_ACTION, types.TEXT_DOCUMENT_CODE_ACTION, types.TEXT_DOCUMENT_CODE_LENS),
    *[types.WORKSPACE_EXECUTE_COMMAND] * 4,
    *(types.WORKSPACE_DID_CHANGE_CONFIGURATION, types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS),
    *(types.INITIALIZE, types.INITIALIZED, types.CANCEL_REQUEST),
)
"""The methods the server does most with, drawn half the time (executeCommand: the ``codex.*`` commands)."""


# -- valid params, from lsprotocol's types ------------------------------------------------------------


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def for_type(kind: Any, depth: int = 0, field: str = "") -> st.SearchStrategy[Any]:
    """Values of ``kind`` (an lsprotocol annotation) that its attrs validators accept; ``depth`` counts the
    records around it (deep down, lists are empty and optional fields left out, so recursion ends)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if field == "uri" and kind is str:
        return st.one_of(st.sampled_from(URIS), st.text(max_size=12))
    if origin in (typing.Union, pytypes.UnionType):
        return st.one_of(*(for_type(arg, depth, field) for arg in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is tuple:
        return st.tuples(*(for_type(arg, depth) for arg in args))
    if origin is not None and origin.__name__ in ("list", "Sequence"):
        return st.lists(for_type(args[0], depth), max_size=2 if depth < 3 else 0)
    if origin is not None and origin.__name__ in ("dict", "Mapping"):
        return st.dictionaries(st.text(max_size=6), for_type(args[1], depth), max_size=2 if depth < 3 else 0)
    return _leaf(kind, depth)


def _leaf(kind: Any, depth: int) -> st.SearchStrategy[Any]:
    if kind is type(None):
        return st.none()
    if kind is bool:
        return st.booleans()
    if kind is int:
        return SMALL_INT  # within both LSP's integer and uinteger
    if kind is float:
        return st.floats(0, 1, allow_nan=False)
    if kind is str:
        return st.text(max_size=12)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return st.sampled_from(list(kind))
    if isinstance(kind, type) and attrs.has(kind):
        return st.deferred(lambda: record(kind, depth + 1))
    return SMALL_JSON  # LSPAny, LSPObject and the like


@functools.cache
def record(cls: type, depth: int = 0) -> st.SearchStrategy[Any]:
    """Instances of the attrs class ``cls``: every required field, some optional ones."""
    hints = _hints(cls)
    required, optional = {}, {}
    for field in attrs.fields(cls):
        strategy = for_type(hints[field.name], depth, field.name)
        if field.default is attrs.NOTHING:
            required[field.name] = strategy
        elif depth < 3:
            optional[field.name] = strategy
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: _make(cls, kw)).filter(_made)


class _Invalid:
    """An instance its own validators refused (filtered out)."""


def _make(cls: type, fields: dict[str, Any]) -> Any:
    try:
        return cls(**fields)
    except (ValueError, TypeError):
        return _Invalid()


def _made(value: Any) -> bool:
    return not isinstance(value, _Invalid)


def _json(value: Any, kind: Any) -> Any:
    return get_converter().unstructure(value, kind)


ARGUMENT_VALUES = st.one_of(
    st.sampled_from(WRONG_VALUES), st.sampled_from(URIS), st.text(max_size=10), SMALL_INT, SMALL_JSON
)
COMMAND_ARGUMENTS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                name: ARGUMENT_VALUES
                for name in (
                    "prompt",
                    "uri",
                    "version",
                    "range",
                    "diagnostics",
                    "threadId",
                    "turnId",
                    "proposalId",
                    "hunkId",
                    "all",
                    "probe",
                )
            },
        ),
        SMALL_JSON,
    ),
    max_size=2,
)


def params_for(method: str) -> st.SearchStrategy[Any]:
    """JSON params a conforming client sends with ``method`` (``None``: the method takes none)."""
    if method == types.WORKSPACE_EXECUTE_COMMAND:
        commands = st.one_of(st.sampled_from(COMMANDS), st.text(max_size=10))
        return st.fixed_dictionaries({"command": commands, "arguments": COMMAND_ARGUMENTS})
    if method == DID_CHANGE_DIAGNOSTICS:
        return record(DidChangeDiagnosticsParams).map(lambda v: _json(v, DidChangeDiagnosticsParams))
    params = types.METHOD_TO_TYPES.get(method, (None, None, None))[2]
    if params is None:
        return st.none()
    if not attrs.has(params):  # type: ignore[arg-type]
        return for_type(params)
    return record(params).map(lambda value: _json(value, params))


def is_request_method(method: str) -> bool:
    """Whether the specification makes ``method`` a request (its message type has an id)."""
    message = types.METHOD_TO_TYPES.get(method, (None,))[0]
    return message is not None and "id" in attrs.fields_dict(message)


# -- messages, and malformed ones ----------------------------------------------------------------------


@st.composite
def valid_message(draw: st.DrawFn, next_id: typing.Callable[[], int | str]) -> dict[str, Any]:
    method = draw(st.one_of(st.sampled_from(CORE), st.sampled_from(HANDLED), st.sampled_from(OTHERS)))
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if is_request_method(method) or (method not in types.METHOD_TO_TYPES and draw(st.booleans())):
        message["id"] = next_id()
    params = draw(params_for(method))
    if params is not None:
        message["params"] = params
    return message


@st.composite
def malformed(draw: st.DrawFn, message: dict[str, Any], next_id: typing.Callable[[], int | str]) -> Body:
    """``message`` with one thing broken."""
    kind = draw(
        st.sampled_from(
            ["jsonrpc", "id", "method", "params", "field", "field", "field", "notification-id", "body"]
        )
    )
    broken = dict(message)
    if kind == "jsonrpc":
        choice = draw(st.sampled_from(["drop", "1.0", 2.0]))
        if choice == "drop":
            del broken["jsonrpc"]
        else:
            broken["jsonrpc"] = choice
    elif kind == "id":
        broken["id"] = draw(st.sampled_from(INVALID_IDS))
    elif kind == "method":
        broken["method"] = draw(st.sampled_from([5, None, [], "", "codex/unknown", "$/unknown"]))
    elif kind == "params":
        broken["params"] = draw(st.sampled_from([42, "params", [], True, None, {}]))
    elif kind == "notification-id":
        broken["id"] = next_id()  # a notification's method, sent as a request
    elif kind == "body":
        return draw(st.sampled_from([*NOT_OBJECTS, DEEP, b'{"id": 99999}', b"{}"]))
    elif "params" in message:
        paths = paths_in(message["params"])
        path = draw(st.sampled_from(paths))
        delete = bool(path) and draw(st.booleans())
        broken["params"] = replaced(message["params"], path, draw(st.sampled_from(WRONG_VALUES)), delete)
    return broken


@st.composite
def batches(draw: st.DrawFn, max_size: int = 12) -> list[Body]:
    """A sequence of messages, some malformed; request ids are unique within it."""
    counter = iter(range(1_000, 10**9))

    def next_id() -> int | str:
        number = next(counter)
        return number if number % 3 else f"req-{number}"

    bodies: list[Body] = []
    for _ in range(draw(st.integers(1, max_size))):
        message = draw(valid_message(next_id))
        if draw(st.integers(0, 9)) < 4:
            bodies.append(draw(malformed(message, next_id)))
        else:
            bodies.append(message)
        if draw(st.integers(0, 9)) == 0:
            ids = [b["id"] for b in bodies if isinstance(b, dict) and "id" in b]
            if ids:
                bodies.append({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": ids[-1]}})
    return bodies


# -- what must come back -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The answers a batch must get: one for each of ``ids``, and ``nulls`` answers with ``"id": null``."""

    ids: list[int | str]
    nulls: int


def _lsp_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def expected(bodies: list[Body]) -> Expected:
    """JSON-RPC's rules, read from its specification: a request (an object with a method and an id) gets one
    answer with its id, or with ``null`` when its id is not one LSP allows; a body that is not an object
    (or not JSON), and an object with neither method nor id, gets one answer with ``null``; notifications
    and responses get none."""
    ids: list[int | str] = []
    nulls = 0
    for body in bodies:
        data = _parsed(body) if isinstance(body, bytes) else body
        if not isinstance(data, dict):
            nulls += 1
        elif "method" in data and "id" in data:
            if _lsp_id(data["id"]):
                ids.append(data["id"])
            else:
                nulls += 1
        elif "method" not in data and "id" not in data:
            nulls += 1
    return Expected(ids, nulls)


def _parsed(body: bytes) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(body, parse_constant=reject)
    except (ValueError, RecursionError):
        return _NotJson()


class _NotJson:
    """A body that does not parse as JSON."""
