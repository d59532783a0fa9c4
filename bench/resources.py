"""Benchmark: what a hostile or careless editor costs the language server (issue 15, items 9–11).

Three cases, each on its own ``codex-lsp --stdio`` process initialized as VS Code, against the
zero-latency fake model:

- **Fix all** on a 100,000-line file whose 10, 1,000 and 100,000 diagnostics the editor plugin
  reported (``codex/didChangeDiagnostics``): the round trip of ``codex.fixDiagnostics`` with
  ``all: true`` (a whole turn: the request built, the model asked, the answer back) and the server's
  CPU time for it. Ratio: 1,000 diagnostics against 10.
- **A flood the editor does not read**: 400 changes of 1 MiB, each followed by a ``codex.status``
  request whose answer the editor leaves unread for a few seconds: the server's peak memory above where
  it started, and whether the editor's own writes were held back.
- **Documents opened, then closed**: 2,000 documents of 200 KB: resident memory before, with them
  open, and after closing them.

Printed, never asserted (tests/lsp/test_resource_bounds.py asserts bounds on the same quantities).

Usage: ``.venv/bin/python bench/resources.py [--lines N] [--documents N] [--flood N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.code_action import diagnostics, open_document, source
from bench.lsp_session import (
    SERVER,
    compile_package,
    execute,
    initialize,
    load_agent,
    server_env,
    start_server,
)
from codex_lsp.testing import FakeResponsesServer, Script, cpu_seconds, rss_kib

HOLD_SECONDS = 5.0


async def fix_all(tmp: Path, lines: int, counts: list[int]) -> list[tuple[int, float, float]]:
    """(diagnostics, seconds, server CPU seconds) of one "fix all" turn per count."""
    turn = {"requests": [{"output": [{"type": "message", "text": "Done."}]}]}
    script = Script.model_validate({"turns": [turn] * (len(counts) + 1)})
    rows = []
    async with FakeResponsesServer(script) as fake:
        client, workspace = await start_server(tmp, fake.base_url)
        try:
            await initialize(client, workspace)
            await load_agent(client)
            text = source(lines)
            for n, count in enumerate([counts[0], *counts]):  # the first one warms up
                uri = (workspace / f"big_{n}.py").as_uri()
                await open_document(client, uri, text)
                found = diagnostics(lines, count)[:count]
                await client.notify(
                    "codex/didChangeDiagnostics", {"uri": uri, "version": 1, "diagnostics": found}
                )
                await execute(client, "codex.status")
                cpu, started = cpu_seconds(client.pid), time.perf_counter()
                result = await execute(
                    client, "codex.fixDiagnostics", {"uri": uri, "version": 1, "all": True}
                )
                if result["status"] != "completed":
                    raise RuntimeError(f"the fix turn did not complete: {result}")
                if n:
                    rows.append((len(found), time.perf_counter() - started, cpu_seconds(client.pid) - cpu))
        finally:
            await client.close()
    return rows


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


async def drain_output(process: asyncio.subprocess.Process) -> None:
    assert process.stdout is not None
    while await process.stdout.read(1 << 16):
        pass


async def read_message(stream: asyncio.StreamReader) -> dict[str, Any]:
    length = 0
    while (line := await stream.readline()) != b"\r\n":
        if not line:
            raise RuntimeError("the server closed its output")
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    message: dict[str, Any] = json.loads(await stream.readexactly(length))
    return message


async def flood(tmp: Path, changes: int) -> tuple[int, int, bool]:
    """(KiB at the start, peak KiB, whether the editor's writes were held back)."""
    env, workspace = server_env(tmp, "http://127.0.0.1:9/v1")
    process = await asyncio.create_subprocess_exec(
        *SERVER,
        env=env,
        cwd=workspace,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        doc = (workspace / "a.py").as_uri()
        init: dict[str, Any] = {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}
        process.stdin.write(frame({"id": 1, "method": "initialize", "params": init}))
        item = {"uri": doc, "languageId": "python", "version": 1, "text": "x = 1\n"}
        process.stdin.write(frame({"method": "textDocument/didOpen", "params": {"textDocument": item}}))
        await process.stdin.drain()
        await read_message(process.stdout)  # the initialize answer
        base = peak_kib(process.pid)
        status = {"command": "codex.status", "arguments": [{}]}
        text = "y" * (1 << 20)

        async def send() -> None:
            assert process.stdin is not None
            for n in range(changes):
                change = {"textDocument": {"uri": doc, "version": n + 2}, "contentChanges": [{"text": text}]}
                process.stdin.write(frame({"method": "textDocument/didChange", "params": change}))
                process.stdin.write(
                    frame({"id": 10 + n, "method": "workspace/executeCommand", "params": status})
                )
                await process.stdin.drain()

        writer = asyncio.ensure_future(send())
        await asyncio.wait({writer}, timeout=HOLD_SECONDS)
        held = not writer.done()
        reader = asyncio.ensure_future(drain_output(process))
        await writer
        peak = peak_kib(process.pid)
        reader.cancel()
        return base, peak, held
    finally:
        process.kill()
        await process.wait()


async def open_close(tmp: Path, documents: int, size: int) -> tuple[int, int, int]:
    """RSS in KiB before, with ``documents`` open, after closing them."""
    client, workspace = await start_server(tmp)
    try:
        await initialize(client, workspace)
        await load_agent(client)
        before = rss_kib(client.pid)
        line = "x = 'a line of Python, some sixty characters long, give or take'\n"
        text = line * (size // len(line))
        uris = [(workspace / f"module_{n}.py").as_uri() for n in range(documents)]
        for n, uri in enumerate(uris):
            await open_document(client, uri, f"{text}# {n}\n")
        await execute(client, "codex.status")
        opened = rss_kib(client.pid)
        for uri in uris:
            await client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        await execute(client, "codex.status")
        return before, opened, rss_kib(client.pid)
    finally:
        await client.close()


async def bench(lines: int, counts: list[int], documents: int, changes: int) -> None:
    compile_package()
    with tempfile.TemporaryDirectory(prefix="bench-resources-") as scratch:
        tmp = Path(scratch)
        for name in ("fix", "flood", "docs"):
            (tmp / name).mkdir()
        rows = await fix_all(tmp / "fix", lines, counts)
        base, peak, held = await flood(tmp / "flood", changes)
        before, opened, closed = await open_close(tmp / "docs", documents, 200 * 1024)
    print(f"fix all on a {lines:,}-line file (a whole turn, zero-latency model)")
    for count, seconds, cpu in rows:
        print(
            f"  {count:>7,} diagnostics: {seconds * 1000:8.1f} ms round trip, {cpu * 1000:8.1f} ms server CPU"
        )
    if len(rows) > 1:
        print(f"ratio fix all {rows[1][0]:,} / {rows[0][0]:,} diagnostics: {rows[1][1] / rows[0][1]:5.2f} x")
    print(f"flood of {changes} x 1 MiB changes, output unread for {HOLD_SECONDS:.0f} s:")
    print(f"  peak memory {(peak - base) / 1024:+.1f} MiB; editor's writes held back: {held}")
    print(f"{documents:,} documents of 200 KB opened, then closed:")
    print(f"  RSS {before / 1024:.1f} MiB, open {opened / 1024:.1f} MiB, closed {closed / 1024:.1f} MiB")
    print(f"memory kept after closing: {(closed - before) / 1024:+.1f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--diagnostics", type=int, nargs="+", default=[10, 1_000, 100_000])
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--flood", type=int, default=400)
    args = parser.parse_args()
    asyncio.run(bench(args.lines, args.diagnostics, args.documents, args.flood))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
