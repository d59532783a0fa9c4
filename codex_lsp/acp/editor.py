"""Files through the editor: the ACP client's ``fs/read_text_file`` and ``fs/write_text_file``.

When the client offers both, the agent sees what the user sees — an open buffer's unsaved text —
and its edits land in the editor's buffers (saved by the editor, undoable there), like the LSP
host's. A client that offers only one of the two gets the disk for both, exactly as ``exec``: reading
the buffer but writing the disk would save the user's unsaved text behind their back, and the
reverse would overwrite it.

Not every client's ``fs/read_text_file`` returns what it shows. CodeCompanion.nvim's reads the file on
disk while its ``fs/write_text_file`` replaces the text of the open buffer, so an edit made through it
would be computed on the disk's text and overwrite the buffer's unsaved lines. An agent cannot see that
a buffer holds unsaved text (ACP has no such notion), so such clients, known by their ``clientInfo``
name (:data:`DISK_READERS`), get the disk for both, as ``exec`` does: the edit is written to the file,
the buffer keeps what the user typed, and the editor says the file changed under a modified buffer
(Neovim's W12) instead of losing the text silently.

The agent's interfaces are synchronous where they read (a patch is matched in one go), while the
editor answers asynchronously; so a tool call first fetches the files it is about to read
(:meth:`EditorWorkspace.editor_view`) and the patch engine then reads those texts from memory.
Files the editor was not asked about are read from the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import NamedTuple, Protocol

from acp import RequestError
from acp.interfaces import Client
from acp.schema import ClientCapabilities, Implementation

from codex_lsp.agent import ApplyOutcome, Diagnostic, OpenBuffer, checkpoint, read_workspace_text
from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    FileChange,
    PatchError,
    PatchResult,
    PathKind,
    Snapshot,
    clip,
    write_changes,
)

__all__ = [
    "DISK_READERS",
    "AcpEditor",
    "Editor",
    "EditorApplier",
    "EditorError",
    "EditorFileSource",
    "EditorWorkspace",
    "files_through_editor",
]

log = logging.getLogger(__name__)

_GIT_PREFIXES = ("a/", "b/")
"""Prefixes of git's diff paths, which the patch engine drops where that names the only existing file."""

DISK_READERS = ("codecompanion",)
"""``clientInfo.name`` prefixes (lower case) of clients whose ``fs/read_text_file`` reads the disk while
their ``fs/write_text_file`` writes into the open buffer (CodeCompanion.nvim: "CodeCompanion.nvim")."""


def files_through_editor(capabilities: ClientCapabilities | None, client: Implementation | None) -> bool:
    """Whether a session reads and writes files through the client (``fs/*``) rather than the disk: only
    when the client offers both requests and is not one of :data:`DISK_READERS`."""
    fs = capabilities.fs if capabilities is not None else None
    if fs is None or not (fs.read_text_file and fs.write_text_file):
        return False
    name = client.name if client is not None else ""
    if name.lower().startswith(DISK_READERS):
        log.info(
            "%s reads files from disk but writes into its buffers: files are read and written on disk", name
        )
        return False
    return True


class EditorError(Exception):
    """The editor refused or failed a file request; the message says which file and why."""


class Editor(Protocol):
    """The two file requests of an ACP client, by absolute path."""

    async def read(self, path: Path) -> str:
        """The text the editor shows for ``path`` (its buffer if open, else the file)."""
        ...

    async def write(self, path: Path, text: str) -> None:
        """Replace the editor's text of ``path`` by ``text`` (the editor saves it)."""
        ...


class AcpEditor:
    """:class:`Editor` over one ACP session's connection."""

    def __init__(self, client: Client, session_id: str) -> None:
        self.client = client
        self.session_id = session_id

    async def read(self, path: Path) -> str:
        try:
            response = await self.client.read_text_file(session_id=self.session_id, path=str(path))
        except (RequestError, ConnectionError) as exc:
            raise EditorError(f"the editor could not read {path}: {exc}") from exc
        return response.content

    async def write(self, path: Path, text: str) -> None:
        try:
            await self.client.write_text_file(session_id=self.session_id, path=str(path), content=text)
        except (RequestError, ConnectionError) as exc:
            raise EditorError(f"the editor could not write {path}: {exc}") from exc


