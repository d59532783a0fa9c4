"""Running shell commands in the sandbox Codex's ``sandbox_mode`` names, with bubblewrap.

- ``read-only``: the whole filesystem is read-only (``/tmp`` too), and there is no network;
- ``workspace-write``: read-only except the *writable roots* — the workspace, ``writable_roots`` of
  ``[sandbox_workspace_write]``, ``/tmp`` (unless ``exclude_slash_tmp``) and ``$TMPDIR`` (unless
  ``exclude_tmpdir_env_var``). In each root, ``.git``, ``.codex`` and ``.agents`` stay read-only, as Codex
  keeps them. No network unless ``network_access = true``;
- ``danger-full-access``: no sandbox: commands run with the user's rights.

Sandboxed, ``/dev`` and ``/proc`` are fresh, the command gets its own PID namespace and dies with its
parent; without network it is in a network namespace of its own (not even the host's loopback is
reachable). Writable roots that do not exist are skipped, as Codex skips them.

The sandbox is never silently weaker than configured: when the mode needs it and bubblewrap is missing or
cannot create its namespaces here (checked once per ``bwrap`` path by running ``true`` under it), commands
are refused with :class:`SandboxError`, saying why and what to do.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_lsp.agent.settings import AgentSettings

__all__ = [
    "PROTECTED_NAMES",
    "SandboxError",
    "SandboxPlan",
    "SandboxStatus",
    "bwrap_argv",
    "sandbox_plan",
    "sandbox_status",
    "sandboxed_argv",
]

PROBE_TIMEOUT_S = 10.0
PROTECTED_NAMES = (".git", ".codex", ".agents")
"""Entries of a writable root that stay read-only (Codex's list)."""
ISOLATION = ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent")


class SandboxError(Exception):
    """``sandbox_mode`` needs the sandbox but it cannot run here; the command must not run at all."""


@dataclass(frozen=True)
class SandboxStatus:
    """Whether commands run sandboxed, for ``codex.status`` and ``doctor``."""

    active: bool
    tool: str | None
    """The sandbox program's path when one was found."""
    detail: str
    """One sentence for people: what is in force, or why not."""
    refused: bool = False
    """Commands are refused: the configured mode needs a sandbox that cannot run here."""


@dataclass(frozen=True)
class SandboxPlan:
    """What a sandboxed command may touch."""

    writable: tuple[Path, ...]
    """Writable roots that exist, parents before children (a later mount covers an earlier one)."""
    protected: tuple[Path, ...]
    """Paths inside the writable roots bound read-only again."""
    network: bool


def sandbox_plan(
    root: Path, settings: AgentSettings, environ: Mapping[str, str] | None = None
) -> SandboxPlan:
    """The writable roots, protected paths and network of ``settings.sandbox_mode`` for the workspace
    ``root`` (``environ`` gives ``TMPDIR``; default: this process's environment)."""
    if settings.sandbox_mode != "workspace-write":
        return SandboxPlan((), (), network=False)
    options = settings.sandbox_workspace_write
    candidates = [root, *(Path(p) for p in options.writable_roots)]
    if not options.exclude_slash_tmp:
        candidates.append(Path("/tmp"))
    tmpdir = (os.environ if environ is None else environ).get("TMPDIR")
    if tmpdir and not options.exclude_tmpdir_env_var:
        candidates.append(Path(tmpdir))
    resolved = {Path(os.path.realpath(p)) for p in candidates if p.is_absolute() and p.is_dir()}
    writable = tuple(sorted(resolved, key=lambda p: (len(p.parts), str(p))))
    protected = tuple(
        path
        for folder in writable
        for name in PROTECTED_NAMES
        if (path := folder / name).exists() and not path.is_symlink()
    )
    return SandboxPlan(writable, protected, network=options.network_access)


def bwrap_argv(bwrap: str, plan: SandboxPlan, argv: Sequence[str], cwd: Path) -> list[str]:
    """``argv`` wrapped in bubblewrap as ``plan`` says, started in ``cwd``.

    Order matters: later mounts cover earlier ones, so the root filesystem comes first, then the writable
    roots (parents first), then the protected paths inside them.
    """
    mounts = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for folder in plan.writable:
        mounts += ["--bind", str(folder), str(folder)]
    for path in plan.protected:
        mounts += ["--ro-bind", str(path), str(path)]
    network = [] if plan.network else ["--unshare-net"]
    return [bwrap, *mounts, *network, *ISOLATION, "--chdir", str(cwd.resolve()), "--", *argv]


@functools.cache
def _probe(bwrap: str) -> str | None:
    """None when bubblewrap can build our sandbox here, else what went wrong (cached per path)."""
    argv = bwrap_argv(bwrap, SandboxPlan((), (), network=False), ["true"], Path("/"))
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not run: {exc}"
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"{bwrap} cannot create the sandbox here: {reason[0]}"
    return None


def _refusal(mode: str, problem: str) -> str:
    return (
        f"sandbox_mode is {mode}, but {problem}: commands are refused rather than run with less protection. "
        'Install bubblewrap (bwrap), or set sandbox_mode = "danger-full-access" to run commands without a '
        "sandbox."
    )


def _describe(settings: AgentSettings) -> str:
    if settings.sandbox_mode == "read-only":
        return "bubblewrap, read-only: nothing is writable, no network."
    options = settings.sandbox_workspace_write
    writable = ["the workspace"]
    if options.writable_roots:
        writable.append(", ".join(options.writable_roots))
    if not options.exclude_slash_tmp:
        writable.append("/tmp")
    if not options.exclude_tmpdir_env_var:
        writable.append("$TMPDIR")
    network = "network allowed" if options.network_access else "no network"
    return f"bubblewrap, workspace-write: {', '.join(writable)} writable, the rest read-only, {network}."


def sandbox_status(settings: AgentSettings) -> SandboxStatus:
    """What :func:`sandboxed_argv` will do with these settings, in a form fit for a status line."""
    mode = settings.sandbox_mode
    if mode == "danger-full-access":
        detail = "sandbox_mode is danger-full-access: commands run without a sandbox, with your rights."
        return SandboxStatus(False, None, detail)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus(False, None, _refusal(mode, "bubblewrap (bwrap) is not installed"), refused=True)
    problem = _probe(bwrap)
    if problem is not None:
        return SandboxStatus(False, bwrap, _refusal(mode, problem), refused=True)
    return SandboxStatus(True, bwrap, _describe(settings))


def sandboxed_argv(
    argv: Sequence[str], root: Path, settings: AgentSettings, cwd: Path | None = None
) -> tuple[list[str], bool]:
    """The argv to execute (in ``cwd``, default ``root``) and whether it is sandboxed; raises
    :class:`SandboxError` when the mode needs the sandbox and it is unavailable."""
    status = sandbox_status(settings)
    if status.refused:
        raise SandboxError(status.detail)
    if not status.active or status.tool is None:
        return list(argv), False
    return bwrap_argv(status.tool, sandbox_plan(root, settings), argv, cwd or root), True
