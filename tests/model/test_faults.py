"""Every injected fault ends in a retried success or the documented error, on both transports."""

from __future__ import annotations

from typing import Any

import pytest

from codex_lsp.model.errors import AuthError, FatalModelError, RetriesExhausted
from codex_lsp.model.retry import FATAL_CODES
from codex_lsp.testing import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, say, script, texts, user

TRANSPORTS = pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])


def failing(fault: dict[str, Any]) -> dict[str, Any]:
    return say("lost " * 10, fault=fault)


def notices(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type == "codex_lsp.retry"]


RETRIED = {
    "close-mid-stream": {"kind": "close", "after_events": 4},
    "close-before-any-event": {"kind": "close", "after_events": 0},
    "429-no-delay": {"kind": "status", "status": 429},
    "500": {"kind": "status", "status": 500},
    "503": {"kind": "status", "status": 503},
    "503-overloaded": {"kind": "status", "status": 503, "code": "server_is_overloaded"},
    "failed-server-error": {"kind": "failed", "code": "server_error", "after_events": 2},
    "failed-slow-down": {"kind": "failed", "code": "slow_down"},
    "silence": {"kind": "silence", "after_events": 3},
}


@TRANSPORTS
@pytest.mark.parametrize("fault", RETRIED.values(), ids=RETRIED.keys())
async def test_fault_is_retried_to_success(
    fake: FakeResponsesServer, make_client: ClientFactory, websockets: bool, fault: dict[str, Any]
) -> None:
    fake.load(script([failing(fault), say("recovered")]))
    client = make_client(websockets=websockets, stream_idle_timeout_ms=300)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events).endswith("recovered")
    assert events[-1].type == "response.completed"
    assert len(notices(events)) == 1
    assert len(fake.requests) == 2
    assert client.transport == ("websocket" if websockets else "http"), "no fallback for a retried fault"


@TRANSPORTS
@pytest.mark.parametrize(
    ("fault", "delay"),
    [
        ({"kind": "status", "status": 429, "retry_after": 0.05}, 0.05),
        ({"kind": "status", "status": 500, "retry_after": 0.03}, 0.03),
        ({"kind": "status", "status": 429, "message": "Rate limit reached. Please try again in 20ms."}, 0.02),
        ({"kind": "failed", "code": "rate_limit_exceeded", "message": "Please try again in 0.04s."}, 0.04),
    ],
    ids=["retry-after-429", "retry-after-500", "try-again-ms", "failed-try-again-s"],
)
async def test_server_requested_delay_is_honoured(
    fake: FakeResponsesServer,
    make_client: ClientFactory,
    websockets: bool,
    fault: dict[str, Any],
    delay: float,
) -> None:
    fake.load(script([failing(fault), say("ok")]))
    events = await run(make_client(websockets=websockets).new_turn(), [user("go")])
    (notice,) = notices(events)
    assert notice.delay == pytest.approx(delay)
    assert texts(events) == "ok"


@TRANSPORTS
@pytest.mark.parametrize("kind", ["malformed_json", "binary"])
async def test_unreadable_frames(
    fake: FakeResponsesServer, make_client: ClientFactory, websockets: bool, kind: str
) -> None:
    """Non-JSON payloads are ignored (upstream); a binary WebSocket frame is an error and is retried."""
    fake.load(script([say("hello there", fault={"kind": kind, "after_events": 3}), say("again")]))
    events = await run(make_client(websockets=websockets).new_turn(), [user("go")])
    if kind == "binary" and websockets:
        assert texts(events).endswith("again")
        assert len(notices(events)) == 1
        assert len(fake.requests) == 2
    else:
        assert texts(events) == "hello there"
        assert not notices(events)
        assert len(fake.requests) == 1


