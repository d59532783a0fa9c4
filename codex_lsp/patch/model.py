"""The hunk model both input formats parse into, and the file changes the engine produces.

Records are ``NamedTuple``s rather than dataclasses: they are immutable either way, and the
``apply-patch`` command starts noticeably faster without importing ``dataclasses``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "AddFile",
    "ChangeKind",
    "Chunk",
    "DeleteFile",
    "FileChange",
    "Hunk",
    "Patch",
    "TextEdit",
    "UpdateFile",
]


class Chunk(NamedTuple):
    """One change inside an Update: replace ``old_lines`` by ``new_lines``.

    ``contexts`` are the ``@@`` lines that narrow the search, outermost first. ``is_end_of_file``
    anchors the chunk at the end of the file. ``hint_line`` (0-based) is where a unified diff said
    the old lines start; it breaks ties between equal matches. ``eol_at_end`` is ``False`` when a
    unified diff marked the new text's last line ``\\ No newline at end of file``; ``None`` when
    the format says nothing (apply_patch: the result always ends with a newline).
    """

    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    contexts: tuple[str, ...] = ()
    is_end_of_file: bool = False
    hint_line: int | None = None
    eol_at_end: bool | None = None
    kinds: str = ""
    """The chunk's lines in patch order, one character each: ``" "`` context, ``"-"`` removed,
    ``"+"`` added. It lets the engine keep the file's own text for context lines and replace only
    the removed/added runs, as the reference does; empty when unknown."""


class AddFile(NamedTuple):
    """Create ``path`` with ``contents`` (overwriting an existing file, like upstream)."""

    path: str
    contents: str


class DeleteFile(NamedTuple):
    """Delete the file ``path``; a missing file or a directory is an error."""

    path: str


class UpdateFile(NamedTuple):
    """Apply ``chunks`` to ``path``, then move the result to ``move_to`` when given."""

    path: str
    chunks: tuple[Chunk, ...]
    move_to: str | None = None


Hunk = AddFile | DeleteFile | UpdateFile


class Patch(NamedTuple):
    """A parsed patch: its hunks in the order they must be applied."""

    hunks: tuple[Hunk, ...]


class ChangeKind(StrEnum):
    """What a :class:`FileChange` does to the workspace."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"
    MOVE = "move"


class TextEdit(NamedTuple):
    """Replace ``old_text[start:end]`` by ``text``; offsets index the file's old text (code points).

    Edits of one file never overlap and are sorted by ``start``. ``start_line``/``end_line`` are the
    0-based line numbers of ``start``/``end`` so callers that think in lines need not rescan.
    """

    start: int
    end: int
    text: str
    start_line: int
    end_line: int


class FileChange(NamedTuple):
    """The net effect of a patch on one path, computed in memory before anything is written.

    ``path`` is workspace-relative with ``/`` separators. For ``MOVE`` the file at ``path`` is
    removed and ``new_text`` written at ``move_to``. ``old_text`` is ``None`` for a new file, and
    for the deletion of a file that is not text (binary, not UTF-8): deleting needs no text.
    ``new_text`` is ``None`` for a deletion. ``edits`` is the minimal edit list turning
    ``old_text`` into ``new_text`` (empty for ADD and DELETE).
    """

    kind: ChangeKind
    path: str
    old_text: str | None
    new_text: str | None
    move_to: str | None = None
    edits: tuple[TextEdit, ...] = ()
