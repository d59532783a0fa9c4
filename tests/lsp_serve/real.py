"""The real server, ``codex-lsp --stdio``, as a raw-frame peer: a test writes any bytes, reads every message.

The server runs in a throwaway home (no key, no configuration: nothing can reach a model) with stderr in a
file, so that however much it logs it never blocks. :class:`RawSession` answers the server's own requests
the way a client that supports nothing would (``null``), and keeps every message it reads, so a test can
assert on all of them once the server has exited.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_lsp.lsp.serve import frame, read_frame
from codex_lsp.testing import clean_env
from tests.lsp_serve.wire import REPO, WAIT, encode

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")
"""What a Python traceback looks like in any text the client receives."""
ASYNCIO_NOISE = ("Exception in callback", "Task exception was never retrieved", "Task was destroyed")
"""What asyncio prints on stderr when a task or callback failed and nobody handled it."""


def server_env(tmp: Path, home: Path | None = None) -> dict[str, str]:
    """No key and no Codex configuration (or the Codex home ``home``); the server's state under ``tmp``."""
    if home is None:
        home = tmp / "home"
        home.mkdir(exist_ok=True)
    env = clean_env(home)
    env["CODEX_LSP_STATE_DIR"] = str(tmp / "state")
    return env


def request(method: str, request_id: int | str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def command(request_id: int | str, name: str, *arguments: Any) -> dict[str, Any]:
    return request("workspace/executeCommand", request_id, {"command": name, "arguments": list(arguments)})


def initialize(
    request_id: int | str = 1, folder: Path | None = None, capabilities: Any = None, **options: Any
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "processId": None,
        "rootUri": folder.as_uri() if folder else None,
        "capabilities": capabilities or {},
        "initializationOptions": options,
    }
    if folder is not None:
        params["workspaceFolders"] = [{"uri": folder.as_uri(), "name": folder.name}]
    return request("initialize", request_id, params)


@dataclass
class RawSession:
    """One running ``codex-lsp --stdio`` and everything read from it so far."""

    proc: asyncio.subprocess.Process
    stderr_path: Path
    received: list[dict[str, Any]] = field(default_factory=list)
    answered_server: int = 0
    """How many of the server's own requests this client answered (with ``null``)."""
    answers_server: bool = True
    """Whether the server's requests are answered (``False``: they stay pending, as with a stuck client)."""

    async def send(self, *messages: dict[str, Any] | bytes) -> None:
        """Write each message framed (a ``bytes`` body is framed as it is, JSON or not)."""
        assert self.proc.stdin is not None
        for message in messages:
            self.proc.stdin.write(frame(message) if isinstance(message, bytes) else encode(message))
        await self.proc.stdin.drain()

    async def write_raw(self, data: bytes) -> None:
        """Write bytes exactly as given, framing included (or not)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def next_message(self) -> dict[str, Any] | None:
        """The next message (answering it when it is the server's request); ``None`` at end of stream."""
        assert self.proc.stdout is not None
        body = await asyncio.wait_for(read_frame(self.proc.stdout), WAIT)
        if body is None:
            return None
        message: dict[str, Any] = json.loads(body)
        self.received.append(message)
        if "method" in message and "id" in message and self.answers_server:
            self.answered_server += 1
            await self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        return message

    async def answer(self, request_id: int | str) -> dict[str, Any]:
        """The response to ``request_id`` (reading on; earlier messages are kept in :attr:`received`)."""
        for seen in self.received:
            if _is_response(seen, request_id):
                return seen
        while True:
            message = await self.next_message()
            assert message is not None, f"the server ended without answering {request_id!r}"
            if _is_response(message, request_id):
                return message

    async def until(self, method: str) -> dict[str, Any]:
        """The first message (read already or still to come) calling ``method``."""
        for seen in self.received:
            if seen.get("method") == method:
                return seen
        while True:
            message = await self.next_message()
            assert message is not None, f"the server ended without sending {method}"
            if message.get("method") == method:
                return message

    async def finish(self) -> tuple[int, str]:
        """Read to the end of stdout and wait for the process: its status and its stderr."""
        while await self.next_message() is not None:
            pass
        status = await asyncio.wait_for(self.proc.wait(), WAIT)
        return status, self.stderr_path.read_text(encoding="utf-8", errors="replace")

    async def stop(self, request_id: int | str = "stop") -> tuple[int, str]:
        """``shutdown`` (answered with ``null``), ``exit``, and :meth:`finish`."""
        await self.send(request("shutdown", request_id))
        assert (await self.answer(request_id)).get("result", "missing") is None
        await self.send(notification("exit"))
        return await self.finish()

    async def kill(self) -> None:
        """End the process now if it is still running."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def responses(self, request_id: Any) -> list[dict[str, Any]]:
        """Every response read so far with this id (JSON-equal: ``1`` is not ``"1"``)."""
        return [m for m in self.received if "method" not in m and "id" in m and _same(m["id"], request_id)]

    def notifications(self, method: str) -> list[Any]:
        return [m.get("params") for m in self.received if m.get("method") == method and "id" not in m]

    def texts(self) -> str:
        """Everything the client was sent, as one JSON text (to look for tracebacks in)."""
        return "\n".join(json.dumps(m, ensure_ascii=False) for m in self.received)


def _same(left: Any, right: Any) -> bool:
    return type(left) is type(right) and left == right


def _is_response(message: dict[str, Any], request_id: Any) -> bool:
    return "method" not in message and "id" in message and _same(message["id"], request_id)


async def start_raw_server(
    tmp: Path, *args: str, cwd: Path | None = None, home: Path | None = None
) -> RawSession:
    """Start ``codex-lsp --stdio ARGS`` (end it with :meth:`RawSession.stop`, or kill it)."""
    stderr_path = tmp / "server-stderr.log"
    with stderr_path.open("ab") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "codex_lsp",
            "--stdio",
            *args,
            cwd=cwd or REPO,
            env=server_env(tmp, home),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    return RawSession(proc, stderr_path)


@asynccontextmanager
async def raw_server(
    tmp: Path, *args: str, cwd: Path | None = None, home: Path | None = None
) -> AsyncIterator[RawSession]:
    """Start ``codex-lsp --stdio ARGS``; kill it on the way out if the test did not end it."""
    session = await start_raw_server(tmp, *args, cwd=cwd, home=home)
    try:
        yield session
    finally:
        await session.kill()
