"""The LSP base-protocol reader every transport shares: strict, bounded, clean at end of stream."""

from __future__ import annotations

import asyncio

import pytest

from codex_lsp.lsp.serve import FramingError, frame, read_frame


def stream(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


async def test_frames_are_read_one_by_one_with_any_header_order_and_case() -> None:
    reader = stream(
        frame(b'{"a":1}')
        + b'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 7\r\n\r\n{"b":2}'
        + frame("é".encode())
    )
    assert await read_frame(reader) == b'{"a":1}'
    assert await read_frame(reader) == b'{"b":2}'
    assert await read_frame(reader) == "é".encode()
    assert await read_frame(reader) is None


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "not an LSP header line"),
        (b"Content-Length: 2\n\n{}", "not an LSP header line"),
        (b"Content-Type: x\r\n\r\n{}", "without Content-Length"),
        (b"Content-Length: -2\r\n\r\n{}", "bad Content-Length"),
        (b"Content-Length: 11\r\n\r\n", "over the 10-byte limit"),
        (b"Content-Length: 9\r\n\r\n{}", "inside a message body"),
        (b"Content-Length: 2\r\n", "inside a message header"),
    ],
)
async def test_broken_framing_is_an_error_not_a_guess(data: bytes, why: str) -> None:
    with pytest.raises(FramingError, match=why):
        await read_frame(stream(data), limit=10)


async def test_an_endless_header_line_is_an_error() -> None:
    reader = asyncio.StreamReader(limit=64)
    reader.feed_data(b"X" * 200)
    with pytest.raises(FramingError, match="too long"):
        await read_frame(reader)
