"""What our client sends, compared with what the real Codex CLI sent, on the same script.

The pinned Codex CLI runs ``codex exec`` over WebSocket against one fake server, and our ``ModelClient`` +
``TurnSession`` run an equivalent first turn against another, both configured by the same kind of
``config.toml`` (so model, reasoning effort and verbosity agree by construction). The turn: a prewarm, the
first request (developer message, user message), the ``apply_patch`` custom tool call, and the follow-up
carrying its output. Both recordings are then compared field by field where the field applies to us:
frame type, top-level keys and their values, ``client_metadata`` keys, the turn-state sequence, the
``previous_response_id`` chain with only the new items, the echoed tool-output item, and the handshake
header names.

A second part runs a session of two turns on one thread through Codex's ``app-server`` (``codex exec`` runs
a single turn) and compares what happens between turns: how many prewarms and where, how many handshakes,
which request chains on which (the second turn on the previous turn's last response), and the turn-state
sequence, which starts afresh each turn; once with the socket kept open and once retired by the server
between the turns.

Deliberate differences, each checked as such (any other difference fails):

- ``originator`` / ``user-agent`` values: we name ourselves ``codex-lsp``; Codex says ``codex_exec``.
- ``x-codex-beta-features`` header: Codex advertises its own beta features; we implement none of them.
- extra keys inside ``x-codex-turn-metadata`` (``agent_name``, ``sandbox``, ``thread_source``, …): they
  describe Codex's runtime; we send the routing subset (ids, window, request kind, turn start).
- item ``id`` on the input items Codex creates (``msg_…``, ``ctco_…``): client-generated and optional; we
  echo history without ids (the API accepts input items without them).
- message contents and the number of context messages: Codex's base prompt and environment context are
  its own; we compare the shape (types and roles) of what each request carries.
- the tool list: Codex offers its whole tool set; the equivalent turn offers only ``apply_patch``.
- id values (thread, session, installation, turn): random per run; their relations are compared instead.
"""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.model import ModelClient, Prompt
from codex_lsp.model.events import OutputItemDone
from codex_lsp.testing import FakeResponsesServer, Handshake, RecordedRequest, Script
from tests.model.codex_peer import CODEX_KEY, SCRIPTS, codex_app_server_session, codex_exec, codex_home
from tests.model.helpers import developer, user

SCRIPT = SCRIPTS / "apply_patch_turn.json"
PROMPT = "Create hello.txt saying hello."
EXTRA_CONFIG = '\nmodel_reasoning_effort = "medium"\nmodel_verbosity = "low"\n'
"""Put at the top of both ``config.toml`` files (top-level keys), so both clients send the same ``reasoning``
and ``text``."""

APPLY_PATCH_TOOL: dict[str, Any] = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Edit files with a patch in the apply_patch format.",
    "format": {
        "type": "grammar",
        "syntax": "lark",
        "definition": 'start: "*** Begin Patch" LF hunk+ "*** End Patch" LF?\n'
        "hunk: /.+/ LF\n%import common.LF",
    },
}
TOOL_OUTPUT = (
    "Exit code: 0\nWall time: 0.1 seconds\nOutput:\nSuccess. Updated the following files:\nA hello.txt\n"
)

SAME_VALUE_KEYS = (
    "type",
    "model",
    "stream",
    "tool_choice",
    "parallel_tool_calls",
    "reasoning",
    "store",
    "include",
    "text",
    "generate",
)
"""Top-level fields whose values must be equal, not just present."""
HANDSHAKE_HEADERS = (
    "authorization",
    "openai-beta",
    "originator",
    "user-agent",
    "session-id",
    "thread-id",
    "x-client-request-id",
    "x-codex-window-id",
    "x-codex-turn-metadata",
)
"""Handshake headers both must send (the WebSocket protocol's own headers are the library's business)."""
CODEX_ONLY_HEADERS = frozenset({"x-codex-beta-features"})
WS_PROTOCOL_HEADERS = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "sec-websocket-version",
        "sec-websocket-key",
        "sec-websocket-extensions",
    }
)
SAME_VALUE_HEADERS = ("authorization", "openai-beta", "sec-websocket-extensions")
"""Handshake headers whose values must be equal (the last: permessage-deflate offered the same way)."""


@dataclass
class Exchange:
    """One client's side of the turn, as the fake server recorded it."""

    handshakes: list[Handshake]
    requests: list[RecordedRequest]


