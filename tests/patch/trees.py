"""A whole directory tree as a value, so a test can say "nothing on disk changed" in one comparison."""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["Snapshot", "snapshot"]

Snapshot = dict[str, tuple[str, bytes, int]]


def snapshot(root: Path) -> Snapshot:
    """Every entry under ``root`` (links not followed): kind, content or link target, mode."""
    entries: Snapshot = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        rel = path.relative_to(root).as_posix()
        if stat.S_ISLNK(info.st_mode):
            entries[rel] = ("link", os.fsencode(os.readlink(path)), 0)
        elif stat.S_ISDIR(info.st_mode):
            entries[rel] = ("dir", b"", stat.S_IMODE(info.st_mode))
        else:
            entries[rel] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return entries
