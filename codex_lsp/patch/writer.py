"""Writing computed changes to disk so that a failure midway leaves the workspace as it was.

Every new content is first written to a temporary file beside its destination; only when all of
them exist are they renamed into place and the removed files unlinked. If any step fails, the
steps already done are undone from the old texts the changes carry, and directories created for
the patch are removed again. (The LSP layer does not use this: it sends ``workspace/applyEdit``.)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from codex_lsp.patch.errors import PatchError
from codex_lsp.patch.model import ChangeKind, FileChange

__all__ = ["write_changes"]


@dataclass(slots=True)
class _Journal:
    """What has been done so far, in order, so that it can be undone."""

    created_dirs: list[Path] = field(default_factory=list)
    staged: list[tuple[Path, Path]] = field(default_factory=list)
    restore: list[tuple[Path, str | None, int | None]] = field(default_factory=list)


def write_changes(root: Path, changes: tuple[FileChange, ...] | list[FileChange]) -> None:
    """Apply ``changes`` under ``root``; on any OS error restore every file and raise ``PatchError``."""
    journal = _Journal()
    try:
        writes, removals = _plan(root, changes)
        for target, text in writes:
            _stage(journal, target, text)
        for temp, target in journal.staged:
            journal.restore.append((target, _old_text(target), _mode(target)))
            if target.exists():
                _copy_mode(target, temp)
            os.replace(temp, target)
        for target in removals:
            journal.restore.append((target, _old_text(target), _mode(target)))
            target.unlink()
    except OSError as exc:
        _rollback(journal)
        raise PatchError(f"Could not write the patch to disk ({exc}); no file was changed") from exc


def _plan(
    root: Path, changes: tuple[FileChange, ...] | list[FileChange]
) -> tuple[list[tuple[Path, str]], list[Path]]:
    writes: list[tuple[Path, str]] = []
    removals: list[Path] = []
    for change in changes:
        path = root / change.path
        if change.kind is ChangeKind.DELETE:
            removals.append(path)
        elif change.kind is ChangeKind.MOVE:
            assert change.move_to is not None
            assert change.new_text is not None
            writes.append((root / change.move_to, change.new_text))
            removals.append(path)
        else:
            assert change.new_text is not None
            writes.append((path, change.new_text))
    return writes, removals


def _stage(journal: _Journal, target: Path, text: str) -> None:
    missing: list[Path] = []
    parent = target.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir()
        journal.created_dirs.append(directory)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".codex-lsp", dir=target.parent)
    temp = Path(name)
    journal.staged.append((temp, target))
    with os.fdopen(handle, "wb") as stream:
        stream.write(text.encode("utf-8"))


def _old_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return None


def _copy_mode(source: Path, destination: Path) -> None:
    mode = _mode(source)
    if mode is not None:
        os.chmod(destination, mode)


def _rollback(journal: _Journal) -> None:
    for target, text, mode in reversed(journal.restore):
        with contextlib.suppress(OSError):
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(text.encode("utf-8"))
                if mode is not None:
                    os.chmod(target, mode)
    for temp, _ in journal.staged:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    for directory in reversed(journal.created_dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()
