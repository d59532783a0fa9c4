"""Test and demo support that ships with the package: the fake Responses server and peer lookup.

This module names what tests, benchmarks and the demo use (``__all__``); they import nothing
else of the package (tests/test_surfaces.py enforces it). Each name loads its module on first
use (PEP 562): looking up a peer does not load the server's WebSocket stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_lsp._exports import lazy_exports

if TYPE_CHECKING:
    from codex_lsp.testing.fake_issuer import (
        FakeIssuer,
        IssuerRequest,
        access_token,
        chatgpt_auth,
        id_token,
        jwt,
        write_chatgpt_auth,
        write_chatgpt_home,
    )
    from codex_lsp.testing.fake_responses import (
        FakeResponsesServer,
        Handshake,
        RecordedRequest,
        loopback_settings,
    )
    from codex_lsp.testing.fake_script import ResponseIds, Script, Step, render_response
    from codex_lsp.testing.lsp_client import LspClient, LspError, cpu_seconds, rss_kib
    from codex_lsp.testing.peers import (
        CODEX_KEY,
        AppServer,
        PeerNotInstalled,
        clean_env,
        codex_acp_binary,
        codex_binary,
        codex_models,
        make_codex_home,
    )

__all__ = [
    "CODEX_KEY",
    "AppServer",
    "FakeIssuer",
    "FakeResponsesServer",
    "Handshake",
    "IssuerRequest",
    "LspClient",
    "LspError",
    "PeerNotInstalled",
    "RecordedRequest",
    "ResponseIds",
    "Script",
    "Step",
    "access_token",
    "chatgpt_auth",
    "clean_env",
    "codex_acp_binary",
    "codex_binary",
    "codex_models",
    "cpu_seconds",
    "id_token",
    "jwt",
    "loopback_settings",
    "make_codex_home",
    "render_response",
    "rss_kib",
    "write_chatgpt_auth",
    "write_chatgpt_home",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "fake_issuer": (
        "FakeIssuer",
        "IssuerRequest",
        "access_token",
        "chatgpt_auth",
        "id_token",
        "jwt",
        "write_chatgpt_auth",
        "write_chatgpt_home",
    ),
    "fake_responses": ("FakeResponsesServer", "Handshake", "RecordedRequest", "loopback_settings"),
    "fake_script": ("ResponseIds", "Script", "Step", "render_response"),
    "lsp_client": ("LspClient", "LspError", "cpu_seconds", "rss_kib"),
    "peers": (
        "CODEX_KEY",
        "AppServer",
        "PeerNotInstalled",
        "clean_env",
        "codex_acp_binary",
        "codex_binary",
        "codex_models",
        "make_codex_home",
    ),
}

__getattr__ = lazy_exports(__name__, _LAZY)
