"""The workspace boundary: which folder a request's file hands to the agent, and who agreed to it.

The agent reads, lists and changes everything inside its folder, so a folder is a grant. A request's
``uri`` is resolved once to the real file (``..``, ``%2e%2e`` and symbolic links resolved:
:func:`~codex_lsp.lsp.uris.real_path`), and then:

1. a file inside an open workspace folder (or, for a client without folders, its root) belongs to
   the innermost such folder — compared as paths, so ``/ws-evil`` is not inside ``/ws``;
2. a file inside a folder the user allowed earlier in this session belongs to it;
3. any other file would belong to its git root, else its directory — the *candidate*. The agent gets
   it only with the user's consent: the candidate lies in a folder Codex trusts in the user's own
   ``$CODEX_HOME/config.toml`` (``[projects."<path>"] trust_level = "trusted"``, which Codex writes
   when you trust a folder), or the user allows it when asked (``window/showMessageRequest``:
   :data:`ALLOW` / :data:`DENY`), which is remembered until the server exits;
4. otherwise the request is refused with :class:`OutsideFolders` (a ``RequestFailed`` error naming
   the file, the open folders and the ways to consent). No answer, a dismissed prompt or a client
   that cannot ask all mean no.

No editor setting widens the boundary: some editors read a project's own files for the server's
settings (Helix's ``.helix/languages.toml``, Neovim's exrc), and a cloned repository must not be able
to hand the agent a folder outside itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_lsp.agent import find_git_root
from codex_lsp.lsp.host.approver import ask

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["ALLOW", "DENY", "Boundary", "OutsideFolders", "contains", "innermost", "trusted_projects"]

ALLOW = "Allow for this session"
DENY = "Deny"


class OutsideFolders(Exception):
    """A request's file lies outside every folder the user opened or allowed; the message says which
    file, which folders are open and how to consent. ``data`` carries the same for clients."""

    def __init__(self, message: str, data: dict[str, Any]) -> None:
        super().__init__(message)
        self.data = data


def contains(folder: Path, path: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (whole path components, never a prefix)."""
    return path == folder or folder in path.parents


def innermost(folders: Iterable[Path], path: Path) -> Path | None:
    """The deepest of ``folders`` that contains ``path``."""
    inside = [folder for folder in folders if contains(folder, path)]
    return max(inside, key=lambda folder: len(folder.parts)) if inside else None


def trusted_projects(projects: Any) -> tuple[Path, ...]:
    """The folders config.toml's ``[projects."<path>"]`` tables mark ``trust_level = "trusted"``, real
    paths; anything else in the table (other levels, odd values) trusts nothing."""
    if not isinstance(projects, dict):
        return ()
    return tuple(
        Path(os.path.realpath(os.path.expanduser(path)))
        for path, table in projects.items()
        if isinstance(path, str)
        and os.path.isabs(os.path.expanduser(path))
        and isinstance(table, dict)
        and table.get("trust_level") == "trusted"
    )


class Boundary:
    """The folders of one server's session: decides (and asks) which folder a file belongs to."""

    def __init__(self, server: CodexServer, trusted: Callable[[], tuple[Path, ...]]) -> None:
        self.server = server
        self._trusted = trusted
        self.allowed: list[Path] = []
        """Folders outside the open ones the user allowed in this session, in the order allowed."""

    async def folder_for(self, path: Path, folders: list[Path], named: str) -> Path:
        """The folder ``path`` (a real path; the request named it ``named``) belongs to; asks the user
        when it is outside every open and allowed folder; raises :class:`OutsideFolders`."""
        found = innermost(folders, path) or innermost(self.allowed, path)
        if found is not None:
            return found
        candidate = find_git_root(path.parent) or path.parent
        if any(contains(trusted, candidate) for trusted in self._trusted()):
            return candidate
        answer = await ask(self.server, _question(_shown(named, path), candidate, folders), (ALLOW, DENY))
        if answer == ALLOW:
            self.allowed.append(candidate)
            return candidate
        raise _refusal(path, candidate, folders, named, asked=self.server.state.caps.show_message_request)


def _listed(folders: list[Path]) -> str:
    return ", ".join(str(folder) for folder in folders) if folders else "none"


def _shown(named: str, path: Path) -> str:
    """The file as the request named it, and where that really is when it differs."""
    return named if named == str(path) else f"{named} (really {path})"


def _question(file: str, candidate: Path, folders: list[Path]) -> str:
    return (
        f"Codex: {file} is outside the open folders ({_listed(folders)}). Let Codex read and change "
        f"the files in {candidate} for the rest of this session?"
    )


def _refusal(path: Path, candidate: Path, folders: list[Path], named: str, *, asked: bool) -> OutsideFolders:
    why = "you did not allow it" if asked else "the editor cannot ask you"
    message = (
        f"{_shown(named, path)} is outside the open folders ({_listed(folders)}), and Codex works only in "
        f"folders you opened or allowed; {why}. Open {candidate} in the editor, allow it when asked, or "
        f'trust it in $CODEX_HOME/config.toml ([projects."{candidate}"] trust_level = "trusted").'
    )
    data = {"path": str(path), "folder": str(candidate), "folders": [str(f) for f in folders]}
    return OutsideFolders(message, data)