def _home(root: Path, base_url: str) -> Path:
    """A CODEX_HOME for the fake at ``base_url`` with effort and verbosity pinned (top-level keys)."""
    home = codex_home(root, base_url, websockets=True)
    config = home / "config.toml"
    config.write_text(EXTRA_CONFIG + config.read_text(encoding="utf-8"), encoding="utf-8")
    return home


async def _record_codex(root: Path) -> Exchange:
    async with FakeResponsesServer(Script.load(SCRIPT)) as fake:
        workdir = root / "work"
        workdir.mkdir()
        code, _, stderr = await codex_exec(_home(root, fake.base_url), workdir, PROMPT)
        assert code == 0, stderr[-2000:]
        assert (workdir / "hello.txt").is_file()
        return Exchange(fake.handshakes, fake.requests)


async def _record_ours(root: Path) -> Exchange:
    async with FakeResponsesServer(Script.load(SCRIPT)) as fake:
        home = _home(root, fake.base_url)
        async with ModelClient.from_codex_home(home, env={"FAKE_KEY": CODEX_KEY}) as client:
            session = client.new_turn()
            history = [developer("You are a coding agent."), user(PROMPT)]
            prompt = Prompt(input=history, tools=[APPLY_PATCH_TOOL])
            done = [e async for e in session.stream(prompt) if isinstance(e, OutputItemDone)]
            call = done[0].item
            assert call.type == "custom_tool_call"
            output = {"type": "custom_tool_call_output", "call_id": call.call_id, "output": TOOL_OUTPUT}
            history += [call.as_input(), output]
            async for _ in session.stream(prompt.model_copy(update={"input": history})):
                pass
        return Exchange(fake.handshakes, fake.requests)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Exchange, Exchange]:
    """(Codex's exchange, ours), recorded once for the module."""

    async def both() -> tuple[Exchange, Exchange]:
        return (
            await _record_codex(tmp_path_factory.mktemp("codex")),
            await _record_ours(tmp_path_factory.mktemp("ours")),
        )

    return asyncio.run(both())


# -- comparators: each returns the differences found, so a drift test can prove they see it ---------------


def _metadata(request: RecordedRequest) -> dict[str, Any]:
    value = request.body.get("client_metadata")
    return value if isinstance(value, dict) else {}


def _turn_metadata(request: RecordedRequest) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(_metadata(request).get("x-codex-turn-metadata", "{}"))
    return value


def _pairs(codex: Exchange, ours: Exchange) -> list[tuple[str, RecordedRequest, RecordedRequest]]:
    names = ["prewarm", "first", "follow-up"]
    if len(codex.requests) != 3 or len(ours.requests) != 3:
        raise AssertionError(f"expected 3 requests each, got {len(codex.requests)} and {len(ours.requests)}")
    return list(zip(names, codex.requests, ours.requests, strict=True))


def frame_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """Frame type, top-level key sets and the values that must agree."""
    found = []
    for name, theirs, mine in _pairs(codex, ours):
        if set(theirs.body) != set(mine.body):
            found.append(
                f"{name}: keys only Codex sent {sorted(set(theirs.body) - set(mine.body))}, "
                f"only we sent {sorted(set(mine.body) - set(theirs.body))}"
            )
        for key in SAME_VALUE_KEYS:
            if theirs.body.get(key) != mine.body.get(key):
                found.append(f"{name}: {key} = {mine.body.get(key)!r}, Codex sent {theirs.body.get(key)!r}")
        for side, request in (("Codex", theirs), ("we", mine)):
            if request.body.get("prompt_cache_key") != _metadata(request).get("thread_id"):
                found.append(f"{name}: {side} sent a prompt_cache_key other than the thread id")
    return found


def metadata_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """``client_metadata`` key sets, the id relations, and the routing subset of the turn metadata."""
    found = []
    for name, theirs, mine in _pairs(codex, ours):
        theirs_keys, mine_keys = set(_metadata(theirs)), set(_metadata(mine))
        if theirs_keys != mine_keys:
            found.append(
                f"{name}: client_metadata keys only Codex sent {sorted(theirs_keys - mine_keys)}, "
                f"only we sent {sorted(mine_keys - theirs_keys)}"
            )
        for side, request in (("Codex", theirs), ("we", mine)):
            found += [f"{name}: {side}: {problem}" for problem in _metadata_relations(name, request)]
        theirs_turn, mine_turn = _turn_metadata(theirs), _turn_metadata(mine)
        if not set(mine_turn) <= set(theirs_turn):
            found.append(
                f"{name}: turn metadata keys Codex lacks: {sorted(set(mine_turn) - set(theirs_turn))}"
            )
        if theirs_turn.get("request_kind") != mine_turn.get("request_kind"):
            found.append(
                f"{name}: request_kind {mine_turn.get('request_kind')!r}, Codex sent "
                f"{theirs_turn.get('request_kind')!r}"
            )
    return found


