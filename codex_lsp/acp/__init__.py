"""``codex-lsp acp``: the same agent for Agent Client Protocol editors (Zed, JetBrains, ACP clients
in Neovim and Emacs).

This package is the only importer of the ``agent-client-protocol`` SDK (``acp``). It hosts the agent
of :mod:`codex_lsp.agent` behind ACP, as ``exec`` hosts it behind the terminal:

- :mod:`~codex_lsp.acp.server` runs the ACP connection on stdio and answers the lifecycle requests;
- :mod:`~codex_lsp.acp.auth` is the sign-in: the ``authMethods`` offered, ``authenticate``, and the
  ``auth_required`` error;
- :mod:`~codex_lsp.acp.session` is one ACP session: one thread, its turns, its mode;
  :mod:`~codex_lsp.acp.options` its configuration options (mode, model, reasoning effort);
- :mod:`~codex_lsp.acp.editor` reads and writes files through the editor (``fs/*``) when the client
  offers it, and asks for permission (``session/request_permission``);
- :mod:`~codex_lsp.acp.report` turns the agent's events and tool calls into ``session/update``
  notifications; :mod:`~codex_lsp.acp.replay` replays a saved thread for ``session/load``.
"""