@TRANSPORTS
@pytest.mark.parametrize("code", sorted(FATAL_CODES))
async def test_fatal_failure_codes_end_with_a_clear_error(
    fake: FakeResponsesServer, make_client: ClientFactory, websockets: bool, code: str
) -> None:
    fake.load(
        script([failing({"kind": "failed", "code": code, "message": f"refused: {code}"}), say("never")])
    )
    with pytest.raises(FatalModelError) as caught:
        await run(make_client(websockets=websockets).new_turn(), [user("go")])
    assert caught.value.code == code
    assert f"refused: {code}" in str(caught.value)
    assert len(fake.generating_requests()) == 1, "fatal errors are not retried"


@TRANSPORTS
async def test_incomplete_response_is_fatal(
    fake: FakeResponsesServer, make_client: ClientFactory, websockets: bool
) -> None:
    fake.load(script([failing({"kind": "incomplete", "after_events": 2})]))
    with pytest.raises(FatalModelError, match="max_output_tokens"):
        await run(make_client(websockets=websockets).new_turn(), [user("go")])


@TRANSPORTS
@pytest.mark.parametrize(("status", "error"), [(401, AuthError), (400, FatalModelError)])
async def test_refusing_statuses_are_not_retried(
    fake: FakeResponsesServer,
    make_client: ClientFactory,
    websockets: bool,
    status: int,
    error: type[Exception],
) -> None:
    fake.load(script([failing({"kind": "status", "status": status, "code": "invalid_request"})]))
    with pytest.raises(error, match=f"HTTP {status}"):
        await run(make_client(websockets=websockets).new_turn(), [user("go")])
    assert len(fake.requests) == 1


async def test_connection_limit_reconnects_at_once(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    limit = {"kind": "error_event", "code": "websocket_connection_limit_reached", "message": "60 minutes"}
    fake.load(script([say("a"), failing(limit), say("fresh socket")]))
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    history.append(user("more"))
    events = await run(session, history)
    (notice,) = notices(events)
    assert notice.delay == 0
    assert texts(events) == "fresh socket"
    assert len(fake.handshakes) == 2
    assert "previous_response_id" not in fake.requests[-1].body


async def test_slow_streaming_completes(fake: FakeResponsesServer, make_client: ClientFactory) -> None:
    fake.load(script([say("slow but steady " * 3, delay_ms=5, chunk_size=3)]))
    events = await run(make_client(stream_idle_timeout_ms=1000).new_turn(), [user("go")])
    assert texts(events) == "slow but steady " * 3
    assert not notices(events)


async def test_http_retries_run_out_with_the_last_error(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([failing({"kind": "status", "status": 500, "message": f"boom {n}"}) for n in range(4)]))
    with pytest.raises(RetriesExhausted, match="boom 2") as caught:
        await run(make_client(websockets=False, stream_max_retries=2).new_turn(), [user("go")])
    assert isinstance(caught.value.__cause__, Exception)
    assert len(fake.requests) == 3


async def test_rate_limits_never_leave_websocket(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([failing({"kind": "status", "status": 429}) for _ in range(4)]))
    client = make_client(stream_max_retries=2)
    with pytest.raises(RetriesExhausted, match="429"):
        await run(client.new_turn(), [user("go")])
    assert client.transport == "websocket"
    assert not client.websockets_disabled
    assert all(r.transport == "websocket" for r in fake.requests)


async def test_previous_response_lost_resends_full_request(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """A chained request whose previous response the server forgot is resent in full on a new socket."""
    fake.load(script([say("a"), say("b")]))
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    await run(session, history)
    conn = client.connections.take_connection(await client.connections.credential_headers())
    assert conn is not None
    assert conn.last is not None
    conn.last.response_id = "resp_unknown"
    client.connections.give_back(conn)
    history.append(user("more"))
    events = await run(session, history)
    assert texts(events) == "b"
    lost, resent = fake.requests[1:]
    assert lost.body["previous_response_id"] == "resp_unknown"
    assert lost.response_id is None
    assert "previous_response_id" not in resent.body
    assert resent.body["input"] == history[:3]
