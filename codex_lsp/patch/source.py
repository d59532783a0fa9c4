"""Where the engine reads files from: an interface, and the plain-disk implementation.

The engine never touches the filesystem itself. The LSP layer gives it a source that answers from
unsaved editor buffers first, so a patch is matched against what the user sees.

A source hands out text (:meth:`FileSource.read_text`); one that can also say *which state* of a
file that text is — an editor buffer's version, a disk file's stamp — implements
:class:`SnapshotSource`. The engine records the :class:`~codex_lsp.patch.model.Snapshot` of every
file it reads (:func:`snapshot_of` wraps a plain source's text in one), so a host can tell whether
a file moved between computing a patch and applying it.
"""

from __future__ import annotations

import os
import stat
from enum import Enum
from typing import Protocol, runtime_checkable

from codex_lsp.patch.errors import PatchFileError, PatchPathError, clip, describe_os_error
from codex_lsp.patch.model import DiskStamp, Snapshot
from codex_lsp.patch.paths import is_git_path, normalise_path, real_relative

__all__ = [
    "DiskFileSource",
    "FileSource",
    "PathKind",
    "SnapshotSource",
    "decode_text",
    "disk_stamp",
    "snapshot_of",
]


class PathKind(Enum):
    """What a workspace path currently names."""

    MISSING = "missing"
    FILE = "file"
    DIRECTORY = "directory"


class FileSource(Protocol):
    """Read access to a workspace, addressed by workspace-relative POSIX paths."""

    def resolve(self, raw: str) -> str:
        """Return the normalised relative path for ``raw``; raise ``PatchPathError`` if not allowed."""
        ...

    def kind(self, path: str) -> PathKind:
        """Say whether ``path`` (already resolved) is a file, a directory or missing."""
        ...

    def read_text(self, path: str) -> str:
        """Return the text of the file ``path``; raise ``PatchFileError`` if it is not UTF-8 text."""
        ...


@runtime_checkable
class SnapshotSource(FileSource, Protocol):
    """A :class:`FileSource` that also says which state of a file its text is.

    A protocol of its own rather than a member of :class:`FileSource`, so that a source written
    with ``read_text`` alone still is one; the engine asks through :func:`snapshot_of`. An editor
    host answers with the buffer's text and version for open documents, and with the disk's
    snapshot (as :class:`DiskFileSource` gives it) for the rest.
    """

    def snapshot(self, path: str) -> Snapshot:
        """The text of ``path`` with its buffer version or disk stamp; raises as :meth:`read_text`."""
        ...


def snapshot_of(source: FileSource, path: str) -> Snapshot:
    """``source``'s snapshot of ``path``; a source with only ``read_text`` gives text alone."""
    if isinstance(source, SnapshotSource):
        return source.snapshot(path)
    return Snapshot(source.read_text(path))


def disk_stamp(info: os.stat_result) -> DiskStamp:
    """The :class:`DiskStamp` of a file from its ``stat`` result."""
    return DiskStamp(info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino, info.st_dev)


def decode_text(data: bytes, path: str) -> str:
    """Decode file bytes as UTF-8, refusing binary content instead of corrupting it."""
    if b"\0" in data:
        raise PatchFileError(f"{clip(path)} is not a UTF-8 text file (it looks binary); refusing to edit it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PatchFileError(
            f"{clip(path)} is not a UTF-8 text file (invalid byte at offset {exc.start}); refusing to edit it"
        ) from exc


class DiskFileSource:
    """A :class:`FileSource` over the files under ``root``.

    Symbolic links are followed for reading, as any program would; :meth:`resolve` refuses a path
    whose links lead outside the workspace or into ``.git``. Operating-system errors (a file that
    may not be read, a name too long) become :class:`PatchFileError`, never a traceback.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.realpath(root)
        self._roots = tuple(dict.fromkeys((os.path.abspath(root), self.root)))

    def resolve(self, raw: str) -> str:
        """The normalised relative path of ``raw``, checked against the links on the way.

        An absolute path under the root (as given, or with its links resolved) is read as the
        relative path it names; any other absolute path is refused as outside the workspace. A
        path that reaches ``.git`` only through a link is refused even for reading: the engine
        writes what it resolved, and through the link ``.git`` would be writable under another name.
        """
        relative = normalise_path(self._under_root(raw))
        real = real_relative(self.root, relative)
        if real != relative and is_git_path(real) and not is_git_path(relative):
            raise PatchPathError(
                f"Refusing '{clip(relative)}': a symbolic link on the way leads to '{clip(real)}', and "
                ".git is read-only: a patch may not change the repository's metadata"
            )
        return relative

    def _under_root(self, raw: str) -> str:
        """``raw`` relative to the root when it is an absolute path under it; else ``raw`` unchanged."""
        if not os.path.isabs(raw):
            return raw
        normal = os.path.normpath(raw)
        for root in self._roots:
            prefix = root.rstrip(os.sep) + os.sep
            if normal.startswith(prefix):
                return normal[len(prefix) :].replace(os.sep, "/")
        return raw

    def absolute(self, path: str) -> str:
        """The on-disk location of the resolved relative ``path``."""
        return os.path.join(self.root, path)

    def kind(self, path: str) -> PathKind:
        try:
            mode = os.stat(self.absolute(path)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return PathKind.MISSING
        except OSError as exc:
            raise PatchFileError(f"Cannot access {describe_os_error(exc, path)}") from exc
        return PathKind.DIRECTORY if stat.S_ISDIR(mode) else PathKind.FILE

    def read_text(self, path: str) -> str:
        """The file's text, decoded as UTF-8 (:meth:`snapshot` without the stamp)."""
        return self.snapshot(path).text

    def snapshot(self, path: str) -> Snapshot:
        """The file's text, decoded as UTF-8, with the stamp of the file it was read from.

        The stamp comes from the open file (``fstat`` before reading), so it describes the very
        file whose bytes were read, even if the path is replaced meanwhile. A missing file or a
        directory raises as ``open`` does (callers ask :meth:`kind` first); any other
        operating-system error is a :class:`PatchFileError`.
        """
        try:
            with open(self.absolute(path), "rb") as stream:
                stamp = disk_stamp(os.fstat(stream.fileno()))
                data = stream.read()
        except (FileNotFoundError, IsADirectoryError):
            raise
        except OSError as exc:
            raise PatchFileError(f"Cannot read {describe_os_error(exc, path)}") from exc
        return Snapshot(decode_text(data, path), None, stamp)
