"""``--tcp``: the first message must be ``initialize`` with the token; anything else is refused unread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from codex_lsp.lsp.access import ListenAddress
from codex_lsp.lsp.serve import AUTH_MESSAGE_LIMIT, FramingError
from tests.lsp_serve.conftest import TOKEN, Running
from tests.lsp_serve.tiny import ECHO
from tests.lsp_serve.wire import WAIT, initialize, receive, request, response, send

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@contextlib.asynccontextmanager
async def connect(address: ListenAddress) -> AsyncIterator[Streams]:
    reader, writer = await asyncio.open_connection(address.host, address.port)
    try:
        yield reader, writer
    finally:
        writer.close()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent before closing the connection."""
    return await asyncio.wait_for(reader.read(), WAIT)


def assert_untouched(running: Running) -> None:
    """No handler ran and the protocol never got a writer: the connection reached nothing."""
    assert running.server.calls == []
    assert running.server.protocol.writer is None


async def assert_still_serving(running: Running) -> None:
    async with connect(running.address) as (reader, writer):
        await send(writer, initialize(TOKEN))
        assert "result" in await response(reader, 1)
    assert running.server.calls == ["initialize"]


async def test_the_right_token_opens_a_session_and_is_removed_before_the_server_sees_it(tcp: Running) -> None:
    async with connect(tcp.address) as (reader, writer):
        await send(writer, initialize(TOKEN, theme="dark"))
        assert (await response(reader, 1))["result"]["serverInfo"]["name"] == "tiny"
        await send(writer, request(ECHO, 2, {"text": "hi"}))
        result = (await response(reader, 2))["result"]
    assert result == {"echo": "hi", "initOptions": {"theme": "dark"}}
    assert tcp.server.calls == ["initialize", ECHO]


async def test_a_missing_token_is_refused_before_any_handler_runs(tcp: Running) -> None:
    async with connect(tcp.address) as (reader, writer):
        await send(writer, initialize(None, theme="dark"))
        answer = await receive(reader)
        assert await closed_by_server(reader) == b""
    assert answer["id"] == 1
    assert answer["error"]["code"] == -32600
    assert "initializationOptions.token" in answer["error"]["message"]
    assert_untouched(tcp)
    await assert_still_serving(tcp)


async def test_a_wrong_token_is_refused_before_any_handler_runs(tcp: Running) -> None:
    async with connect(tcp.address) as (reader, writer):
        await send(writer, initialize(TOKEN[:-1] + "X"))
        answer = await receive(reader)
        assert await closed_by_server(reader) == b""
    assert "wrong token" in answer["error"]["message"]
    assert_untouched(tcp)
    await assert_still_serving(tcp)


async def test_a_first_message_other_than_initialize_is_refused(tcp: Running) -> None:
    async with connect(tcp.address) as (reader, writer):
        await send(writer, request(ECHO, 5, {"text": "hi", "token": TOKEN}))
        answer = await receive(reader)
        assert await closed_by_server(reader) == b""
    assert answer["id"] == 5
    assert "must be the initialize request" in answer["error"]["message"]
    assert_untouched(tcp)


async def test_an_http_request_from_a_web_page_gets_nothing(tcp: Running) -> None:
    """A page can POST to http://127.0.0.1:PORT with a body shaped like LSP; it is not LSP framing."""
    body = b'Content-Length: 60\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'
    async with connect(tcp.address) as (reader, writer):
        writer.write(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\r\n" + body)
        await writer.drain()
        assert await closed_by_server(reader) == b""
    assert_untouched(tcp)
    await assert_still_serving(tcp)


async def test_an_oversized_first_message_is_refused_without_reading_it(tcp: Running) -> None:
    async with connect(tcp.address) as (reader, writer):
        writer.write(b"Content-Length: %d\r\n\r\n" % (AUTH_MESSAGE_LIMIT + 1))
        await writer.drain()
        assert await closed_by_server(reader) == b""
    assert_untouched(tcp)


async def test_a_silent_connection_is_dropped_after_the_auth_timeout(tcp_quick_timeout: Running) -> None:
    async with connect(tcp_quick_timeout.address) as (reader, _):
        assert await closed_by_server(reader) == b""
    assert_untouched(tcp_quick_timeout)


async def test_one_client_per_process_and_serving_ends_when_it_goes(tcp: Running) -> None:
    async with connect(tcp.address) as (reader, writer):
        await send(writer, initialize(TOKEN))
        await response(reader, 1)
        async with connect(tcp.address) as (reader2, writer2):
            await send(writer2, initialize(TOKEN, request_id=9))
            busy = await receive(reader2)
            assert await closed_by_server(reader2) == b""
        assert "another client is already connected" in busy["error"]["message"]
        await send(writer, request(ECHO, 2, {"text": "still here"}))
        assert (await response(reader, 2))["result"]["echo"] == "still here"
        assert not tcp.task.done()
    await tcp.ended()
    assert tcp.server.calls == ["initialize", ECHO]


async def test_the_client_breaking_the_framing_ends_serving_with_the_reason(tcp: Running) -> None:
    """Unlike a client that disconnects, one that breaks the framing ends the process with its own status
    (``serve.run`` turns this error into :data:`~codex_lsp.lsp.serve.EXIT_BROKEN_FRAMING`)."""
    async with connect(tcp.address) as (reader, writer):
        await send(writer, initialize(TOKEN))
        await response(reader, 1)
        writer.write(b"Content-Length: 5\r\n\r\n{}")
        writer.write_eof()
        with pytest.raises(FramingError, match=r"broke the LSP framing \(the stream ended inside a message"):
            await tcp.ended()
