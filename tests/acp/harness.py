"""An ACP editor for tests: the SDK's client side driving ``codex-lsp acp`` (or any ACP agent) against
the fake Responses server.

:class:`Editor` is the client: it records every ``session/update``, keeps buffers whose unsaved text
may differ from the disk, answers ``fs/*`` (with injectable write failures) and permission requests
(scripted answers, or held until the prompt is cancelled, as an editor does). A :class:`Run` also keeps
every byte the agent wrote to stdout and, on request, its stderr (both whole once the agent has exited).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from acp import RequestError, spawn_stdio_transport
from acp.client.connection import ClientSideConnection
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    Implementation,
    InitializeResponse,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    ToolCallUpdate,
    WriteTextFileResponse,
)

from codex_lsp.acp.server import UNFINISHED_WORK
from codex_lsp.testing import FakeResponsesServer, RecordedRequest, Script
from tests.model.codex_peer import clean_env, codex_home

TIMEOUT = 15
"""Seconds any one awaited answer may take before the test fails (a sanity bound, not a measure)."""
HOLD = "hold"
"""A permission answer: keep the request open until the client cancels the prompt."""


@dataclass
class Editor:
    """The ACP client side: buffers, recorded updates, scripted permission answers."""

    root: Path
    buffers: dict[str, str] = field(default_factory=dict)
    """Absolute path → the editor's (unsaved) text; files not listed are read from disk."""
    fail_writes: set[str] = field(default_factory=set)
    """Absolute paths whose ``fs/write_text_file`` fails."""
    permissions: list[str] = field(default_factory=list)
    """Answers to permission requests, in order: an option id, ``cancelled`` or :data:`HOLD`."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    asked: list[dict[str, Any]] = field(default_factory=list)
    """Permission requests received (tool call, option ids and option names, and how many writes the
    editor had received when asked)."""
    held: list[asyncio.Future[RequestPermissionResponse]] = field(default_factory=list)
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a permission request is held."""
    waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future[dict[str, Any]]]] = field(
        default_factory=list
    )

    # -- the ACP Client protocol ------------------------------------------------------------------------

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        data = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.updates.append(data)
        for predicate, future in list(self.waiters):
            if not future.done() and predicate(data):
                future.set_result(data)

    async def read_text_file(
        self, session_id: str, path: str, line: int | None = None, limit: int | None = None, **kwargs: Any
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        except OSError as exc:
            raise RequestError(-32002, f"cannot read {path}: {exc.strerror}") from None
        return ReadTextFileResponse(content=text)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        if path in self.fail_writes:
            raise RequestError(-32603, f"disk full while saving {path}")
        self.writes.append((path, content))
        self.buffers[path] = content
        await asyncio.to_thread(_save, Path(path), content)  # the editor saves what it was given
        return WriteTextFileResponse()

    async def request_permission(
        self, session_id: str, tool_call: ToolCallUpdate, options: list[PermissionOption], **kwargs: Any
    ) -> RequestPermissionResponse:
        self.asked.append(
            {
                "tool_call": tool_call.model_dump(mode="json", by_alias=True, exclude_none=True),
                "options": [option.option_id for option in options],
                "names": [option.name for option in options],
                "written": len(self.writes),
            }
        )
        answer = self.permissions.pop(0) if self.permissions else "reject"
        if answer == HOLD:
            future: asyncio.Future[RequestPermissionResponse] = asyncio.get_running_loop().create_future()
            self.held.append(future)
            self.holding.set()
            return await future
        if answer == "cancelled":
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=answer))

    def cancel_held(self) -> None:
        """What an editor does on cancelling a prompt: answer its pending permission requests."""
        for future in self.held:
            if not future.done():
                future.set_result(RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled")))

    def answer_held(self, option_id: str) -> None:
        """The user picks ``option_id`` in the pending permission requests (and the next may be held)."""
        self.holding.clear()
        for future in self.held:
            if not future.done():
                future.set_result(
                    RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=option_id))
                )

    # -- waiting on updates ---------------------------------------------------------------------------

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first update (received or still to come) ``predicate`` accepts."""
        for update in self.updates:
            if predicate(update):
                return update
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        async with asyncio.timeout(TIMEOUT):
            return await future

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [update for update in self.updates if update.get("sessionUpdate") == kind]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(update["content"]["text"] for update in self.of_kind(kind))


async def _copy(source: asyncio.StreamReader, target: asyncio.StreamReader, record: bytearray) -> None:
    """Pass ``source`` on to ``target`` as it comes, keeping a copy in ``record``."""
    while data := await source.read(65536):
        record.extend(data)
        target.feed_data(data)
    target.feed_eof()


async def _drain(stream: asyncio.StreamReader | None, lines: list[str]) -> None:
    """Read the agent's stderr to its end (a full pipe would stop the agent), keeping each line and
    passing it on to the test's stderr (pytest shows it with a failure)."""
    assert stream is not None
    while line := await stream.readline():
        lines.append(line.decode(errors="replace"))
        sys.stderr.write(lines[-1])


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass
class Run:
    """A started agent: the connection, the editor, the fake model, the workspace."""

    conn: ClientSideConnection
    editor: Editor
    fake: FakeResponsesServer
    root: Path
    init: InitializeResponse
    process: asyncio.subprocess.Process
    argv: list[str] = field(default_factory=list)
    """The command that started the agent (what a client appends a terminal method's ``args`` to)."""
    stdout: bytearray = field(default_factory=bytearray)
    """Everything the agent wrote to stdout (whole once the agent has exited)."""
    stderr: list[str] = field(default_factory=list)
    """What the agent wrote to stderr (whole once the agent has exited)."""

    @property
    def received(self) -> list[str]:
        """The lines the agent wrote to stdout (each should be one JSON-RPC message)."""
        return self.stdout.decode(errors="replace").splitlines()

    @property
    def generating(self) -> list[RecordedRequest]:
        return [request for request in self.fake.requests if not request.prewarm]

    def load(self, *turns: list[dict[str, Any]]) -> None:
        self.fake.load(Script.model_validate({"turns": [{"requests": steps} for steps in turns]}))

    async def new_session(self) -> str:
        async with asyncio.timeout(TIMEOUT):
            response = await self.conn.new_session(cwd=str(self.root), mcp_servers=[])
        return response.session_id


