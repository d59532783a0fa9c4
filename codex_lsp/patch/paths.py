"""Workspace path rules: every path a patch names stays inside the workspace root and out of ``.git``.

The lexical rules live here (pure); following symlinks needs a filesystem and is done by the
``FileSource`` with :func:`real_relative`. (``os.path`` rather than ``pathlib``: this module is on
the start-up path of ``codex-lsp apply-patch``.)

``.git`` is read-only to patches, as Codex keeps it: a patch that could write ``.git/config`` or a
hook would turn the next harmless ``git status`` into a command of the model's choosing.
"""

from __future__ import annotations

import os

from codex_lsp.patch.errors import PatchPathError, clip

__all__ = ["check_inside", "check_not_git", "is_git_path", "normalise_path", "real_relative"]

GIT_DIR = ".git"


def normalise_path(raw: str) -> str:
    """Return ``raw`` as a clean workspace-relative POSIX path, or raise :class:`PatchPathError`.

    Absolute paths (POSIX or Windows style) and ``..`` segments that climb above the root are
    refused; ``.`` segments and repeated slashes are folded away.
    """
    if not raw or "\0" in raw:
        raise PatchPathError(f"Path {clip(raw)!r} is not a valid file path")
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":" and raw[0].isalpha()):
        raise PatchPathError(
            f"Path '{clip(raw)}' is outside the workspace: patch paths must be relative to the workspace root"
        )
    parts: list[str] = []
    for part in raw.split("/"):
        if part == "..":
            if not parts:
                raise PatchPathError(f"Path '{clip(raw)}' is outside the workspace: it climbs above the root")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise PatchPathError(f"Path '{clip(raw)}' does not name a file inside the workspace")
    return "/".join(parts)


def is_git_path(path: str) -> bool:
    """Whether the relative ``path`` is a ``.git`` entry or lies inside one, at any depth.

    Compared without case and without trailing dots and spaces: on case-insensitive or Windows
    file systems ``.GIT`` and ``.git.`` name the same directory.
    """
    if GIT_DIR not in path.casefold():
        return False
    return any(part.casefold().rstrip(". ") == GIT_DIR for part in path.replace("\\", "/").split("/"))


def check_not_git(path: str) -> None:
    """Raise :class:`PatchPathError` when a patch would change ``path``, which is in ``.git``."""
    if is_git_path(path):
        raise PatchPathError(
            f"Refusing to change '{clip(path)}': .git is read-only: a patch may not change the "
            "repository's metadata (its config and hooks run commands); leave .git alone"
        )


def real_relative(root: str, relative: str) -> str:
    """The path ``relative`` really names under the real path ``root``, every link followed.

    Raises :class:`PatchPathError` when a symbolic link on the way points outside the workspace.
    """
    target = os.path.realpath(os.path.join(root, relative))
    if target == root:
        return ""
    prefix = root.rstrip(os.sep) + os.sep
    if not target.startswith(prefix):
        raise PatchPathError(
            f"Path '{clip(relative)}' is outside the workspace: a symbolic link on the way leads to "
            f"{clip(target)}"
        )
    return target[len(prefix) :].replace(os.sep, "/")


def check_inside(root: str, relative: str) -> str:
    """Return the absolute path of ``relative`` under the real path ``root`` (see :func:`real_relative`)."""
    real_relative(root, relative)
    return os.path.join(root, relative)
