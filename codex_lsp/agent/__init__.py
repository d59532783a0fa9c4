"""The agent: threads, turns, tools and context. No LSP here; the editor is reached through
the small interfaces of :mod:`codex_lsp.agent.interfaces`."""
