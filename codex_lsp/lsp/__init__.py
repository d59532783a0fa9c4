"""The LSP host: the only package that imports pygls or lsprotocol."""
