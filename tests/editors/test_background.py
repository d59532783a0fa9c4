"""The fake Responses server hosted on a background loop answers a plain (sync) client, as codex-lsp started
by an editor will reach it while the test drives the editor synchronously."""

from __future__ import annotations

import asyncio

import httpx

from codex_lsp.testing import Script
from tests.editors.background import BackgroundLoop, HostedFake


def test_the_hosted_fake_serves_its_script_while_the_test_thread_blocks(fake_responses: HostedFake) -> None:
    fake_responses.load(
        Script.model_validate({"turns": [{"requests": [{"output": [{"type": "message", "text": "hello"}]}]}]})
    )
    with httpx.Client(base_url=fake_responses.base_url, trust_env=False) as http:
        response = http.post("/responses", json={"model": "m", "input": "hi", "stream": True})
    assert response.headers["content-type"] == "text/event-stream"
    assert '"hello"' in response.text
    assert fake_responses.read(lambda server: len(server.generating_requests())) == 1
    assert fake_responses.read(lambda server: server.pending_steps) == 0


def test_closing_the_loop_cancels_what_still_runs_on_it_and_ends_the_thread() -> None:
    loop = BackgroundLoop()
    parked = loop.run(_park())
    loop.close()
    assert parked.cancelled()
    assert loop.loop.is_closed()
    assert not loop._thread.is_alive()


async def _park() -> asyncio.Task[bool]:
    return asyncio.get_running_loop().create_task(asyncio.Event().wait())
