"""``--ws``: ``Origin`` and token are checked before the upgrade completes; refused upgrades reach nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.lsp_serve.conftest import ALLOWED_ORIGIN, TOKEN, Running
from tests.lsp_serve.tiny import ECHO
from tests.lsp_serve.wire import WAIT, initialize, request


def url(running: Running, query: str = "") -> str:
    return running.address.url("ws") + "/" + query


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(ws: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    """Send a request and return its response, skipping anything the server sends first."""
    await ws.send(json.dumps(message))
    while True:
        answer: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if answer.get("id") == message["id"] and "method" not in answer:
            return answer


async def refused_status(uri: str, origin: str | None = None, headers: dict[str, str] | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(uri, origin=Origin(origin) if origin else None, additional_headers=headers):
            pass
    return refused.value.response.status_code


def assert_untouched(running: Running) -> None:
    assert running.server.calls == []
    assert running.server.protocol.writer is None


async def test_a_bearer_token_without_origin_opens_a_session(ws: Running) -> None:
    async with connect(url(ws), additional_headers=bearer(TOKEN)) as client:
        assert (await call(client, initialize()))["result"]["serverInfo"]["name"] == "tiny"
        assert (await call(client, request(ECHO, 2, {"text": "hi"})))["result"]["echo"] == "hi"
    await ws.ended()
    assert ws.server.calls == ["initialize", ECHO]


async def test_an_allowed_browser_origin_with_the_query_token_opens_a_session(ws: Running) -> None:
    async with connect(url(ws, f"?token={TOKEN}"), origin=Origin(ALLOWED_ORIGIN)) as client:
        assert "result" in await call(client, initialize())
    assert ws.server.calls == ["initialize"]


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost:3001", "null", "http://127.0.0.1:3000"]
)
async def test_an_origin_not_allowed_is_refused_even_with_the_token(ws: Running, origin: str) -> None:
    assert await refused_status(url(ws, f"?token={TOKEN}"), origin, bearer(TOKEN)) == 403
    assert_untouched(ws)


async def test_a_missing_token_is_refused_before_the_upgrade(ws: Running) -> None:
    assert await refused_status(url(ws)) == 401
    assert await refused_status(url(ws), ALLOWED_ORIGIN) == 401
    assert await refused_status(url(ws, "?token="), None, {"Authorization": "Bearer "}) == 401
    assert_untouched(ws)


async def test_a_wrong_token_is_refused_before_the_upgrade(ws: Running) -> None:
    wrong = TOKEN[:-1] + "X"
    assert await refused_status(url(ws), None, bearer(wrong)) == 401
    assert await refused_status(url(ws, f"?token={wrong}"), ALLOWED_ORIGIN) == 401
    # A right and a wrong token together are not two guesses.
    assert await refused_status(url(ws, f"?token={wrong}"), None, bearer(TOKEN)) == 401
    assert_untouched(ws)
    async with connect(url(ws), additional_headers=bearer(TOKEN)) as client:
        assert "result" in await call(client, initialize())


async def test_one_client_per_process(ws: Running) -> None:
    async with connect(url(ws), additional_headers=bearer(TOKEN)) as client:
        await call(client, initialize())
        assert await refused_status(url(ws), None, bearer(TOKEN)) == 503
        still = await call(client, request(ECHO, 2, {"text": "still here"}))
        assert still["result"]["echo"] == "still here"
    await ws.ended()
