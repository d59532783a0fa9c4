"""Writing computed changes to disk so that a failure midway leaves the workspace as it was.

First a plan, which touches nothing: where each write really lands (a symbolic link inside the
workspace is written *through* — its target changes and the link stays, as Codex does — while a
link leading outside the workspace or into ``.git`` is refused), that no two changes land on one
file, that no file to be rewritten is read-only, and that the disk still holds what each change
was computed against: every file to be replaced or removed still has exactly the bytes of its
old text (the change's ``base``), and a file to be created (an ADD, the destination of a move
onto nothing) still does not exist. Bytes, not the stamp: a stamp can stay equal across a
same-size write within the clock's granularity, and can change when nothing did (``touch``). A
non-text file being deleted has no old text and is not compared. The check narrows the window in
which another program's write could be lost to the few system calls of the write itself; it
cannot close it. Then every new content is written to a
temporary file beside its destination; only when all of them exist are they renamed into place and
the removed paths unlinked (removing a symbolic link removes the link, never its target). If any
step fails, the steps already done are undone from the bytes (or link targets) saved just before
each, and directories created for the patch are removed again. Nothing here decodes a file, so a
binary file can be deleted and restored. (The LSP layer does not use this: it sends
``workspace/applyEdit``.)

Modes: an edited file keeps its mode, a moved file takes its source's, and a new file gets
``0666 & ~umask`` as git and editors create files (the kernel applies the umask to ``O_CREAT``).
Writability is what the operating system would allow a plain write (``os.access``): a read-only
file is refused for a non-root user, while root, whose writes ignore the mode, is not.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
from collections.abc import Sequence
from typing import NamedTuple

from codex_lsp.patch.errors import (
    PatchApplyError,
    PatchError,
    PatchFileError,
    PatchPathError,
    PatchStaleError,
    clip,
    describe_os_error,
)
from codex_lsp.patch.model import ChangeKind, FileChange
from codex_lsp.patch.paths import is_git_path

__all__ = ["write_changes"]

_NEW_FILE_MODE = 0o666
_PRIVATE_MODE = 0o600
_EFFECTIVE_IDS = os.access in os.supports_effective_ids


class _Write(NamedTuple):
    """One content to put at ``target`` (a real path), shown to people as ``path``."""

    path: str
    target: str
    text: str
    mode: int | None
    """The mode to give the file; ``None`` for a new file (``0666 & ~umask``)."""


Saved = bytes | str | None
"""What a path held before a step: file bytes, a symlink's target (``str``), or nothing."""


class _Expected(NamedTuple):
    """What the real path ``target`` must hold before anything is written; shown as ``path``."""

    path: str
    target: str
    text: str | None
    """The old text it must still have; ``None``: it must not exist."""


class _Journal:
    """What has been done so far, in order, so that it can be undone."""

    __slots__ = ("created_dirs", "restore", "staged")

    def __init__(self) -> None:
        self.created_dirs: list[str] = []
        self.staged: list[tuple[str, str]] = []
        self.restore: list[tuple[str, Saved, int | None]] = []


def write_changes(root: str | os.PathLike[str], changes: Sequence[FileChange]) -> None:
    """Apply ``changes`` under ``root``, all or nothing.

    Raises :class:`PatchPathError` (a write would land outside the workspace or in ``.git``),
    :class:`PatchApplyError` (two changes land on one file), :class:`PatchStaleError` (a file is
    no longer what the change was computed against; nothing was written), :class:`PatchFileError`
    (a read-only file, or any operating-system error, after which every file is restored) — never
    ``OSError``.
    """
    real_root = os.path.realpath(os.fspath(root))
    writes, removals = _plan(real_root, changes)
    journal = _Journal()
    try:
        for write in writes:
            _stage(journal, write)
        steps = len(journal.staged) + len(removals)
        for done, (temp, target) in enumerate(journal.staged, start=1):
            if done < steps:  # the last step needs no backup: if it fails, nothing else changed
                _remember(journal, target)
            os.replace(temp, target)
        for target in removals:
            _remember(journal, target)
            os.unlink(target)
    except OSError as exc:
        _rollback(journal)
        raise PatchFileError(
            f"Could not write the patch to disk ({_describe(exc, real_root)}); no file was changed"
        ) from exc


