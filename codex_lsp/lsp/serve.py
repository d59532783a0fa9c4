"""Run a pygls language server on stdio, TCP or WebSocket, with the socket modes locked.

pygls' own ``start_tcp`` / ``start_ws`` accept any connection and hand its bytes to the protocol at
once, with no place to check a token or an ``Origin``. This module wires the transports itself the
way pygls does (``protocol.set_writer`` with the connection's writer, then every message parsed with
``protocol.structure_message`` and passed to ``protocol.handle_message``), but only after the
connection has been admitted (see ``access.py``):

- TCP: the first message must be ``initialize`` carrying ``initializationOptions.token``; it is
  read and checked before the protocol has a writer or sees a byte, and the token is removed.
- WebSocket: ``Origin`` and token are checked in ``process_request``, before the upgrade completes.

A pygls server object has one protocol, so each process serves one client: while it is connected
other connections are refused, and when it goes the process ends. Refused connections do not end
it. The server ends its own process the way pygls' ``exit`` handler does, by raising
``SystemExit``; every transport here lets that through and reports its code.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter

from codex_lsp.lsp.access import (
    AccessError,
    ListenAddress,
    Refusal,
    admit_first_message,
    check_upgrade,
    generate_token,
    read_token_file,
    refusal_response,
)
from codex_lsp.lsp.logging_setup import configure_logging

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

logger = logging.getLogger(__name__)

Transport = Literal["stdio", "tcp", "ws"]
OnListening = Callable[[ListenAddress], None]
# An initialize from VS Code is ~20 KiB and a didOpen carries a whole file; this bounds a frame only.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# How long an unauthenticated connection may take to send its token before it is dropped, and how
# big its first message may be (many slow unauthenticated uploads must not exhaust memory).
AUTH_TIMEOUT = 10.0
AUTH_MESSAGE_LIMIT = 1024 * 1024
_READ_CHUNK = 64 * 1024


PARSE_ERROR = -32700
PARSED = "Parse error: the message is not JSON"
EXIT_BROKEN_FRAMING = 76
"""The status when the client broke the LSP framing (sysexits' ``EX_PROTOCOL``): neither a clean stop (0)
nor ``exit`` without ``shutdown`` (1)."""


class FramingError(Exception):
    """The byte stream is not LSP base-protocol framing; the connection cannot be resynchronised."""


@dataclass(frozen=True)
class ServeOptions:
    """How ``codex-lsp`` was asked to serve (the parsed command line)."""

    transport: Transport
    address: ListenAddress | None = None
    log_level: str = "info"
    log_file: Path | None = None
    token_file: Path | None = None
    allowed_origins: frozenset[str] = frozenset()


# --- framing and dispatch -------------------------------------------------------------------------


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_MESSAGE_BYTES) -> bytes | None:
    """Read one ``Content-Length``-framed message body; None when the stream ends between messages."""
    length: int | None = None
    first = True
    while True:
        try:
            line = await reader.readline()
        except ValueError as exc:  # a header line longer than the reader's buffer limit
            raise FramingError("header line too long") from exc
        if not line:
            if first:
                return None
            raise FramingError("the stream ended inside a message header")
        first = False
        if line == b"\r\n":
            break
        length = _header_length(line, length, limit)
    if length is None:
        raise FramingError("a message header without Content-Length")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise FramingError("the stream ended inside a message body") from exc


def _header_length(line: bytes, length: int | None, limit: int) -> int | None:
    name, sep, value = line.rstrip(b"\r\n").partition(b":")
    if not sep or not line.endswith(b"\r\n"):
        raise FramingError(f"not an LSP header line: {line[:60]!r}")
    if name.strip().lower() != b"content-length":
        return length
    if not value.strip().isdigit():
        raise FramingError(f"bad Content-Length: {value[:30]!r}")
    if int(value) > limit:
        raise FramingError(f"a {int(value)}-byte message is over the {limit}-byte limit")
    return int(value)


def frame(body: bytes) -> bytes:
    """Frame a message body for a byte stream, as pygls' writer does."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def dispatch(server: LanguageServer, body: bytes) -> None:
    """Hand one message to the server's protocol; a bad message is reported, not fatal (as in pygls).

    A body that is not JSON (or not UTF-8, or nested too deep to parse, or with ``NaN``) is answered
    with JSON-RPC's Parse error and ``"id": null``: no id can be read from it, and its sender may be
    waiting.
    """
    protocol = server.protocol
    try:
        message = json.loads(body, object_hook=protocol.structure_message, parse_constant=_not_json)
    except (ValueError, RecursionError) as exc:
        logger.warning("Answered a message that is not JSON: %s", f"{exc}"[:200])
        # pygls has no public way to send a response of its own; _send_data frames it as every message.
        protocol._send_data({"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR, "message": PARSED}})
        return
    except Exception as exc:
        logger.exception("Unable to handle message")
        server.report_server_error(exc, JsonRpcException)
        return
    try:
        protocol.handle_message(message)
    except Exception as exc:
        logger.exception("Unable to handle message")
        server.report_server_error(exc, JsonRpcException)


def _not_json(constant: str) -> Any:
    """``NaN`` and ``Infinity`` are not JSON (Python's parser takes them, and would write them back)."""
    raise ValueError(f"{constant} is not JSON")


async def _pump(server: LanguageServer, next_body: Callable[[], Awaitable[bytes | None]]) -> None:
    while (body := await next_body()) is not None:
        dispatch(server, body)


# --- stdio -----------------------------------------------------------------------------------------


async def serve_stdio(server: LanguageServer, stdin_fd: int, stdout: BinaryIO) -> None:
    """Serve the client on the other end of ``stdin_fd`` / ``stdout`` until stdin closes.

    stdin is read by a daemon thread, not by a thread-pool worker as in pygls: a worker blocked in
    ``read`` would keep the interpreter from exiting after ``exit`` or when the server ends itself.
    The thread reads only as fast as the server takes messages (:class:`StdinFeed`), so an editor that
    sends faster than the server handles — or stops reading while the server's answers fill stdout,
    which blocks the server — is held back by its own pipe instead of filling the server's memory.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_READ_CHUNK, loop=loop)
    feed = StdinFeed(stdin_fd, loop, reader)
    threading.Thread(target=feed.run, name="codex-lsp-stdin", daemon=True).start()
    server.protocol.set_writer(StdoutWriter(stdout))
    logger.info("Serving on stdio")
    try:
        await _pump(server, lambda: read_frame(reader))
    except FramingError as exc:
        raise FramingError(f"the client broke the LSP framing on stdin ({exc}); stopping") from None
    finally:
        feed.stop()
    logger.info("stdin closed; stopping")


class StdinFeed:
    """Feeds stdin to an ``asyncio.StreamReader`` from a thread, with the reader's own flow control.

    To the reader it is the transport: the reader pauses it (``pause_reading``) once it buffers more than
    twice its limit and resumes it when it needs data — a message bigger than that is still read whole.
    The thread reads nothing while paused, and at most ``IN_FLIGHT`` chunks are on their way to the
    loop at once, so what stdin costs in memory is bounded by the largest message plus a few chunks,
    whatever the client sends.
    """

    IN_FLIGHT = 4

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader) -> None:
        self._fd = fd
        self._loop = loop
        self._reader = reader
        self._reading = threading.Event()
        self._reading.set()
        self._slots = threading.Semaphore(self.IN_FLIGHT)
        self._stopped = False
        reader.set_transport(self)  # type: ignore[arg-type]  # a reader calls only the two methods below

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def stop(self) -> None:
        """Serving ended: let the thread go (it ends at its next wake-up)."""
        self._stopped = True
        self._reading.set()
        self._slots.release()

    def run(self) -> None:
        try:
            while self._next():
                pass
        except OSError as exc:
            logger.debug("stdin read failed: %s", exc)
        except RuntimeError:  # the loop is closed: the server has finished and nobody reads any more
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._reader.feed_eof)

    def _next(self) -> bool:
        """Read and hand over one chunk once the reader wants more; ``False`` at the end of stdin."""
        self._reading.wait()
        self._slots.acquire()
        if self._stopped:
            return False
        chunk = os.read(self._fd, _READ_CHUNK)
        if not chunk:
            return False
        self._loop.call_soon_threadsafe(self._deliver, chunk)
        return True

    def _deliver(self, chunk: bytes) -> None:
        self._slots.release()
        self._reader.feed_data(chunk)


def claim_stdio() -> tuple[int, BinaryIO]:
    """Take fds 0 and 1 for the protocol; point them at /dev/null and stderr for everything else.

    A stray ``print`` or a child process that inherits stdout would corrupt the protocol stream, and
    one that inherits stdin would eat the editor's messages; after this, neither can. The returned
    descriptors are not inherited by child processes.
    """
    sys.stdout.flush()
    stdin_fd, stdout_fd = os.dup(0), os.dup(1)
    # A parent may hand over non-blocking pipes; a read would then fail at once and look like EOF.
    os.set_blocking(stdin_fd, True)
    os.set_blocking(stdout_fd, True)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stdin_fd, os.fdopen(stdout_fd, "wb")


# --- TCP -------------------------------------------------------------------------------------------


class _OneClient:
    """The single client a process serves, and the signal that it has gone."""

    def __init__(self) -> None:
        self.taken = False
        self.gone = asyncio.Event()
        self.broken: FramingError | None = None
        """Why it went, when it broke the framing (the process then ends with its own status)."""


async def serve_tcp(
    server: LanguageServer,
    address: ListenAddress,
    token: str,
    on_listening: OnListening | None = None,
    auth_timeout: float = AUTH_TIMEOUT,
) -> None:
    """Listen on ``address`` and serve the first client that presents ``token``, until it disconnects."""
    client = _OneClient()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _tcp_connection(server, reader, writer, token, client, auth_timeout)
        except ConnectionError as exc:  # the peer went while being checked or answered
            logger.info("Connection from %s lost: %s", _peer(writer.get_extra_info("peername")), exc)
        finally:
            writer.close()

    listener = await asyncio.start_server(on_connect, address.host, address.port)
    async with listener:
        if on_listening:
            on_listening(_bound(address, listener.sockets[0].getsockname()))
        await client.gone.wait()
    if client.broken is not None:
        raise client.broken


async def _tcp_connection(
    server: LanguageServer,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    token: str,
    client: _OneClient,
    auth_timeout: float,
) -> None:
    peer = _peer(writer.get_extra_info("peername"))
    try:
        body = await asyncio.wait_for(read_frame(reader, AUTH_MESSAGE_LIMIT), auth_timeout)
    except (TimeoutError, FramingError) as exc:
        _log_refusal(peer, "no framed initialize message" + (f" ({exc})" if str(exc) else " in time"))
        return
    if body is None:
        _log_refusal(peer, "closed before sending anything")
        return
    admitted = admit_first_message(body, token)
    if isinstance(admitted, Refusal):
        await _refuse(writer, peer, admitted)
        return
    if client.taken:
        busy = Refusal("another client is already connected", 503, json.loads(admitted)["id"])
        await _refuse(writer, peer, busy)
        return
    client.taken = True
    logger.info("Client %s connected", peer)
    server.protocol.set_writer(writer)
    try:
        dispatch(server, admitted)
        await _pump(server, lambda: read_frame(reader))
    except FramingError as exc:
        client.broken = FramingError(f"the client {peer} broke the LSP framing ({exc}); stopping")
    except ConnectionError as exc:
        logger.error("Closing the connection from %s: %s", peer, exc)
    finally:
        logger.info("Client %s disconnected; stopping", peer)
        client.gone.set()


async def _refuse(writer: asyncio.StreamWriter, peer: str, refusal: Refusal) -> None:
    """Log the refusal and, when the first message was a request, answer it with the reason."""
    _log_refusal(peer, refusal.reason)
    if (answer := refusal_response(refusal)) is not None:
        writer.write(frame(answer))
        await writer.drain()


# --- WebSocket -------------------------------------------------------------------------------------


async def serve_ws(
    server: LanguageServer,
    address: ListenAddress,
    token: str,
    allowed_origins: frozenset[str],
    on_listening: OnListening | None = None,
    auth_timeout: float = AUTH_TIMEOUT,
) -> None:
    """Listen on ``address``; serve the first upgrade with an allowed origin and ``token`` until it closes."""
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    client = _OneClient()

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        peer = _peer(connection.remote_address)
        refusal = check_upgrade(
            request.headers.get_all("Origin"),
            request.headers.get_all("Authorization"),
            request.path,
            token,
            allowed_origins,
        )
        if refusal is None and client.taken:
            refusal = Refusal("another client is already connected", 503)
        if refusal is None:
            return None
        _log_refusal(peer, refusal.reason)
        return connection.respond(refusal.status, f"codex-lsp refused the connection: {refusal.reason}\n")

    async def handler(connection: ServerConnection) -> None:
        peer = _peer(connection.remote_address)
        if client.taken:  # two upgrades admitted at once: the first to get here is the client
            _log_refusal(peer, "another client is already connected")
            await connection.close(1013, "another client is already connected")
            return
        client.taken = True
        logger.info("Client %s connected", peer)
        server.protocol.set_writer(_SocketWriter(connection, ConnectionClosed), include_headers=False)
        try:
            await _pump(server, lambda: _next_ws_message(connection, ConnectionClosed))
        finally:
            logger.info("Client %s disconnected; stopping", peer)
            client.gone.set()

    async with serve(
        handler,
        address.host,
        address.port,
        process_request=process_request,
        open_timeout=auth_timeout,
        max_size=MAX_MESSAGE_BYTES,
    ) as listener:
        if on_listening:
            on_listening(_bound(address, next(iter(listener.sockets)).getsockname()))
        await client.gone.wait()


class _SocketWriter:
    """pygls' ``WebSocketWriter``, except that a message sent after the client left is dropped (and
    logged) rather than failing a task nobody awaits: when a page closes during a turn, the server
    still interrupts and answers that turn, and asyncio would print a traceback for each message."""

    def __init__(self, connection: ServerConnection, closed: type[Exception]) -> None:
        self._connection = connection
        self._closed = closed

    def close(self) -> Awaitable[None]:
        return self._connection.close()

    async def write(self, data: bytes) -> None:
        try:
            await self._connection.send(data)
        except self._closed:
            peer = _peer(self._connection.remote_address)
            logger.debug("dropped a message to %s: the client is gone", peer)


async def _next_ws_message(connection: ServerConnection, closed: type[Exception]) -> bytes | None:
    try:
        data = await connection.recv(decode=False)
    except closed:
        return None
    return data if isinstance(data, bytes) else data.encode("utf-8")


# --- helpers ---------------------------------------------------------------------------------------


def _bound(address: ListenAddress, sockname: Any) -> ListenAddress:
    """The address actually bound (the system's port when 0 was asked for)."""
    return ListenAddress(address.host, int(sockname[1]))


def _peer(name: Any) -> str:
    if isinstance(name, tuple) and len(name) >= 2:
        return f"{name[0]}:{name[1]}"
    return str(name)


def _log_refusal(peer: str, reason: str) -> None:
    logger.warning("Refused a connection from %s: %s", peer, reason)


# --- the command ------------------------------------------------------------------------------------

ServerFactory = Callable[[], "LanguageServer"]
SERVER_MODULE = "codex_lsp.lsp.server"
_HOW_TO_SEND = {
    "tcp": "send it as initializationOptions.token in initialize",
    "ws": "send it as Authorization: Bearer <token> or the ?token= query parameter",
}


def run(options: ServeOptions, build: ServerFactory | None = None) -> int:
    """Serve as ``options`` say and return the process exit status.

    ``build`` makes the server (default: ``codex_lsp.lsp.server.build_server``). Problems a user
    can fix (log file, token file) are one line on stderr and status 2.
    """
    try:
        redact = configure_logging(options.log_level, options.log_file)
    except OSError as exc:
        return _usage_error(f"cannot open --log-file {options.log_file}: {exc.strerror or exc}")
    token = None
    if options.transport != "stdio":
        try:
            token = _load_token(options.token_file)
        except AccessError as exc:
            return _usage_error(str(exc))
        redact.add(token)
    factory = build or _default_factory()
    if factory is None:
        return 1
    settle_heap()
    if options.transport == "stdio":
        return run_stdio(factory)
    if options.address is None or token is None:
        raise ValueError(f"--{options.transport} needs an address")
    return _run_socket(options, options.address, token, factory())


def run_stdio(factory: ServerFactory) -> int:
    """Serve the server ``factory`` builds on this process's stdin/stdout; the exit status."""
    stdin_fd, stdout = claim_stdio()  # first, so that nothing built next can write to stdout
    return _run_loop(factory(), lambda s: serve_stdio(s, stdin_fd, stdout))


def _run_socket(options: ServeOptions, address: ListenAddress, token: str, server: LanguageServer) -> int:
    if not address.is_loopback:
        _say(
            f"warning: listening on {address.host}, which is not loopback: anyone who can reach it and "
            "has the token gets an agent that edits your files, and the connection is not encrypted"
        )
    if options.token_file is None:
        _say(f"token: {token}")
    scheme = options.transport

    def on_listening(bound: ListenAddress) -> None:
        _say(f"listening on {bound.url(scheme)} (one client; {_HOW_TO_SEND[scheme]})")

    if options.transport == "tcp":
        return _run_loop(server, lambda s: serve_tcp(s, address, token, on_listening))
    return _run_loop(server, lambda s: serve_ws(s, address, token, options.allowed_origins, on_listening))


def _run_loop(server: LanguageServer, main: Callable[[LanguageServer], Coroutine[Any, Any, None]]) -> int:
    """Run one transport to its end; ``exit`` (or the server ending itself) gives the status, and a client
    that broke the framing :data:`EXIT_BROKEN_FRAMING`, with the reason in one line on stderr."""
    try:
        asyncio.run(main(server))
    except SystemExit as exc:
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        return 130
    except FramingError as exc:
        logger.error("%s", exc)
        if not _logs_to_stderr():
            _say(f"error: {exc}")
        return EXIT_BROKEN_FRAMING
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]  # pygls leaves it unannotated
    return 0


def settle_heap() -> None:
    """Take everything allocated so far out of the cyclic garbage collector's sight (``gc.freeze``).

    By now the process holds the classes and functions of lsprotocol, pygls and the server — several
    hundred thousand objects that live as long as it does. Left in the collector's oldest generation,
    each full collection walks them all to free nothing: about 30 ms, a tenth of start-up when one falls
    during it (where it falls depends on allocation counts, so on import order), and again during every
    later full collection. What is garbage at this point (a few import-time leftovers) is never freed.
    """
    gc.freeze()


def _load_token(token_file: Path | None) -> str:
    if token_file is None:
        return generate_token()
    token, warning = read_token_file(token_file)
    if warning:
        _say(f"warning: {warning}")
    return token


def _default_factory() -> ServerFactory | None:
    try:
        module = importlib.import_module(SERVER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != SERVER_MODULE:
            raise
        _say(f"error: this build has no language server ({SERVER_MODULE} is missing)")
        return None
    factory: ServerFactory = module.build_server
    return factory


def _logs_to_stderr() -> bool:
    return any(getattr(handler, "stream", None) is sys.stderr for handler in logging.getLogger().handlers)


def _say(text: str) -> None:
    print(f"codex-lsp: {text}", file=sys.stderr, flush=True)


def _usage_error(text: str) -> int:
    _say(f"error: {text}")
    return 2
