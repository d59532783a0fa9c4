"""WebSocket transport: one reused socket, incremental requests, full requests after a reconnect,
the handshake, pings, and cancellation that leaves the shared socket usable."""

from __future__ import annotations

import asyncio
import json

import pytest

from codex_lsp.model import Prompt
from codex_lsp.model.ws_transport import responses_url, websocket_url
from codex_lsp.testing import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import API_KEY, developer, run, say, script, texts, user


async def test_follow_ups_send_only_new_input_on_the_reused_socket(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    tool_call = {"output": [{"type": "function_call", "name": "exec_command", "arguments": {"cmd": "ls"}}]}
    fake.load(script([tool_call, say("done")], [say("turn two")]))
    client = make_client()
    session = client.new_turn()
    history = [developer("base"), user("list files")]
    await run(session, history)
    call = history[-1]
    assert call["type"] == "function_call"
    assert "id" not in call
    history.append({"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt"})
    await run(session, history)
    history.append(user("again"))
    await run(client.new_turn(), history)

    first, second, third = fake.requests
    assert "previous_response_id" not in first.body
    assert first.body["input"] == history[:2]
    assert second.body["previous_response_id"] == first.response_id
    assert second.body["input"] == [history[3]], "only the tool output goes out"
    assert second.effective_input == history[:4]
    assert third.body["previous_response_id"] == second.response_id, "the next turn chains on the same socket"
    assert third.body["input"] == [history[5]]
    assert third.effective_input == history[:6]
    assert len(fake.handshakes) == 1
    assert client.requests_sent["websocket"] == 3


async def test_changed_settings_send_the_full_request(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a"), say("b")]))
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    tools = [{"type": "function", "name": "t", "description": "d", "strict": False, "parameters": {}}]
    events = [e async for e in session.stream(Prompt(input=history, tools=tools))]
    assert events[-1].type == "response.completed"
    assert "previous_response_id" not in fake.requests[1].body
    assert fake.requests[1].body["input"] == history


async def test_reconnect_sends_the_full_request(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a"), say("cut", fault={"kind": "close", "after_events": 3}), say("recovered")]))
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    events = await run(session, history)
    assert texts(events).endswith("recovered")
    assert [e.type for e in events].count("codex_lsp.retry") == 1
    cut, retried = fake.requests[1], fake.requests[2]
    assert cut.body["previous_response_id"] == fake.requests[0].response_id
    assert "previous_response_id" not in retried.body
    assert retried.body["input"] == history[:3]
    assert retried.effective_input == cut.effective_input
    assert len(fake.handshakes) == 2


async def test_prewarm_chains_the_real_request(fake: FakeResponsesServer, make_client: ClientFactory) -> None:
    fake.load(script([say("hello")]))
    client = make_client(prewarm=True)
    history = [developer("base instructions"), user("hi")]
    await run(client.new_turn(), history)
    prewarm, real = fake.requests
    assert prewarm.prewarm
    assert prewarm.body["generate"] is False
    assert prewarm.body["input"] == [developer("base instructions")]
    assert prewarm.body["client_metadata"]["turn_id"] == ""
    assert json.loads(prewarm.body["client_metadata"]["x-codex-turn-metadata"])["request_kind"] == "prewarm"
    assert real.body["previous_response_id"] == prewarm.response_id
    assert real.body["input"] == [user("hi")]
    assert "generate" not in real.body
    assert real.effective_input == history[:2]


async def test_handshake_headers_and_frame_shape(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a")]))
    client = make_client(http_headers={"x-extra": "1", "originator": "overridden"})
    session = client.new_turn(thread_id="thread-1", turn_id="turn-1")
    await run(session, [user("go")])
    headers = fake.handshakes[0].headers
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["openai-beta"] == "responses_websockets=2026-02-06"
    assert headers["originator"] == "codex-lsp"
    assert headers["user-agent"].startswith("codex-lsp/")
    assert headers["x-client-request-id"] == headers["thread-id"] == "thread-1"
    assert headers["x-codex-window-id"] == "thread-1:0"
    assert headers["x-extra"] == "1"
    assert "permessage-deflate" in headers["sec-websocket-extensions"]
    assert fake.handshakes[0].path == "/v1/responses"
    body = fake.requests[0].body
    assert body["type"] == "response.create"
    assert body["stream"] is True
    assert body["store"] is False
    assert body["tool_choice"] == "auto"
    assert body["prompt_cache_key"] == "thread-1"
    metadata = body["client_metadata"]
    assert metadata["turn_id"] == metadata["root_turn_id"] == "turn-1"
    assert json.loads(metadata["x-codex-turn-metadata"])["turn_id"] == "turn-1"
    assert int(metadata["x-codex-ws-stream-request-start-ms"]) > 0


def test_urls_swap_scheme_and_keep_query_params() -> None:
    assert websocket_url("http://h:1/v1", {}) == "ws://h:1/v1/responses"
    assert websocket_url("https://h/v1/", {"api-version": "2"}) == "wss://h/v1/responses?api-version=2"
    assert websocket_url("ws://h/v1?a=1", {"b": "2"}) == "ws://h/v1/responses?a=1&b=2"
    assert responses_url("https://h/v1", {"k": "v"}) == "https://h/v1/responses?k=v"


async def test_query_params_reach_the_server(fake: FakeResponsesServer, make_client: ClientFactory) -> None:
    fake.load(script([say("a")]))
    await run(make_client(query_params={"api-version": "7"}).new_turn(), [user("go")])
    assert fake.handshakes[0].path == "/v1/responses?api-version=7"


async def test_server_pings_are_answered(fake: FakeResponsesServer, make_client: ClientFactory) -> None:
    fake.load(script([say("a", ping=True), say("b")]))
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    await run(session, history)
    assert fake.pongs >= 1


async def test_cancelled_stream_drops_the_socket_and_the_next_request_reconnects(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a"), say("slow " * 40, delay_ms=20, chunk_size=4), say("after")]))
    client = make_client()
    history = [user("go")]
    await run(client.new_turn(), history)
    started = asyncio.Event()

    async def consume() -> None:
        async for event in client.new_turn().stream(Prompt(input=[*history, user("slow please")])):
            if event.type == "response.output_text.delta":
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    events = await run(client.new_turn(), [*history, user("next")])
    assert texts(events) == "after"
    assert len(fake.handshakes) == 2
    assert "previous_response_id" not in fake.requests[-1].body


async def test_concurrent_turns_each_get_a_socket(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("x" * 200, delay_ms=1, chunk_size=20), say("y" * 200, delay_ms=1, chunk_size=20)]))
    client = make_client()
    results = await asyncio.gather(run(client.new_turn(), [user("a")]), run(client.new_turn(), [user("b")]))
    assert sorted(texts(r)[0] for r in results) == ["x", "y"]
    assert len(fake.handshakes) == 2
    await run(client.new_turn(), [user("c")])
    assert len(fake.handshakes) == 2, "a completed socket went back to the cache"


async def test_connect_timeout_is_configurable_and_retried(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("second handshake worked")], handshake_faults=[{"hang": True}]))
    client = make_client(websocket_connect_timeout_ms=150)
    events = await run(client.new_turn(), [user("go")])
    (notice,) = [e for e in events if e.type == "codex_lsp.retry"]
    assert "timed out" in notice.reason
    assert texts(events) == "second handshake worked"
    assert [h.status for h in fake.handshakes] == [0, 101]
    assert client.handshake_attempts == 2
    assert client.handshake_count == 1


async def test_only_a_threads_first_turn_is_prewarmed_and_later_turns_chain(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """Codex 0.169 prewarms once, when the thread's session starts; every later turn on the socket chains
    from the previous turn's last response (test_codex_fidelity.py compares this with Codex itself)."""
    fake.load(script([say("one", turn_state="ts-1"), say("one more")], [say("two")], [say("three")]))
    client = make_client(prewarm=True)
    history = [developer("base"), user("first")]
    session = client.new_turn()
    await run(session, history)
    history.append(user("more"))
    await run(session, history)
    for text in ("second", "third"):
        history.append(user(text))
        await run(client.new_turn(), history)

    prewarm, *generating = fake.requests
    assert [r.prewarm for r in fake.requests] == [True, False, False, False, False]
    assert len(fake.handshakes) == 1
    for previous, request in zip([prewarm, *generating], generating, strict=False):
        assert request.body["previous_response_id"] == previous.response_id
        assert [i.get("role") for i in request.body["input"]] == ["user"], "only the new message goes out"
    assert fake.turn_states() == [None, "ts-1", None, None], "turn state still starts afresh each turn"


async def test_a_socket_opened_between_turns_is_not_prewarmed(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """When the server retires the socket after a turn, the next turn opens a new one and sends the full
    history at once, as Codex does: a prewarm there would only add a round trip before the turn."""
    fake.load(script([say("one", close_after=True)], [say("two")]))
    client = make_client(prewarm=True)
    history = [developer("base"), user("first")]
    await run(client.new_turn(), history)
    history.append(user("second"))
    sent = list(history)
    await run(client.new_turn(), history)

    assert [r.prewarm for r in fake.requests] == [True, False, False]
    assert len(fake.handshakes) == 2
    second_turn = fake.requests[2]
    assert second_turn.connection == 2
    assert "previous_response_id" not in second_turn.body
    assert second_turn.body["input"] == sent


async def test_each_threads_first_turn_is_prewarmed(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("a")], [say("b")], [say("a again")]))
    client = make_client(prewarm=True)
    await run(client.new_turn(thread_id="thread-a"), [developer("base"), user("a")])
    await run(client.new_turn(thread_id="thread-b"), [developer("base"), user("b")])
    await run(client.new_turn(thread_id="thread-a"), [developer("base"), user("a again")])
    assert [r.prewarm for r in fake.requests] == [True, False, True, False, False]
    assert [r.body["prompt_cache_key"] for r in fake.requests if r.prewarm] == ["thread-a", "thread-b"]
