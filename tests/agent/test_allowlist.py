"""The shell allow-list: bare names mean the system's commands, and only real shells are looked through."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_lsp.agent.interfaces import ApprovalDecision
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools import allowlist
from codex_lsp.agent.tools.allowlist import is_allowed, resolve_executable
from codex_lsp.agent.tools.shell import ShellTool
from tests.agent.fakes import DiskWorkspace, EventLog, ScriptedApprover, call_tool, tool_context

GIT_STATUS = AgentSettings(
    shell_enabled=True, sandbox_mode="danger-full-access", shell_allow=("git status", "pytest")
)


def _program(path: Path, body: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, str]:
    """A workspace and a PATH of "system" programs outside it (git, pytest and a real bash)."""
    system = tmp_path / "system-bin"
    _program(system / "git")
    _program(system / "pytest")
    bash = shutil.which("bash")
    assert bash is not None
    (system / "bash").symlink_to(bash)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace, str(system)


def allowed(command: tuple[str, ...], workspace: Path, search_path: str) -> bool:
    return is_allowed(command, GIT_STATUS, root=workspace, cwd=workspace, search_path=search_path)


def test_plain_commands_and_plain_scripts_of_a_real_shell_match(layout: tuple[Path, str]) -> None:
    workspace, path = layout
    assert allowed(("git", "status", "--short"), workspace, path)
    assert allowed(("pytest", "-q"), workspace, path)
    assert allowed(("bash", "-c", "git status"), workspace, path)
    assert allowed(("bash", "-lc", "pytest -q tests"), workspace, path)
    assert not allowed(("git", "push"), workspace, path)
    assert not allowed(("git",), workspace, path)
    assert not allowed(("pytestx",), workspace, path)
    assert not allowed(("bash", "-lc", "pytest; rm -rf ~"), workspace, path)
    assert not allowed(("bash", "-lc", "pytest $(curl x)"), workspace, path)
    assert not allowed(("bash", "-lc", "pytest > /etc/passwd"), workspace, path)


def test_a_workspace_script_named_like_a_shell_is_not_looked_through(layout: tuple[Path, str]) -> None:
    workspace, path = layout
    _program(workspace / "tools" / "bash")
    _program(workspace / "bash")
    assert not allowed(("tools/bash", "-c", "git status"), workspace, path)
    assert not allowed(("./bash", "-c", "git status"), workspace, path)
    assert not allowed((str(workspace / "bash"), "-c", "git status"), workspace, path)
    # A bare `bash` that PATH finds in the workspace is the workspace's script, too.
    assert not allowed(("bash", "-c", "git status"), workspace, f".{os.pathsep}{path}")
    assert not allowed(("bash", "-c", "git status"), workspace, f"{workspace}{os.pathsep}{path}")


def test_an_absolute_path_to_a_system_shell_is_looked_through(layout: tuple[Path, str]) -> None:
    workspace, path = layout
    assert allowed(("/bin/sh", "-c", "git status"), workspace, path)
    assert not allowed(("/bin/tmux", "-c", "git status"), workspace, path), "not a shell"


@pytest.fixture
def system_shells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A stand-in for ``/etc/shells`` (the allow-list reads it once; the cache is emptied around the test)."""
    listed = tmp_path / "etc-shells"
    listed.write_text("# /etc/shells: valid login shells\n/bin/sh\n")
    monkeypatch.setattr(allowlist, "SYSTEM_SHELLS_FILE", listed)
    allowlist._system_shells.cache_clear()
    yield listed
    allowlist._system_shells.cache_clear()


def test_an_absolute_shell_the_system_does_not_list_is_not_looked_through(
    layout: tuple[Path, str], system_shells: Path, tmp_path: Path
) -> None:
    """Outside the workspace is not enough: the model can write /tmp/x/bash, but not /etc/shells."""
    workspace, path = layout
    planted = _program(tmp_path / "downloads" / "bash", 'touch "$HOME/pwned"')
    assert not allowed((str(planted), "-c", "git status"), workspace, path)
    assert not allowed((str(planted), "-lc", "pytest -q"), workspace, path)
    assert allowed(("/bin/sh", "-c", "git status"), workspace, path), "listed: looked through"
    # Once the system lists it, the same file is a real shell.
    system_shells.write_text(f"/bin/sh\n{planted}\n")
    allowlist._system_shells.cache_clear()
    assert allowed((str(planted), "-c", "git status"), workspace, path)


