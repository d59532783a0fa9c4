"""The patch layer's exceptions.

Every failure of this layer is a :class:`PatchError`; its message is written for the model (it goes
back as tool output) and for a person reading a terminal. Policy: a ``PatchError`` is never retried
by the engine and never partially applied; the caller shows it to the model, which may send a
corrected patch.

- :class:`PatchParseError` — the text is not a patch (``Invalid patch: …``); ``line`` is 1-based
  when known.
- :class:`PatchApplyError` — the patch is well formed but does not fit the files (missing file,
  lines not found, ambiguous match).
- :class:`PatchPathError` — a path is absolute, leaves the workspace, or goes through a symlink
  that does.
- :class:`PatchFileError` — a file cannot be read as UTF-8 text (binary or another encoding).
"""

from __future__ import annotations

__all__ = ["PatchApplyError", "PatchError", "PatchFileError", "PatchParseError", "PatchPathError"]


class PatchError(Exception):
    """Base of every error of the patch layer; the message is complete and model-readable."""


class PatchParseError(PatchError):
    """The patch text does not follow the grammar; nothing was looked up or changed."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.reason = message
        self.line = line
        text = f"Invalid patch hunk on line {line}: {message}" if line else f"Invalid patch: {message}"
        super().__init__(text)


class PatchApplyError(PatchError):
    """The patch is well formed but does not fit the current files; nothing was changed."""


class PatchPathError(PatchError):
    """A path in the patch is not allowed (absolute, escaping the root, or through an outside link)."""


class PatchFileError(PatchError):
    """A file the patch touches is binary or not UTF-8, so it is refused rather than corrupted."""
