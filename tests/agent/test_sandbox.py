"""The bubblewrap sandbox really confines commands as ``sandbox_mode`` says: ``workspace-write`` (the
workspace, ``writable_roots``, ``/tmp`` and ``$TMPDIR`` writable, ``.git``/``.codex``/``.agents`` not, no
network unless ``network_access``), ``read-only`` (nothing writable, no network), ``danger-full-access``
(no sandbox) — and never silently less: without bubblewrap, commands are refused. Skipped where bwrap
cannot run, unless CODEX_LSP_REQUIRE_SANDBOX=1 (CI sets it, so a missing sandbox fails there instead of
passing silently)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.agent import sandbox
from codex_lsp.agent.events import CommandStarted
from codex_lsp.agent.sandbox import SandboxError, sandbox_status, sandboxed_argv
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.base import ToolResult
from codex_lsp.agent.tools.shell import ShellTool
from codex_lsp.model import SandboxWorkspaceWrite
from tests.agent.fakes import DiskWorkspace, EventLog, call_tool, tool_context
from tests.agent.procs import unique_sleep, wait_until_gone, wait_until_running

SANDBOXED = AgentSettings(shell_enabled=True, shell_allow=("sh", "touch", sys.executable))
UNSANDBOXED = SANDBOXED.model_copy(update={"sandbox_mode": "danger-full-access"})
READ_ONLY = SANDBOXED.model_copy(update={"sandbox_mode": "read-only"})
REQUIRED = os.environ.get("CODEX_LSP_REQUIRE_SANDBOX") == "1"


def _usable() -> bool:
    return sandbox_status(AgentSettings()).active


needs_bwrap = pytest.mark.skipif(
    not REQUIRED and not _usable(), reason="bubblewrap is not installed or cannot create namespaces here"
)


def workspace_write(**options: Any) -> AgentSettings:
    """:data:`SANDBOXED` with these ``[sandbox_workspace_write]`` options."""
    return SANDBOXED.model_copy(update={"sandbox_workspace_write": SandboxWorkspaceWrite(**options)})


async def run(root: Path, command: list[str], settings: AgentSettings = SANDBOXED) -> ToolResult:
    return await call_tool(ShellTool(), tool_context(DiskWorkspace(root), settings), command=command)


def on_host(path: str) -> bool:
    return os.path.exists(path)


def exit_code(result: ToolResult) -> int:
    return int(result.output.split("\n", 1)[0].removeprefix("Exit code: "))


def host_directory() -> Path:
    """A fresh host directory outside the workspace and outside /tmp."""
    base = next((p for p in ("/var/tmp", str(Path.home())) if os.access(p, os.W_OK)), None)
    if base is None:
        pytest.skip("no writable host directory outside /tmp")
    return Path(tempfile.mkdtemp(prefix="codex-lsp-sandbox-", dir=base))


@pytest.fixture
def host_dir() -> Iterator[Path]:
    path = host_directory()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def other_host_dir() -> Iterator[Path]:
    path = host_directory()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def listener() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections on the host."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


@needs_bwrap
def test_status_is_active() -> None:
    status = sandbox_status(AgentSettings())
    assert status.active
    assert status.tool == shutil.which("bwrap")
    assert "no network" in status.detail


@needs_bwrap
async def test_write_inside_the_workspace_succeeds(tmp_path: Path) -> None:
    result = await run(tmp_path, ["sh", "-c", "echo made > inside.txt"])
    assert exit_code(result) == 0
    assert (tmp_path / "inside.txt").read_text() == "made\n"


@needs_bwrap
async def test_write_outside_the_workspace_fails(tmp_path: Path, host_dir: Path) -> None:
    target = host_dir / "escaped.txt"
    result = await run(tmp_path, ["sh", "-c", f"echo x > {target}"])
    assert exit_code(result) != 0
    assert "Read-only file system" in result.output
    assert not target.exists()
    unsandboxed = await run(tmp_path, ["sh", "-c", f"echo x > {target}"], UNSANDBOXED)
    assert exit_code(unsandboxed) == 0
    assert target.exists()


@pytest.fixture
def in_tmp() -> Iterator[str]:
    """A fresh path directly under the host's /tmp, removed afterwards."""
    name = f"/tmp/{unique_sleep()}"
    yield name
    Path(name).unlink(missing_ok=True)


