"""Resources a hostile or careless editor can exhaust (issue 15, items 9–11), asserted as bounds on work
and memory of a real ``codex-lsp --stdio`` process — never on wall time.

Work is the server's CPU time (all its threads, from ``/proc``): unlike wall time it does not count
waiting for a CPU, so it holds on a busy machine. Memory is its resident set size. Each bound is
generous (several times what the server needs) and far below what the bug it guards against costs.
``bench/resources.py`` prints the same figures.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from codex_lsp.testing import (
    FakeResponsesServer,
    LspClient,
    Script,
    clean_env,
    cpu_seconds,
    make_codex_home,
    rss_kib,
)

WAIT = 60.0
"""Seconds any one answer may take before the test fails (a sanity bound, never a measure)."""


def source(lines: int) -> str:
    """Python-like text, every line different."""
    return "".join(f"    value_{n} = combine(item_{n % 97}, {n}, 'x{n % 13}')\n" for n in range(lines))


def diagnostics(lines: int, count: int) -> list[dict[str, Any]]:
    """``count`` diagnostics spread over the file, as a linter reports them."""
    step = max(1, lines // count)
    return [
        {
            "range": {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 12}},
            "severity": 2,
            "code": "F841",
            "source": "ruff",
            "message": f"Local variable `value_{line}` is assigned to but never used",
        }
        for line in range(step // 2, step * count, step)
    ][:count]


async def execute(client: LspClient, command: str, argument: dict[str, Any] | None = None) -> Any:
    params = {"command": command, "arguments": [argument or {}]}
    async with asyncio.timeout(WAIT):
        return await client.request("workspace/executeCommand", params)


@asynccontextmanager
async def server(tmp: Path, fake: FakeResponsesServer) -> AsyncIterator[tuple[LspClient, Path]]:
    """``codex-lsp --stdio`` initialized, its agent side loaded, talking to ``fake``."""
    home = make_codex_home(tmp, fake.base_url, websockets=True)
    env = {**clean_env(home), "CODEX_LSP_STATE_DIR": str(tmp / "state")}
    workspace = tmp / "ws"
    workspace.mkdir()
    command = [sys.executable, "-m", "codex_lsp", "--stdio", "--log-level", "warning"]
    client = await LspClient.start(command, env=env, cwd=workspace)
    try:
        uri = workspace.as_uri()
        init = {"processId": None, "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "ws"}]}
        async with asyncio.timeout(WAIT):
            await client.request("initialize", {**init, "capabilities": {"workspace": {"applyEdit": True}}})
            await client.notify("initialized", {})
        await execute(client, "codex.status")
        yield client, workspace
    finally:
        await client.close()


async def open_with_diagnostics(client: LspClient, uri: str, text: str, found: list[dict[str, Any]]) -> None:
    """Open a document and report its diagnostics as the editor plugin does; return once the server has
    taken both (a request answered after them)."""
    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    await client.notify("textDocument/didOpen", {"textDocument": item})
    await client.notify("codex/didChangeDiagnostics", {"uri": uri, "version": 1, "diagnostics": found})
    await execute(client, "codex.status")


async def fix_all_cpu(client: LspClient, uri: str) -> float:
    """The server's CPU seconds for one "Fix all N problems in this file" turn (zero-latency model)."""
    before = cpu_seconds(client.pid)
    result = await execute(client, "codex.fixDiagnostics", {"uri": uri, "version": 1, "all": True})
    assert result["status"] == "completed", result
    return cpu_seconds(client.pid) - before


FIX_LINES = 100_000
MARGINAL_CPU_PER_DIAGNOSTIC = 0.002
"""Seconds of server CPU one more diagnostic may add to a "fix all" (it takes about 0.05 ms; rebuilding
the file's line index for each one took about 80 ms on a 100,000-line file)."""


async def test_fix_all_is_linear_in_the_diagnostics_not_diagnostics_times_file_size(tmp_path: Path) -> None:
    """Item 11: "Fix all" of 300 diagnostics on a 100,000-line file costs about what 10 cost; each
    extra diagnostic adds work of its own size, not a pass over the file."""
    few, many = 10, 300
    text = source(FIX_LINES)
    turn = {"requests": [{"output": [{"type": "message", "text": "ok"}]}]}
    script = Script.model_validate({"turns": [turn, turn, turn]})
    async with FakeResponsesServer(script) as fake, server(tmp_path, fake) as (client, workspace):
        uris = [(workspace / f"big{n}.py").as_uri() for n in range(3)]
        for uri, count in zip(uris, (few, few, many), strict=True):
            await open_with_diagnostics(client, uri, text, diagnostics(FIX_LINES, count))
        await fix_all_cpu(client, uris[0])  # warm: the first turn loads what turns need
        base = await fix_all_cpu(client, uris[1])
        loaded = await fix_all_cpu(client, uris[2])
    per_diagnostic = (loaded - base) / (many - few)
    print(f"fix all on {FIX_LINES:,} lines: {few} → {base:.3f} s CPU, {many} → {loaded:.3f} s CPU")
    assert per_diagnostic < MARGINAL_CPU_PER_DIAGNOSTIC, (
        f"each diagnostic added {per_diagnostic * 1000:.1f} ms of server CPU"
    )


# -- item 9: stdin back-pressure -----------------------------------------------------------------------


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size so far (``VmHWM``): no sampling can miss it."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for process {pid}")


