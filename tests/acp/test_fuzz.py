"""Fuzz: lines, valid and malformed, to one real ``codex-lsp acp``.

Each example is a batch of lines (:mod:`tests.acp.acp_lines`) written to the same running agent, whose model
is the fake Responses server (so ``session/new`` and ``session/prompt`` really run: every turn gets the
fake's "script exhausted" answer). After each batch:

- every request got exactly one answer, with its id; every line JSON-RPC says is answered with
  ``"id": null`` got one; nothing else was answered;
- nothing the agent sent carries a traceback;
- the agent still serves: ``session/list`` is answered with a result.

At the end stdin is closed: the agent exits with status 0, no request was ever answered twice, and asyncio
reported no unhandled failure on stderr. A batch that kills the agent fails; the next one starts a new one.

The hypothesis profile is tests/fuzzing.py's: deterministic in CI, ``CODEX_LSP_FUZZ_EXAMPLES=N`` for more.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_lsp.testing import FakeResponsesServer, make_codex_home
from tests.acp.acp_lines import SESSION, batches, expected
from tests.acp.raw import RawAgent, initialize, line, start_raw_agent
from tests.fuzzing import FUZZ, TIMEOUT

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")
ASYNCIO_NOISE = ("Exception in callback", "Task exception was never retrieved", "Task was destroyed")
Line = dict[str, Any] | bytes


class SharedAgent:
    """One ``codex-lsp acp`` for the whole run, on an event loop of its own (examples are synchronous),
    with the fake model; started again when a batch ended it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.fake = FakeResponsesServer()
        self.loop.run_until_complete(self.fake.start())
        self.home = make_codex_home(tmp, self.fake.base_url, websockets=True)
        self.workspace = tmp / "ws"
        self.workspace.mkdir()
        (tmp / "a-file").write_text("not a folder\n", encoding="utf-8")
        self.cwds = (str(self.workspace), "relative/dir", "/nonexistent/codex-fuzz", "", str(tmp / "a-file"))
        self.agent: RawAgent | None = None
        self.agents: list[RawAgent] = []
        self.session: str | None = None
        self.batch = 0

    def run(self, lines: list[Line]) -> None:
        self.batch += 1
        try:
            self.loop.run_until_complete(asyncio.wait_for(self._check(lines), 60))
        except BaseException:
            if self.agent is not None:  # the next example starts afresh, not in the middle of this one
                self.loop.run_until_complete(self.agent.kill())
            raise

    async def _agent(self) -> RawAgent:
        if self.agent is None or self.agent.proc.returncode is not None:
            self.agent = await start_raw_agent(self.tmp, home=self.home)
            self.agents.append(self.agent)
            self.session = None
            started = f"init-{len(self.agents)}"
            await self.agent.write(line(initialize(started)))
            assert "result" in await self.agent.answer(started)
        return self.agent

    async def _check(self, lines: list[Line]) -> None:
        agent = await self._agent()
        lines = [self._prepared(item) for item in lines]
        start = len(agent.received)
        want = expected(lines)
        await agent.write(*(item + b"\n" if isinstance(item, bytes) else line(item) for item in lines))
        for request_id in want.ids:
            await agent.answer(request_id)
        # Requests with id null are answered in their own time (the SDK runs each request as a task).
        await agent.read_until(lambda: _nulls(agent.received[start:]) >= want.nulls)
        probe = f"still-serving-{self.batch}"
        await agent.write(line({"jsonrpc": "2.0", "id": probe, "method": "session/list", "params": {}}))
        assert "result" in await agent.answer(probe), "the agent no longer serves"
        new = agent.received[start:]
        self._remember_session(new)
        answers = Counter(_key(m["id"]) for m in new if "method" not in m and "id" in m)
        assert answers[_key(None)] == want.nulls, "answers with id null"
        assert answers - Counter({_key(None): want.nulls}) == Counter(_key(i) for i in [*want.ids, probe]), (
            "one answer per request, and none for anything else"
        )
        for message in new:
            assert not TRACEBACK.search(json.dumps(message)), message

    def _prepared(self, item: Line) -> Line:
        """Ids unique over the run (their JSON types kept) and ``SESSION`` made the last real session."""
        if isinstance(item, bytes):
            return item
        copy = dict(item)
        value = copy.get("id")
        if isinstance(value, str):
            copy["id"] = f"b{self.batch}-{value}"
        elif isinstance(value, int | float) and not isinstance(value, bool):
            copy["id"] = value + self.batch * 10**9
        params = copy.get("params")
        if isinstance(params, dict) and params.get("sessionId") == SESSION and self.session:
            copy["params"] = {**params, "sessionId": self.session}
        return copy

    def _remember_session(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            result = message.get("result")
            if isinstance(result, dict) and isinstance(result.get("sessionId"), str):
                self.session = result["sessionId"]

    def close(self) -> None:
        async def stop() -> None:
            if self.agent is not None and self.agent.proc.returncode is None:
                status, _ = await self.agent.finish()
                assert status == 0
            for agent in self.agents:
                await agent.kill()
            await self.fake.stop()

        try:
            self.loop.run_until_complete(stop())
            stderr = (self.tmp / "agent-stderr.log").read_text(encoding="utf-8", errors="replace")
            assert not [noise for noise in ASYNCIO_NOISE if noise in stderr], stderr[-4000:]
            every = Counter(
                _key(m["id"])
                for agent in self.agents
                for m in agent.received
                if "method" not in m and "id" in m and m["id"] is not None
            )
            assert every.most_common(1)[0][1] == 1, "a request was answered twice"
        finally:
            self.loop.close()


def _nulls(messages: list[dict[str, Any]]) -> int:
    return sum(1 for m in messages if "method" not in m and "id" in m and m["id"] is None)


def _key(value: Any) -> str:
    """An id as JSON (``1``, ``1.5`` and ``"1"`` are different ids)."""
    return json.dumps(value)


@pytest.fixture(scope="module")
def shared_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedAgent]:
    agent = SharedAgent(tmp_path_factory.mktemp("acp-fuzz"))
    yield agent
    agent.close()


@pytest.mark.timeout(TIMEOUT)
@FUZZ
@given(data=st.data())
def test_every_request_is_answered_once_without_a_traceback_and_the_agent_still_serves(
    shared_agent: SharedAgent, data: st.DataObject
) -> None:
    shared_agent.run(data.draw(batches(shared_agent.cwds), label="lines"))