def _plan(root: str, changes: Sequence[FileChange]) -> tuple[list[_Write], list[str]]:
    """Every write and removal, checked; raises ``PatchError`` before anything is touched."""
    writes: list[_Write] = []
    removals: list[str] = []
    expected: list[_Expected] = []
    try:
        for change in changes:
            write = None if change.kind is ChangeKind.DELETE else _write(root, change)
            moved = change.kind is ChangeKind.MOVE and change.move_to
            removal = _removal(root, change.path) if write is None or moved else None
            writes.extend([write] if write else [])
            removals.extend([removal] if removal else [])
            expected.extend(_expectations(change, write, removal))
        _refuse_shared_targets(root, writes, removals)
        for item in expected:
            _refuse_stale(item)
    except OSError as exc:
        raise PatchFileError(
            f"Could not prepare the patch ({_describe(exc, root)}); no file was changed"
        ) from exc
    return writes, removals


def _expectations(change: FileChange, write: _Write | None, removal: str | None) -> list[_Expected]:
    """What the disk must hold for ``change``: its old text where it writes or removes, or nothing."""
    out: list[_Expected] = []
    if write is not None and change.kind is ChangeKind.ADD:
        out.append(_Expected(write.path, write.target, None))
    elif write is not None and removal is not None:  # a move: what its destination held, if anything
        replaced = change.replaced.text if change.replaced is not None else None
        out.append(_Expected(write.path, write.target, replaced))
    where = removal or (write.target if write is not None else None)
    if change.kind is not ChangeKind.ADD and change.old_text is not None and where is not None:
        out.append(_Expected(change.path, where, change.old_text))
    return out


def _refuse_stale(expected: _Expected) -> None:
    """Refuse when the disk no longer holds what the change was computed against."""
    if expected.text is None:
        if os.path.lexists(expected.target):
            raise PatchStaleError(
                f"{clip(expected.path)} was created on disk after the patch was computed; "
                "nothing was written — read it again"
            )
        return
    try:
        with open(expected.target, "rb") as stream:
            data: bytes | None = stream.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        data = None
    if data != expected.text.encode("utf-8"):
        raise PatchStaleError(
            f"{clip(expected.path)} changed on disk after the patch was computed; "
            "nothing was written — read it again"
        )


def _write(root: str, change: FileChange) -> _Write:
    if change.new_text is None:
        raise PatchError(f"internal error: {change.kind} of {change.path} has no new text")
    destination = change.move_to if change.kind is ChangeKind.MOVE and change.move_to else change.path
    target = _landing(root, destination)
    existing = _mode(target)
    if existing is not None:
        _refuse_read_only(target, destination)
    if change.kind is not ChangeKind.MOVE:
        return _Write(destination, target, change.new_text, existing)
    source = os.path.join(root, change.path)
    if change.new_text != change.old_text:
        _refuse_read_only(source, change.path)
    return _Write(destination, target, change.new_text, _mode(source))


def _landing(root: str, relative: str) -> str:
    """The real path a write to ``relative`` reaches, every link followed; refused outside or in .git."""
    target = os.path.realpath(os.path.join(root, relative))
    _check_real(root, relative, target)
    return target


def _removal(root: str, relative: str) -> str:
    """The path to unlink for ``relative``: its directories' links followed, the last part not."""
    directory, name = os.path.split(os.path.join(root, relative))
    target = os.path.join(os.path.realpath(directory), name)
    _check_real(root, relative, target)
    return target


