"""Where the engine reads files from: an interface, and the plain-disk implementation.

The engine never touches the filesystem itself. The LSP layer gives it a source that answers from
unsaved editor buffers first, so a patch is matched against what the user sees.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Protocol

from codex_lsp.patch.errors import PatchFileError
from codex_lsp.patch.paths import check_inside, normalise_path

__all__ = ["DiskFileSource", "FileSource", "PathKind", "decode_text"]


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


def decode_text(data: bytes, path: str) -> str:
    """Decode file bytes as UTF-8, refusing binary content instead of corrupting it."""
    if b"\0" in data:
        raise PatchFileError(f"{path} is not a UTF-8 text file (it looks binary); refusing to edit it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PatchFileError(
            f"{path} is not a UTF-8 text file (invalid byte at offset {exc.start}); refusing to edit it"
        ) from exc


class DiskFileSource:
    """A :class:`FileSource` over the files under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.realpath(root)

    def resolve(self, raw: str) -> str:
        relative = normalise_path(raw)
        check_inside(self.root, relative)
        return relative

    def absolute(self, path: str) -> str:
        """The on-disk location of the resolved relative ``path``."""
        return os.path.join(self.root, path)

    def kind(self, path: str) -> PathKind:
        target = self.absolute(path)
        if os.path.isdir(target):
            return PathKind.DIRECTORY
        return PathKind.FILE if os.path.exists(target) else PathKind.MISSING

    def read_text(self, path: str) -> str:
        with open(self.absolute(path), "rb") as stream:
            return decode_text(stream.read(), path)
