"""Builds the codex-lsp language server: the pygls server with every feature registered, nothing else.

Each LSP surface lives in its own module under :mod:`codex_lsp.lsp.features`; the agent side (the
``Workspace``, ``ChangeApplier`` and ``Approver`` the agent needs, on LSP) lives under
:mod:`codex_lsp.lsp.host` and loads on first use.
"""

from __future__ import annotations

from codex_lsp.lsp.features import (
    account,
    code_actions,
    code_lens,
    commands,
    diagnostics,
    documents,
    lifecycle,
    resolve,
    review,
)
from codex_lsp.lsp.state import CodexServer

__all__ = ["CodexServer", "build_server"]


def build_server() -> CodexServer:
    """A new server with every feature registered; start it with ``start_io()`` (or a socket)."""
    server = CodexServer()
    for feature in (
        lifecycle,
        documents,
        diagnostics,
        code_actions,
        resolve,
        code_lens,
        commands,
        review,
        account,
    ):
        feature.setup(server)
    return server
