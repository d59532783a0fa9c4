"""Writing computed changes to disk so that a failure midway leaves the workspace as it was.

Every new content is first written to a temporary file beside its destination; only when all of
them exist are they renamed into place and the removed files unlinked. If any step fails, the
steps already done are undone from the old texts the changes carry, and directories created for
the patch are removed again. (The LSP layer does not use this: it sends ``workspace/applyEdit``.)
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Sequence

from codex_lsp.patch.errors import PatchError
from codex_lsp.patch.model import ChangeKind, FileChange

__all__ = ["write_changes"]


class _Journal:
    """What has been done so far, in order, so that it can be undone."""

    __slots__ = ("created_dirs", "restore", "staged")

    def __init__(self) -> None:
        self.created_dirs: list[str] = []
        self.staged: list[tuple[str, str]] = []
        self.restore: list[tuple[str, bytes | None, int | None]] = []


def write_changes(root: str | os.PathLike[str], changes: Sequence[FileChange]) -> None:
    """Apply ``changes`` under ``root``; on any OS error restore every file and raise ``PatchError``."""
    journal = _Journal()
    try:
        writes, removals = _plan(os.fspath(root), changes)
        for target, text in writes:
            _stage(journal, target, text)
        steps = len(journal.staged) + len(removals)
        for done, (temp, target) in enumerate(journal.staged, start=1):
            if done < steps:  # the last step needs no backup: if it fails, nothing else changed
                _remember(journal, target)
            if os.path.exists(target):
                _copy_mode(target, temp)
            os.replace(temp, target)
        for target in removals:
            _remember(journal, target)
            os.unlink(target)
    except OSError as exc:
        _rollback(journal)
        raise PatchError(f"Could not write the patch to disk ({exc}); no file was changed") from exc


def _plan(root: str, changes: Sequence[FileChange]) -> tuple[list[tuple[str, str]], list[str]]:
    writes: list[tuple[str, str]] = []
    removals: list[str] = []
    for change in changes:
        path = os.path.join(root, change.path)
        if change.kind is ChangeKind.DELETE:
            removals.append(path)
            continue
        if change.new_text is None:
            raise PatchError(f"internal error: {change.kind} of {change.path} has no new text")
        if change.kind is ChangeKind.MOVE and change.move_to is not None:
            writes.append((os.path.join(root, change.move_to), change.new_text))
            removals.append(path)
        else:
            writes.append((path, change.new_text))
    return writes, removals


def _stage(journal: _Journal, target: str, text: str) -> None:
    missing: list[str] = []
    parent = os.path.dirname(target)
    while not os.path.exists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for directory in reversed(missing):
        os.mkdir(directory)
        journal.created_dirs.append(directory)
    handle, temp = _create_beside(target)
    journal.staged.append((temp, target))
    with os.fdopen(handle, "wb") as stream:
        stream.write(text.encode("utf-8"))


_unique = itertools.count()


def _create_beside(target: str) -> tuple[int, str]:
    """Create a new private file next to ``target`` (``O_EXCL``: never an existing one).

    Same idea as ``tempfile.mkstemp``, without importing ``tempfile`` on the command's start-up path.
    """
    directory, name = os.path.split(target)
    while True:
        temp = os.path.join(directory, f".{name}.{os.getpid()}.{next(_unique)}.codex-lsp")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), temp
        except FileExistsError:
            continue


def _remember(journal: _Journal, path: str) -> None:
    """Record ``path``'s bytes and mode before it is replaced or removed."""
    try:
        with open(path, "rb") as stream:
            journal.restore.append((path, stream.read(), os.stat(path).st_mode & 0o7777))
    except FileNotFoundError:
        journal.restore.append((path, None, None))


def _copy_mode(source: str, destination: str) -> None:
    os.chmod(destination, os.stat(source).st_mode & 0o7777)


def _rollback(journal: _Journal) -> None:
    for target, data, mode in reversed(journal.restore):
        with contextlib.suppress(OSError):
            if data is None:
                os.unlink(target)
            else:
                with open(target, "wb") as stream:
                    stream.write(data)
                if mode is not None:
                    os.chmod(target, mode)
    for temp, _ in journal.staged:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    for directory in reversed(journal.created_dirs):
        with contextlib.suppress(OSError):
            os.rmdir(directory)