def _metadata_relations(name: str, request: RecordedRequest) -> list[str]:
    metadata, turn = _metadata(request), _turn_metadata(request)
    problems = []
    if metadata.get("x-codex-window-id") != f"{metadata.get('thread_id')}:0":
        problems.append("x-codex-window-id is not '<thread_id>:0'")
    if (metadata.get("turn_id") == "") != (name == "prewarm"):
        problems.append("turn_id must be '' exactly on the prewarm")
    if name != "prewarm" and metadata.get("root_turn_id") != metadata.get("turn_id"):
        problems.append("root_turn_id differs from turn_id")
    if turn.get("turn_id") != metadata.get("turn_id") or turn.get("thread_id") != metadata.get("thread_id"):
        problems.append("x-codex-turn-metadata disagrees with client_metadata")
    start = metadata.get("x-codex-ws-stream-request-start-ms", "")
    if not (isinstance(start, str) and start.isdigit() and len(start) == 13):
        problems.append(f"x-codex-ws-stream-request-start-ms is not unix milliseconds: {start!r}")
    return problems


def turn_state_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """The token each request carried, including whether the key was there at all."""

    def sequence(exchange: Exchange) -> list[tuple[bool, str | None]]:
        return [(r.has_turn_state_key, r.turn_state) for r in exchange.requests]

    if sequence(codex) != sequence(ours):
        return [f"turn-state sequence {sequence(ours)}, Codex sent {sequence(codex)}"]
    return []


def chain_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """``generate:false`` prewarm, then each request chained on the previous response with only new items."""
    found = []
    for side, exchange in (("Codex", codex), ("we", ours)):
        prewarm, first, follow_up = exchange.requests
        if not prewarm.prewarm or "previous_response_id" in prewarm.body:
            found.append(f"{side}: the first request is not a fresh generate:false prewarm")
        if first.body.get("previous_response_id") != prewarm.response_id:
            found.append(f"{side}: the first request does not chain on the prewarm")
        if follow_up.body.get("previous_response_id") != first.response_id:
            found.append(f"{side}: the follow-up does not chain on the response that made the call")
        if any(_role(i) == "user" for i in prewarm.body["input"]) or _role(first.body["input"][-1]) != "user":
            found.append(f"{side}: the user message is not the tail after the prewarm")
    theirs_tail = [_shape(i) for i in codex.requests[2].body["input"]]
    mine_tail = [_shape(i) for i in ours.requests[2].body["input"]]
    if theirs_tail != mine_tail:
        found.append(f"follow-up input {mine_tail}, Codex sent {theirs_tail}")
    return found


def _role(item: dict[str, Any]) -> str | None:
    return item.get("role") if item.get("type", "message") == "message" else None


