"""The agent's own settings: tools, limits and context budgets (pydantic, validated once)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from codex_lsp.model import (
    ApprovalPolicy,
    Permissions,
    SandboxMode,
    SandboxWorkspaceWrite,
    ShellEnvironmentPolicy,
)

__all__ = ["AgentSettings"]


class AgentSettings(BaseModel):
    """Every knob of the agent layer, with the defaults a user gets without configuring anything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shell_enabled: bool = False
    """The ``shell`` tool is off unless the user turns it on."""
    shell_allow: tuple[str, ...] = ()
    """Commands that run without asking: an entry matches a command whose argv starts with its
    words (``"pytest"`` allows ``pytest -q``; ``"git status"`` allows only that). A bare name
    means the program ``PATH`` finds outside the workspace (see ``tools/allowlist.py``)."""
    shell_timeout_ms: int = Field(default=60_000, ge=100, le=3_600_000)
    shell_output_max_bytes: int = Field(default=64 * 1024, ge=1024)
    sandbox_mode: SandboxMode = "workspace-write"
    """Codex's ``sandbox_mode`` for shell commands (see ``agent/sandbox.py``): ``read-only`` (nothing
    writable, no network), ``workspace-write`` (the workspace and the roots below writable; network per
    ``network_access``) — both with bubblewrap, commands refused without it — or ``danger-full-access``
    (no sandbox). ``read-only`` also makes every patch a question (a refusal where nothing may ask)."""
    sandbox_workspace_write: SandboxWorkspaceWrite = Field(default_factory=SandboxWorkspaceWrite)
    """Codex's ``[sandbox_workspace_write]``: ``writable_roots`` (absolute), ``network_access``,
    ``exclude_tmpdir_env_var``, ``exclude_slash_tmp``."""
    shell_environment_policy: ShellEnvironmentPolicy = Field(default_factory=ShellEnvironmentPolicy)
    """Codex's ``[shell_environment_policy]``: how a command's environment is built (see
    ``agent/tools/shell_env.py``); the API keys of the configuration never reach it in any case."""
    read_max_bytes: int = Field(default=256 * 1024, ge=1024)
    read_max_lines: int = Field(default=2_000, ge=1)
    search_max_results: int = Field(default=200, ge=1)
    list_max_entries: int = Field(default=500, ge=1)
    apply_patch_tool: Literal["auto", "freeform", "function"] = "auto"
    """``freeform``: a custom tool with a grammar; ``function``: JSON ``input``; ``auto``: as Codex's
    catalog says of the model (a model it does not know gets the function)."""
    max_tool_rounds: int = Field(default=64, ge=1)
    """Model requests one turn may make before it stops with an error (a runaway guard)."""
    edit_mode: Literal["auto", "review"] = "auto"
    """``auto``: patches are applied as the model makes them; ``review``: they are held as a
    proposal for the user to accept or reject, hunk by hunk (see ``agent/book.py``)."""
    approval_policy: ApprovalPolicy = "on-request"
    """Codex's names: ``untrusted`` asks before every file change and every command not
    allow-listed; ``on-request`` asks for such commands only (and for the rules below); ``never``
    asks nothing and refuses what would have asked; ``{granular = {…}}`` asks or refuses each kind of
    question as its switches say (see ``agent/approval.py``)."""
    ask_for_deletions: bool = False
    """Deleting a file always asks (unless the policy is ``never``, which refuses it)."""
    ask_outside_open_buffers: bool = False
    """Changing a file that is not open in the editor always asks."""
    ask_for_paths: tuple[str, ...] = ()
    """Gitignore-style globs (``migrations/**``, ``*.lock``): changing a matching path always asks."""

    def configured(self, permissions: Permissions) -> AgentSettings:
        """These settings with the configuration's sandbox, shell environment policy and — when it sets
        one — approval policy (a host lays its own choices, such as the editor's, over the result)."""
        update: dict[str, object] = {
            "sandbox_mode": permissions.sandbox_mode,
            "sandbox_workspace_write": permissions.sandbox_workspace_write,
            "shell_environment_policy": permissions.shell_environment_policy,
        }
        if permissions.approval_policy is not None:
            update["approval_policy"] = permissions.approval_policy
        return self.model_copy(update=update)
