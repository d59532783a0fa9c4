"""What commands and edits may do, as Codex's configuration says it: ``sandbox_mode``,
``[sandbox_workspace_write]``, ``[shell_environment_policy]`` and ``approval_policy``.

The types follow Codex 0.169 (checked against the binary; its error for a bad value names the same
alternatives): ``sandbox_mode`` is ``read-only``, ``workspace-write`` or ``danger-full-access``;
``approval_policy`` is ``untrusted``, ``on-failure``, ``on-request``, ``never`` or ``{ granular = {
sandbox_approval, rules, skill_approval, request_permissions, mcp_elicitations } }`` (the first two and
the last of those keys are required; unknown keys are ignored, as Codex does). A value of the wrong
kind is a ``ConfigError`` naming the key and the file, as Codex refuses to start.

What is resolved here, for the folder a run works in (:func:`resolve_permissions`):

- ``sandbox_mode`` from any layer; unset, codex-lsp uses ``workspace-write`` (Codex uses ``read-only``
  unless the project is trusted: see the README for why codex-lsp does not);
- ``writable_roots`` made absolute as Codex does: ``~`` expanded, a relative root taken from the directory
  of the file that set it (``$CODEX_HOME`` for config.toml), or from the working folder for ``-c``;
- ``on-failure``, which Codex deprecated, means ``on-request``.

The agent applies them (``agent/sandbox.py``, ``agent/tools/shell_env.py``, ``agent/approval.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError, field_validator

if TYPE_CHECKING:
    from codex_lsp.model.layers import Layered

__all__ = [
    "ApprovalPolicy",
    "ConfigApprovalPolicy",
    "Granular",
    "GranularApproval",
    "Permissions",
    "SandboxMode",
    "SandboxWorkspaceWrite",
    "ShellEnvironmentPolicy",
    "approval_of",
    "check_approval_policy",
    "resolve_permissions",
]

SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]
DEFAULT_SANDBOX_MODE: SandboxMode = "workspace-write"


class SandboxWorkspaceWrite(BaseModel):
    """``[sandbox_workspace_write]``: what ``workspace-write`` adds to the workspace (Codex's defaults)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    writable_roots: tuple[str, ...] = ()
    """More folders commands may write to (absolute once resolved; missing ones are skipped)."""
    network_access: StrictBool = False
    """Commands may use the network."""
    exclude_tmpdir_env_var: StrictBool = False
    """``$TMPDIR`` is not writable."""
    exclude_slash_tmp: StrictBool = False
    """``/tmp`` is not writable."""


class ShellEnvironmentPolicy(BaseModel):
    """``[shell_environment_policy]``: how the environment of a command is built (Codex's defaults:
    everything inherited, nothing excluded — 0.169 no longer drops ``*KEY*``/``*SECRET*``/``*TOKEN*``
    names unless ``ignore_default_excludes = false``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    inherit: Literal["all", "core", "none"] = "all"
    ignore_default_excludes: StrictBool = True
    exclude: tuple[str, ...] = ()
    """Name patterns (``*`` and ``?``, case-insensitive) removed from what was inherited."""
    include_only: tuple[str, ...] = ()
    """When given, only names matching one of these patterns are kept (after ``set``)."""
    set: tuple[tuple[str, str], ...] = ()
    """Variables set on top (a table in the file; kept as pairs so the settings stay hashable)."""
    experimental_use_profile: StrictBool = False
    """Accepted as Codex accepts it; codex-lsp does not run commands through a login profile."""

    @field_validator("set", mode="before")
    @classmethod
    def _table(cls, value: Any) -> Any:
        """The file's table, as sorted pairs (values are strings, as in Codex)."""
        if not isinstance(value, Mapping):
            return value
        for name, text in value.items():
            if not isinstance(text, str):
                raise ValueError(f"set.{name}: expected a string")
        return tuple(sorted(value.items()))


class GranularApproval(BaseModel):
    """The switches of ``approval_policy = { granular = { … } }``: ``true`` lets that kind of question
    reach the user, ``false`` refuses it without asking (Codex's meaning)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sandbox_approval: StrictBool
    """Questions about leaving the sandbox: a command (codex-lsp asks before each command that is not
    allow-listed) and a patch the sandbox would not allow (``read-only``)."""
    rules: StrictBool
    """Questions a rule asks for (Codex's execpolicy ``prompt`` rules; codex-lsp's always-ask rules for
    file changes: deletions, files not open in the editor, protected paths)."""
    skill_approval: StrictBool = False
    """Skill scripts: codex-lsp has no skills (accepted, not applicable)."""
    request_permissions: StrictBool = False
    """The ``request_permissions`` tool: codex-lsp has none (accepted, not applicable)."""
    mcp_elicitations: StrictBool
    """MCP elicitations: codex-lsp starts no MCP servers (accepted, not applicable)."""


class Granular(BaseModel):
    """``{ granular = { … } }`` as one value of ``approval_policy``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    granular: GranularApproval


ConfigApprovalPolicy = Literal["untrusted", "on-failure", "on-request", "never"] | Granular
"""What ``approval_policy`` may say in a file."""
ApprovalPolicy = Literal["untrusted", "on-request", "never"] | Granular
"""What the agent applies (``on-failure`` read as ``on-request``)."""


POLICY_NAMES = ("untrusted", "on-failure", "on-request", "never")


def check_approval_policy(value: Any) -> Any:
    """``approval_policy`` as the file says it, with one readable complaint when it is not one of Codex's
    forms (pydantic's would list every member of the union). Never quotes the value."""
    if value is None or isinstance(value, Granular) or value in POLICY_NAMES:
        return value
    if isinstance(value, str):
        raise ValueError(
            "unknown variant, expected one of `untrusted`, `on-failure`, `on-request`, `granular`, `never`"
        )
    if isinstance(value, Mapping) and list(value) == ["granular"] and isinstance(value["granular"], Mapping):
        try:
            return Granular.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(problems) from None
    raise ValueError("expected `untrusted`, `on-failure`, `on-request`, `never` or { granular = { ... } }")


def approval_of(value: ConfigApprovalPolicy) -> ApprovalPolicy:
    """The policy the agent applies for a configured value: Codex deprecated ``on-failure`` (run in the
    sandbox, ask when it fails); codex-lsp reads it as ``on-request``."""
    return "on-request" if value == "on-failure" else value


@dataclass(frozen=True)
class Permissions:
    """The resolved settings for one working folder."""

    sandbox_mode: SandboxMode
    sandbox_workspace_write: SandboxWorkspaceWrite
    shell_environment_policy: ShellEnvironmentPolicy
    approval_policy: ApprovalPolicy | None
    """``None`` when no layer sets it (each host has its own default)."""


def resolve_permissions(config: Any, layered: Layered, cwd: Path | None) -> Permissions:
    """The permissions of ``config`` (a validated :class:`~codex_lsp.model.config.CodexConfig`) for a run
    in ``cwd``, relative ``writable_roots`` resolved against the layer that set them."""
    write: SandboxWorkspaceWrite = config.sandbox_workspace_write
    base = _roots_base(layered, cwd)
    roots = tuple(_absolute(root, base) for root in write.writable_roots)
    policy = config.approval_policy
    return Permissions(
        sandbox_mode=config.sandbox_mode or DEFAULT_SANDBOX_MODE,
        sandbox_workspace_write=write.model_copy(update={"writable_roots": roots}),
        shell_environment_policy=config.shell_environment_policy,
        approval_policy=None if policy is None else approval_of(policy),
    )


def _roots_base(layered: Layered, cwd: Path | None) -> Path:
    """Where relative ``writable_roots`` start: the directory of the file that set them, else ``cwd``."""
    origin = layered.origin("sandbox_workspace_write.writable_roots")
    layer = next((layer for layer in layered.layers if layer.label == origin), None)
    if layer is not None and layer.path is not None:
        return layer.path.parent
    return cwd if cwd is not None else Path.cwd()


def _absolute(root: str, base: Path) -> str:
    path = Path(os.path.expanduser(root))
    return os.path.normpath(path if path.is_absolute() else base / path)
