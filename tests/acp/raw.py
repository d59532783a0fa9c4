"""``codex-lsp acp`` as a raw-line peer: a test writes any line and reads every message the agent sends.

The agent runs in a throwaway home (no key, no configuration: nothing reaches a model), its state under the
test's folder and its stderr in a file, so however much it logs it never blocks. Requests the agent sends
the client are answered with ``null``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_lsp.testing import clean_env

TIMEOUT = 15
"""Seconds one awaited line may take (a sanity bound, not a measure)."""


def line(message: Any) -> bytes:
    return json.dumps(message).encode("utf-8") + b"\n"


def initialize(request_id: Any = 0) -> dict[str, Any]:
    params = {"protocolVersion": 1, "clientCapabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


@dataclass
class RawAgent:
    proc: asyncio.subprocess.Process
    stderr_path: Path
    received: list[dict[str, Any]] = field(default_factory=list)

    async def write(self, *lines: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"".join(lines))
        await self.proc.stdin.drain()

    async def next_message(self) -> dict[str, Any] | None:
        """The next message the agent sends (its requests answered ``null``); ``None`` at end of stream."""
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), TIMEOUT)
        if not raw:
            return None
        message = json.loads(raw)
        assert isinstance(message, dict), f"the agent wrote a line that is not an object: {raw!r}"
        self.received.append(message)
        if "method" in message and "id" in message:
            await self.write(line({"jsonrpc": "2.0", "id": message["id"], "result": None}))
        return message

    async def answer(self, request_id: Any) -> dict[str, Any]:
        """The response to ``request_id`` (reading on; every message is kept in :attr:`received`)."""
        for seen in self.received:
            if _is_response(seen, request_id):
                return seen
        while True:
            message = await self.next_message()
            assert message is not None, f"the agent ended without answering {request_id!r}"
            if _is_response(message, request_id):
                return message

    async def read_until(self, done: Callable[[], bool]) -> None:
        """Read on until ``done()`` (checked before each read; every message is kept in :attr:`received`)."""
        while not done():
            assert await self.next_message() is not None, "the agent ended first"

    async def finish(self) -> tuple[int, str]:
        """Close stdin, read stdout to its end, wait for the process: its status and its stderr."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        while await self.next_message() is not None:
            pass
        status = await asyncio.wait_for(self.proc.wait(), TIMEOUT)
        return status, self.stderr_path.read_text(encoding="utf-8", errors="replace")

    async def kill(self) -> None:
        """End the process now if it is still running."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def responses(self, request_id: Any) -> list[dict[str, Any]]:
        """Every response read so far whose id is ``request_id`` (JSON-equal: ``1`` is not ``1.0``)."""
        return [m for m in self.received if _is_response(m, request_id)]


def same_json(left: Any, right: Any) -> bool:
    """Equal as JSON values: ``1``, ``1.0``, ``True`` and ``"1"`` are four different ids."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _is_response(message: dict[str, Any], request_id: Any) -> bool:
    return "method" not in message and "id" in message and same_json(message["id"], request_id)


async def start_raw_agent(tmp: Path, *args: str, home: Path | None = None) -> RawAgent:
    """Start ``codex-lsp acp ARGS`` in ``tmp`` (with the Codex home ``home``; default: an empty one)."""
    if home is None:
        home = tmp / "home"
        home.mkdir(exist_ok=True)
    env = clean_env(home)
    env["CODEX_LSP_STATE_DIR"] = str(tmp / "state")
    stderr_path = tmp / "agent-stderr.log"
    with stderr_path.open("ab") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_lsp",
            "acp",
            *args,
            cwd=tmp,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            limit=1 << 24,
        )
    return RawAgent(proc, stderr_path)


@asynccontextmanager
async def raw_agent(tmp: Path, *args: str) -> AsyncIterator[RawAgent]:
    """Start ``codex-lsp acp ARGS`` in ``tmp``; kill it on the way out if the test did not end it."""
    agent = await start_raw_agent(tmp, *args)
    try:
        yield agent
    finally:
        await agent.kill()