def _check_real(root: str, relative: str, target: str) -> None:
    prefix = root.rstrip(os.sep) + os.sep
    if not target.startswith(prefix):
        raise PatchPathError(
            f"Refusing to change '{clip(relative)}': it leads outside the workspace, to {clip(target)}"
        )
    if is_git_path(target[len(prefix) :]):
        raise PatchPathError(
            f"Refusing to change '{clip(relative)}': it leads into .git, and .git is read-only"
        )


def _mode(path: str) -> int | None:
    """The permission bits of the file at ``path`` (links followed), ``None`` when there is none."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None


def _refuse_read_only(path: str, relative: str) -> None:
    if not os.access(path, os.W_OK, effective_ids=_EFFECTIVE_IDS):
        raise PatchFileError(
            f"{clip(relative)} is read-only; no file was changed (make it writable first if it should change)"
        )


def _refuse_shared_targets(root: str, writes: list[_Write], removals: list[str]) -> None:
    """Two changes on one file (through a link) would silently lose one of them: refuse."""
    seen: dict[str, str] = {}
    for write in writes:
        other = seen.setdefault(write.target, write.path)
        if other != write.path:
            raise PatchApplyError(
                f"'{clip(other)}' and '{clip(write.path)}' are the same file (through a symbolic link); "
                "change it under one name only"
            )
    for removal in removals:
        if removal in seen:
            name = os.path.relpath(removal, root)
            raise PatchApplyError(
                f"'{clip(name)}' is both removed and written through a symbolic link; "
                "change it under one name only"
            )


def _stage(journal: _Journal, write: _Write) -> None:
    missing: list[str] = []
    parent = os.path.dirname(write.target)
    while not os.path.exists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(missing):
        os.mkdir(directory)
        journal.created_dirs.append(directory)
    handle, temp = _create_beside(write.target, _NEW_FILE_MODE if write.mode is None else _PRIVATE_MODE)
    journal.staged.append((temp, write.target))
    with os.fdopen(handle, "wb") as stream:
        stream.write(write.text.encode("utf-8"))
        if write.mode is not None:
            os.fchmod(stream.fileno(), write.mode)


_unique = itertools.count()


def _create_beside(target: str, mode: int) -> tuple[int, str]:
    """Create a new file next to ``target`` (``O_EXCL``: never an existing one), ``mode`` less the umask.

    Same idea as ``tempfile.mkstemp``, without importing ``tempfile`` on the command's start-up path.
    """
    directory, name = os.path.split(target)
    while True:
        temp = os.path.join(directory, f".{name}.{os.getpid()}.{next(_unique)}.codex-lsp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), temp
        except FileExistsError:
            continue
        except OSError as exc:  # name the file being written, not the temporary one
            raise OSError(exc.errno, exc.strerror, target) from exc


def _remember(journal: _Journal, path: str) -> None:
    """Record what ``path`` holds (bytes and mode, or a link's target) before it is replaced or removed."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        journal.restore.append((path, None, None))
        return
    if stat.S_ISLNK(info.st_mode):
        journal.restore.append((path, os.readlink(path), None))
        return
    with open(path, "rb") as stream:
        journal.restore.append((path, stream.read(), info.st_mode & 0o7777))


def _rollback(journal: _Journal) -> None:
    for target, saved, mode in reversed(journal.restore):
        with contextlib.suppress(OSError):
            _restore(target, saved, mode)
    for temp, _ in journal.staged:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    for directory in reversed(journal.created_dirs):
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _restore(target: str, saved: Saved, mode: int | None) -> None:
    if saved is None:
        os.unlink(target)
    elif isinstance(saved, str):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        os.symlink(saved, target)
    else:
        with open(target, "wb") as stream:
            stream.write(saved)
        if mode is not None:
            os.chmod(target, mode)


def _describe(exc: OSError, root: str) -> str:
    """The error on one line, naming the file relative to the workspace."""
    if not isinstance(exc.filename, str):
        return exc.strerror or str(exc)
    name = exc.filename
    if name.startswith(root.rstrip(os.sep) + os.sep):
        name = name[len(root.rstrip(os.sep)) + 1 :]
    return describe_os_error(exc, name)
