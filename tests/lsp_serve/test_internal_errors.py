"""A handler that fails unexpectedly: the client gets one line, never a traceback, and never a popup.

The real server with one extra request and one extra notification whose handlers raise, driven in this
process through the transports' own ``dispatch`` (no request of the real server fails this way on purpose:
each is a bug, and the fuzz looks for them).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from codex_lsp.lsp.serve import dispatch
from codex_lsp.lsp.server import build_server
from codex_lsp.lsp.state import CodexServer
from tests.lsp_serve.real import TRACEBACK, initialize, notification, request
from tests.lsp_serve.wire import parse_frames

BOOM, BOOM_LATER = "test/boom", "test/boomLater"


class Capture:
    """A writer that keeps every byte the server writes."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass


@pytest.fixture
def server() -> tuple[CodexServer, Capture]:
    server = build_server()

    @server.feature(BOOM)
    def boom(ls: CodexServer, params: Any) -> None:
        raise RuntimeError("the handler broke")

    @server.feature(BOOM_LATER)
    def boom_later(ls: CodexServer, params: Any) -> None:
        raise KeyError("file:///never-opened.py")

    capture = Capture()
    server.protocol.set_writer(capture)
    return server, capture


def send(server: CodexServer, message: dict[str, Any]) -> None:
    dispatch(server, json.dumps(message).encode("utf-8"))


async def test_a_failing_request_is_answered_with_one_line_and_no_traceback(
    server: tuple[CodexServer, Capture],
) -> None:
    lsp, capture = server
    send(lsp, initialize())
    send(lsp, request(BOOM, 2, {}))
    answers = [m for m in parse_frames(capture.data) if m.get("id") == 2]
    assert answers == [
        {"jsonrpc": "2.0", "id": 2, "error": {"code": -32603, "message": "RuntimeError: the handler broke"}}
    ]


async def test_a_failing_notification_is_a_line_in_the_editors_log_not_a_popup(
    server: tuple[CodexServer, Capture],
) -> None:
    lsp, capture = server
    send(lsp, initialize())
    send(lsp, notification(BOOM_LATER, {}))
    messages = parse_frames(capture.data)[1:]
    assert [m["method"] for m in messages] == ["window/logMessage"]
    assert "KeyError" in messages[0]["params"]["message"]
    assert messages[0]["params"]["type"] == 1  # Error
    assert not TRACEBACK.search(json.dumps(messages))