def test_a_bare_name_that_path_finds_in_the_workspace_never_matches(layout: tuple[Path, str]) -> None:
    workspace, path = layout
    _program(workspace / "node_modules" / ".bin" / "git")
    assert not allowed(("git", "status"), workspace, f"node_modules/.bin{os.pathsep}{path}")
    assert not allowed(("bash", "-c", "git status"), workspace, f"node_modules/.bin{os.pathsep}{path}")
    # A symlink in the workspace is the workspace's, wherever it points.
    (workspace / "bin").mkdir()
    (workspace / "bin" / "git").symlink_to(Path(path) / "git")
    assert not allowed(("git", "status"), workspace, f"{workspace / 'bin'}{os.pathsep}{path}")


def test_an_empty_path_entry_is_the_working_directory(layout: tuple[Path, str]) -> None:
    """``PATH=:/usr/bin`` (or ``a::b``) searches the working directory, as ``.`` would."""
    workspace, path = layout
    _program(workspace / "git")
    assert not allowed(("git", "status"), workspace, f"{os.pathsep}{path}")
    assert not allowed(("git", "status"), workspace, os.pathsep.join([str(workspace / "none"), "", path]))
    assert allowed(("git", "status"), workspace, f"{path}{os.pathsep}"), "the system's git comes first"


def test_without_a_path_given_the_process_path_is_searched(
    layout: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, path = layout
    _program(workspace / "bin" / "git")
    monkeypatch.setenv("PATH", f"{workspace / 'bin'}{os.pathsep}{path}")
    assert not is_allowed(("git", "status"), GIT_STATUS, root=workspace, cwd=workspace)
    monkeypatch.setenv("PATH", path)
    assert is_allowed(("git", "status"), GIT_STATUS, root=workspace, cwd=workspace)


def test_relative_executables_never_match_a_bare_entry(layout: tuple[Path, str]) -> None:
    workspace, path = layout
    _program(workspace / "tools" / "git")
    assert not allowed(("tools/git", "status"), workspace, path)
    assert not allowed(("./git", "status"), workspace, path)


def test_an_entry_naming_a_path_matches_that_path(layout: tuple[Path, str]) -> None:
    workspace, path = layout
    _program(workspace / "scripts" / "check.sh")
    settings = AgentSettings(shell_allow=("./scripts/check.sh",))
    assert is_allowed(("./scripts/check.sh", "-v"), settings, root=workspace, cwd=workspace, search_path=path)
    assert not is_allowed(("scripts/check.sh",), settings, root=workspace, cwd=workspace, search_path=path)


def test_resolve_executable_follows_path_order_and_relative_entries(tmp_path: Path) -> None:
    first, second = _program(tmp_path / "a" / "tool"), _program(tmp_path / "b" / "tool")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "tool").write_text("not executable")
    assert resolve_executable("tool", tmp_path, os.pathsep.join(["c", "a", "b"])) == first
    assert resolve_executable("tool", tmp_path, str(tmp_path / "b")) == second
    assert resolve_executable("b/tool", tmp_path, "") == second
    assert resolve_executable("missing", tmp_path, str(tmp_path / "a")) is None
    assert resolve_executable("tool", tmp_path / "a", os.pathsep.join(["c", "", "b"])) == first, "'' is cwd"


def test_resolve_executable_takes_a_name_with_a_slash_as_a_path_from_cwd(tmp_path: Path) -> None:
    """Like ``exec``: ``b/tool`` is never looked up on ``PATH``, and must itself be executable."""
    _program(tmp_path / "a" / "b" / "tool")
    here = _program(tmp_path / "b" / "tool")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "tool").write_text("not executable")
    search_path = str(tmp_path / "a")
    assert resolve_executable("b/tool", tmp_path, search_path) == here
    assert resolve_executable("./b/tool", tmp_path, search_path) == here
    assert resolve_executable("c/tool", tmp_path, search_path) is None, "not executable"
    assert resolve_executable("d/tool", tmp_path, search_path) is None, "missing"


async def test_shell_named_workspace_script_asks_before_running(tmp_path: Path) -> None:
    """The reported bypass: with "git status" allowed, `tools/bash -c 'git status'` ran unprompted."""
    _program(tmp_path / "tools" / "bash", 'touch "$(dirname "$0")/../ran"')
    approver = ScriptedApprover(ApprovalDecision.DENY)
    ctx = tool_context(DiskWorkspace(tmp_path), GIT_STATUS, approver, EventLog())
    result = await call_tool(ShellTool(), ctx, command=["tools/bash", "-c", "git status"])
    assert [r.command for r in approver.requests] == [("tools/bash", "-c", "git status")]
    assert not result.success
    assert not (tmp_path / "ran").exists()
