"""The engine: turn a parsed patch into file changes, atomically and in memory.

Hunks run in order against an in-memory overlay of the workspace, so a hunk sees what earlier
hunks of the same patch did (an Add followed by an Update of that file works, as upstream). Nothing
is written here: the result is the net :class:`FileChange` per path, computed only when every hunk
succeeded. Any failure raises and leaves the caller with nothing to apply — the atomic rule that
distinguishes us from the reference tool, which leaves earlier hunks applied.

Every path a hunk changes passes the workspace rules here, whatever the source: the source's
``resolve`` confines it to the workspace, and nothing inside ``.git`` is changed (see
:mod:`codex_lsp.patch.paths`), so every host (the command, ``exec``, the editor) inherits them.
Paths are read through a :class:`~codex_lsp.patch.readings.PathReader` first (git's ``a/``/``b/``
prefixes where one reading exists); its notes join the patch's own in :attr:`PatchResult.notes`,
or in the raised error's ``notes``.

Each file is read once, as a :class:`~codex_lsp.patch.model.Snapshot` (text with a buffer version
or a disk stamp), and each change carries the snapshot it was computed against (``base``), so the
host applying it can check that the file has not moved since.
"""

from __future__ import annotations

from typing import NamedTuple

from codex_lsp.patch.errors import PatchApplyError, PatchError, PatchFileError
from codex_lsp.patch.model import (
    AddFile,
    ChangeKind,
    DeleteFile,
    FileChange,
    Hunk,
    Patch,
    Snapshot,
    TextEdit,
    UpdateFile,
)
from codex_lsp.patch.paths import check_not_git
from codex_lsp.patch.readings import PathReader
from codex_lsp.patch.source import FileSource, PathKind, snapshot_of
from codex_lsp.patch.text import minimal_edits
from codex_lsp.patch.update import UpdatedText, update_text

__all__ = ["PatchResult", "compute_changes"]

SUCCESS_HEADER = "Success. Updated the following files:"


class PatchResult(NamedTuple):
    """What a successful patch does: net changes per path, and the per-hunk summary lines.

    ``notes`` say what was repaired to read the patch (one line each, for the model; hosts show
    them after the success message, the command on stderr).
    """

    changes: tuple[FileChange, ...]
    summary: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def success_message(self) -> str:
        """The text the reference tool prints on success (also the tool output to the model)."""
        return "\n".join((SUCCESS_HEADER, *self.summary)) + "\n"


class _Overlay:
    """The workspace as the hunks so far left it; originals are remembered for the net diff.

    ``original`` holds the snapshot each path was read as (``None``: it did not exist). A file
    deleted without being readable as text (binary, not UTF-8) is *opaque*: its deletion needs no
    text, but anything that would write it again still raises the reading error.
    """

    __slots__ = ("current", "moves", "opaque", "original", "reader", "source", "touches", "updates")

    def __init__(self, source: FileSource, reader: PathReader) -> None:
        self.source = source
        self.reader = reader
        self.current: dict[str, str | None] = {}
        self.original: dict[str, Snapshot | None] = {}
        self.opaque: dict[str, PatchFileError] = {}
        self.updates: dict[str, list[UpdatedText]] = {}
        self.touches: dict[str, int] = {}
        self.moves: list[tuple[str, str]] = []

    def resolve(self, raw: str) -> str:
        """The resolved path for ``raw``, as the reader reads it; refused when it lies in ``.git``."""
        path = self.reader.resolve(raw)
        check_not_git(path)
        return path

    def kind(self, path: str) -> PathKind:
        if path in self.current:
            return PathKind.MISSING if self.current[path] is None else PathKind.FILE
        return self.source.kind(path)

    def read(self, path: str) -> str:
        if path in self.current:
            text = self.current[path]
            assert text is not None
            return text
        snapshot = snapshot_of(self.source, path)
        self.original[path] = snapshot
        return snapshot.text

    def write(self, path: str, text: str | None) -> None:
        if path not in self.original:
            self.original[path] = self._original(path, deleting=text is None)
        self.current[path] = text
        self.touches[path] = self.touches.get(path, 0) + 1

    def _original(self, path: str, *, deleting: bool) -> Snapshot | None:
        if self.source.kind(path) is not PathKind.FILE:
            return None
        try:
            return snapshot_of(self.source, path)
        except PatchFileError as exc:
            if not deleting:
                raise
            self.opaque[path] = exc
            return None


