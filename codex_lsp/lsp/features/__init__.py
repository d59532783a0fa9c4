"""One module per LSP surface, each with a ``setup(server)`` that registers its handlers."""
