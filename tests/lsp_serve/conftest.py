"""Fixtures: a tiny server listening on 127.0.0.1 (ephemeral port) over TCP or WebSocket, in this process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from codex_lsp.lsp.access import ListenAddress
from codex_lsp.lsp.serve import FramingError, serve_tcp, serve_ws
from tests.lsp_serve.tiny import TinyServer, build_tiny_server
from tests.lsp_serve.wire import WAIT

TOKEN = "t0ken-for-the-tests-only-0123456789"
ALLOWED_ORIGIN = "http://localhost:3000"


@dataclass
class Running:
    """A served tiny server: its bound address, the serving task and what its handlers saw."""

    server: TinyServer
    address: ListenAddress
    task: asyncio.Task[None]

    async def ended(self) -> None:
        """Wait until serving ends (the one client went), re-raising what ended it."""
        await asyncio.wait_for(asyncio.shield(self.task), WAIT)


Serve = Callable[[TinyServer, Callable[[ListenAddress], None]], Coroutine[Any, Any, None]]


async def _start(serve: Serve) -> Running:
    server = build_tiny_server()
    bound: asyncio.Future[ListenAddress] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(server, bound.set_result))
    waiting: list[asyncio.Future[Any]] = [task, bound]
    await asyncio.wait(waiting, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # serving failed to start: raise why
    return Running(server, bound.result(), task)


@contextlib.asynccontextmanager
async def _running(serve: Serve) -> AsyncIterator[Running]:
    running = await _start(serve)
    try:
        yield running
    finally:
        running.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, SystemExit, FramingError):
            await running.task


LOOPBACK = ListenAddress("127.0.0.1", 0)


@pytest.fixture
async def tcp() -> AsyncIterator[Running]:
    async with _running(lambda s, ready: serve_tcp(s, LOOPBACK, TOKEN, ready, auth_timeout=WAIT)) as r:
        yield r


@pytest.fixture
async def tcp_quick_timeout() -> AsyncIterator[Running]:
    async with _running(lambda s, ready: serve_tcp(s, LOOPBACK, TOKEN, ready, auth_timeout=0.2)) as r:
        yield r


@pytest.fixture
async def ws() -> AsyncIterator[Running]:
    origins = frozenset({ALLOWED_ORIGIN})
    async with _running(
        lambda s, ready: serve_ws(s, LOOPBACK, TOKEN, origins, ready, auth_timeout=WAIT)
    ) as r:
        yield r


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in ("pygls", "websockets")}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        if handler not in handlers:
            handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in chatty.items():
        logging.getLogger(name).setLevel(old)
    logging.captureWarnings(False)