def compute_changes(patch: Patch, source: FileSource) -> PatchResult:
    """Apply ``patch`` to ``source`` in memory; raise a ``PatchError`` if any hunk fails.

    The error carries the notes of the repairs made until then (``PatchError.notes``).
    """
    reader = PathReader(patch, source)
    try:
        if not patch.hunks:
            raise PatchApplyError("No files were modified.")
        overlay = _Overlay(source, reader)
        summary = [_apply(overlay, hunk) for hunk in patch.hunks]
        changes = _net_changes(overlay)
    except PatchError as exc:
        exc.notes = (*patch.notes, *reader.notes)
        raise
    # The reference tool lists added, then modified, then deleted paths, each in hunk order.
    ordered = sorted(summary, key=lambda line: "AMD".index(line[0]))
    return PatchResult(changes, tuple(ordered), (*patch.notes, *reader.notes))


def _apply(overlay: _Overlay, hunk: Hunk) -> str:
    if isinstance(hunk, AddFile):
        return _add(overlay, hunk)
    if isinstance(hunk, DeleteFile):
        return _delete(overlay, hunk)
    return _update(overlay, hunk)


def _add(overlay: _Overlay, hunk: AddFile) -> str:
    path = overlay.resolve(hunk.path)
    if overlay.kind(path) is PathKind.DIRECTORY:
        raise PatchApplyError(f"Failed to write file {path}: it is a directory")
    overlay.write(path, hunk.contents)
    return f"A {path}"


def _delete(overlay: _Overlay, hunk: DeleteFile) -> str:
    path = overlay.resolve(hunk.path)
    kind = overlay.kind(path)
    if kind is not PathKind.FILE:
        reason = "it is a directory" if kind is PathKind.DIRECTORY else "no such file"
        raise PatchApplyError(f"Failed to delete file {path}: {reason}")
    overlay.write(path, None)
    return f"D {path}"


def _update(overlay: _Overlay, hunk: UpdateFile) -> str:
    path = overlay.resolve(hunk.path)
    kind = overlay.kind(path)
    if kind is not PathKind.FILE:
        reason = "it is a directory" if kind is PathKind.DIRECTORY else "No such file or directory"
        raise PatchApplyError(f"Failed to read file to update {path}: {reason}")
    text = overlay.read(path)
    always_eol = all(
        chunk.eol_at_end is None and (chunk.hint_line is None or bool(chunk.header)) for chunk in hunk.chunks
    )
    updated = update_text(path, text, hunk.chunks, always_final_eol=always_eol) if hunk.chunks else None
    new_text = updated.text if updated else text
    destination = path
    if hunk.move_to is not None:
        destination = overlay.resolve(hunk.move_to)
        if overlay.kind(destination) is PathKind.DIRECTORY:
            raise PatchApplyError(f"Failed to move {path} to {destination}: the destination is a directory")
        if destination != path:
            overlay.write(path, None)
            overlay.moves.append((path, destination))
    overlay.write(destination, new_text)
    if updated is not None and destination == path:
        overlay.updates.setdefault(path, []).append(updated)
    return f"M {destination}"


def _net_changes(overlay: _Overlay) -> tuple[FileChange, ...]:
    """Fold the overlay into one change per path (a move counts for both of its paths)."""
    changes: list[FileChange] = []
    done: set[str] = set()
    for source_path, destination in overlay.moves:
        if source_path in done or destination in done:
            continue
        base, new = overlay.original.get(source_path), overlay.current.get(destination)
        if base is None or new is None or overlay.current.get(source_path) is not None:
            continue
        if destination in overlay.opaque:  # a move onto a deleted binary file writes it again
            raise overlay.opaque[destination]
        old = base.text
        edits = minimal_edits(old, new)
        replaced = overlay.original.get(destination)
        changes.append(FileChange(ChangeKind.MOVE, source_path, old, new, destination, edits, base, replaced))
        done.update((source_path, destination))
    for path, new in overlay.current.items():
        if path in done:
            continue
        if path in overlay.opaque:
            if new is not None:
                raise overlay.opaque[path]
            changes.append(FileChange(ChangeKind.DELETE, path, None, None))
            continue
        base = overlay.original.get(path)
        if base is None and new is not None:
            changes.append(FileChange(ChangeKind.ADD, path, None, new))
        elif base is not None and new is None:
            changes.append(FileChange(ChangeKind.DELETE, path, base.text, None, base=base))
        elif base is not None and new is not None and base.text != new:
            edits = _edits(overlay, path, base.text, new)
            changes.append(FileChange(ChangeKind.UPDATE, path, base.text, new, edits=edits, base=base))
    return tuple(changes)


def _edits(overlay: _Overlay, path: str, old: str, new: str) -> tuple[TextEdit, ...]:
    updates = overlay.updates.get(path, [])
    if overlay.touches.get(path) == 1 and len(updates) == 1:
        return updates[0].edits
    return minimal_edits(old, new)
