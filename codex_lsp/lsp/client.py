"""What a Python LSP client built on pygls needs to read this server's replies correctly.

The server is driven by clients written here too — the demo's editor
(:mod:`codex_lsp.lsp.demo_client`) and the end-to-end tests' editor — and both decode replies with
the converter below rather than each patching lsprotocol on its own.
"""

from __future__ import annotations

from typing import Any

from cattrs import Converter
from lsprotocol import types
from pygls.protocol import default_converter

__all__ = ["client_converter"]


def client_converter() -> Converter:
    """lsprotocol's converter (as pygls builds it), telling a ``CodeAction`` from a ``Command`` as
    editors do.

    lsprotocol 2025.0.0 decodes any ``textDocument/codeAction`` entry that carries a ``command`` as
    a ``Command`` — so every "Fix with Codex" action (a ``CodeAction`` whose ``command`` runs the
    turn) would lose its kind, diagnostics and tags. VS Code and Neovim decide by whether
    ``command`` is a string (a ``Command``) or an object (a ``CodeAction``); so does this.
    """
    converter: Converter = default_converter()  # type: ignore[no-untyped-call]

    def action_or_command(obj: Any, _: Any) -> types.CodeAction | types.Command:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    # ``X | Y`` equals lsprotocol's ``Union[X, Y]`` (and hashes alike), so this hook is the one found.
    converter.register_structure_hook(types.Command | types.CodeAction, action_or_command)
    return converter