def _shape(item: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An input item's type and its fields' JSON types, without ``id`` (a deliberate difference)."""
    fields = tuple(sorted((k, type(v).__name__) for k, v in item.items() if k not in ("id", "type")))
    return str(item.get("type")), fields


def tool_output_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """The echoed ``custom_tool_call_output``: same fields, a string output, the call's id."""
    found = []
    shapes = []
    for side, exchange in (("Codex", codex), ("we", ours)):
        items = [i for i in exchange.requests[2].body["input"] if i.get("type") == "custom_tool_call_output"]
        if len(items) != 1:
            found.append(f"{side}: {len(items)} custom_tool_call_output items in the follow-up")
            continue
        item = items[0]
        if item.get("call_id") != "call_patch" or not isinstance(item.get("output"), str):
            found.append(f"{side}: the tool output lacks the call id or a string output: {item}")
        shapes.append(_shape(item))
    if len(shapes) == 2 and shapes[0] != shapes[1]:
        found.append(f"tool output shape {shapes[1]}, Codex sent {shapes[0]}")
    return found


def handshake_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """One handshake each; the same header names apart from the deliberate ones; equal fixed values."""
    if len(codex.handshakes) != 1 or len(ours.handshakes) != 1:
        return [f"handshakes: Codex {len(codex.handshakes)}, we {len(ours.handshakes)}; expected 1 each"]
    theirs, mine = codex.handshakes[0].headers, ours.handshakes[0].headers
    found = [f"we did not send the handshake header {name}" for name in HANDSHAKE_HEADERS if name not in mine]
    extra = set(mine) - set(theirs) - WS_PROTOCOL_HEADERS
    missing = set(theirs) - set(mine) - WS_PROTOCOL_HEADERS - CODEX_ONLY_HEADERS
    if extra or missing:
        found.append(f"handshake headers only we sent {sorted(extra)}, only Codex sent {sorted(missing)}")
    found += [
        f"handshake {name} = {mine.get(name)!r}, Codex sent {theirs.get(name)!r}"
        for name in SAME_VALUE_HEADERS
        if mine.get(name) != theirs.get(name)
    ]
    for side, headers in (("Codex", theirs), ("we", mine)):
        if not headers.get("thread-id") or headers.get("x-client-request-id") != headers.get("thread-id"):
            found.append(f"{side}: x-client-request-id is not the thread id")
        if headers.get("x-codex-window-id") != f"{headers.get('thread-id')}:0":
            found.append(f"{side}: x-codex-window-id is not '<thread-id>:0'")
        if not headers.get("user-agent", "").startswith(f"{headers.get('originator')}/"):
            found.append(f"{side}: user-agent does not start with '<originator>/'")
    return found


COMPARATORS = {
    "frame": frame_differences,
    "client_metadata": metadata_differences,
    "turn_state": turn_state_differences,
    "chain": chain_differences,
    "tool_output": tool_output_differences,
    "handshake": handshake_differences,
}


@pytest.mark.parametrize("aspect", list(COMPARATORS))
def test_our_request_matches_what_codex_sent(recordings: tuple[Exchange, Exchange], aspect: str) -> None:
    codex, ours = recordings
    assert COMPARATORS[aspect](codex, ours) == []


def test_the_deliberate_differences_are_the_documented_ones(recordings: tuple[Exchange, Exchange]) -> None:
    codex, ours = recordings
    theirs, mine = codex.handshakes[0].headers, ours.handshakes[0].headers
    assert (theirs["originator"], mine["originator"]) == ("codex_exec", "codex-lsp")
    assert set(theirs) - set(mine) == CODEX_ONLY_HEADERS
    assert any("id" in item for item in codex.requests[2].body["input"]), "Codex stopped sending item ids"
    assert not any("id" in item for r in ours.requests for item in r.body["input"])
    assert set(_turn_metadata(codex.requests[1])) > set(_turn_metadata(ours.requests[1]))


def _drift(recorded: Exchange, change: Any) -> Exchange:
    drifted = copy.deepcopy(recorded)
    change(drifted)
    return drifted


DRIFTS = {
    "empty turn state before a token": (
        "turn_state",
        lambda x: _metadata(x.requests[1]).update({"x-codex-turn-state": ""}),
    ),
    "no previous_response_id on the follow-up": (
        "chain",
        lambda x: x.requests[2].body.pop("previous_response_id"),
    ),
    "full history on the follow-up": (
        "chain",
        lambda x: x.requests[2].body.update(
            input=[*x.requests[1].body["input"], *x.requests[2].body["input"]]
        ),
    ),
    "tool output as an object": (
        "tool_output",
        lambda x: x.requests[2].body["input"][-1].update(output={"text": "ok"}),
    ),
    "store true": ("frame", lambda x: x.requests[1].body.update(store=True)),
    "a top-level instructions field": ("frame", lambda x: x.requests[1].body.update(instructions="base")),
    "root_turn_id on the prewarm": (
        "client_metadata",
        lambda x: _metadata(x.requests[0]).update(root_turn_id="t"),
    ),
    "no openai-beta": ("handshake", lambda x: x.handshakes[0].headers.pop("openai-beta")),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_the_comparison_sees_a_drifting_client(recordings: tuple[Exchange, Exchange], drift: str) -> None:
    """Each comparator must notice when our side changes in a way Codex does not."""
    codex, ours = recordings
    aspect, change = DRIFTS[drift]
    assert COMPARATORS[aspect](codex, _drift(ours, change)) != []


# -- a session of two turns on one thread: Codex's app-server against our client ------------------------
#
# ``codex exec`` runs a single turn, so what happens *between* turns (prewarm, socket reuse, chaining,
# turn state starting afresh) is compared against ``codex app-server``, driven over stdio through one thread
# with two ``turn/start`` calls. Each turn is a patch and a follow-up. Two variants: the socket stays open
# between the turns, and the server retires it after the first turn (the second turn needs a new socket).

SESSION_SCRIPT = SCRIPTS / "two_turn_session.json"
SESSION_PROMPTS = ["Create hello.txt saying hello.", "Now create bye.txt saying bye."]
SESSION_VARIANTS = ("same socket", "socket retired between turns")


def _session_script(variant: str) -> Script:
    script = Script.load(SESSION_SCRIPT)
    if variant == "same socket":
        return script
    first, second = script.turns
    last = first.requests[-1].model_copy(update={"close_after": True})
    retired = first.model_copy(update={"requests": [*first.requests[:-1], last]})
    return script.model_copy(update={"turns": [retired, second]})


async def _record_codex_session(root: Path, variant: str) -> Exchange:
    async with FakeResponsesServer(_session_script(variant)) as fake:
        workdir = root / "work"
        workdir.mkdir()
        statuses = await codex_app_server_session(_home(root, fake.base_url), workdir, SESSION_PROMPTS)
        assert statuses == ["completed", "completed"]
        assert (workdir / "hello.txt").is_file()
        assert (workdir / "bye.txt").is_file()
        return Exchange(fake.handshakes, fake.requests)


async def _record_our_session(root: Path, variant: str) -> Exchange:
    """The same two turns through ModelClient with its defaults (prewarm on), as the agent drives it."""
    async with FakeResponsesServer(_session_script(variant)) as fake:
        home = _home(root, fake.base_url)
        async with ModelClient.from_codex_home(home, env={"FAKE_KEY": CODEX_KEY}) as client:
            history = [developer("You are a coding agent.")]
            for prompt in SESSION_PROMPTS:
                session = client.new_turn()
                history.append(user(prompt))
                while True:
                    events = session.stream(Prompt(input=list(history), tools=[APPLY_PATCH_TOOL]))
                    items = [e.item async for e in events if isinstance(e, OutputItemDone)]
                    history += [item.as_input() for item in items]
                    calls = [item for item in items if item.type == "custom_tool_call"]
                    if not calls:
                        break
                    for call in calls:
                        output = {"type": "custom_tool_call_output", "call_id": call.call_id}
                        history.append({**output, "output": TOOL_OUTPUT})
        return Exchange(fake.handshakes, fake.requests)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Exchange, Exchange]]:
    """Variant → (Codex's exchange, ours), recorded once for the module."""

    async def record(variant: str) -> tuple[Exchange, Exchange]:
        return (
            await _record_codex_session(tmp_path_factory.mktemp("codex-session"), variant),
            await _record_our_session(tmp_path_factory.mktemp("our-session"), variant),
        )

    async def every() -> dict[str, tuple[Exchange, Exchange]]:
        return {variant: await record(variant) for variant in SESSION_VARIANTS}

    return asyncio.run(every())


