"""Workspace path rules: every path a patch names must stay inside the workspace root.

The lexical rules live here (pure); following symlinks needs a filesystem and is done by the
``FileSource`` with :func:`check_inside`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from codex_lsp.patch.errors import PatchPathError

__all__ = ["check_inside", "normalise_path"]


def normalise_path(raw: str) -> str:
    """Return ``raw`` as a clean workspace-relative POSIX path, or raise :class:`PatchPathError`.

    Absolute paths (POSIX or Windows style) and ``..`` segments that climb above the root are
    refused; ``.`` segments and repeated slashes are folded away.
    """
    if not raw or "\0" in raw:
        raise PatchPathError(f"Path {raw!r} is not a valid file path")
    if raw.startswith(("/", "\\")) or PureWindowsPath(raw).drive:
        raise PatchPathError(
            f"Path '{raw}' is outside the workspace: patch paths must be relative to the workspace root"
        )
    parts: list[str] = []
    for part in PurePosixPath(raw).parts:
        if part == "..":
            if not parts:
                raise PatchPathError(f"Path '{raw}' is outside the workspace: it climbs above the root")
            parts.pop()
        elif part != ".":
            parts.append(part)
    if not parts:
        raise PatchPathError(f"Path '{raw}' does not name a file inside the workspace")
    return "/".join(parts)


def check_inside(root: Path, relative: str) -> Path:
    """Return the absolute path of ``relative`` under ``root`` after following every symlink.

    Raises :class:`PatchPathError` when a link on the way points outside the workspace.
    """
    resolved_root = root.resolve()
    target = (resolved_root / relative).resolve()
    if not target.is_relative_to(resolved_root):
        raise PatchPathError(
            f"Path '{relative}' is outside the workspace: a symbolic link on the way leads to {target}"
        )
    return resolved_root / relative
