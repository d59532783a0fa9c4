"""The seed's contract: request-scoped turn state, first value wins, per turn and per requested model."""

from __future__ import annotations

from codex_lsp.model.turn_state import TurnState
from codex_lsp.testing import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, say, script, two_request_turns, user


async def test_codex_turn_state_sequence_over_one_websocket(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """Codex's websocket_turn_state_persists_within_turn_and_resets_after, reproduced."""
    fake.load(
        script(
            [say("one", turn_state="ts-1"), say("two")],
            [say("three", turn_state="ts-2"), say("four")],
            upgrade_turn_state="stale-handshake-state",
        )
    )
    client = make_client()
    await two_request_turns(client, "first", "second")
    # 0.169 omits the key until a token is known (upstream's tests write "" for the same state).
    assert fake.turn_states() == [None, "ts-1", None, "ts-2"]
    assert [r.has_turn_state_key for r in fake.requests] == [False, True, False, True]
    assert len(fake.handshakes) == 1
    assert client.handshake_count == 1
    assert all("stale-handshake-state" not in str(r.body) for r in fake.requests)


async def test_codex_turn_state_sequence_over_http_headers(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """The same sequence over HTTP SSE: the token comes from and goes back in the header."""
    fake.load(
        script(
            [say("one", header_turn_state="ts-1"), say("two")],
            [say("three", header_turn_state="ts-2"), say("four")],
        )
    )
    client = make_client(websockets=False)
    await two_request_turns(client, "first", "second")
    assert fake.turn_states() == [None, "ts-1", None, "ts-2"]
    assert all(r.transport == "http" for r in fake.requests)
    assert all("x-codex-turn-state" not in r.body.get("client_metadata", {}) for r in fake.requests)
    assert fake.handshakes == []


async def test_later_metadata_never_replaces_the_first_token(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(
        script(
            [
                say("a", turn_state="ts-1", extra_turn_states=["ts-1b"]),
                say("b", turn_state="ts-2"),
                say("c", turn_state="ts-3"),
                say("d"),
            ]
        )
    )
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    for _ in range(4):
        await run(session, history)
        history.append(user("more"))
    assert fake.turn_states() == [None, "ts-1", "ts-1", "ts-1"]
    assert session.turn_state() == "ts-1"


async def test_http_keeps_first_header_token_and_ignores_in_stream_metadata(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(
        script(
            [
                say("a", header_turn_state="h-1", turn_state="event-token"),
                say("b", header_turn_state="h-2"),
                say("c"),
            ]
        )
    )
    client = make_client(websockets=False)
    session = client.new_turn()
    history = [user("go")]
    for _ in range(3):
        await run(session, history)
        history.append(user("more"))
    assert fake.turn_states() == [None, "h-1", "h-1"]


async def test_http_ignores_a_token_that_arrives_only_in_the_stream(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """With no header at all, an in-stream metadata token must not be picked up over HTTP (the test above
    sends both, so it cannot tell whether the stream is ignored or merely loses to the header)."""
    fake.load(script([say("a", turn_state="event-only"), say("b", turn_state="event-again"), say("c")]))
    client = make_client(websockets=False)
    session = client.new_turn()
    history = [user("go")]
    for _ in range(3):
        await run(session, history)
        history.append(user("more"))
    assert fake.turn_states() == [None, None, None]
    assert all("x-codex-turn-state" not in r.headers for r in fake.requests)
    assert session.turn_state() is None


async def test_model_switch_starts_fresh_state(fake: FakeResponsesServer, make_client: ClientFactory) -> None:
    """responses_websocket_turn_state_is_bound_to_requested_model: "", state-a, "", state-b."""
    fake.load(script([say("a", turn_state="state-a"), say("a2"), say("b", turn_state="state-b"), say("b2")]))
    client = make_client()
    session = client.new_turn(model="model-a")
    history = [user("go")]
    for model in ("model-a", "model-a", "model-b", "model-b"):
        await run(session, history, model=model)
        history.append(user("more"))
    assert fake.turn_states() == [None, "state-a", None, "state-b"]
    assert [r.body["model"] for r in fake.requests] == ["model-a", "model-a", "model-b", "model-b"]
    assert session.turn_state("model-a") == "state-a"


async def test_older_metadata_event_name_is_accepted(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a", turn_state="legacy", metadata_event="codex.response.metadata"), say("b")]))
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    await run(session, history)
    assert fake.turn_states() == [None, "legacy"]


async def test_prewarm_token_belongs_to_the_turn(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a", prewarm_turn_state="warm-1", turn_state="late"), say("b")], [say("c")]))
    client = make_client(prewarm=True)
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    await run(session, history)
    await run(client.new_turn(), [user("next turn")])
    prewarms = [r for r in fake.requests if r.prewarm]
    assert len(prewarms) == 1, "only the thread's first turn is prewarmed"
    assert all(r.body["generate"] is False for r in prewarms)
    assert fake.turn_states() == ["warm-1", "warm-1", None], "the prewarm's token stays in its turn"
    assert len(fake.handshakes) == 1


async def test_reconnect_within_turn_sends_token_in_handshake(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(
        script(
            [
                say("a", turn_state="ts-1"),
                say("dropped", fault={"kind": "close", "after_events": 2}),
                say("ok"),
            ]
        )
    )
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    await run(session, history)
    assert len(fake.handshakes) == 2
    assert "x-codex-turn-state" not in fake.handshakes[0].headers
    assert fake.handshakes[1].headers["x-codex-turn-state"] == "ts-1"
    assert fake.turn_states() == [None, "ts-1", "ts-1"]


def test_turn_state_cell_is_write_once_per_model() -> None:
    state = TurnState()
    assert state.offer("m", "") is False
    assert state.offer("m", "first") is True
    assert state.offer("m", "second") is False
    assert state.offer("other", "x") is True
    assert (state.get("m"), state.get("other"), state.get("none")) == ("first", "x", None)
