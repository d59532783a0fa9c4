"""``codex.status`` with ``probe: true``: whether the model's endpoint is reachable, without a model request
(what editors' health checks show)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from codex_lsp.testing import FakeResponsesServer, Script
from tests.lsp.harness import KEY, editor_session, write_codex_home

pytestmark = [pytest.mark.asyncio(loop_scope="module")]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_websocket_probe_opens_the_socket_a_turn_would_use_and_sends_no_request(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "minimal") as ed:
        handshakes = len(fake.handshakes)
        status = await ed.execute("codex.status", {"probe": True})
        assert status["reachable"] is True
        assert "probeError" not in status
        assert status["transport"] == "websocket"
        assert len(fake.handshakes) == handshakes + 1
        assert fake.requests == []
        assert KEY not in str(status)


async def test_an_http_probe_connects_and_sends_nothing(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with editor_session(tmp_path, fake, "minimal", init_options={"transport": "http"}) as ed:
        handshakes = len(fake.handshakes)
        status = await ed.execute("codex.status", {"probe": True})
        assert status["transport"] == "http"
        assert status["reachable"] is True
        assert len(fake.handshakes) == handshakes
        assert fake.requests == []


@pytest.mark.parametrize("transport", ["websocket", "http"])
async def test_nothing_listening_is_unreachable_with_the_reason(
    tmp_path: Path, fake: FakeResponsesServer, transport: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    options = {"transport": transport, "baseUrl": url}
    async with editor_session(tmp_path, fake, "minimal", init_options=options) as ed:
        status = await ed.execute("codex.status", {"probe": True})
        assert status["reachable"] is False
        assert status["probeError"]
        assert "127.0.0.1" in status["probeError"]
        assert KEY not in status["probeError"]


async def test_an_endpoint_that_refuses_the_upgrade_answered_so_it_is_reachable(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    fake.load(Script.model_validate({"handshake_faults": [{"status": 503, "message": "maintenance"}]}))
    async with editor_session(tmp_path, fake, "minimal") as ed:
        status = await ed.execute("codex.status", {"probe": True})
        assert status["reachable"] is True
        assert "503" in status["probeError"]
    fake.load(Script())


async def test_without_a_key_the_host_is_still_checked_and_the_missing_key_named(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    config = home / "config.toml"
    config.write_text(config.read_text().replace("CODEX_LSP_TEST_KEY", "CODEX_LSP_NO_SUCH_KEY"))
    async with editor_session(tmp_path, fake, "minimal") as ed:
        status = await ed.execute("codex.status", {"probe": True})
        assert status["keyFound"] is False
        assert status["reachable"] is True
        assert "CODEX_LSP_NO_SUCH_KEY" in status["probeError"]


async def test_without_probe_nothing_is_connected(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with editor_session(tmp_path, fake, "minimal") as ed:
        handshakes = len(fake.handshakes)
        status = await ed.execute("codex.status")
        assert "reachable" not in status
        assert len(fake.handshakes) == handshakes
        with pytest.raises(JsonRpcInvalidParams, match="probe must be true or false"):
            await ed.execute("codex.status", {"probe": "yes"})
