"""Hostile URIs over raw frames, on a real ``codex-lsp --stdio`` process: a ``file:`` URI with ``%00`` is
``InvalidParams`` with a readable message and no ``data`` (no traceback reaches the client), and a file
outside the open folder (``file:///etc/passwd``, ``ws/%2e%2e/…``) is ``RequestFailed`` naming the file
and the folder — never a new workspace for the agent. The server keeps serving throughout."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from pygls.uris import from_fs_path

from codex_lsp.lsp.serve import read_frame
from tests.lsp_serve.wire import REPO, WAIT, encode, notification, request

INVALID_PARAMS, REQUEST_FAILED = -32602, -32803


class Wire:
    """A raw LSP client on a process's stdio that keeps every message it reads."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        self.proc, self.stdin, self.stdout = proc, proc.stdin, proc.stdout
        self.seen: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.stdin.write(encode(message))
        await self.stdin.drain()

    async def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a request and return its answer (whatever else arrives meanwhile is kept)."""
        await self.send(message)
        while True:
            body = await asyncio.wait_for(read_frame(self.stdout), WAIT)
            assert body is not None, "the server closed its output"
            received: dict[str, Any] = json.loads(body)
            self.seen.append(received)
            if received.get("id") == message["id"] and "method" not in received:
                return received


async def start(tmp_path: Path) -> Wire:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "CODEX_API_KEY")}
    env.update(CODEX_HOME=str(tmp_path / "home"), CODEX_LSP_STATE_DIR=str(tmp_path / "state"))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "--stdio",
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return Wire(proc)


def execute(request_id: int, command: str, **arguments: Any) -> dict[str, Any]:
    return request("workspace/executeCommand", request_id, {"command": command, "arguments": [arguments]})


async def test_malformed_and_outside_uris_over_raw_frames(tmp_path: Path) -> None:
    ws = (tmp_path / "ws").resolve()
    ws.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.key").write_text("secret\n")
    root = from_fs_path(str(ws)) or ""
    nul = f"{root}/a%00b.py"
    wire = await start(tmp_path)
    init: dict[str, Any] = {
        "processId": None,
        "rootUri": root,
        "capabilities": {},
        "workspaceFolders": [{"uri": root, "name": "ws"}],
    }
    assert "result" in await wire.answer(request("initialize", 1, init))
    await wire.send(notification("initialized", {}))
    item = {"uri": nul, "languageId": "python", "version": 1, "text": "import os\n"}
    await wire.send(notification("textDocument/didOpen", {"textDocument": item}))

    for request_id, command in enumerate(("codex.ask", "codex.newThread"), start=2):
        answer = await wire.answer(execute(request_id, command, prompt="explain", uri=nul))
        error = answer["error"]
        assert error["code"] == INVALID_PARAMS, answer
        assert "contains a NUL character (%00)" in error["message"]
        assert "data" not in error or error["data"] is None, error

    span = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}
    actions = await wire.answer(
        request(
            "textDocument/codeAction",
            4,
            {"textDocument": {"uri": nul}, "range": span, "context": {"diagnostics": []}},
        )
    )
    assert "result" in actions, actions

    for request_id, uri in ((5, "file:///etc/passwd"), (6, f"{root}/%2e%2e/outside/secret.key")):
        answer = await wire.answer(execute(request_id, "codex.newThread", uri=uri))
        error = answer["error"]
        assert error["code"] == REQUEST_FAILED, answer
        assert "is outside the open folders" in error["message"]
        assert error["data"]["folders"] == [str(ws)]

    status = await wire.answer(execute(7, "codex.status"))
    assert status["result"]["folders"] == [str(ws)]
    assert status["result"]["allowedFolders"] == []
    assert "result" in await wire.answer(request("shutdown", 8))
    await wire.send(notification("exit"))
    assert await asyncio.wait_for(wire.proc.wait(), WAIT) == 0
    everything = json.dumps(wire.seen)
    assert "Traceback" not in everything
    assert not [m for m in wire.seen if m.get("method") == "window/showMessage" and m["params"]["type"] == 1]
