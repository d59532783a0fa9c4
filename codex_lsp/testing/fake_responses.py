"""A fake Responses API: a real server on 127.0.0.1 speaking WebSocket and HTTP SSE at ``…/responses``.

Any path ending in ``/responses`` is served, so both ``/v1/responses`` (API-key providers) and
``/backend-api/codex/responses`` (a ChatGPT sign-in) work. With :attr:`FakeResponsesServer.accepted_tokens`
set, the server checks credentials like the real one: a handshake or POST without an accepted
``Authorization: Bearer`` token is refused with 401 (recorded in :attr:`FakeResponsesServer.refusals`).

It plays a scripted model (:mod:`codex_lsp.testing.fake_script`) well enough for the real Codex CLI and the
official ``openai`` SDK to run against it, and records everything for assertions: every handshake's
headers, every request body (with the input it resolves to after ``previous_response_id``), and every event
it sent. Both protocols share one port because Codex derives both URLs from one ``base_url``.

The WebSocket side uses the sans-I/O ``websockets`` protocol over a plain asyncio stream, so faults can be
injected at any byte: a refused upgrade, a binary or malformed frame, a TCP drop mid-response, silence.

Continuation follows the real server: a response's input plus its output items are remembered per
connection, so ``previous_response_id`` works only on the socket that produced the response (with
``store:false``); an unknown id is answered with ``previous_response_not_found``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar

from pydantic import SecretStr
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from codex_lsp.model import ModelSettings, ProviderConfig
from codex_lsp.testing.fake_script import (
    Fault,
    HandshakeFault,
    MessageOut,
    ResponseIds,
    Script,
    Step,
    failure_events,
    prewarm_events,
    render_response,
)
from codex_lsp.testing.fake_wire import (
    error_frame,
    input_items,
    parse_head,
    read_body,
    reply,
    status_line,
    strip_ids,
)

__all__ = ["FakeResponsesServer", "Handshake", "RecordedRequest"]

log = logging.getLogger(__name__)
_WIRE_LOG = logging.getLogger(f"{__name__}.wire")
_T = TypeVar("_T")
TURN_STATE = "x-codex-turn-state"
WRITE_BATCH = 64
"""Frames of one response written to the socket together."""
EXHAUSTED = Step(output=[MessageOut(text="(the fake model's script is exhausted)")])


@dataclass
class Handshake:
    """One WebSocket upgrade request, accepted or refused."""

    connection: int
    path: str
    headers: dict[str, str]
    """Lower-cased names; repeated headers joined with ", "."""
    status: int


@dataclass
class RecordedRequest:
    """One ``response.create`` (WebSocket) or POST (HTTP), as received."""

    transport: Literal["websocket", "http"]
    connection: int
    body: dict[str, Any]
    headers: dict[str, str]
    """HTTP: the request headers; WebSocket: the headers of the connection's handshake."""
    path: str = "/v1/responses"
    effective_input: list[dict[str, Any]] = field(default_factory=list)
    """The input after resolving ``previous_response_id``: what a full request would have sent."""
    response_id: str | None = None
    prewarm: bool = False

    @property
    def turn_state(self) -> str | None:
        """The token the client sent: ``client_metadata`` on WebSocket, the header on HTTP."""
        if self.transport == "websocket":
            metadata = self.body.get("client_metadata") or {}
            value = metadata.get(TURN_STATE)
            return None if value is None else str(value)
        return self.headers.get(TURN_STATE)

    @property
    def has_turn_state_key(self) -> bool:
        """Whether the WebSocket body carried the ``x-codex-turn-state`` key at all."""
        return TURN_STATE in (self.body.get("client_metadata") or {})


@dataclass
class _WsConn:
    number: int
    proto: ServerProtocol
    writer: asyncio.StreamWriter
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def loopback_settings(
    base_url: str, *, websockets: bool = True, api_key: str = "sk-fake-server-key", **provider: Any
) -> ModelSettings:
    """What a user's ``config.toml`` would give a client for a fake server at ``base_url``.

    ``provider`` passes further :class:`ProviderConfig` fields (retry budgets, timeouts, headers).
    """
    return ModelSettings(
        model="gpt-5.5",
        provider_id="fake",
        provider=ProviderConfig(base_url=base_url, supports_websockets=websockets, **provider),
        api_key=SecretStr(api_key),
        key_source="fake server",
    )