class Answers:
    """Reads the server's stdout once told to (the editor that stopped reading, reading again)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        self.stdout = process.stdout
        self.ids: set[Any] = set()
        self.arrived = asyncio.Event()

    async def read(self) -> None:
        while True:
            length = 0
            while (line := await self.stdout.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(await self.stdout.readexactly(length))
            self.ids.add(message.get("id"))
            self.arrived.set()

    async def wait_for(self, msg_id: int) -> None:
        async with asyncio.timeout(WAIT):
            while msg_id not in self.ids:
                self.arrived.clear()
                await self.arrived.wait()


FLOOD_CHANGES = 400
"""1 MiB changes, each followed by a ``codex.status`` request whose answer the editor does not read:
after a few dozen the answers fill the pipe, and the server blocks writing (as pygls does)."""
CHANGE_BYTES = 1024 * 1024
HOLD_SECONDS = 5.0
"""How long the editor keeps not reading, unless it has sent everything by then."""
FLOOD_GROWTH_MIB = 100
"""What the flood may add to the server's peak memory (it adds a few MiB; reading ahead of the
server, it added hundreds: 450 MiB here, 960 MiB in the report)."""


async def test_an_editor_that_stops_reading_cannot_flood_the_server_s_memory(tmp_path: Path) -> None:
    """Item 9: while its output is not read, the server takes no more input than it can hold; the
    editor's own writes wait instead, and when it reads again everything is served."""
    home = make_codex_home(tmp_path, "http://127.0.0.1:9/v1", websockets=True)
    env = {**clean_env(home), "CODEX_LSP_STATE_DIR": str(tmp_path / "state")}
    command = [sys.executable, "-m", "codex_lsp", "--stdio", "--log-level", "warning"]
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None
    answers = Answers(process)
    try:
        uri = tmp_path.as_uri()
        doc = (tmp_path / "a.py").as_uri()
        init: dict[str, Any] = {"processId": None, "rootUri": uri, "capabilities": {}}
        process.stdin.write(frame({"id": 1, "method": "initialize", "params": init}))
        process.stdin.write(frame({"method": "initialized", "params": {}}))
        item = {"uri": doc, "languageId": "python", "version": 1, "text": "x = 1\n"}
        process.stdin.write(frame({"method": "textDocument/didOpen", "params": {"textDocument": item}}))
        status = {"command": "codex.status", "arguments": [{}]}
        process.stdin.write(frame({"id": 2, "method": "workspace/executeCommand", "params": status}))
        reading = asyncio.ensure_future(answers.read())
        await answers.wait_for(2)  # up and serving, its agent side loaded
        reading.cancel()
        base = peak_rss_kib(process.pid)

        async def flood() -> None:
            """Each change followed by a request whose answer the editor does not read."""
            assert process.stdin is not None
            text = "y" * CHANGE_BYTES
            for n in range(FLOOD_CHANGES):
                change = {"textDocument": {"uri": doc, "version": n + 2}, "contentChanges": [{"text": text}]}
                process.stdin.write(frame({"method": "textDocument/didChange", "params": change}))
                process.stdin.write(
                    frame({"id": 100 + n, "method": "workspace/executeCommand", "params": status})
                )
                await process.stdin.drain()

        writer = asyncio.ensure_future(flood())
        await asyncio.wait({writer}, timeout=HOLD_SECONDS)
        peak_while_not_read = peak_rss_kib(process.pid)
        held_back = not writer.done()
        reading = asyncio.ensure_future(answers.read())  # the editor reads again
        async with asyncio.timeout(WAIT * 2):
            await writer
        process.stdin.write(frame({"id": 3, "method": "workspace/executeCommand", "params": status}))
        await answers.wait_for(3)
        assert all(100 + n in answers.ids for n in range(FLOOD_CHANGES)), "every request was answered"
        peak = peak_rss_kib(process.pid)
    finally:
        process.kill()
        await process.wait()
    growth = (peak - base) / 1024
    print(
        f"flood of {FLOOD_CHANGES} x 1 MiB unread: peak +{(peak_while_not_read - base) / 1024:.0f} MiB "
        f"while not read (editor held back: {held_back}), +{growth:.0f} MiB in all"
    )
    assert growth < FLOOD_GROWTH_MIB


# -- item 10: memory comes back after documents close --------------------------------------------------

DOCUMENTS = 2_000
DOCUMENT_BYTES = 200 * 1024
HELD_AFTER_CLOSE_MIB = 60
"""What may stay resident once every document is closed (about 10 MiB does; before the heap was
trimmed, about 270 MiB stayed)."""


async def test_documents_opened_then_closed_give_their_memory_back(tmp_path: Path) -> None:
    """Item 10: 2,000 documents of 200 KB opened, then closed: the server's resident memory comes back
    close to where it was (it would otherwise stay at the peak, held by the C allocator)."""
    line = "x = 'a line of Python, some sixty characters long, give or take'\n"
    text = line * (DOCUMENT_BYTES // len(line))
    async with FakeResponsesServer() as fake, server(tmp_path, fake) as (client, workspace):
        base = rss_kib(client.pid)
        uris = [(workspace / f"module_{n}.py").as_uri() for n in range(DOCUMENTS)]
        for n, uri in enumerate(uris):
            item = {"uri": uri, "languageId": "python", "version": 1, "text": f"{text}# {n}\n"}
            await client.notify("textDocument/didOpen", {"textDocument": item})
        await execute(client, "codex.status")  # every open taken
        opened = rss_kib(client.pid)
        for uri in uris:
            await client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        await execute(client, "codex.status")  # every close taken
        closed = rss_kib(client.pid)
    held = (closed - base) / 1024
    print(
        f"{DOCUMENTS:,} x {DOCUMENT_BYTES // 1024} KB: RSS {base / 1024:.0f} MiB, "
        f"open {opened / 1024:.0f} MiB, closed {closed / 1024:.0f} MiB"
    )
    assert opened - base > DOCUMENTS * DOCUMENT_BYTES / 1024 / 2, "the documents were held while open"
    assert held < HELD_AFTER_CLOSE_MIB
