"""Workspace path rules: every path a patch names must stay inside the workspace root.

The lexical rules live here (pure); following symlinks needs a filesystem and is done by the
``FileSource`` with :func:`check_inside`. (``os.path`` rather than ``pathlib``: this module is on
the start-up path of ``codex-lsp apply-patch``.)
"""

from __future__ import annotations

import os

from codex_lsp.patch.errors import PatchPathError

__all__ = ["check_inside", "normalise_path"]


def normalise_path(raw: str) -> str:
    """Return ``raw`` as a clean workspace-relative POSIX path, or raise :class:`PatchPathError`.

    Absolute paths (POSIX or Windows style) and ``..`` segments that climb above the root are
    refused; ``.`` segments and repeated slashes are folded away.
    """
    if not raw or "\0" in raw:
        raise PatchPathError(f"Path {raw!r} is not a valid file path")
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":" and raw[0].isalpha()):
        raise PatchPathError(
            f"Path '{raw}' is outside the workspace: patch paths must be relative to the workspace root"
        )
    parts: list[str] = []
    for part in raw.split("/"):
        if part == "..":
            if not parts:
                raise PatchPathError(f"Path '{raw}' is outside the workspace: it climbs above the root")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise PatchPathError(f"Path '{raw}' does not name a file inside the workspace")
    return "/".join(parts)


def check_inside(root: str, relative: str) -> str:
    """Return the absolute path of ``relative`` under the real path ``root``, links followed.

    Raises :class:`PatchPathError` when a symbolic link on the way points outside the workspace.
    """
    target = os.path.realpath(os.path.join(root, relative))
    if target != root and not target.startswith(root.rstrip(os.sep) + os.sep):
        raise PatchPathError(
            f"Path '{relative}' is outside the workspace: a symbolic link on the way leads to {target}"
        )
    return os.path.join(root, relative)
