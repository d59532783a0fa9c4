"""The LSP host of the agent: the only package that imports pygls or lsprotocol.

``server.build_server()`` builds the language server; ``python -m codex_lsp.lsp --stdio`` runs it.
"""
