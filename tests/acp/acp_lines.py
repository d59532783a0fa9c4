"""Hypothesis strategies for what an ACP client may write on the agent's stdin: requests and notifications of
the agent's methods, malformed variants of them, and lines that are not JSON-RPC objects at all.

Params are shaped like the schema's (``initialize``, ``session/new`` with a real or a bad ``cwd``,
``session/prompt`` with text blocks, ``session/set_mode``…), with values of every JSON type; ``SESSION`` as a
session id stands for the last session the agent created in the run (the harness substitutes it).
``authenticate`` and ``logout`` are left out: they act on the user's sign-in.

:func:`expected` says, from JSON-RPC's rules alone, which answers each line must get.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.fuzzing import SMALL_INT, SMALL_JSON, WRONG_VALUES, paths_in, replaced

SESSION = "SESSION"
"""A session id the harness replaces with the last one the agent created."""
NOT_SENT = {"authenticate", "logout"}
METHODS = (
    "initialize",
    "session/new",
    "session/new",
    "session/load",
    "session/list",
    "session/prompt",
    "session/prompt",
    "session/set_mode",
    "session/cancel",
    "session/set_config_option",
    "session/fork",
    "session/resume",
    "session/close",
    "session/delete",
    "providers/list",
    "document/didOpen",
    "x/unknown",
    "",
)
NOTIFICATIONS = {"session/cancel", "document/didOpen"}
NOT_OBJECTS = (b"[1,2]", b"[]", b"42", b'"text"', b"null", b"true", b"{not json", b"\xff\xfe{}", b"NaN")
DEEP = b"[" * 50_000

TEXT = st.text(max_size=12).filter(lambda text: "\n" not in text)
SESSION_IDS = st.one_of(st.just(SESSION), st.just(SESSION), TEXT)


def params_for(method: str, cwds: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Params shaped like the schema's for ``method`` (``cwds``: folders, real and not)."""
    cwd = st.sampled_from(cwds)
    if method == "initialize":
        flags = {"readTextFile": st.booleans(), "writeTextFile": st.booleans()}
        fs = st.fixed_dictionaries({}, optional=flags)
        capabilities = st.fixed_dictionaries({}, optional={"fs": fs, "terminal": st.booleans()})
        return st.fixed_dictionaries(
            {"protocolVersion": st.one_of(SMALL_INT, st.just(2**70))},
            optional={"clientCapabilities": capabilities, "clientInfo": SMALL_JSON},
        )
    if method in ("session/new", "session/load"):
        server = st.fixed_dictionaries({"name": TEXT, "command": st.just("/bin/false"), "args": st.just([])})
        required = {"cwd": cwd, "mcpServers": st.lists(server, max_size=1)}
        if method == "session/load":
            required["sessionId"] = SESSION_IDS
        return st.fixed_dictionaries(required)
    if method == "session/list":
        return st.fixed_dictionaries({}, optional={"cwd": cwd, "cursor": TEXT})
    if method == "session/prompt":
        block = st.one_of(
            st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}),
            st.fixed_dictionaries({"type": st.just("resource_link"), "uri": TEXT, "name": TEXT}),
            SMALL_JSON,
        )
        return st.fixed_dictionaries({"sessionId": SESSION_IDS, "prompt": st.lists(block, max_size=2)})
    if method == "session/set_mode":
        modes = st.one_of(st.sampled_from(["auto", "review", "read-only", "read_only"]), TEXT)
        return st.fixed_dictionaries({"sessionId": SESSION_IDS, "modeId": modes})
    if method.startswith("session/"):
        return st.fixed_dictionaries({"sessionId": SESSION_IDS})
    return st.one_of(st.none(), SMALL_JSON)


@st.composite
def valid_line(draw: st.DrawFn, next_id: Callable[[], Any], cwds: tuple[str, ...]) -> dict[str, Any]:
    method = draw(st.sampled_from(METHODS))
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if method not in NOTIFICATIONS:
        message["id"] = next_id()
    params = draw(params_for(method, cwds))
    if params is not None:
        message["params"] = params
    return message


@st.composite
def malformed(draw: st.DrawFn, message: dict[str, Any], next_id: Callable[[], Any]) -> dict[str, Any] | bytes:
    """``message`` with one thing broken, or a line that is no JSON-RPC object at all."""
    kind = draw(st.sampled_from(["jsonrpc", "id", "id", "method", "params", "field", "field", "line"]))
    broken = dict(message)
    if kind == "jsonrpc":
        del broken["jsonrpc"]
    elif kind == "id":
        broken["id"] = draw(st.sampled_from([None, next_id(), [1], {"id": 1}, True, False]))
    elif kind == "method":
        broken["method"] = draw(st.sampled_from([5, None, [], "", "x/unknown"]))
    elif kind == "params":
        broken["params"] = draw(st.sampled_from([42, "params", [], True, None, {}]))
    elif kind == "line":
        return draw(st.sampled_from([*NOT_OBJECTS, DEEP, b"{}", b'{"id": 123456789, "result": null}']))
    elif "params" in message:
        path = draw(st.sampled_from(paths_in(message["params"])))
        delete = bool(path) and draw(st.booleans())
        broken["params"] = replaced(message["params"], path, draw(st.sampled_from(WRONG_VALUES)), delete)
    return broken


@st.composite
def batches(draw: st.DrawFn, cwds: tuple[str, ...], max_size: int = 10) -> list[dict[str, Any] | bytes]:
    """A sequence of lines, some malformed; request ids (integers, strings, fractions) unique within it."""
    counter = iter(range(1_000, 10**9))

    def next_id() -> Any:
        number = next(counter)
        return [number, f"req-{number}", number + 0.5][number % 3]

    lines: list[dict[str, Any] | bytes] = []
    for _ in range(draw(st.integers(1, max_size))):
        message = draw(valid_line(next_id, cwds))
        lines.append(draw(malformed(message, next_id)) if draw(st.integers(0, 9)) < 4 else message)
    return lines


# -- what must come back -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The answers a batch must get: one for each of ``ids``, and ``nulls`` answers with ``"id": null``."""

    ids: list[Any]
    nulls: int


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, str | int | float) and not isinstance(value, bool))


def expected(lines: list[dict[str, Any] | bytes]) -> Expected:
    """JSON-RPC's rules: a request (an object with a method and an id) gets one answer with its id, with
    ``null`` when its id is ``null`` or not one JSON-RPC allows (a string, a number or null); a line that is
    not JSON or not an object, and an object with neither method nor id, gets one answer with ``null``;
    notifications and responses get none."""
    ids: list[Any] = []
    nulls = 0
    for line in lines:
        data = _parsed(line) if isinstance(line, bytes) else line
        if not isinstance(data, dict) or ("id" in data and not _valid_id(data["id"])):
            nulls += 1
        elif "method" in data and "id" in data:
            if data["id"] is None:
                nulls += 1
            else:
                ids.append(data["id"])
        elif "method" not in data and "id" not in data:
            nulls += 1
    return Expected(ids, nulls)


def _parsed(line: bytes) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(constant)

    try:
        return json.loads(line, parse_constant=reject)
    except (ValueError, RecursionError):
        return _NotJson()


class _NotJson:
    """A line that does not parse as JSON."""
