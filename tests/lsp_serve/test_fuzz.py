"""Fuzz: LSP messages, valid and malformed, over raw frames to one real ``codex-lsp --stdio``.

Each example is a batch of messages (:mod:`tests.lsp_serve.lsp_messages`) sent to the same running server,
which has been initialized as VS Code initializes it. After each batch:

- every request got exactly one answer, with its id; every body JSON-RPC says is answered with
  ``"id": null`` got one; nothing else was answered;
- nothing the server sent carries a traceback (in a message, or as an error's ``data``), no
  "Error in server" popup, and no notification's handler failed (an "internal error" log line);
- the server still serves: ``codex.status`` is answered with a result.

At the end the server is shut down (``shutdown`` answered, ``exit`` → status 0), no request was ever
answered twice, and asyncio reported no unhandled failure on stderr. A batch that kills the server fails;
the next one starts a new server.

The hypothesis profile is tests/fuzzing.py's: deterministic in CI, ``CODEX_LSP_FUZZ_EXAMPLES=N`` for more.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from pytest_lsp import client_capabilities

from codex_lsp.lsp.client import client_converter
from tests.fuzzing import FUZZ, TIMEOUT
from tests.lsp_serve.lsp_messages import Body, batches, expected
from tests.lsp_serve.real import (
    ASYNCIO_NOISE,
    TRACEBACK,
    RawSession,
    command,
    initialize,
    notification,
    start_raw_server,
)


class SharedServer:
    """One ``codex-lsp --stdio`` for the whole run, on an event loop of its own (examples are synchronous),
    started again when a batch ended it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.session: RawSession | None = None
        self.batch = 0
        self.sent_ids: list[Any] = []
        self.sessions: list[RawSession] = []

    def run(self, bodies: list[Body]) -> None:
        self.batch += 1
        try:
            self.loop.run_until_complete(asyncio.wait_for(self._check(bodies), 60))
        except BaseException:
            if self.session is not None:  # the next example starts afresh, not in the middle of this one
                self.loop.run_until_complete(self.session.kill())
            raise

    async def _server(self) -> RawSession:
        if self.session is None or self.session.proc.returncode is not None:
            workspace = self.tmp / "ws"
            workspace.mkdir(exist_ok=True)
            self.session = await start_raw_server(self.tmp, cwd=workspace)
            self.sessions.append(self.session)
            caps = client_converter().unstructure(client_capabilities("visual_studio_code"))
            caps["experimental"] = {"codex": {"streaming": True}}
            started = f"init-{len(self.sessions)}"
            await self.session.send(initialize(started, workspace, caps), notification("initialized", {}))
            assert "result" in await self.session.answer(started)
        return self.session

    async def _check(self, bodies: list[Body]) -> None:
        server = await self._server()
        bodies = renumbered(bodies, self.batch)
        start = len(server.received)
        want = expected(bodies)
        self.sent_ids += want.ids
        await server.send(*bodies)
        for request_id in want.ids:
            await server.answer(request_id)
        probe = f"still-serving-{self.batch}"
        await server.send(command(probe, "codex.status"))
        assert "result" in await server.answer(probe), "the server no longer serves"
        new = server.received[start:]
        answers = Counter(_key(m["id"]) for m in new if "method" not in m and "id" in m)
        assert answers[_key(None)] == want.nulls, "answers with id null"
        assert answers - Counter({_key(None): want.nulls}) == Counter(_key(i) for i in [*want.ids, probe]), (
            "one answer per request, and none for anything else"
        )
        assert_no_traceback(new)

    def close(self) -> None:
        async def stop() -> None:
            if self.session is not None and self.session.proc.returncode is None:
                status, _ = await self.session.stop()
                assert status == 0
            for session in self.sessions:
                await session.kill()

        try:
            self.loop.run_until_complete(stop())
            stderr = (self.tmp / "server-stderr.log").read_text(encoding="utf-8", errors="replace")
            assert not [noise for noise in ASYNCIO_NOISE if noise in stderr], stderr[-4000:]
            every = Counter(
                _key(m["id"])
                for session in self.sessions
                for m in session.received
                if "method" not in m and "id" in m and m["id"] is not None
            )
            assert every.most_common(1)[0][1] == 1, "a request was answered twice"
        finally:
            self.loop.close()


def renumbered(bodies: list[Body], batch: int) -> list[Body]:
    """The batch with its ids made unique over the whole run (their JSON types kept)."""

    def new(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | str):
            return value
        return value + batch * 10**9 if isinstance(value, int) else f"b{batch}-{value}"

    out: list[Body] = []
    for body in bodies:
        if not isinstance(body, dict):
            out.append(body)
            continue
        copy = dict(body)
        if "id" in copy:
            copy["id"] = new(copy["id"])
        params = copy.get("params")
        if copy.get("method") == "$/cancelRequest" and isinstance(params, dict) and "id" in params:
            copy["params"] = {**params, "id": new(params["id"])}
        out.append(copy)
    return out


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def assert_no_traceback(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        text = repr(message)
        assert not TRACEBACK.search(text), message
        assert "Error in server" not in text, message
        data = message.get("error", {}).get("data") if isinstance(message.get("error"), dict) else None
        assert not (isinstance(data, dict) and "traceback" in data), message
        if message.get("method") == "window/logMessage":
            assert "internal error" not in message["params"]["message"], "a handler failed"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedServer]:
    server = SharedServer(tmp_path_factory.mktemp("lsp-fuzz"))
    yield server
    server.close()


@pytest.mark.timeout(TIMEOUT)
@FUZZ
@given(bodies=batches())
def test_every_request_is_answered_once_without_a_traceback_and_the_server_still_serves(
    shared_server: SharedServer, bodies: list[Body]
) -> None:
    shared_server.run(bodies)
