"""Running one command for the ``shell`` tool: its own process group, a deadline, capped output.

The command runs in a new session (so it has no controlling terminal and forms its own process
group) with stdin on ``/dev/null`` and stderr merged into stdout, in the order written. On timeout
or cancellation the **whole group** is killed, so children the command started die with it. When
the command exits but a background child still holds the output pipe open, the group is killed
after a short grace period rather than letting the call hang until its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TIMEOUT_EXIT_CODE", "CappedOutput", "ProcessOutcome", "run_process"]

TIMEOUT_EXIT_CODE = 124
"""Reported for a command killed at its deadline (the ``timeout(1)`` convention Codex uses)."""
DRAIN_GRACE_S = 0.5


class CappedOutput:
    """A byte stream kept within ``max_bytes``: its head and its tail, with the middle counted."""

    def __init__(self, max_bytes: int) -> None:
        self.head_limit = max_bytes // 2
        self.tail_limit = max_bytes - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total_bytes = 0
        self.newlines = 0
        self.last_byte = b""

    def feed(self, chunk: bytes) -> None:
        self.total_bytes += len(chunk)
        self.newlines += chunk.count(b"\n")
        if chunk:
            self.last_byte = chunk[-1:]
        room = self.head_limit - len(self.head)
        self.head += chunk[:room]
        self.tail += chunk[max(room, 0) :]
        del self.tail[: max(len(self.tail) - self.tail_limit, 0)]

    @property
    def cut_bytes(self) -> int:
        return self.total_bytes - len(self.head) - len(self.tail)

    @property
    def total_lines(self) -> int:
        """Lines in the whole stream, counting a last line without a newline."""
        return self.newlines + (1 if self.last_byte not in (b"", b"\n") else 0)

    def text(self) -> str:
        """The kept text; when the middle was dropped, a marker says how much."""
        if not self.cut_bytes:
            return bytes(self.head + self.tail).decode("utf-8", errors="replace")
        head = bytes(self.head).decode("utf-8", errors="ignore")
        tail = bytes(self.tail).decode("utf-8", errors="ignore")
        return f"{head}\n[… {self.cut_bytes} bytes of output cut …]\n{tail}"


@dataclass(frozen=True)
class ProcessOutcome:
    """What became of one command."""

    exit_code: int
    """The exit status; 128+N when killed by signal N; :data:`TIMEOUT_EXIT_CODE` on timeout."""
    timed_out: bool
    duration_seconds: float
    output: CappedOutput


class _Protocol(asyncio.SubprocessProtocol):
    """Collects output and tells apart "the process exited" from "the output pipe closed".

    (``Process.wait()`` of the high-level API waits for both, so a background child holding the
    pipe would hold the call; this protocol lets the two be awaited separately.)
    """

    def __init__(self, output: CappedOutput) -> None:
        loop = asyncio.get_running_loop()
        self.output = output
        self.exited: asyncio.Future[None] = loop.create_future()
        self.eof: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.output.feed(data.encode() if isinstance(data, str) else data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        _settle(self.eof)

    def process_exited(self) -> None:
        _settle(self.exited)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def run_process(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout_s: float, max_output_bytes: int
) -> ProcessOutcome:
    """Run ``argv`` to completion or deadline; raises ``OSError`` when it cannot start.

    Cancelling the awaiting task kills the process group and re-raises ``CancelledError``.
    """
    started = time.monotonic()
    output = CappedOutput(max_output_bytes)
    transport, protocol = await asyncio.get_running_loop().subprocess_exec(
        lambda: _Protocol(output),
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pid = transport.get_pid()
    try:
        timed_out = not await _within(protocol.exited, timeout_s)
        if timed_out:
            _kill_group(pid)
            await _within(protocol.exited, DRAIN_GRACE_S)
        if not await _within(protocol.eof, DRAIN_GRACE_S):
            _kill_group(pid)
            await _within(protocol.eof, DRAIN_GRACE_S)
    except BaseException:
        _kill_group(pid)
        raise
    finally:
        transport.close()
    code = TIMEOUT_EXIT_CODE if timed_out else _exit_code(transport.get_returncode())
    return ProcessOutcome(code, timed_out, time.monotonic() - started, output)


async def _within(future: asyncio.Future[None], timeout_s: float) -> bool:
    """Whether ``future`` completes within ``timeout_s`` (it is not cancelled either way)."""
    done, _ = await asyncio.wait({future}, timeout=timeout_s)
    return bool(done)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _exit_code(returncode: int | None) -> int:
    if returncode is None:
        return -1
    return 128 - returncode if returncode < 0 else returncode