@needs_bwrap
async def test_tmp_is_the_hosts_and_writable_as_in_codex(tmp_path: Path, in_tmp: str) -> None:
    result = await run(tmp_path, ["sh", "-c", f"echo x > {in_tmp} && cat {in_tmp}"])
    assert exit_code(result) == 0
    assert on_host(in_tmp), "Codex binds the real /tmp writable in workspace-write"


@needs_bwrap
async def test_exclude_slash_tmp_makes_tmp_read_only(tmp_path: Path) -> None:
    """A workspace under /tmp stays writable; its siblings under /tmp do not."""
    root = tmp_path / "ws"
    root.mkdir()
    settings = workspace_write(exclude_slash_tmp=True, exclude_tmpdir_env_var=True)
    result = await run(root, ["sh", "-c", f"echo x > inside.txt; echo x > {tmp_path}/sibling.txt"], settings)
    assert "Read-only file system" in result.output
    assert (root / "inside.txt").exists()
    assert not (tmp_path / "sibling.txt").exists()


@needs_bwrap
async def test_tmpdir_is_writable_unless_excluded(
    tmp_path: Path, host_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(host_dir))
    script = ["sh", "-c", 'echo x > "$TMPDIR/scratch.txt"']
    assert exit_code(await run(tmp_path, script)) == 0
    assert (host_dir / "scratch.txt").exists()
    (host_dir / "scratch.txt").unlink()
    excluded = await run(tmp_path, script, workspace_write(exclude_tmpdir_env_var=True))
    assert "Read-only file system" in excluded.output
    assert not (host_dir / "scratch.txt").exists()


@needs_bwrap
async def test_writable_roots_are_writable_and_keep_their_git_read_only(
    tmp_path: Path, host_dir: Path, other_host_dir: Path
) -> None:
    (host_dir / ".git").mkdir()
    settings = workspace_write(writable_roots=(str(host_dir), str(host_dir / "does-not-exist")))
    script = f"echo x > {host_dir}/a.txt; echo x > {other_host_dir}/b.txt; touch {host_dir}/.git/hook"
    result = await run(tmp_path, ["sh", "-c", script], settings)
    assert (host_dir / "a.txt").exists(), result.output
    assert not (other_host_dir / "b.txt").exists(), "only the listed roots"
    assert not (host_dir / ".git" / "hook").exists()
    assert result.output.count("Read-only file system") == 2


@needs_bwrap
async def test_read_only_refuses_every_write(
    tmp_path: Path, host_dir: Path, in_tmp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(host_dir))
    (tmp_path / "kept.txt").write_text("kept\n")
    script = (
        f'cat kept.txt; echo x > made.txt; echo x > {in_tmp}; echo x > "$TMPDIR/t.txt"; echo x >> kept.txt'
    )
    result = await run(tmp_path, ["sh", "-c", script], READ_ONLY)
    assert result.output.count("Read-only file system") == 4, result.output
    assert "kept" in result.output, "reading works"
    assert not (tmp_path / "made.txt").exists()
    assert not on_host(in_tmp)
    assert not (host_dir / "t.txt").exists()
    assert (tmp_path / "kept.txt").read_text() == "kept\n"


@needs_bwrap
@pytest.mark.parametrize("name", [".git", ".codex", ".agents"])
async def test_codexs_protected_folders_stay_read_only(tmp_path: Path, name: str) -> None:
    (tmp_path / name).mkdir()
    (tmp_path / "sub" / name).mkdir(parents=True)
    result = await run(tmp_path, ["sh", "-c", f"touch {name}/pwned; touch sub/{name}/nested"])
    assert "Read-only file system" in result.output
    assert not (tmp_path / name / "pwned").exists()
    assert (tmp_path / "sub" / name / "nested").exists(), "only at the top of a writable root, as Codex"


@needs_bwrap
async def test_no_network_inside_but_reachable_outside(tmp_path: Path, listener: int) -> None:
    probe = (
        f"import socket; socket.create_connection(('127.0.0.1', {listener}), timeout=2); print('connected')"
    )
    inside = await run(tmp_path, [sys.executable, "-c", probe])
    assert exit_code(inside) != 0
    assert "connected" not in inside.output
    outside = await run(tmp_path, [sys.executable, "-c", probe], UNSANDBOXED)
    assert outside.output.endswith("connected\n")
    read_only = await run(tmp_path, [sys.executable, "-c", probe], READ_ONLY)
    assert "connected" not in read_only.output