def _chain(exchange: Exchange) -> list[tuple[bool, int | None, int]]:
    """Per request: prewarm or not, the index of the request it chains on (``None``: full input), and the
    connection it went over, numbered from 1 in order of appearance."""
    index = {r.response_id: n for n, r in enumerate(exchange.requests) if r.response_id}
    connections: dict[int, int] = {}
    return [
        (
            r.prewarm,
            index.get(str(r.body["previous_response_id"])) if "previous_response_id" in r.body else None,
            connections.setdefault(r.connection, len(connections) + 1),
        )
        for r in exchange.requests
    ]


def _turns(exchange: Exchange) -> list[int | None]:
    """Per request: which turn it belongs to, numbered from 1 (``None`` for a prewarm's empty turn id)."""
    seen: dict[str, int] = {}
    turns: list[int | None] = []
    for request in exchange.requests:
        turn_id = _metadata(request).get("turn_id") or ""
        turns.append(seen.setdefault(turn_id, len(seen) + 1) if turn_id else None)
    return turns


def _second_turn_first_request(exchange: Exchange) -> RecordedRequest:
    turns = _turns(exchange)
    return exchange.requests[turns.index(2)]


def session_prewarm_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """How many prewarms, and where they are."""
    theirs = [n for n, r in enumerate(codex.requests) if r.prewarm]
    mine = [n for n, r in enumerate(ours.requests) if r.prewarm]
    return [] if theirs == mine else [f"prewarms at requests {mine}, Codex prewarmed at {theirs}"]


