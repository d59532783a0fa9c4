"""The approval policy: which file changes and commands need the user's consent, under Codex's names.

``approval_policy`` (``AgentSettings.approval_policy``) takes Codex's values:

- ``untrusted``: every file change asks, and every command that is not allow-listed;
- ``on-request`` (the default): commands that are not allow-listed ask; file changes apply without
  asking unless an always-ask rule below matches;
- ``never``: nothing asks — whatever would have asked is refused, and the model is told why.

Always-ask rules for file changes, on top of the policy: deletions (``ask_for_deletions``), files
not open in the editor (``ask_outside_open_buffers``) and paths matching a gitignore-style glob
(``ask_for_paths``). In review mode changes are held for the user's review instead of applied, so
they are never asked about: the review is the approval.

The answers are the :class:`~codex_lsp.agent.interfaces.ApprovalDecision`s: approve once, approve
for the rest of the turn (every later change of the turn, or the same command again), deny.
"""

from __future__ import annotations

from collections.abc import Iterable

from pathspec import GitIgnoreSpec

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.patch import ChangeKind, FileChange

__all__ = ["APPROVAL_POLICIES", "model_policy", "patch_reasons"]

APPROVAL_POLICIES = ("untrusted", "on-request", "never")


def patch_reasons(
    changes: Iterable[FileChange], settings: AgentSettings, open_paths: Iterable[str]
) -> list[str]:
    """Why a patch must ask before it is applied; empty when it may apply at once."""
    if settings.edit_mode == "review":
        return []
    changes = list(changes)
    reasons: list[str] = []
    if settings.approval_policy == "untrusted":
        reasons.append("the approval policy (untrusted) asks before every file change")
    deleted = [c.path for c in changes if c.kind is ChangeKind.DELETE]
    if settings.ask_for_deletions and deleted:
        reasons.append("it deletes " + ", ".join(deleted))
    touched = [path for change in changes for path in filter(None, (change.path, change.move_to))]
    opened = set(open_paths)
    outside = [path for path in touched if path not in opened]
    if settings.ask_outside_open_buffers and outside:
        reasons.append("it changes files not open in the editor: " + ", ".join(outside))
    if settings.ask_for_paths:
        spec = GitIgnoreSpec.from_lines(settings.ask_for_paths)
        matched = [path for path in touched if spec.match_file(path)]
        if matched:
            reasons.append("it changes protected paths: " + ", ".join(matched))
    return reasons


def model_policy(settings: AgentSettings) -> str:
    """The policy as the model is told it in the environment context.

    ``on-request`` is how Codex names "the agent asks when it needs to"; for the model what counts
    is whether its commands ask: they do (``untrusted``) when the shell is offered.
    """
    if settings.approval_policy != "on-request":
        return settings.approval_policy
    return "untrusted" if settings.shell_enabled else "never"
