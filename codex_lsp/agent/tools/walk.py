"""Walking a workspace the way git sees it, shared by ``list_dir`` and ``search``.

Ignore rules follow git: every ``.gitignore`` from the repository root down applies to the paths
below it, a deeper file overrides a shallower one, the last matching line of a file wins, and a
directory that is ignored is never entered (so nothing inside it can be re-included).
``.git/info/exclude`` applies with the lowest precedence. ``.git`` itself is always skipped.
Symbolic links are listed but never followed, so a walk cannot loop or leave the workspace.

Also here: turning a path argument from the model into a workspace-relative path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from codex_lsp.patch import check_inside, normalise_path

__all__ = ["IgnoreRules", "WalkEntry", "find_git_root", "resolve_arg", "walk", "workspace_relative"]

SKIPPED_NAMES = frozenset({".git"})


@dataclass(frozen=True)
class WalkEntry:
    """One entry met by :func:`walk`."""

    path: str
    """Workspace-relative POSIX path."""
    is_dir: bool
    is_symlink: bool
    depth: int
    """1 for the children of the start directory, 2 for theirs, …"""


@dataclass(frozen=True)
class _Layer:
    """One ignore file: its patterns apply to paths under ``prefix`` (workspace-relative)."""

    spec: GitIgnoreSpec
    prefix: str
    """The directory the file governs, relative to the workspace ("" for the root)."""
    outer: str = ""
    """For files above the workspace root: the workspace root relative to the file's directory."""

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by ``!``) or None (no line matches)."""
        relative = path[len(self.prefix) + 1 :] if self.prefix else path
        if self.outer:
            relative = f"{self.outer}/{relative}"
        return self.spec.check_file(relative + "/" if is_dir else relative).include


def find_git_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding a ``.git`` entry (directory or file)."""
    for directory in (start, *start.parents):
        if os.path.lexists(directory / ".git"):
            return directory
    return None


def _load_spec(path: Path) -> GitIgnoreSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    spec = GitIgnoreSpec.from_lines(text.splitlines())
    return spec if spec.patterns else None


class IgnoreRules:
    """The ignore files that apply to one workspace; inner ``.gitignore`` files load on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._outer = self._outer_layers()
        self._inner: dict[str, _Layer | None] = {}

    def _outer_layers(self) -> list[_Layer]:
        """``info/exclude``, then the ``.gitignore`` files of directories above the workspace."""
        git_root = find_git_root(self.root)
        if git_root is None:
            return []
        layers: list[_Layer] = []
        exclude = _load_spec(git_root / ".git" / "info" / "exclude")
        if exclude is not None:
            layers.append(_Layer(exclude, "", self._below(git_root)))
        parts = self.root.relative_to(git_root).parts
        for depth in range(len(parts)):
            directory = git_root.joinpath(*parts[:depth])
            spec = _load_spec(directory / ".gitignore")
            if spec is not None:
                layers.append(_Layer(spec, "", self._below(directory)))
        return layers

    def _below(self, directory: Path) -> str:
        """The workspace root relative to ``directory`` ("" when they are the same)."""
        relative = self.root.relative_to(directory).as_posix()
        return "" if relative == "." else relative

    def _layer_for(self, directory: str) -> _Layer | None:
        if directory not in self._inner:
            spec = _load_spec(self.root / directory / ".gitignore")
            self._inner[directory] = _Layer(spec, directory) if spec is not None else None
        return self._inner[directory]

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether git ignores ``path`` by the rules of its own and enclosing directories.

        Does not look at whether an ancestor directory is ignored: a walk never gets that far.
        """
        parts = path.split("/")
        directories = ["/".join(parts[:i]) for i in range(len(parts) - 1, -1, -1)]
        for directory in directories:
            layer = self._layer_for(directory)
            verdict = layer.verdict(path, is_dir) if layer else None
            if verdict is not None:
                return verdict
        for layer in reversed(self._outer):
            verdict = layer.verdict(path, is_dir)
            if verdict is not None:
                return verdict
        return False

    def ignored_anywhere(self, path: str) -> bool:
        """Whether ``path`` (a file) or any directory above it is ignored or is ``.git``."""
        parts = path.split("/")
        if SKIPPED_NAMES.intersection(parts):
            return True
        ancestors = ("/".join(parts[:i]) for i in range(1, len(parts)))
        return any(self.ignored(a, is_dir=True) for a in ancestors) or self.ignored(path, is_dir=False)


def walk(
    root: Path, start: str = "", *, max_depth: int | None = None, rules: IgnoreRules | None = None
) -> Iterator[WalkEntry]:
    """Entries under ``start`` (workspace-relative, "" for the root) in sorted pre-order.

    Ignored entries and ``.git`` are skipped; directories at ``max_depth`` are listed but not
    entered; unreadable directories are skipped silently.
    """
    rules = rules or IgnoreRules(root)
    stack = [iter(_children(rules, start, 1))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        yield entry
        if entry.is_dir and (max_depth is None or entry.depth < max_depth):
            stack.append(iter(_children(rules, entry.path, entry.depth + 1)))


def _children(rules: IgnoreRules, directory: str, depth: int) -> list[WalkEntry]:
    try:
        with os.scandir(rules.root / directory) as scan:
            items = sorted(scan, key=lambda item: item.name)
    except OSError:
        return []
    entries = []
    for item in items:
        if item.name in SKIPPED_NAMES:
            continue
        path = f"{directory}/{item.name}" if directory else item.name
        is_dir = item.is_dir(follow_symlinks=False)
        if not rules.ignored(path, is_dir):
            entries.append(WalkEntry(path, is_dir, item.is_symlink(), depth))
    return entries


def workspace_relative(root: Path, raw: str) -> str:
    """``raw`` with an absolute path inside ``root`` turned relative; anything else unchanged.

    Models often echo the absolute cwd they were given; such paths are fine when they point
    inside the workspace, and :func:`normalise_path` refuses every other absolute path.
    """
    text = raw.strip()
    if not os.path.isabs(text):
        return text
    for base in (root, root.resolve()):
        try:
            return Path(text).relative_to(base).as_posix()
        except ValueError:
            continue
    return text


def resolve_arg(root: Path, raw: str | None) -> str:
    """The workspace-relative path a model's path argument names ("" for the root itself).

    Raises ``PatchPathError`` for paths that leave the workspace, lexically or through a link.
    """
    text = workspace_relative(root, raw or ".")
    if all(part in ("", ".") for part in text.split("/")):
        return ""
    relative = normalise_path(text)
    check_inside(str(root.resolve()), relative)
    return relative
