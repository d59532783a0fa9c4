"""Fixtures every test folder may use: the fake sign-in server (issuer)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from codex_lsp.testing import FakeIssuer


@pytest_asyncio.fixture
async def issuer() -> AsyncIterator[FakeIssuer]:
    """A started fake OpenAI sign-in server; ``issuer.env()`` points codex-lsp (and Codex) at it."""
    async with FakeIssuer() as server:
        yield server
