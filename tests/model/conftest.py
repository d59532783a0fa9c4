"""Fixtures: a fake Responses server per test, and clients pointed at it with tiny retry delays."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from codex_lsp.model import ModelClient
from codex_lsp.model.retry import RetryPolicy
from codex_lsp.testing import FakeResponsesServer
from tests.model.helpers import API_KEY, FAST

ClientFactory = Callable[..., ModelClient]


@pytest.fixture
async def fake() -> AsyncIterator[FakeResponsesServer]:
    """A started fake server with an empty script (tests ``load`` their own)."""
    async with FakeResponsesServer() as server:
        yield server


@pytest.fixture
async def make_client(fake: FakeResponsesServer) -> AsyncIterator[ClientFactory]:
    """Build clients against ``fake`` (prewarm off unless asked); every client is closed afterwards."""
    clients: list[ModelClient] = []

    def factory(
        *, websockets: bool = True, prewarm: bool = False, retry: RetryPolicy = FAST, **provider: Any
    ) -> ModelClient:
        settings = fake.model_settings(websockets=websockets, api_key=API_KEY, **provider)
        client = ModelClient(settings, retry_policy=retry, prewarm=prewarm)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
