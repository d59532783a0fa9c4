"""A turn's answer where the editor shows it, for editors that are not ours.

Our plugins (VS Code, Neovim, Emacs) declare ``experimental.codex`` and draw the answer from the
``codex/*`` notifications. Every other client (ALE, coc.nvim, lsp-mode, a browser editor…) displays
neither those nor the result of ``workspace/executeCommand``: without this module the model's
answer — "Explain this code" above all — reached no one. So at the end of a turn its final text
(and, when the changes were held, their diff) is shown:

- short (at most :data:`SHORT_CHARS` characters on at most :data:`SHORT_LINES` lines): one
  ``window/showMessage``;
- longer, where the client can open documents (``window/showDocument``): written to a read-only
  Markdown file in codex-lsp's state folder (``answers/<turn id>.md``, the user's own, kept like
  the threads) and opened — a message cut to fit an echo area helps no one;
- otherwise: ``window/showMessage`` with the whole text (the client shows what it can).

The setting ``showAnswers`` decides for whom: ``auto`` (clients without ``experimental.codex``),
``always``, ``never``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import from_fs_path

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["SHORT_CHARS", "SHORT_LINES", "answer_text", "show_answer", "wants_answers"]

log = logging.getLogger(__name__)

SHORT_CHARS = 500
SHORT_LINES = 5


def wants_answers(server: CodexServer) -> bool:
    """Whether this client is shown turns' answers (``showAnswers``)."""
    state = server.state
    choice = state.settings.show_answers
    return choice == "always" or (choice == "auto" and not state.caps.codex_streaming)


def answer_text(message: str, changed: Sequence[str], diffs: Sequence[tuple[str, str]]) -> str:
    """What is shown of a finished turn: its final text, what it changed, the diff it holds."""
    parts = [message.strip()] if message.strip() else []
    if changed:
        parts.append("Changed: " + ", ".join(changed))
    if diffs:
        parts.append("Proposed changes (nothing was written):\n" + "\n".join(diff for _, diff in diffs))
    return "\n\n".join(parts)


async def show_answer(server: CodexServer, turn_id: str, text: str) -> None:
    """Show ``text`` (secrets removed) as a message or, when long, as a read-only document."""
    text = server.state.scrub(text)
    if not text:
        return
    short = len(text) <= SHORT_CHARS and text.count("\n") < SHORT_LINES
    if not short and server.state.caps.show_document:
        path = _write(turn_id, text)
        if path is not None and await _open(server, path):
            return
    server.show(f"Codex: {text}", types.MessageType.Info)


def _write(turn_id: str, text: str) -> Path | None:
    from codex_lsp.agent import default_state_dir

    folder = default_state_dir() / "answers"
    path = folder / f"{turn_id}.md"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        os.chmod(path, 0o444)  # an answer, not a file to edit: the editor opens it read-only
    except OSError as exc:
        log.warning("could not write the answer to %s: %s", path, exc)
        return None
    return path


async def _open(server: CodexServer, path: Path) -> bool:
    params = types.ShowDocumentParams(uri=from_fs_path(str(path)) or "", take_focus=True)
    try:
        result = await server.window_show_document_async(params)
    except Exception as exc:  # the client failed the request: fall back to a message
        log.info("the editor did not open %s: %s", path, exc)
        return False
    return bool(getattr(result, "success", False))
