"""The patch layer's exceptions, and the caps that keep their messages readable.

Every failure of this layer is a :class:`PatchError`; its message is written for the model (it goes
back as tool output) and for a person reading a terminal. Policy: a ``PatchError`` is never retried
by the engine and never partially applied; the caller shows it to the model, which may send a
corrected patch.

- :class:`PatchParseError` — the text is not a patch (``Invalid patch: …``); ``line`` is 1-based
  when known.
- :class:`PatchApplyError` — the patch is well formed but does not fit the files (missing file,
  lines not found, ambiguous match); its :class:`PatchStaleError` says a file changed between
  computing the patch and writing it (read it again and recompute).
- :class:`PatchPathError` — a path is absolute, leaves the workspace, goes through a symlink that
  does, or lies inside a ``.git`` directory.
- :class:`PatchFileError` — a file cannot be used: binary or not UTF-8, read-only, or the
  operating system refused to read or write it.

A patch that needed repairs to be read (a markdown fence taken off, git's ``a/`` prefix dropped)
and then failed carries them as ``notes``, one line each, for the host to show after the message
(as the model is told them after a success), so the model learns the format either way.

Messages quote what the model sent and what the files hold, and either can be a line of megabytes:
:func:`clip` shortens each quoted line and every message is cut at :data:`MAX_MESSAGE` characters.
"""

from __future__ import annotations

__all__ = [
    "MAX_MESSAGE",
    "MAX_QUOTED",
    "PatchApplyError",
    "PatchError",
    "PatchFileError",
    "PatchParseError",
    "PatchPathError",
    "PatchStaleError",
    "clip",
    "describe_os_error",
]

MAX_QUOTED = 200
"""Characters of one quoted line (a patch line, a file line, a path) shown in a message."""

MAX_MESSAGE = 8000
"""Characters of a whole message: enough for the hints, small enough for a terminal or a prompt."""


def clip(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis and the count of what was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def describe_os_error(exc: OSError, name: str) -> str:
    """One line for an operating-system error on ``name``: ``name: Permission denied``."""
    reason = exc.strerror or exc.__class__.__name__
    return f"{clip(name)}: {reason}"


class PatchError(Exception):
    """Base of every error of the patch layer; the message is complete, model-readable, capped."""

    notes: tuple[str, ...] = ()
    """What was repaired to read the patch before this failure; shown after the message."""

    def __init__(self, message: str) -> None:
        if len(message) > MAX_MESSAGE:
            cut = len(message) - MAX_MESSAGE
            message = f"{message[:MAX_MESSAGE]}\n… (message cut: {cut} more characters)"
        super().__init__(message)


class PatchParseError(PatchError):
    """The patch text does not follow the grammar; nothing was looked up or changed."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.reason = message
        self.line = line
        text = f"Invalid patch hunk on line {line}: {message}" if line else f"Invalid patch: {message}"
        super().__init__(text)


class PatchApplyError(PatchError):
    """The patch is well formed but does not fit the current files; nothing was changed."""


class PatchStaleError(PatchApplyError):
    """A file changed after the patch was computed against it; nothing was changed.

    The patch may still be right: a host can read the file again and compute it anew.
    """


class PatchPathError(PatchError):
    """A path in the patch is not allowed: absolute, escaping the root, through an outside link, in .git."""


class PatchFileError(PatchError):
    """A file the patch touches cannot be used (binary, not UTF-8, read-only, unreadable, unwritable)."""
