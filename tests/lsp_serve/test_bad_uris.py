"""Hostile URIs and a client without folders, over raw frames on a real ``codex-lsp --stdio`` process:
a ``file:`` URI with ``%00`` is ``InvalidParams`` with a readable message and no ``data`` (no traceback
reaches the client), and a file
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
        return await self.answer_to(message["id"])

    async def answer_to(self, request_id: int) -> dict[str, Any]:
        """The answer to the request ``request_id`` (sent already)."""
        while True:
            received = await self._next()
            if received.get("id") == request_id and "method" not in received:
                return received

    async def next_request(self, method: str) -> dict[str, Any]:
        """The next request the server sends with ``method``."""
        while True:
            received = await self._next()
            if received.get("method") == method and "id" in received:
                return received

    async def _next(self) -> dict[str, Any]:
        body = await asyncio.wait_for(read_frame(self.stdout), WAIT)
        assert body is not None, "the server closed its output"
        received: dict[str, Any] = json.loads(body)
        self.seen.append(received)
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


async def test_a_client_without_folders_or_root_is_asked_for_the_files_folder(tmp_path: Path) -> None:
    """Single-file mode (no ``rootUri``, no folders): no folder is open, so the file's folder is asked for;
    without ``window/showMessageRequest`` the request is refused, naming no open folder."""
    loose = (tmp_path / "scratch").resolve()
    loose.mkdir()
    (loose / "note.py").write_text("n = 1\n")
    uri = from_fs_path(str(loose / "note.py")) or ""
    for can_ask in (False, True):
        wire = await start(tmp_path)
        capabilities: dict[str, Any] = {"window": {"showMessage": {}}} if can_ask else {}
        init = {"processId": None, "rootUri": None, "capabilities": capabilities}
        assert "result" in await wire.answer(request("initialize", 1, init))
        await wire.send(notification("initialized", {}))
        await wire.send(execute(2, "codex.newThread", uri=uri))
        if can_ask:
            question = await wire.next_request("window/showMessageRequest")
            assert f"the files in {loose} for the rest of this session" in question["params"]["message"]
            await wire.send(
                {"jsonrpc": "2.0", "id": question["id"], "result": {"title": "Allow for this session"}}
            )
            answer = await wire.answer_to(2)
            assert answer["result"]["cwd"] == str(loose)
        else:
            answer = await wire.answer_to(2)
            assert answer["error"]["code"] == REQUEST_FAILED
            assert "is outside the open folders (none)" in answer["error"]["message"]
        assert "result" in await wire.answer(request("shutdown", 3))
        await wire.send(notification("exit"))
        assert await asyncio.wait_for(wire.proc.wait(), WAIT) == 0
