"""Locate the reference peers that ``make test`` installs under ``tests/peers``.

The Codex CLI ships as a native binary inside the npm package ``@openai/codex`` (one optional
dependency per platform). Tests and benchmarks run it as the reference implementation, so they
need its path rather than the ``bin/codex.js`` Node launcher. Zed's Codex bridge for ACP editors,
``@zed-industries/codex-acp``, ships the same way (``bench/acp.py`` compares ``codex-lsp acp`` with it).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PeerNotInstalled", "codex_acp_binary", "codex_binary", "peers_dir"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


class PeerNotInstalled(RuntimeError):
    """The reference peer is missing; ``make test`` installs it."""


def peers_dir() -> Path:
    """Return the folder holding the peers' ``node_modules`` (``$CODEX_LSP_PEERS`` overrides it)."""
    override = os.environ.get("CODEX_LSP_PEERS")
    return Path(override) if override else _REPO_ROOT / "tests" / "peers"


def codex_binary() -> Path:
    """Return the native Codex CLI binary of the pinned ``@openai/codex`` package."""
    modules = peers_dir() / "node_modules" / "@openai"
    for candidate in sorted(modules.glob("codex-*/vendor/*/bin/codex")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise PeerNotInstalled(
        f"no native Codex binary under {modules}; run `make test` (it runs `npm ci` in tests/peers)"
    )


def codex_acp_binary() -> Path:
    """Return the native ``codex-acp`` binary of the pinned ``@zed-industries/codex-acp`` package."""
    modules = peers_dir() / "node_modules" / "@zed-industries"
    for candidate in sorted(modules.glob("codex-acp-*/bin/codex-acp")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise PeerNotInstalled(
        f"no native codex-acp binary under {modules}; run `make test` (it runs `npm ci` in tests/peers)"
    )
