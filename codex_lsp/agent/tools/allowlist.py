"""The ``shell`` allow-list: which commands may run without asking.

An entry matches a command whose argv starts with the entry's words (``"pytest"`` allows
``pytest -q``; ``"git status"`` allows only that). Two rules keep the model from dressing up a
command of its own as one the user allowed:

- **A bare command name is the system's command.** An entry naming a bare command (``git``)
  matches only an argv whose first word is that bare name and is found on ``PATH`` outside the
  workspace. ``tools/git`` never matches it (a path is not a bare name), and neither does ``git``
  when ``PATH`` leads into the workspace (``.`` or ``node_modules/.bin`` on ``PATH``): the model
  can write those files. An entry naming a path (``./scripts/check.sh``) matches that path as
  written: the user chose it.
- **Only a real shell is looked through.** ``["bash", "-lc", "pytest -q"]`` (how models usually
  call) is judged as ``pytest -q`` when the script is one plain command and ``bash`` is a real
  shell: a bare ``bash``/``sh``/``zsh``/``dash`` found on ``PATH`` outside the workspace, or an
  absolute path to a shell the system lists in ``/etc/shells``. Anything else — a workspace
  script named ``bash``, a relative ``tools/bash`` — is matched as the argv it is.
"""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import Iterable
from pathlib import Path

from codex_lsp.agent.settings import AgentSettings

__all__ = ["SHELLS", "is_allowed", "resolve_executable"]

SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
SHELL_SYNTAX = frozenset(";&|<>`$(){}*?[]~!#\n\\")
"""Characters that make a script more than one plain command (operators, expansions, globs)."""
SYSTEM_SHELLS_FILE = Path("/etc/shells")
FALLBACK_SHELL_DIRS = ("/bin", "/usr/bin")
"""Where a shell counts as the system's when ``/etc/shells`` cannot be read."""


def is_allowed(
    command: tuple[str, ...],
    settings: AgentSettings,
    *,
    root: Path,
    cwd: Path,
    search_path: str | None = None,
) -> bool:
    """Whether ``command``, run in ``cwd`` of the workspace ``root``, matches an allow-list entry.

    ``search_path`` is the ``PATH`` the command runs with (default: this process's).
    """
    if not settings.shell_allow:
        return False
    where = _Where(
        root.resolve(), cwd, os.environ.get("PATH", os.defpath) if search_path is None else search_path
    )
    candidates = [command]
    script = _plain_script(command, where)
    if script:
        candidates.append(script)
    for entry in settings.shell_allow:
        words = tuple(shlex.split(entry))
        if words and any(_matches(argv, words, where) for argv in candidates):
            return True
    return False


def resolve_executable(name: str, cwd: Path, search_path: str) -> Path | None:
    """The file ``exec`` would run for ``name`` (unresolved symlinks), or ``None`` if there is none.

    A name with a ``/`` is a path (relative to ``cwd``); a bare name is looked up on
    ``search_path``, whose relative entries (and empty ones, meaning ``.``) are relative to ``cwd``.
    """
    if "/" in name:
        candidate = cwd / name
        return candidate if _executable(candidate) else None
    for entry in search_path.split(os.pathsep):
        candidate = cwd / (entry or ".") / name
        if _executable(candidate):
            return candidate
    return None


class _Where:
    """Where a command runs: the workspace, its working directory and its ``PATH``."""

    def __init__(self, root: Path, cwd: Path, search_path: str) -> None:
        self.root = root
        self.cwd = cwd
        self.search_path = search_path

    def system_command(self, name: str) -> bool:
        """Whether bare ``name`` runs a program from outside the workspace."""
        if "/" in name:
            return False
        found = resolve_executable(name, self.cwd, self.search_path)
        return found is None or not self.in_workspace(found)

    def in_workspace(self, path: Path) -> bool:
        """Whether ``path`` or the file it links to is inside the workspace."""
        absolute = Path(os.path.abspath(path))
        return any(p == self.root or self.root in p.parents for p in (absolute, absolute.resolve()))


def _matches(argv: tuple[str, ...], words: tuple[str, ...], where: _Where) -> bool:
    if argv[: len(words)] != words:
        return False
    return "/" in words[0] or where.system_command(argv[0])


def _plain_script(command: tuple[str, ...], where: _Where) -> tuple[str, ...]:
    """The words of a ``<real shell> -c/-lc <script>`` call whose script is one plain command, else ()."""
    if len(command) != 3 or command[1] not in ("-c", "-lc") or not _real_shell(command[0], where):
        return ()
    if any(char in SHELL_SYNTAX for char in command[2]):
        return ()
    try:
        return tuple(shlex.split(command[2]))
    except ValueError:
        return ()


def _real_shell(name: str, where: _Where) -> bool:
    if "/" not in name:
        found = resolve_executable(name, where.cwd, where.search_path)
        return name in SHELLS and found is not None and not where.in_workspace(found)
    path = Path(name)
    return (
        path.is_absolute()
        and path.name in SHELLS
        and not where.in_workspace(path)
        and path.resolve() in _system_shells()
    )


@functools.cache
def _system_shells() -> frozenset[Path]:
    """The resolved paths of the shells the system lists (``/etc/shells``), or the usual ones."""
    try:
        listed: Iterable[str] = SYSTEM_SHELLS_FILE.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        listed = [f"{directory}/{shell}" for directory in FALLBACK_SHELL_DIRS for shell in SHELLS]
    paths = (line.strip() for line in listed)
    return frozenset(Path(p).resolve() for p in paths if p.startswith("/") and Path(p).name in SHELLS)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
