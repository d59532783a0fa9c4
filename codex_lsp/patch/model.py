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
    "DiskStamp",
    "FileChange",
    "Hunk",
    "Patch",
    "Snapshot",
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
    header: str = ""
    """The unified-diff header (``@@ -12,3 +12,4 @@``) an apply_patch chunk carried where a bare
    ``@@`` belongs, as the model wrote it; ``hint_line`` then holds its old start. The chunk stays
    an apply_patch chunk (its result ends with a newline); empty for every other chunk."""


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
    """A parsed patch: its hunks in the order they must be applied.

    ``notes`` say what was repaired to read it (a fence taken off, a unified header read as a
    hint), one line each, written for the model; empty for a patch sent as the format wants it.
    """

    hunks: tuple[Hunk, ...]
    notes: tuple[str, ...] = ()


class ChangeKind(StrEnum):
    """What a :class:`FileChange` does to the workspace."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"
    MOVE = "move"


class TextEdit(NamedTuple):
    """Replace ``old_text[start:end]`` by ``text``; offsets index the file's old text (code points).

    Edits are minimal to the character: the text the old and new versions share at either end of
    a change is left out, so a cursor or mark on the unchanged part of a line survives. No edit
    starts or ends between the two characters of a ``\r\n``, in the old text or the new. Edits
    of one file never overlap and are sorted by ``start``.

    ``start_line``/``end_line`` are the 0-based lines of ``start``/``end`` by the Language Server
    Protocol's rules (a line ends at ``\n``, ``\r\n`` or a lone ``\r``), which is also how
    :func:`~codex_lsp.patch.positions.offset_to_line_col` counts; a host adds the column in its
    position encoding. ``end_line`` is always a line of the old text (for a file without a final
    newline, at most its last line). Matching splits lines on ``\n`` only, as Codex does; only
    these reported positions follow LSP.
    """

    start: int
    end: int
    text: str
    start_line: int
    end_line: int


class DiskStamp(NamedTuple):
    """What the file system said about a file when it was read (``os.fstat`` of the open file).

    Equal stamps mean "very probably unchanged": a write within the clock's granularity that keeps
    the size can leave a stamp as it was, which is why the writer compares bytes, not stamps.
    Useful to a host as a cheap "has this file moved since?" check.
    """

    mtime_ns: int
    ctime_ns: int
    size: int
    inode: int
    device: int


class Snapshot(NamedTuple):
    """A file's text as a source handed it out, with what identifies that state.

    ``version`` is an editor buffer's version (``None`` for a file read from disk); ``stamp`` is
    the disk file's :class:`DiskStamp` (``None`` for a buffer, or a source that cannot tell).
    """

    text: str
    version: int | None = None
    stamp: DiskStamp | None = None


class FileChange(NamedTuple):
    """The net effect of a patch on one path, computed in memory before anything is written.

    ``path`` is workspace-relative with ``/`` separators. For ``MOVE`` the file at ``path`` is
    removed and ``new_text`` written at ``move_to``. ``old_text`` is ``None`` for a new file, and
    for the deletion of a file that is not text (binary, not UTF-8): deleting needs no text.
    ``new_text`` is ``None`` for a deletion. ``edits`` is the minimal edit list turning
    ``old_text`` into ``new_text`` (empty for ADD and DELETE).

    ``base`` is the snapshot of ``path`` the change was computed against (its text is
    ``old_text``); ``None`` for a new file, a non-text deletion, or a change built by hand. A host
    checks it before applying (the buffer's version, the disk stamp). ``replaced`` is set for a
    ``MOVE`` onto an existing file: the snapshot of the file at ``move_to`` that the move
    overwrites; ``None`` means the destination did not exist.
    """

    kind: ChangeKind
    path: str
    old_text: str | None
    new_text: str | None
    move_to: str | None = None
    edits: tuple[TextEdit, ...] = ()
    base: Snapshot | None = None
    replaced: Snapshot | None = None