@needs_bwrap
async def test_network_access_lets_a_sandboxed_command_connect(tmp_path: Path, listener: int) -> None:
    probe = (
        f"import socket; socket.create_connection(('127.0.0.1', {listener}), timeout=2); print('connected')"
    )
    inside = await run(tmp_path, [sys.executable, "-c", probe], workspace_write(network_access=True))
    assert inside.output.endswith("connected\n")
    assert (
        "Read-only file system"
        in (
            await run(
                tmp_path, ["sh", "-c", "echo x > /etc/codex-lsp-test"], workspace_write(network_access=True)
            )
        ).output
    ), "still sandboxed"


@needs_bwrap
async def test_api_key_absent_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("CODEX_API_KEY", "sk-nor-this")
    result = await run(tmp_path, ["sh", "-c", "env"])
    assert exit_code(result) == 0
    assert "sk-" not in result.output
    assert "CODEX_SANDBOX_NETWORK_DISABLED=1" in result.output
    networked = await run(tmp_path, ["sh", "-c", "env"], workspace_write(network_access=True))
    assert "CODEX_SANDBOX_NETWORK_DISABLED" not in networked.output


@needs_bwrap
async def test_events_say_sandboxed_and_workdir_is_kept(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    log = EventLog()
    ctx = tool_context(DiskWorkspace(tmp_path), SANDBOXED, log=log)
    result = await call_tool(ShellTool(), ctx, command=["sh", "-c", "pwd"], workdir="sub")
    assert result.output.endswith(f"Output:\n{(tmp_path / 'sub').resolve()}\n")
    assert log.of(CommandStarted)[0].sandboxed


@needs_bwrap
async def test_cancellation_kills_the_sandboxed_command(tmp_path: Path) -> None:
    marker = unique_sleep()
    ctx = tool_context(DiskWorkspace(tmp_path), SANDBOXED)
    task = asyncio.create_task(
        call_tool(ShellTool(), ctx, command=["sh", "-c", f"sleep {marker} & sleep {marker}"])
    )
    await asyncio.to_thread(wait_until_running, marker)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(wait_until_gone, marker) == []


@needs_bwrap
async def test_timeout_kills_the_sandboxed_command(tmp_path: Path) -> None:
    marker = unique_sleep()
    ctx = tool_context(DiskWorkspace(tmp_path), SANDBOXED)
    result = await call_tool(ShellTool(), ctx, command=["sh", "-c", f"sleep {marker}"], timeout_ms=300)
    assert exit_code(result) == 124
    assert await asyncio.to_thread(wait_until_gone, marker) == []


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PATH holding only our own programs, and a cleared probe cache."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    sandbox._probe.cache_clear()
    yield bin_dir
    sandbox._probe.cache_clear()


def test_danger_full_access_is_never_sandboxed(fake_path: Path) -> None:
    settings = AgentSettings(sandbox_mode="danger-full-access")
    status = sandbox_status(settings)
    assert (status.active, status.refused) == (False, False)
    assert sandboxed_argv(["true"], Path("/"), settings) == (["true"], False), "bwrap is not even needed"


@pytest.mark.parametrize("mode", ["read-only", "workspace-write"])
def test_missing_bwrap_refuses_commands_never_runs_them_unsandboxed(fake_path: Path, mode: Any) -> None:
    settings = AgentSettings(sandbox_mode=mode)
    status = sandbox_status(settings)
    assert (status.active, status.refused) == (False, True)
    assert f"sandbox_mode is {mode}, but bubblewrap (bwrap) is not installed" in status.detail
    assert 'sandbox_mode = "danger-full-access"' in status.detail, "says what to do"
    with pytest.raises(SandboxError, match="not installed"):
        sandboxed_argv(["true"], Path("/"), settings)


def test_broken_bwrap_is_detected(fake_path: Path) -> None:
    fake = fake_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    status = sandbox_status(AgentSettings())
    assert (status.active, status.tool, status.refused) == (False, str(fake), True)
    assert "No permissions to create new namespace" in status.detail
    assert "commands are refused" in status.detail
    with pytest.raises(SandboxError, match="namespace"):
        sandboxed_argv(["true"], Path("/"), AgentSettings())


async def test_an_unavailable_sandbox_refuses_to_run(tmp_path: Path, fake_path: Path) -> None:
    result = await run(tmp_path, ["touch", "ran"])
    assert not result.success
    assert result.output.startswith("Not run: sandbox_mode is workspace-write, but bubblewrap")
    assert not (tmp_path / "ran").exists()
