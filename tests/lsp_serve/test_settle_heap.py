"""Both entry points build the server with the start-up heap frozen (``gc.freeze``), so the collector never
walks the protocol's hundreds of thousands of long-lived objects again (start-up, and every later full
collection, pay for it otherwise)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codex_lsp.lsp import __main__ as module_entry
from codex_lsp.lsp import serve
from codex_lsp.lsp.access import ListenAddress
from codex_lsp.lsp.serve import ServeOptions
from tests.lsp_serve.tiny import TinyServer, build_tiny_server


@pytest.fixture
def unfrozen() -> Iterator[list[int]]:
    """Start from an unfrozen heap; record the frozen count seen when the server is built; unfreeze after."""
    gc.unfreeze()
    seen: list[int] = []
    try:
        yield seen
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("root_logging")
def test_serve_builds_the_server_on_a_frozen_heap(
    unfrozen: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_listener(*args: Any) -> None:
        return None

    def build() -> TinyServer:
        unfrozen.append(gc.get_freeze_count())
        return build_tiny_server()

    monkeypatch.setattr(serve, "serve_tcp", no_listener)
    assert serve.run(ServeOptions("tcp", ListenAddress("127.0.0.1", 0)), build) == 0
    (frozen,) = unfrozen
    assert frozen > 10_000


@pytest.mark.usefixtures("root_logging")
def test_the_module_entry_point_builds_on_a_frozen_heap(
    unfrozen: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def build() -> TinyServer:
        unfrozen.append(gc.get_freeze_count())
        return build_tiny_server()

    def run_stdio(factory: Callable[[], TinyServer]) -> int:
        factory()
        return 0

    monkeypatch.setattr(module_entry, "build_server", build)
    monkeypatch.setattr(module_entry, "run_stdio", run_stdio)
    assert module_entry.main(["--stdio"]) == 0
    (frozen,) = unfrozen
    assert frozen > 10_000