class FakeResponsesServer:
    """Scripted Responses server; use ``async with FakeResponsesServer(script) as server``.

    Tests wait on what it records with :meth:`until` (woken by each record), never by polling it.
    """

    def __init__(self, script: Script | None = None, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.handshakes: list[Handshake] = []
        self.requests: list[RecordedRequest] = []
        self.emitted: list[tuple[Literal["websocket", "http"], dict[str, Any]]] = []
        """Every JSON event sent, with the transport it went over."""
        self.other_requests: list[tuple[str, str]] = []
        """Requests to paths other than ``/v1/responses`` (method, path)."""
        self.get_routes: dict[str, Any] = {}
        """JSON answers to ``GET`` requests by path (e.g. ``/v1/models`` and ``/api/version`` for a local
        model server's readiness check); any other ``GET`` is a 404."""
        self.gets: list[tuple[str, dict[str, str]]] = []
        """The ``GET`` requests answered from :attr:`get_routes` (path, headers)."""
        self.accepted_tokens: Container[str] | None = None
        """When set, only ``Authorization: Bearer <one of these>`` is let in; anything else gets 401."""
        self.attempts: list[tuple[Literal["websocket", "http"], str, dict[str, str]]] = []
        """Every handshake and POST to ``…/responses``, accepted or refused, in arrival order: (transport,
        path, headers)."""
        self.refusals: list[tuple[Literal["websocket", "http"], dict[str, str]]] = []
        """The handshakes and POSTs refused with 401 (transport, headers)."""
        self.on_refusal: Callable[[], None] | None = None
        """Called just before a 401 is sent (a test can change auth.json "while the request is in flight")."""
        self.pongs = 0
        self.unscripted = 0
        """Generating requests that arrived after the script ran out."""
        self._ids = ResponseIds()
        self._steps: deque[Step] = deque()
        self._handshake_faults: deque[HandshakeFault] = deque()
        self._upgrade_turn_state: str | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._recorded = asyncio.Event()
        if script is not None:
            self.load(script)

    # -- lifecycle -----------------------------------------------------------------------------------

    def load(self, script: Script) -> None:
        """Replace whatever is left of the current script."""
        self._steps = deque(script.steps())
        self._handshake_faults = deque(script.handshake_faults)
        self._upgrade_turn_state = script.upgrade_turn_state

    @property
    def pending_steps(self) -> int:
        """Scripted responses not yet consumed."""
        return len(self._steps)

    async def until(self, predicate: Callable[[], _T]) -> _T:
        """Wait until ``predicate()`` is truthy and return its value; it is checked again each time the
        server records something (an attempt, a handshake, a request, an event sent, a step taken). Put
        the timeout around the call."""
        while not (value := predicate()):
            self._recorded.clear()
            await self._recorded.wait()
        return value

    def _record(self) -> None:
        """Something was recorded: wake :meth:`until`."""
        self._recorded.set()

    @property
    def base_url(self) -> str:
        """The provider ``base_url`` to configure: ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def chatgpt_base_url(self) -> str:
        """A base URL shaped like ChatGPT's backend: ``http://127.0.0.1:PORT/backend-api/codex``."""
        return f"http://{self.host}:{self.port}/backend-api/codex"

    @property
    def authorizations(self) -> list[str]:
        """The ``Authorization`` header of every attempt, in arrival order (``""`` when there was none)."""
        return [headers.get("authorization", "") for _, _, headers in self.attempts]

    def _authorized(
        self, transport: Literal["websocket", "http"], path: str, headers: dict[str, str]
    ) -> bool:
        """Whether the request's credentials pass (always, unless :attr:`accepted_tokens` is set)."""
        self.attempts.append((transport, path, headers))
        self._record()
        if self.accepted_tokens is None:
            return True
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token in self.accepted_tokens:
            return True
        self.refusals.append((transport, headers))
        self._record()
        if self.on_refusal is not None:
            self.on_refusal()
        return False

    def model_settings(self, *, websockets: bool = True, **provider: Any) -> ModelSettings:
        """Client settings for this server (see :func:`loopback_settings`)."""
        return loopback_settings(self.base_url, websockets=websockets, **provider)

    async def start(self, port: int = 0) -> None:
        """Listen on ``port`` (default: a random free one)."""
        self._server = await asyncio.start_server(self._accept, self.host, port, limit=1 << 22)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every open connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            _, stuck = await asyncio.wait(list(self._tasks), timeout=1)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakeResponsesServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- recording helpers ---------------------------------------------------------------------------

    def generating_requests(self) -> list[RecordedRequest]:
        """Recorded requests without the prewarms."""
        return [r for r in self.requests if not r.prewarm]

    def turn_states(self) -> list[str | None]:
        """The token each generating request carried (``None`` when absent)."""
        return [r.turn_state for r in self.generating_requests()]

    # -- connection dispatch ---------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, headers = parse_head(head)
            if headers.get("upgrade", "").lower() == "websocket":
                await self._serve_ws(head, path, reader, writer)
            else:
                await self._serve_http(method, path, headers, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # stop() ends connections that are deliberately silent; that is their normal end
        except Exception:
            log.exception("fake server connection failed")
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
            self._tasks.discard(task)

    def _next_step(self) -> Step:
        self._record()
        if self._steps:
            return self._steps.popleft()
        self.unscripted += 1
        return EXHAUSTED

    # -- WebSocket -----------------------------------------------------------------------------------------

    async def _serve_ws(
        self, head: bytes, path: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        proto = ServerProtocol(extensions=[ServerPerMessageDeflateFactory()], max_size=None, logger=_WIRE_LOG)
        proto.receive_data(head)
        request = next(e for e in proto.events_received() if isinstance(e, Request))
        conn = _WsConn(len(self.handshakes) + 1, proto, writer)
        headers = {k.lower(): ", ".join(request.headers.get_all(k)) for k in request.headers}
        fault = self._handshake_faults.popleft() if self._handshake_faults else None
        if fault is None and not self._authorized("websocket", path, headers):
            fault = HandshakeFault(status=401, code="invalid_token", message="the access token is not valid")
        if fault is not None and fault.hang:
            self.handshakes.append(Handshake(conn.number, path, headers, 0))
            self._record()
            await reader.read()  # never answer; wait for the client to give up
            return
        if fault is not None:
            self.handshakes.append(Handshake(conn.number, path, headers, fault.status))
            self._record()
            body = json.dumps({"error": {"code": fault.code, "message": fault.message, "type": "upgrade"}})
            response = proto.reject(fault.status, body)
            proto.send_response(response)
            await self._flush(conn)
            return
        response = proto.accept(request)
        if self._upgrade_turn_state:
            response.headers[TURN_STATE] = self._upgrade_turn_state
        proto.send_response(response)
        self.handshakes.append(Handshake(conn.number, path, headers, 101))
        self._record()
        await self._flush(conn)
        await self._ws_loop(conn, reader)

    async def _ws_loop(self, conn: _WsConn, reader: asyncio.StreamReader) -> None:
        while True:
            data = await reader.read(1 << 16)
            if data:
                conn.proto.receive_data(data)
            else:
                conn.proto.receive_eof()
            for event in conn.proto.events_received():
                if isinstance(event, Frame):
                    await self._ws_frame(conn, event)
            await self._flush(conn)
            if not data or conn.proto.close_expected():
                return

    async def _ws_frame(self, conn: _WsConn, frame: Frame) -> None:
        if frame.opcode is Opcode.PONG:
            self.pongs += 1
            self._record()
        elif frame.opcode is Opcode.TEXT:
            await self._ws_request(conn, bytes(frame.data).decode("utf-8", "replace"))

    async def _ws_request(self, conn: _WsConn, text: str) -> None:
        try:
            body = json.loads(text)
        except ValueError:
            await self._ws_send(conn, error_frame(400, "invalid_json", "the frame is not JSON"))
            return
        handshake = next(h for h in self.handshakes if h.connection == conn.number)
        record = RecordedRequest("websocket", conn.number, body, handshake.headers, path=handshake.path)
        self.requests.append(record)
        self._record()
        if not isinstance(body, dict) or body.get("type") != "response.create":
            await self._ws_send(conn, error_frame(400, "invalid_request", "expected a response.create frame"))
            return
        previous = body.get("previous_response_id")
        if previous and previous not in conn.history:
            message = f"Previous response with id '{previous}' not found."
            await self._ws_send(conn, error_frame(400, "previous_response_not_found", message))
            return
        items = input_items(body.get("input"))
        if items is None:
            await self._ws_send(conn, error_frame(400, "invalid_input", "input must be a string or a list"))
            return
        record.effective_input = [*conn.history.get(previous or "", []), *items]
        await self._ws_respond(conn, record)

    async def _ws_respond(self, conn: _WsConn, record: RecordedRequest) -> None:
        """Answer a recorded WebSocket request: a prewarm, or the next scripted step."""
        model = str(record.body.get("model") or "gpt-5.5")
        record.response_id = self._ids.next("resp")
        if record.body.get("generate") is False:
            record.prewarm = True
            token = self._steps[0].prewarm_turn_state if self._steps else None
            for event in prewarm_events(record.response_id, model, token):
                await self._ws_send(conn, event)
            conn.history[record.response_id] = strip_ids(record.effective_input)
            return
        step = self._next_step()
        events, items = render_response(step, record.response_id, step.served_model or model, self._ids)
        if step.ping:
            conn.proto.send_ping(b"fake-ping")
            await self._flush(conn)
        if await self._ws_events(conn, step, events, record.response_id, model):
            conn.history[record.response_id] = strip_ids(record.effective_input + items)
            if step.close_after:
                conn.proto.send_close(1001, "the server retires this connection")
                await self._flush(conn)

    async def _ws_events(
        self, conn: _WsConn, step: Step, events: list[dict[str, Any]], response_id: str, model: str
    ) -> bool:
        """Send ``events`` with the step's fault; return whether the response completed.

        Frames are written to the socket in batches of :data:`WRITE_BATCH` (one syscall each rather than
        one per frame, so the fake can outrun any client it is benchmarked with); everything queued is
        written before a fault is injected and before each pause of a slow stream, so what the client sees
        first is unchanged.
        """
        fault = step.fault
        for index, event in enumerate(events):
            if fault is not None and index == fault.after_events:
                await self._flush(conn)
                if await self._ws_fault(conn, fault, response_id, model, index):
                    return False
                fault = None
            if step.delay_ms:
                await asyncio.sleep(step.delay_ms / 1000)
            flush = bool(step.delay_ms) or index % WRITE_BATCH == WRITE_BATCH - 1
            await self._ws_send(conn, event, flush=flush)
        await self._flush(conn)
        return True

    async def _ws_fault(self, conn: _WsConn, fault: Fault, response_id: str, model: str, seq: int) -> bool:
        """Inject ``fault``; return True when the response ends here."""
        if fault.kind == "malformed_json":
            conn.proto.send_text(b'{"type": "response.output_text.delta", "delta": ')
            await self._flush(conn)
            return False
        if fault.kind == "binary":
            conn.proto.send_binary(b"\x00\x01binary")
            await self._flush(conn)
            return False
        if fault.kind == "close":
            conn.writer.transport.abort()
        elif fault.kind == "silence":
            pass
        elif fault.kind == "status":
            frame = error_frame(fault.status, fault.code, fault.message, fault.retry_after)
            await self._ws_send(conn, frame)
        else:
            for event in failure_events(fault, response_id, model, seq):
                await self._ws_send(conn, event)
        return True

    async def _ws_send(self, conn: _WsConn, event: dict[str, Any], *, flush: bool = True) -> None:
        self.emitted.append(("websocket", event))
        self._record()
        conn.proto.send_text(json.dumps(event).encode())
        if flush:
            await self._flush(conn)

    async def _flush(self, conn: _WsConn) -> None:
        if conn.writer.transport.is_closing():
            raise ConnectionResetError("the client went away")
        for chunk in conn.proto.data_to_send():
            if chunk:
                conn.writer.write(chunk)
        with contextlib.suppress(ConnectionError):
            await conn.writer.drain()

    # -- HTTP SSE ------------------------------------------------------------------------------------------

    async def _serve_http(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        raw = await read_body(headers, reader)
        if method == "GET" and path in self.get_routes:
            self.gets.append((path, headers))
            self._record()
            await reply(writer, 200, self.get_routes[path])
            return
        if method != "POST" or not path.split("?", 1)[0].rstrip("/").endswith("/responses"):
            self.other_requests.append((method, path))
            self._record()
            await reply(writer, 404, {"error": {"code": "not_found", "message": f"no route {method} {path}"}})
            return
        if not self._authorized("http", path, headers):
            error = {"code": "invalid_token", "message": "the access token is not valid"}
            await reply(writer, 401, {"error": error})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            await reply(writer, 400, {"error": {"code": "invalid_json", "message": "body is not JSON"}})
            return
        record = RecordedRequest(
            "http", 0, body, headers, path=path, effective_input=input_items(body.get("input")) or []
        )
        self.requests.append(record)
        self._record()
        if "previous_response_id" in body:
            message = "this server does not chain HTTP requests; send the full input"
            await reply(writer, 400, {"error": {"code": "invalid_request", "message": message}})
            return
        record.response_id = self._ids.next("resp")
        step = self._next_step()
        model = str(body.get("model") or "gpt-5.5")
        await self._http_stream(reader, writer, step, record.response_id, step.served_model or model)

    async def _http_stream(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        step: Step,
        response_id: str,
        model: str,
    ) -> None:
        fault = step.fault
        if fault is not None and fault.kind == "status":
            extra = {"retry-after": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            error = {"error": {"code": fault.code, "message": fault.message, "type": "fake"}}
            await reply(writer, fault.status, error, extra)
            return
        head = {"content-type": "text/event-stream", "cache-control": "no-cache", "openai-model": model}
        if step.header_turn_state:
            head[TURN_STATE] = step.header_turn_state
        writer.write(status_line(200, head))
        events, _ = render_response(step, response_id, model, self._ids)
        for index, event in enumerate(events):
            if fault is not None and index == fault.after_events:
                if fault.kind in ("malformed_json", "binary"):
                    writer.write(b'data: {"type": "response.output_text.delta", "delta": \n\n')
                    fault = None
                elif fault.kind == "silence":
                    await writer.drain()
                    await reader.read()  # until the client gives up and disconnects
                    return
                elif fault.kind == "close":
                    await writer.drain()
                    return
                else:
                    for failure in failure_events(fault, response_id, model, index, "http"):
                        self._sse(writer, failure)
                    await writer.drain()
                    return
            if step.delay_ms:
                await asyncio.sleep(step.delay_ms / 1000)
            self._sse(writer, event)
            await writer.drain()

    def _sse(self, writer: asyncio.StreamWriter, event: dict[str, Any]) -> None:
        self.emitted.append(("http", event))
        self._record()
        writer.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())


async def serve(script: Script, port: int = 0) -> None:
    """Run a fake server until cancelled, printing its ``base_url`` first (for demos and manual runs)."""
    server = FakeResponsesServer(script)
    await server.start(port)
    print(server.base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m codex_lsp.testing.fake_responses SCRIPT.json [--port N]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve a scripted fake Responses API on 127.0.0.1.")
    parser.add_argument("script", help="a JSON script (see codex_lsp/testing/fake_script.py)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(Script.load(args.script), args.port))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
