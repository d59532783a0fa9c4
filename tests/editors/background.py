"""Async servers for sync editor tests: an asyncio loop on a background thread.

Editor tests are plain functions (pynvim and Playwright's sync API each run their own loop while a call is
in flight), yet what the editor talks to — the fake Responses server that codex-lsp is pointed at — is
asyncio. `BackgroundLoop` hosts such servers on a daemon thread; `HostedFake` is the fake server on it, with
its script loaded and its records read on the loop's thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from codex_lsp.testing import FakeResponsesServer, Script

__all__ = ["BackgroundLoop", "HostedFake"]

T = TypeVar("T")
WAIT = 20.0


class BackgroundLoop:
    """An event loop running on its own daemon thread until `close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="editor-test-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = WAIT) -> T:
        """Run ``coroutine`` on the loop and return its result (or raise its exception)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T], timeout: float = WAIT) -> T:
        """Run a plain function on the loop's thread, so it never races the servers' callbacks."""

        async def call() -> T:
            return function()

        return self.run(call(), timeout)

    def close(self) -> None:
        """Stop the loop, cancelling what still runs on it, and end the thread."""

        async def cancel_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT)
        self.loop.close()


class HostedFake:
    """A started `FakeResponsesServer` on a `BackgroundLoop`."""

    def __init__(self, loop: BackgroundLoop, server: FakeResponsesServer) -> None:
        self.loop = loop
        self.server = server
        """The server itself: read its records through `HostedFake.read` while it may be serving."""

    @classmethod
    def start(cls, loop: BackgroundLoop) -> HostedFake:
        """Start an empty-scripted fake server on ``loop``."""
        server = FakeResponsesServer()
        loop.run(server.start())
        return cls(loop, server)

    @property
    def base_url(self) -> str:
        """The provider ``base_url`` to point codex-lsp at: ``http://127.0.0.1:PORT/v1``."""
        return self.server.base_url

    @property
    def chatgpt_base_url(self) -> str:
        """A provider ``base_url`` shaped like ChatGPT's: ``http://127.0.0.1:PORT/backend-api/codex``."""
        return self.server.chatgpt_base_url

    def accept_tokens(self, tokens: set[str] | None) -> None:
        """Let in only these bearer tokens (``None``: any), as the real server checks its credentials."""

        def accept() -> None:
            self.server.accepted_tokens = tokens

        self.loop.call(accept)

    def load(self, script: Script) -> None:
        """Replace the server's script."""
        self.loop.call(lambda: self.server.load(script))

    def read(self, function: Callable[[FakeResponsesServer], T]) -> T:
        """Read the server's state consistently, e.g. ``fake.read(lambda s: s.generating_requests())``."""
        return self.loop.call(lambda: function(self.server))

    def stop(self) -> None:
        """Close the listener and every connection."""
        self.loop.run(self.server.stop())
