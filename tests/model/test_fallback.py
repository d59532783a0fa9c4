"""Sticky fallback to HTTP: after a 426 on the handshake, or once WebSocket retries run out; never for
overload. The switch is logged once and lasts for the client's lifetime."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from codex_lsp.model.errors import RetriesExhausted
from codex_lsp.testing.fake_responses import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, say, script, texts, user


def kinds(events: Sequence[object]) -> list[str]:
    return [getattr(e, "type", "") for e in events if getattr(e, "type", "").startswith("codex_lsp.")]


async def test_426_switches_to_http_for_good(
    fake: FakeResponsesServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake.load(
        script(
            [say("over http", header_turn_state="h-1"), say("still http")],
            [say("next turn")],
            handshake_faults=[{"status": 426}],
        )
    )
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    with caplog.at_level(logging.INFO, logger="codex_lsp.model"):
        events = await run(session, history)
        assert kinds(events) == ["codex_lsp.fallback"]
        assert texts(events) == "over http"
        history.append(user("more"))
        assert kinds(await run(session, history)) == []
        assert texts(await run(client.new_turn(), [user("again")])) == "next turn"
    assert client.transport == "http"
    assert client.websockets_disabled
    assert [h.status for h in fake.handshakes] == [426]
    assert [r.transport for r in fake.requests] == ["http", "http", "http"]
    assert fake.turn_states() == [None, "h-1", None]
    assert sum("Falling back from WebSockets" in r.message for r in caplog.records) == 1


async def test_426_during_prewarm_also_falls_back(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("fine")], handshake_faults=[{"status": 426}]))
    client = make_client(prewarm=True)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "fine"
    assert client.transport == "http"
    assert [r.transport for r in fake.requests] == ["http"]


async def test_exhausted_websocket_retries_fall_back_and_reset_the_counter(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    refused = [{"status": 404, "message": "no websocket here"}] * 3
    fake.load(
        script([say("x", fault={"kind": "status", "status": 500}), say("via http")], handshake_faults=refused)
    )
    client = make_client(stream_max_retries=2)
    events = await run(client.new_turn(), [user("go")])
    assert kinds(events) == ["codex_lsp.retry", "codex_lsp.retry", "codex_lsp.fallback", "codex_lsp.retry"]
    assert texts(events) == "via http"
    assert [h.status for h in fake.handshakes] == [404, 404, 404]
    assert [r.transport for r in fake.requests] == ["http", "http"]
    await run(client.new_turn(), [user("later")])
    assert len(fake.handshakes) == 3, "no WebSocket attempt after the switch"


async def test_streams_that_keep_breaking_fall_back(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    cut = {"kind": "close", "after_events": 2}
    fake.load(script([say("x", fault=cut), say("x", fault=cut), say("http saves the day")]))
    client = make_client(stream_max_retries=1)
    events = await run(client.new_turn(), [user("go")])
    assert kinds(events) == ["codex_lsp.retry", "codex_lsp.fallback"]
    assert [r.transport for r in fake.requests] == ["websocket", "websocket", "http"]
    assert texts(events) == "http saves the day"


async def test_overload_never_triggers_the_switch(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    overloaded = {"kind": "status", "status": 503, "code": "server_is_overloaded", "message": "busy"}
    fake.load(script([say("x", fault=overloaded) for _ in range(5)] + [say("served")]))
    client = make_client(stream_max_retries=1)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "served"
    assert all(e.overload for e in events if e.type == "codex_lsp.retry")
    assert client.transport == "websocket"
    assert all(r.transport == "websocket" for r in fake.requests)


async def test_overload_schedule_runs_out_without_switching(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    overloaded = {"kind": "failed", "code": "server_is_overloaded", "message": "busy"}
    fake.load(script([say("x", fault=overloaded) for _ in range(7)]))
    client = make_client()
    with pytest.raises(RetriesExhausted, match="overloaded"):
        await run(client.new_turn(), [user("go")])
    assert len(fake.requests) == 6
    assert client.transport == "websocket"


async def test_http_only_provider_never_opens_a_websocket(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("plain")]))
    client = make_client(websockets=False, prewarm=True)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "plain"
    assert kinds(events) == []
    assert fake.handshakes == []
    assert fake.requests[0].transport == "http"
    assert "previous_response_id" not in fake.requests[0].body
    assert "generate" not in fake.requests[0].body
