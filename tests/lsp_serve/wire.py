"""Just enough of an LSP client for the transport tests: framed messages over streams and processes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from codex_lsp.lsp.serve import frame, read_frame

REPO = Path(__file__).resolve().parents[2]
WAIT = 10.0  # a generous bound on one awaited event; tests never assert on elapsed time


def initialize(token: str | None = None, request_id: int = 1, **options: Any) -> dict[str, Any]:
    """An ``initialize`` request, with ``initializationOptions.token`` when ``token`` is given."""
    init_options = {**options, **({"token": token} if token is not None else {})}
    params = {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": init_options}
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


def request(method: str, request_id: int, params: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def notification(method: str, params: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def encode(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message).encode("utf-8"))


async def send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(encode(message))
    await writer.drain()


async def receive(reader: asyncio.StreamReader) -> dict[str, Any]:
    """The next message; fails if the stream ends first."""
    body = await asyncio.wait_for(read_frame(reader), WAIT)
    assert body is not None, "the server closed the stream"
    message: dict[str, Any] = json.loads(body)
    return message


async def response(reader: asyncio.StreamReader, request_id: int) -> dict[str, Any]:
    """The response to ``request_id``, skipping the server's notifications and requests."""
    while True:
        message = await receive(reader)
        if message.get("id") == request_id and "method" not in message:
            return message


def parse_frames(data: bytes) -> list[dict[str, Any]]:
    """Split a whole byte stream into LSP messages, failing on any byte that is not part of one."""
    messages: list[dict[str, Any]] = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"bytes outside any LSP frame: {data[:80]!r}"
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        assert set(fields) <= {b"Content-Length", b"Content-Type"}, f"not an LSP header: {head!r}"
        length = int(fields[b"Content-Length"])
        body, data = rest[:length], rest[length:]
        assert len(body) == length, "a truncated frame"
        message = json.loads(body)
        assert message["jsonrpc"] == "2.0"
        messages.append(message)
    return messages


async def start_tiny(*args: str) -> asyncio.subprocess.Process:
    """Start ``codex-lsp ARGS`` serving the tiny server, with every stream piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.lsp_serve.tiny",
        *args,
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stderr_line_with(proc: asyncio.subprocess.Process, marker: str, seen: list[str]) -> str:
    """Read the process's stderr up to the first line containing ``marker``; keep every line in ``seen``."""
    assert proc.stderr is not None
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), WAIT)).decode()
        assert line, f"stderr ended before {marker!r}:\n{''.join(seen)}"
        seen.append(line)
        if marker in line:
            return line
