"""``codex-lsp --stdio``: stdout carries nothing but LSP frames, stdin closing ends the server."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from tests.lsp_serve.tiny import ECHO, END, STRAY
from tests.lsp_serve.wire import (
    REPO,
    WAIT,
    encode,
    initialize,
    notification,
    parse_frames,
    receive,
    request,
    start_tiny,
    stderr_line_with,
)


def _returned(stderr: bytes) -> int:
    """The status ``codex_lsp.cli.main`` returned, as the tiny runner reports it on stderr."""
    last = stderr.decode().strip().splitlines()[-1]
    return int(json.loads(last)["returned"])


async def test_stdout_carries_only_lsp_frames_at_debug_level() -> None:
    proc = await start_tiny("--stdio", "--log-level", "debug")
    assert proc.stdin is not None
    messages = [
        initialize(),
        notification("initialized", {}),
        request(STRAY, 2),  # prints to stdout and runs a child that writes to stdout and reads stdin
        request(ECHO, 3, {"text": "héllo ✓"}),
        request("shutdown", 4),
        notification("exit"),
    ]
    proc.stdin.write(b"".join(encode(m) for m in messages))
    await proc.stdin.drain()
    stdout, stderr = await asyncio.wait_for(proc.communicate(), WAIT)

    answers = {m["id"]: m for m in parse_frames(stdout)}
    assert answers[2]["result"] == "done"
    assert answers[3]["result"]["echo"] == "héllo ✓"
    assert set(answers) == {1, 2, 3, 4}
    log = stderr.decode()
    assert "stray print from a handler" in log
    assert "stray output from a child" in log
    assert " DEBUG " in log, "--log-level debug should log at debug level, on stderr"
    assert proc.returncode == 0


async def test_stdin_closing_ends_the_server() -> None:
    proc = await start_tiny("--stdio")
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(encode(initialize()))
    await proc.stdin.drain()
    first = await asyncio.wait_for(proc.stdout.readuntil(b"\r\n\r\n"), WAIT)
    assert first.startswith(b"Content-Length: ")
    proc.stdin.close()
    _, stderr = await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode == 0
    assert _returned(stderr) == 0
    assert "stdin closed; stopping" in stderr.decode()


async def test_exit_without_shutdown_returns_1_and_a_server_ending_itself_keeps_its_status() -> None:
    for messages, status in (
        ([initialize(), notification("exit")], 1),
        ([initialize(), request("shutdown", 2), notification("exit")], 0),
        ([initialize(), request(END, 2)], 7),
    ):
        proc = await start_tiny("--stdio")
        assert proc.stdin is not None
        # stdin stays open: the server must end by itself, not because its input ended.
        proc.stdin.write(b"".join(encode(m) for m in messages))
        await proc.stdin.drain()
        returncode = await asyncio.wait_for(proc.wait(), WAIT)
        assert proc.stderr is not None
        assert _returned(await proc.stderr.read()) == status
        assert returncode == status
        proc.stdin.close()


async def test_broken_framing_on_stdin_ends_the_server_with_a_message() -> None:
    proc = await start_tiny("--stdio")
    assert proc.stdin is not None
    proc.stdin.write(b"this is not a header\r\n\r\n")
    await proc.stdin.drain()
    stdout, stderr = await asyncio.wait_for(proc.communicate(), WAIT)
    assert stdout == b""
    assert "broke the LSP framing on stdin" in stderr.decode()
    assert _returned(stderr) == proc.returncode == 76


async def test_a_non_blocking_stdin_from_the_parent_is_not_mistaken_for_its_end() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.lsp_serve.tiny",
        "--stdio",
        cwd=REPO,
        stdin=read_end,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    os.close(read_end)
    try:
        assert proc.stdout is not None
        await stderr_line_with(proc, "Serving on stdio", [])
        # Each message is written only once the server has answered the last, so each read it
        # makes in between finds the pipe empty.
        for request_id, message in enumerate([initialize(), request(ECHO, 2, {"text": "hi"})], 1):
            os.write(write_end, encode(message))
            assert (await receive(proc.stdout))["id"] == request_id
    finally:
        os.close(write_end)
    await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode == 0