def session_handshake_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """How many sockets the session opened."""
    if len(codex.handshakes) != len(ours.handshakes):
        return [f"{len(ours.handshakes)} handshakes, Codex made {len(codex.handshakes)}"]
    return []


def session_chain_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """Which request chains on which, over which socket, and what the second turn's first request sends."""
    found = []
    if _chain(codex) != _chain(ours):
        found.append(f"chain (prewarm, chained on, socket) {_chain(ours)}, Codex {_chain(codex)}")
    theirs, mine = _second_turn_first_request(codex), _second_turn_first_request(ours)
    if "previous_response_id" in theirs.body:
        theirs_tail = [_shape(i) for i in theirs.body["input"]]
        mine_tail = [_shape(i) for i in mine.body["input"]]
        if theirs_tail != mine_tail:
            found.append(f"second turn's first input {mine_tail}, Codex sent {theirs_tail}")
    elif "previous_response_id" in mine.body:
        found.append("our second turn chained where Codex sent the full input")
    return found


def session_turn_state_differences(codex: Exchange, ours: Exchange) -> list[str]:
    """The token each request carried (key present or not), and which turn each request belonged to."""
    found = []

    def sequence(exchange: Exchange) -> list[tuple[bool, str | None]]:
        return [(r.has_turn_state_key, r.turn_state) for r in exchange.requests]

    if sequence(codex) != sequence(ours):
        found.append(f"turn-state sequence {sequence(ours)}, Codex sent {sequence(codex)}")
    if _turns(codex) != _turns(ours):
        found.append(f"turn ids {_turns(ours)}, Codex {_turns(codex)}")
    return found


SESSION_COMPARATORS = {
    "prewarm": session_prewarm_differences,
    "handshakes": session_handshake_differences,
    "chain": session_chain_differences,
    "turn_state": session_turn_state_differences,
}


@pytest.mark.parametrize("aspect", list(SESSION_COMPARATORS))
@pytest.mark.parametrize("variant", SESSION_VARIANTS)
def test_our_session_matches_codex_app_server(
    sessions: dict[str, tuple[Exchange, Exchange]], variant: str, aspect: str
) -> None:
    codex, ours = sessions[variant]
    assert SESSION_COMPARATORS[aspect](codex, ours) == []


def test_the_session_recordings_show_the_behaviour_compared(
    sessions: dict[str, tuple[Exchange, Exchange]],
) -> None:
    """What Codex 0.169 does, spelled out, so that a change in the pinned peer is seen as such."""
    codex, _ = sessions["same socket"]
    assert _chain(codex) == [(True, None, 1), (False, 0, 1), (False, 1, 1), (False, 2, 1), (False, 3, 1)]
    assert [r.turn_state for r in codex.requests] == [None, None, "ts-1", None, "ts-2"]
    retired, _ = sessions["socket retired between turns"]
    assert _chain(retired) == [(True, None, 1), (False, 0, 1), (False, 1, 1), (False, None, 2), (False, 3, 2)]


def _prewarm_every_turn(exchange: Exchange) -> None:
    """What our client did before: a prewarm before the second turn too."""
    second = _second_turn_first_request(exchange)
    warm = copy.deepcopy(second)
    warm.prewarm, warm.response_id = True, "resp_warm"
    warm.body["generate"] = False
    position = exchange.requests.index(second)
    second.body["previous_response_id"] = "resp_warm"
    exchange.requests.insert(position, warm)


SESSION_DRIFTS = {
    "a prewarm on every turn": ("prewarm", _prewarm_every_turn),
    "a new socket per turn": (
        "handshakes",
        lambda x: x.handshakes.append(copy.deepcopy(x.handshakes[0])),
    ),
    "the second turn resends the full history": (
        "chain",
        lambda x: _second_turn_first_request(x).body.pop("previous_response_id"),
    ),
    "turn state carried into the next turn": (
        "turn_state",
        lambda x: _metadata(_second_turn_first_request(x)).update({"x-codex-turn-state": "ts-1"}),
    ),
}


@pytest.mark.parametrize("drift", list(SESSION_DRIFTS))
def test_the_session_comparison_sees_a_drifting_client(
    sessions: dict[str, tuple[Exchange, Exchange]], drift: str
) -> None:
    codex, ours = sessions["same socket"]
    aspect, change = SESSION_DRIFTS[drift]
    assert SESSION_COMPARATORS[aspect](codex, _drift(ours, change)) != []
