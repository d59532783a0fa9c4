"""A small LSP client over a server process's stdin/stdout, for the benchmarks and their smoke test.

It speaks only the base protocol (``Content-Length`` framing, JSON-RPC 2.0) with plain dicts, so what it
costs is the same whatever server it drives and it measures the server, not a client library: the
benchmarks time a pygls server and codex-lsp with it alike. Requests the server sends are answered as a
plain editor would (``workspace/configuration``: no settings; anything else: ``null``), notifications are
kept by method. Nothing here imports pygls or lsprotocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["LspClient", "LspError", "cpu_seconds", "rss_kib"]

Answer = Callable[[Any], Any]
_READ_LIMIT = 1 << 24
_CLOSE_SECONDS = 10.0


class LspError(RuntimeError):
    """The server answered a request with a JSON-RPC error, or went away before answering."""


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB (``VmRSS`` of ``/proc/PID/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LspError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time process ``pid`` has run so far, all its threads (Linux ``schedstat``, nanoseconds).

    Unlike wall time it does not count waiting for a CPU, so it holds steady on a busy machine.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that has just ended
            total += int((task / "schedstat").read_text(encoding="ascii").split()[0])
    return total / 1e9


def _no_settings(params: Any) -> list[None]:
    return [None for _ in params.get("items", [])]


class LspClient:
    """One server process and the client end of its stdio; start it with :meth:`start`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.notifications: Counter[str] = Counter()
        """How many notifications of each method arrived."""
        self.server_requests: Counter[str] = Counter()
        """How many requests of each method the server sent (each answered)."""
        self.answers: dict[str, Answer] = {"workspace/configuration": _no_settings}
        """How to answer the server's requests, by method (others get ``null``)."""
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._waiters: list[tuple[str, asyncio.Future[Any]]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def start(
        cls, command: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> LspClient:
        """Start ``command`` (stderr discarded) and read its stdout."""
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=_READ_LIMIT,
        )
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def messages_received(self) -> int:
        """Notifications and requests received from the server so far (answers not counted)."""
        return self.notifications.total() + self.server_requests.total()

    # -- sending ---------------------------------------------------------------------------------------

    def _write(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request and return its result; :class:`LspError` for an error answer."""
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._write({"id": msg_id, "method": method, "params": params})
        await self._drain()
        return await future

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self._write({"method": method, "params": params})
        await self._drain()

    async def _drain(self) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.drain()

    async def notification(self, method: str) -> Any:
        """Wait for the next notification named ``method`` and return its params."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, future))
        return await future

    # -- receiving -------------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reason = "the server closed its output"
        try:
            while (message := await self._read_message()) is not None:
                self._handle(message)
        except (asyncio.IncompleteReadError, ValueError) as exc:
            reason = f"the server broke the framing: {exc}"
        for future in [*self._pending.values(), *(f for _, f in self._waiters)]:
            if not future.done():
                future.set_exception(LspError(reason))

    async def _read_message(self) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        length = None
        while True:
            line = await self.process.stdout.readline()
            if not line:
                return None
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ValueError("a message without Content-Length")
        message: dict[str, Any] = json.loads(await self.process.stdout.readexactly(length))
        return message

    def _handle(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(LspError(str(message["error"].get("message"))))
                else:
                    future.set_result(message.get("result"))
        elif "id" in message:
            self.server_requests[method] += 1
            answer = self.answers.get(method)
            self._write({"id": message["id"], "result": answer(message.get("params")) if answer else None})
        else:
            self.notifications[method] += 1
            for waiter in [w for w in self._waiters if w[0] == method]:
                self._waiters.remove(waiter)
                if not waiter[1].done():
                    waiter[1].set_result(message.get("params"))

    # -- ending ----------------------------------------------------------------------------------------

    async def close(self) -> None:
        """``shutdown`` and ``exit`` if the server still runs, then wait for it (kill it if it lingers)."""
        if self.process.returncode is None:
            with contextlib.suppress(LspError, TimeoutError, ConnectionError):
                await asyncio.wait_for(self.request("shutdown"), _CLOSE_SECONDS)
                await self.notify("exit")
            try:
                await asyncio.wait_for(self.process.wait(), _CLOSE_SECONDS)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
