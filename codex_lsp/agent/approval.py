"""The approval policy: which file changes and commands need the user's consent, under Codex's names.

``approval_policy`` (``AgentSettings.approval_policy``) takes Codex's values:

- ``untrusted``: every file change asks, and every command that is not allow-listed;
- ``on-request`` (the default; also what Codex's deprecated ``on-failure`` means): commands that are
  not allow-listed ask; file changes apply without asking unless a rule below asks;
- ``never``: nothing asks — whatever would have asked is refused, and the model is told why;
- ``{ granular = { … } }``: like ``on-request``, except that each kind of question whose switch is
  ``false`` is refused instead of asked (Codex's meaning). The kinds, as codex-lsp has them:

  - ``sandbox_approval``: a command that is not allow-listed, and a file change the sandbox would not
    allow (every change under ``sandbox_mode = "read-only"``);
  - ``rules``: the user's always-ask rules for file changes, below (Codex's execpolicy ``prompt``
    rules are the same kind of question);
  - ``skill_approval``, ``request_permissions``, ``mcp_elicitations``: not applicable — codex-lsp has
    no skills, no ``request_permissions`` tool and no MCP servers, so these never ask.

Why a file change asks, on top of the policy: ``sandbox_mode = "read-only"`` (Codex: "writing is blocked
by read-only sandbox"), deletions (``ask_for_deletions``), files not open in the editor
(``ask_outside_open_buffers``) and paths matching a gitignore-style glob (``ask_for_paths``). In review
mode changes are held for the user's review instead of applied, so they are never asked about: the
review is the approval.

The answers are the :class:`~codex_lsp.agent.interfaces.ApprovalDecision`s: approve once, approve
for the rest of the turn (every later change of the turn, or the same command again), deny.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pathspec import GitIgnoreSpec

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.model import Granular
from codex_lsp.patch import ChangeKind, FileChange

__all__ = [
    "APPROVAL_POLICIES",
    "PatchReason",
    "command_refusal",
    "model_policy",
    "patch_reasons",
    "patch_refusal",
    "policy_name",
]

APPROVAL_POLICIES = ("untrusted", "on-request", "never")
Kind = Literal["policy", "sandbox", "rules"]
READ_ONLY = "writing is blocked by the read-only sandbox (sandbox_mode = read-only)"


@dataclass(frozen=True)
class PatchReason:
    """Why a file change asks, and which kind of question that is (what a granular policy switches)."""

    text: str
    kind: Kind


def policy_name(settings: AgentSettings) -> str:
    """The policy in words: ``never``, ``granular``…"""
    policy = settings.approval_policy
    return "granular" if isinstance(policy, Granular) else policy


def _may_ask(settings: AgentSettings, kind: Kind) -> bool:
    """Whether a question of ``kind`` reaches the user under the policy (else it is refused)."""
    policy = settings.approval_policy
    if isinstance(policy, Granular):
        return policy.granular.rules if kind == "rules" else policy.granular.sandbox_approval
    return policy != "never"


def _refused_by(settings: AgentSettings, kind: Kind) -> str:
    if isinstance(settings.approval_policy, Granular):
        switch = "rules" if kind == "rules" else "sandbox_approval"
        return f"the approval policy is granular with {switch} = false"
    return "the approval policy is never"


def command_refusal(settings: AgentSettings) -> str | None:
    """Why a command that needs the user's approval is refused without asking; ``None`` when it may ask."""
    if _may_ask(settings, "sandbox"):
        return None
    return (
        "The command was declined without asking: it needs the user's approval (it is not allow-listed) "
        f"and {_refused_by(settings, 'sandbox')}."
    )


def patch_reasons(
    changes: Iterable[FileChange], settings: AgentSettings, open_paths: Iterable[str]
) -> list[PatchReason]:
    """Why a patch must ask before it is applied; empty when it may apply at once."""
    if settings.edit_mode == "review":
        return []
    changes = list(changes)
    reasons: list[PatchReason] = []
    if settings.approval_policy == "untrusted":
        reasons.append(PatchReason("the approval policy (untrusted) asks before every file change", "policy"))
    if settings.sandbox_mode == "read-only":
        reasons.append(PatchReason(READ_ONLY, "sandbox"))
    deleted = [c.path for c in changes if c.kind is ChangeKind.DELETE]
    if settings.ask_for_deletions and deleted:
        reasons.append(PatchReason("it deletes " + ", ".join(deleted), "rules"))
    touched = [path for change in changes for path in filter(None, (change.path, change.move_to))]
    opened = set(open_paths)
    outside = [path for path in touched if path not in opened]
    if settings.ask_outside_open_buffers and outside:
        reasons.append(PatchReason("it changes files not open in the editor: " + ", ".join(outside), "rules"))
    if settings.ask_for_paths:
        spec = GitIgnoreSpec.from_lines(settings.ask_for_paths)
        matched = [path for path in touched if spec.match_file(path)]
        if matched:
            reasons.append(PatchReason("it changes protected paths: " + ", ".join(matched), "rules"))
    return reasons


def patch_refusal(reasons: Iterable[PatchReason], settings: AgentSettings) -> str | None:
    """Why a patch with these reasons is refused without asking (the first reason that may not ask, and the
    policy's words); ``None`` when it may ask."""
    for reason in reasons:
        if not _may_ask(settings, reason.kind):
            return f"{reason.text}, and {_refused_by(settings, reason.kind)}"
    return None


def model_policy(settings: AgentSettings) -> str:
    """The policy as the model is told it in the environment context.

    ``on-request`` is how Codex names "the agent asks when it needs to"; for the model what counts
    is whether its commands ask: they do (``untrusted``) when the shell is offered. A granular policy
    is told as what it does to commands: they ask (as ``on-request``) or are refused (``never``).
    """
    policy = settings.approval_policy
    if isinstance(policy, Granular):
        policy = "on-request" if policy.granular.sandbox_approval else "never"
    if policy != "on-request":
        return policy
    return "untrusted" if settings.shell_enabled else "never"
