"""The bubblewrap sandbox really confines commands: workspace writable, the rest read-only, no
network, no API key. Skipped where bwrap cannot run, unless CODEX_LSP_REQUIRE_SANDBOX=1 (CI sets
it, so a missing sandbox fails there instead of passing silently)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_lsp.agent import sandbox
from codex_lsp.agent.events import CommandStarted
from codex_lsp.agent.sandbox import SandboxError, sandbox_status, sandboxed_argv
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.base import ToolResult
from codex_lsp.agent.tools.shell import ShellTool
from tests.agent.fakes import DiskWorkspace, EventLog, call_tool, tool_context
from tests.agent.procs import unique_sleep, wait_until_gone, wait_until_running

SANDBOXED = AgentSettings(shell_enabled=True, sandbox="bwrap", shell_allow=("sh", "touch", sys.executable))
UNSANDBOXED = SANDBOXED.model_copy(update={"sandbox": "off"})
REQUIRED = os.environ.get("CODEX_LSP_REQUIRE_SANDBOX") == "1"


def _usable() -> bool:
    return sandbox_status(AgentSettings(sandbox="bwrap")).active


needs_bwrap = pytest.mark.skipif(
    not REQUIRED and not _usable(), reason="bubblewrap is not installed or cannot create namespaces here"
)


async def run(root: Path, command: list[str], settings: AgentSettings = SANDBOXED) -> ToolResult:
    return await call_tool(ShellTool(), tool_context(DiskWorkspace(root), settings), command=command)


def on_host(path: str) -> bool:
    return os.path.exists(path)


def exit_code(result: ToolResult) -> int:
    return int(result.output.split("\n", 1)[0].removeprefix("Exit code: "))


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A host directory outside the workspace and outside /tmp (which the sandbox replaces)."""
    base = next((p for p in ("/var/tmp", str(Path.home())) if os.access(p, os.W_OK)), None)
    if base is None:
        pytest.skip("no writable host directory outside /tmp")
    path = Path(tempfile.mkdtemp(prefix="codex-lsp-sandbox-", dir=base))
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


@needs_bwrap
async def test_sibling_of_a_workspace_under_tmp_stays_off_the_host(tmp_path: Path) -> None:
    """Above a workspace under /tmp the sandbox shows its private tmpfs, not the host's /tmp."""
    root = tmp_path / "ws"
    root.mkdir()
    (tmp_path / "host.txt").write_text("host\n")
    result = await run(root, ["sh", "-c", f"ls {tmp_path}; echo x > {tmp_path}/sibling.txt"])
    assert "host.txt" not in result.output
    assert not (tmp_path / "sibling.txt").exists()


@needs_bwrap
async def test_tmp_is_private_and_writable(tmp_path: Path) -> None:
    name = f"/tmp/{unique_sleep()}"
    result = await run(tmp_path, ["sh", "-c", f"echo x > {name} && cat {name}"])
    assert exit_code(result) == 0
    assert not on_host(name)


@needs_bwrap
async def test_git_directory_stays_read_only(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    result = await run(tmp_path, ["touch", ".git/hooks-pwned"])
    assert exit_code(result) != 0
    assert not (tmp_path / ".git" / "hooks-pwned").exists()


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


@needs_bwrap
async def test_api_key_absent_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("CODEX_API_KEY", "sk-nor-this")
    result = await run(tmp_path, ["sh", "-c", "env"])
    assert exit_code(result) == 0
    assert "sk-" not in result.output
    assert "CODEX_SANDBOX_NETWORK_DISABLED=1" in result.output


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


def test_off_is_never_sandboxed() -> None:
    status = sandbox_status(AgentSettings(sandbox="off"))
    assert not status.active
    assert sandboxed_argv(["true"], Path("/"), AgentSettings(sandbox="off")) == (["true"], False)


def test_missing_bwrap(fake_path: Path) -> None:
    assert not sandbox_status(AgentSettings()).active
    assert "not installed" in sandbox_status(AgentSettings()).detail
    assert sandboxed_argv(["true"], Path("/"), AgentSettings()) == (["true"], False)
    with pytest.raises(SandboxError, match="not installed"):
        sandboxed_argv(["true"], Path("/"), AgentSettings(sandbox="bwrap"))


def test_broken_bwrap_is_detected(fake_path: Path) -> None:
    fake = fake_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    status = sandbox_status(AgentSettings())
    assert (status.active, status.tool) == (False, str(fake))
    assert "No permissions to create new namespace" in status.detail
    assert "run unsandboxed" in status.detail
    with pytest.raises(SandboxError, match="namespace"):
        sandboxed_argv(["true"], Path("/"), AgentSettings(sandbox="bwrap"))


async def test_required_sandbox_refuses_to_run(tmp_path: Path, fake_path: Path) -> None:
    result = await run(tmp_path, ["touch", "ran"])
    assert not result.success
    assert "sandbox is required" in result.output
    assert not (tmp_path / "ran").exists()
