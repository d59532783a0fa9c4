"""Running shell commands the way Codex's ``workspace-write`` sandbox means it, with bubblewrap.

Inside the sandbox the whole filesystem is read-only, the workspace root is writable (its
``.git`` stays read-only, as Codex protects it), ``/tmp`` is a private writable tmpfs, ``/dev``
and ``/proc`` are fresh, the network is unshared (not even the host's loopback is reachable),
the command gets its own PID namespace and dies with its parent.

``settings.sandbox``: ``auto`` uses bubblewrap when ``bwrap`` is on PATH and can create its
namespaces (checked once by running ``true`` under the same flags); ``bwrap`` requires it, and
commands are refused when it is unusable; ``off`` never sandboxes.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_lsp.agent.settings import AgentSettings

__all__ = ["SandboxError", "SandboxStatus", "bwrap_argv", "sandbox_status", "sandboxed_argv"]

PROBE_TIMEOUT_S = 10.0


class SandboxError(Exception):
    """The settings require the sandbox but it cannot run; the command must not run unsandboxed."""


@dataclass(frozen=True)
class SandboxStatus:
    """Whether commands run sandboxed, for ``codex.status`` and ``doctor``."""

    active: bool
    tool: str | None
    """The sandbox program's path when one was found."""
    detail: str
    """One sentence for people: what is in force, or why not."""


def bwrap_argv(bwrap: str, root: Path, argv: Sequence[str], cwd: Path | None = None) -> list[str]:
    """``argv`` wrapped in bubblewrap with ``root`` as the only writable tree (plus a private /tmp),
    started in ``cwd`` (default: ``root``).

    Order matters: later mounts cover earlier ones, so the workspace is bound after ``/tmp`` (a
    workspace under /tmp stays visible) and ``.git`` is re-bound read-only after the workspace.
    """
    workspace = str(root.resolve())
    mounts = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    mounts += ["--bind", workspace, workspace]
    git_dir = root.resolve() / ".git"
    if git_dir.is_dir():
        mounts += ["--ro-bind", str(git_dir), str(git_dir)]
    isolation = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"]
    return [bwrap, *mounts, *isolation, "--chdir", str((cwd or root).resolve()), "--", *argv]


@functools.cache
def _probe(bwrap: str) -> str | None:
    """None when bubblewrap can build our sandbox here, else what went wrong (cached per path)."""
    argv = bwrap_argv(bwrap, Path("/"), ["true"])
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not run: {exc}"
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"{bwrap} cannot create the sandbox here: {reason[0]}"
    return None


def sandbox_status(settings: AgentSettings) -> SandboxStatus:
    """What :func:`sandboxed_argv` will do with these settings, in a form fit for a status line."""
    if settings.sandbox == "off":
        return SandboxStatus(False, None, "Sandbox off by settings: commands run with the user's rights.")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        required = " (required by settings: commands are refused)" if settings.sandbox == "bwrap" else ""
        return SandboxStatus(False, None, f"bubblewrap (bwrap) is not installed{required}.")
    problem = _probe(bwrap)
    if problem is not None:
        required = "; commands are refused" if settings.sandbox == "bwrap" else "; commands run unsandboxed"
        return SandboxStatus(False, bwrap, problem + required + ".")
    return SandboxStatus(
        True, bwrap, "bubblewrap: workspace writable, rest of the filesystem read-only, no network."
    )


def sandboxed_argv(
    argv: Sequence[str], root: Path, settings: AgentSettings, cwd: Path | None = None
) -> tuple[list[str], bool]:
    """The argv to execute and whether it is sandboxed; raises :class:`SandboxError` when the
    settings require the sandbox and it is unavailable."""
    status = sandbox_status(settings)
    if status.active and status.tool:
        return bwrap_argv(status.tool, root, argv, cwd), True
    if settings.sandbox == "bwrap":
        raise SandboxError(status.detail)
    return list(argv), False
