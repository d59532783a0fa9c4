"""Test and demo support that ships with the package: the fake Responses server and peer lookup.

This module names what tests, benchmarks and the demo use (``__all__``); they import nothing
else of the package (tests/test_surfaces.py enforces it). Each name loads its module on first
use (PEP 562): looking up a peer does not load the server's WebSocket stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_lsp._exports import lazy_exports

if TYPE_CHECKING:
    from codex_lsp.testing.fake_responses import (
        FakeResponsesServer,
        Handshake,
        RecordedRequest,
        loopback_settings,
    )
    from codex_lsp.testing.fake_script import ResponseIds, Script, Step, render_response
    from codex_lsp.testing.peers import PeerNotInstalled, codex_acp_binary, codex_binary

__all__ = [
    "FakeResponsesServer",
    "Handshake",
    "PeerNotInstalled",
    "RecordedRequest",
    "ResponseIds",
    "Script",
    "Step",
    "codex_acp_binary",
    "codex_binary",
    "loopback_settings",
    "render_response",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "fake_responses": ("FakeResponsesServer", "Handshake", "RecordedRequest", "loopback_settings"),
    "fake_script": ("ResponseIds", "Script", "Step", "render_response"),
    "peers": ("PeerNotInstalled", "codex_acp_binary", "codex_binary"),
}

__getattr__ = lazy_exports(__name__, _LAZY)