class EditorFileSource(DiskFileSource):
    """The disk, except for the files the editor gave us: the engine matches patches against those."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        super().__init__(root)
        self.texts: dict[str, str] = {}

    def kind(self, path: str) -> PathKind:
        return PathKind.FILE if path in self.texts else super().kind(path)

    def disk_kind(self, path: str) -> PathKind:
        """What ``path`` is on disk, whatever the editor said about it."""
        return super().kind(path)

    def snapshot(self, path: str) -> Snapshot:
        """The editor's text where it gave one (ACP has no buffer versions), else the disk's snapshot
        (``read_text`` reads through this)."""
        text = self.texts.get(path)
        return Snapshot(text) if text is not None else super().snapshot(path)


class EditorWorkspace:
    """A :class:`~codex_lsp.agent.interfaces.Workspace` whose files are read through the editor."""

    def __init__(self, root: Path, editor: Editor) -> None:
        self._root = root.resolve()
        self.editor = editor
        self.source = EditorFileSource(self._root)
        self._holds: Counter[str] = Counter()

    @property
    def root(self) -> Path:
        return self._root

    def read_text(self, path: str) -> str:
        return read_workspace_text(self.source, path)

    def open_buffers(self) -> list[OpenBuffer]:
        return []  # ACP does not tell an agent which files are open

    def diagnostics(self, path: str | None = None) -> list[Diagnostic]:
        return []

    def file_source(self) -> EditorFileSource:
        return self.source

    @contextlib.asynccontextmanager
    async def editor_view(self, paths: Iterable[str]) -> AsyncIterator[None]:
        """While the block runs, reads of ``paths`` return the editor's current text.

        Paths that are not files on disk (new files, directories, paths the engine will refuse)
        are not asked for: the editor cannot show a text for them that the disk lacks. A file the
        editor fails to read is read from the disk.
        """
        wanted = [path for path in dict.fromkeys(self._resolved(paths)) if self._on_disk(path)]
        texts = await asyncio.gather(*(self._fetch(path) for path in wanted))
        held = [path for path, text in zip(wanted, texts, strict=True) if text is not None]
        for path, text in zip(wanted, texts, strict=True):
            if text is not None:
                self.source.texts[path] = text
                self._holds[path] += 1
        try:
            yield
        finally:
            for path in held:
                self._holds[path] -= 1
                if self._holds[path] <= 0:
                    del self._holds[path]
                    self.source.texts.pop(path, None)

    def note_written(self, path: str, text: str) -> None:
        """A write went through the editor: reads held for ``path`` see it from now on."""
        if path in self.source.texts:
            self.source.texts[path] = text

    def _resolved(self, paths: Iterable[str]) -> Iterable[str]:
        """The files ``paths`` may name: a path with git's ``a/`` or ``b/`` prefix names the file
        without it as well, which the engine reads instead where only that one exists
        (:mod:`codex_lsp.patch.readings`); holding both costs one read, missing it would match the
        patch on the disk's text, not the editor's."""
        for reading in (reading for raw in paths for reading in _readings(raw)):
            try:
                yield self.source.resolve(reading)
            except PatchError:
                continue  # the tool itself reports the refusal

    def _on_disk(self, path: str) -> bool:
        try:
            return self.source.disk_kind(path) is PathKind.FILE
        except PatchError:
            return False

    async def _fetch(self, path: str) -> str | None:
        try:
            return await self.editor.read(self._root / path)
        except EditorError as exc:
            log.info("%s; reading the disk instead", exc)
            return None


class _Write(NamedTuple):
    """One file to write through the editor, and what it held before (``None``: it did not exist)."""

    path: str
    text: str
    before: str | None


class EditorApplier:
    """Applies a computed patch through the editor: every file, or none.

    The engine computed every file first (nothing is sent for a patch that does not apply). Then:

    1. each file the patch changes is read again through the editor; if one no longer has the text
       the patch was computed on (the user typed meanwhile), or a file it creates now exists, or a file
       a move overwrites no longer has the text the move replaces, nothing is written;
    2. each new text is sent with ``fs/write_text_file``, in order;
    3. files the patch deletes (or moves away) are removed on disk — ACP has no request for that —
       with the patch layer's atomic writer.

    If a write or a removal fails, every file already written is restored (its old text written
    back through the editor; a file that did not exist is removed again), and the outcome says what
    failed. An interrupt before step 2 changes nothing; once writing has begun it runs to the end
    (or is rolled back) and the outcome says what happened, so a patch is never half applied.
    """

    def __init__(self, workspace: EditorWorkspace) -> None:
        self.workspace = workspace
        self.editor = workspace.editor

    async def apply(self, result: PatchResult, *, turn_id: str, summary: str) -> ApplyOutcome:
        await checkpoint()
        try:
            await self._check_bases(result.changes)
            writes = await self._plan(result.changes)
        except (EditorError, PatchError) as exc:
            return ApplyOutcome(applied=False, message=str(exc))
        await checkpoint()
        task = asyncio.ensure_future(self._write(writes, result.changes))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The writes have begun: let them finish (or roll back), and say what happened. The turn
            # still ends as interrupted: its next checkpoint sees the pending cancellation.
            return await task

    async def _check_bases(self, changes: tuple[FileChange, ...]) -> None:
        for change in changes:
            if change.old_text is not None:
                current = await self.editor.read(self.workspace.root / change.path)
                if current != change.old_text:
                    raise _changed(change.path)
            # A file the patch creates or a move overwrites must be as the patch found it, too: absent,
            # or (a move onto a file) with the text it replaces, as the disk writer checks.
            target = change.move_to if change.kind is ChangeKind.MOVE else change.path
            if change.kind in (ChangeKind.ADD, ChangeKind.MOVE) and target is not None:
                expected = change.replaced.text if change.replaced is not None else None
                if await self._existing(target) != expected:
                    raise _changed(target)

    async def _plan(self, changes: tuple[FileChange, ...]) -> list[_Write]:
        writes = []
        for change in changes:
            if change.kind is ChangeKind.UPDATE:
                assert change.new_text is not None
                writes.append(_Write(change.path, change.new_text, change.old_text))
            elif change.kind in (ChangeKind.ADD, ChangeKind.MOVE):
                target = change.move_to if change.kind is ChangeKind.MOVE else change.path
                assert target is not None
                assert change.new_text is not None
                writes.append(_Write(target, change.new_text, await self._existing(target)))
        return writes

    async def _existing(self, path: str) -> str | None:
        """What ``path`` holds now (through the editor), or ``None`` when there is no such file."""
        if self.workspace.source.disk_kind(path) is not PathKind.FILE:
            return None
        return await self.editor.read(self.workspace.root / path)

    async def _write(self, writes: list[_Write], changes: tuple[FileChange, ...]) -> ApplyOutcome:
        done: list[_Write] = []
        try:
            for write in writes:
                await self.editor.write(self.workspace.root / write.path, write.text)
                done.append(write)
                self.workspace.note_written(write.path, write.text)
            removals = [_removal(change) for change in changes if change.kind in _REMOVING]
            if removals:
                await asyncio.to_thread(write_changes, self.workspace.root, removals)
        except (EditorError, PatchError, OSError) as exc:
            undone = await self._restore(done)
            return ApplyOutcome(applied=False, message=f"{exc}. {undone}")
        return ApplyOutcome(applied=True)

    async def _restore(self, done: list[_Write]) -> str:
        """Undo ``done`` (last first); a sentence on how that went."""
        if not done:
            return "No file was changed."
        failed = []
        for write in reversed(done):
            try:
                if write.before is None:
                    await asyncio.to_thread(os.unlink, self.workspace.root / write.path)
                else:
                    await self.editor.write(self.workspace.root / write.path, write.before)
                    self.workspace.note_written(write.path, write.before)
            except (EditorError, OSError) as exc:
                log.warning("restoring %s failed: %s", write.path, exc)
                failed.append(write.path)
        if failed:
            return f"Restoring the files already written failed for {', '.join(failed)}: check them."
        return "The files already written were restored; no file was changed."


_REMOVING = (ChangeKind.DELETE, ChangeKind.MOVE)


def _readings(raw: str) -> tuple[str, ...]:
    """The paths a patch's ``raw`` path may name: as written, and without git's prefix if it has one."""
    return (raw, raw[2:]) if raw.startswith(_GIT_PREFIXES) else (raw,)


def _changed(path: str) -> EditorError:
    """The refusal when ``path`` is no longer as the patch found it."""
    return EditorError(
        f"{clip(path)} changed in the editor while the patch was being prepared; nothing was written"
    )


def _removal(change: FileChange) -> FileChange:
    """The removal on disk that a deletion or a move needs (a move's new file went through the editor)."""
    return FileChange(ChangeKind.DELETE, change.path, change.old_text, None)
