"""codex-lsp: a Codex-style coding agent spoken through the Language Server Protocol."""

__version__ = "0.1.0"
__all__ = ["__version__"]
