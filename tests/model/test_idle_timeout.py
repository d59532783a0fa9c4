"""The WebSocket idle timeout (:class:`IdleWatch`): it counts only time spent waiting for the server, per
receive, and a silent server still ends in an idle-timeout retry.

The watch's own rules are checked on a clock moved by hand, to the instant. The streams over a real
socket keep every gap far from the timeout (gaps a tenth of it, or a pause well over it), so a loaded
machine stretching a wait by a few hundred milliseconds changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from codex_lsp.model import Prompt
from codex_lsp.model.notices import RetryNotice
from codex_lsp.model.session import StreamEvent
from codex_lsp.model.ws_transport import IdleWatch
from codex_lsp.testing import FakeResponsesServer
from tests.model.conftest import ClientFactory
from tests.model.helpers import run, say, script, texts, user


@dataclass
class _Timer:
    when: float
    callback: Callable[[], object]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock and its timers, moved by hand (the part of the event loop an :class:`IdleWatch` uses)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[_Timer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], object], /) -> _Timer:
        timer = _Timer(when, callback)
        self.timers.append(timer)
        return timer

    def advance_to(self, moment: float) -> None:
        """Move to ``moment``, running each timer due by then at its own time, earliest first."""
        for _ in range(1000):
            due = [t for t in self.timers if not t.cancelled and t.when <= moment]
            if not due:
                break
            timer = min(due, key=lambda t: t.when)
            self.timers.remove(timer)
            self.now = max(self.now, timer.when)
            timer.callback()
        else:
            raise AssertionError(f"timers keep coming due at {self.now} (a timer re-armed for the past)")
        self.now = moment


def test_a_receive_waiting_the_whole_timeout_expires_once() -> None:
    clock, fired = ManualClock(), list[float]()
    watch = IdleWatch(1.0, lambda: fired.append(clock.now), clock)
    watch.waiting()
    clock.advance_to(0.99)
    assert not watch.expired
    clock.advance_to(1.0)
    assert watch.expired
    clock.advance_to(10.0)
    assert fired == [1.0], "once, when the timeout is up"


def test_time_between_receives_does_not_count() -> None:
    clock = ManualClock()
    watch = IdleWatch(1.0, lambda: None, clock)
    for _ in range(3):  # 1.8 s spent waiting in all, 0.6 s at a time
        watch.waiting()
        clock.advance_to(clock.now + 0.6)
        watch.idle()
        clock.advance_to(clock.now + 0.9)
    assert not watch.expired
    start = clock.now
    watch.waiting()  # and a whole timeout's wait still expires after all that
    clock.advance_to(start + 0.99)
    assert not watch.expired
    clock.advance_to(start + 1.0)
    assert watch.expired


def test_a_timer_armed_for_an_earlier_receive_waits_for_the_pending_ones_deadline() -> None:
    clock = ManualClock()
    watch = IdleWatch(1.0, lambda: None, clock)
    watch.waiting()  # the one timer is armed for 1.0
    clock.advance_to(0.5)
    watch.idle()
    clock.advance_to(0.8)
    watch.waiting()  # its deadline is 1.8
    clock.advance_to(1.79)
    assert not watch.expired
    clock.advance_to(1.8)
    assert watch.expired
    assert len([t for t in clock.timers if not t.cancelled]) == 0, "one timer at a time, none left"


def test_a_cancelled_watch_never_expires() -> None:
    clock = ManualClock()
    watch = IdleWatch(1.0, lambda: None, clock)
    watch.waiting()
    watch.cancel()
    clock.advance_to(5.0)
    assert not watch.expired


async def test_silence_ends_in_an_idle_timeout_retry(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([{"output": [], "fault": {"kind": "silence", "after_events": 2}}, say("recovered")]))
    events = await run(make_client(stream_idle_timeout_ms=300).new_turn(), [user("go")])
    (notice,) = [e for e in events if isinstance(e, RetryNotice)]
    assert "idle timeout waiting for websocket" in notice.reason
    assert texts(events).endswith("recovered")


async def test_gaps_shorter_than_the_timeout_never_expire_it(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """Twenty-four events 30 ms apart take longer than the 400 ms timeout, but no single wait does."""
    letters = "abcdefghijklmnop"
    fake.load(script([say(letters, delay_ms=30, chunk_size=1)]))
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await run(make_client(stream_idle_timeout_ms=400).new_turn(), [user("go")])
    assert loop.time() - started > 0.4, "the stream as a whole outlasted the timeout"
    assert texts(events) == letters
    assert not [e for e in events if isinstance(e, RetryNotice)]


async def test_a_slow_consumer_is_not_an_idle_server(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    """The consumer spends longer than the timeout on the first event while the rest of the stream
    comes, 50 ms apart: only the consumer's time could expire it (and would, cutting the stream)."""
    fake.load(script([say("hello", delay_ms=50, chunk_size=1)]))
    session = make_client(stream_idle_timeout_ms=400).new_turn()
    seen: list[StreamEvent] = []
    async for event in session.stream(Prompt(input=[user("go")])):
        seen.append(event)
        if len(seen) == 1:
            await asyncio.sleep(0.5)  # the consumer's own work: what is under test, not a wait for it
    assert seen[-1].type == "response.completed"
    assert not [e for e in seen if isinstance(e, RetryNotice)]
    assert texts(seen) == "hello"
