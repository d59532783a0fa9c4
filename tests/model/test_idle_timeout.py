"""The WebSocket idle timeout (:class:`IdleWatch`): it counts only time spent waiting for the server, per
receive, and a silent server still ends in an idle-timeout retry."""

from __future__ import annotations

import asyncio

from codex_lsp.model import Prompt
from codex_lsp.model.notices import RetryNotice
from codex_lsp.model.session import StreamEvent
from codex_lsp.model.ws_transport import IdleWatch
from codex_lsp.testing import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, say, script, texts, user


async def test_a_receive_waiting_longer_than_the_timeout_expires_once() -> None:
    fired: list[bool] = []
    watch = IdleWatch(0.05, lambda: fired.append(True))
    watch.waiting()
    await asyncio.sleep(0.12)
    assert watch.expired
    assert fired == [True]
    watch.cancel()


async def test_time_between_receives_does_not_count() -> None:
    watch = IdleWatch(0.05, lambda: None)
    for _ in range(3):
        watch.waiting()
        await asyncio.sleep(0.03)
        watch.idle()
        await asyncio.sleep(0.06)
    assert not watch.expired
    watch.cancel()


async def test_silence_ends_in_an_idle_timeout_retry(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([{"output": [], "fault": {"kind": "silence", "after_events": 2}}, say("recovered")]))
    events = await run(make_client(stream_idle_timeout_ms=100).new_turn(), [user("go")])
    (notice,) = [e for e in events if isinstance(e, RetryNotice)]
    assert "idle timeout waiting for websocket" in notice.reason
    assert texts(events).endswith("recovered")


async def test_gaps_shorter_than_the_timeout_never_expire_it(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """Thirteen events 40 ms apart take longer than the 150 ms timeout, but no single wait does."""
    fake.load(script([say("abcd", delay_ms=40, chunk_size=1)]))
    events = await run(make_client(stream_idle_timeout_ms=150).new_turn(), [user("go")])
    assert texts(events) == "abcd"
    assert not [e for e in events if isinstance(e, RetryNotice)]


async def test_a_slow_consumer_is_not_an_idle_server(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("hello")]))
    session = make_client(stream_idle_timeout_ms=50).new_turn()
    seen: list[StreamEvent] = []
    async for event in session.stream(Prompt(input=[user("go")])):
        seen.append(event)
        if len(seen) <= 2:
            await asyncio.sleep(0.12)
    assert seen[-1].type == "response.completed"
    assert not [e for e in seen if isinstance(e, RetryNotice)]