@dataclass
class Setup:
    """What lives across agent restarts in one test: the folders and the fake model."""

    tmp: Path
    fake: FakeResponsesServer
    root: Path
    home: Path
    state: Path
    env_overrides: dict[str, str | None] = field(default_factory=dict)
    """Laid over the agent's environment (``None`` removes the variable)."""

    def env(self) -> dict[str, str]:
        env = clean_env(self.home)
        env["CODEX_LSP_STATE_DIR"] = str(self.state)
        for name, value in self.env_overrides.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    @asynccontextmanager
    async def agent(
        self,
        *args: str,
        fs: bool = True,
        editor: Editor | None = None,
        command: list[str] | None = None,
        capabilities: ClientCapabilities | None = None,
        client_name: str = "codex-lsp-tests",
    ) -> AsyncIterator[Run]:
        """Start ``codex-lsp acp`` (or ``command``) and initialize it as the client ``client_name``; stop
        it at the end, and fail if it exited with work still running (a cancelled turn's write that no
        wait of any length would see: it is pending until the agent's last moment)."""
        editor = editor or Editor(self.root)
        argv = command or [sys.executable, "-m", "codex_lsp", "acp", *args]
        capabilities = capabilities or ClientCapabilities(
            fs=FileSystemCapabilities(read_text_file=fs, write_text_file=fs), terminal=False
        )
        stdout, stderr = bytearray(), list[str]()
        readers: list[asyncio.Future[None]] = []
        async with spawn_stdio_transport(
            argv[0],
            *argv[1:],
            env=self.env(),
            cwd=self.root,
            stderr=asyncio.subprocess.PIPE,
        ) as (agent_out, writer, process):
            # The connection reads a copy of the agent's stdout, so the test sees every byte of it.
            copy = asyncio.StreamReader(limit=2**24)
            readers.append(asyncio.ensure_future(_copy(agent_out, copy, stdout)))
            readers.append(asyncio.ensure_future(_drain(process.stderr, stderr)))
            # The SDK routes by attribute; the requests an editor never gets here need no handler.
            conn = ClientSideConnection(cast("Client", editor), writer, copy)
            try:
                async with asyncio.timeout(TIMEOUT):
                    init = await conn.initialize(
                        protocol_version=1,
                        client_capabilities=capabilities,
                        client_info=Implementation(name=client_name, version="0"),
                    )
                yield Run(conn, editor, self.fake, self.root, init, process, argv, stdout, stderr)
            finally:
                await conn.close()
        async with asyncio.timeout(TIMEOUT):  # the agent has exited: its output has ended
            await asyncio.gather(*readers)
        unfinished = [line for line in stderr if UNFINISHED_WORK in line]
        assert not unfinished, f"the agent exited with work still running: {unfinished}"


@asynccontextmanager
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    root = tmp_path / "ws"
    root.mkdir()
    async with FakeResponsesServer() as fake:
        home = codex_home(tmp_path, fake.base_url, websockets=True)
        yield Setup(tmp_path, fake, root, home, tmp_path / "state")


def patch_call(text: str, call_id: str = "call_patch") -> dict[str, Any]:
    return {"type": "custom_tool_call", "name": "apply_patch", "input": text, "call_id": call_id}


def call(name: str, call_id: str | None = None, **arguments: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "function_call", "name": name, "arguments": json.dumps(arguments)}
    if call_id:
        item["call_id"] = call_id
    return item


def say(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text}


def step(*output: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"output": list(output), **extra}
