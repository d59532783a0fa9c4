"""Teardown leaves nothing running: an editor ends with everything it started, including processes that
left its process tree or its process group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.agent.procs import unique_sleep, wait_until_gone, wait_until_running
from tests.editors.conftest import NvimFactory
from tests.editors.deps import VSCodeDeps
from tests.editors.processes import group_members
from tests.editors.vscode_driver import CodeServer, Workbench


def test_closing_neovim_ends_what_its_jobs_left_behind(nvim_factory: NvimFactory) -> None:
    marker = unique_sleep()
    # Like a language server whose helper outlives its parent: the job runs in a session of its own and
    # the subshell exits at once, so `sleep` is in neither Neovim's process tree nor its process group.
    # On a normal quit Neovim ends its jobs' groups itself; this holds that nothing is left either way.
    nvim = nvim_factory(init=f"vim.fn.jobstart({{ 'sh', '-c', '(sleep {marker} &); exec sleep 600' }})")
    wait_until_running(marker)
    nvim.close()
    assert wait_until_gone(marker) == []


def test_a_hung_neovim_is_killed_with_the_language_servers_it_started(nvim_factory: NvimFactory) -> None:
    marker = unique_sleep()
    # Neovim starts jobs and language servers in sessions of their own and kills them when it exits;
    # one that cannot exit (busy in Lua, so deaf to the quit) must not leave them behind.
    nvim = nvim_factory(init=f"vim.fn.jobstart({{ 'sleep', '{marker}' }})")
    wait_until_running(marker)
    nvim.api.exec_lua("while true do end", async_=True)
    nvim.close(grace=0.5)
    assert nvim.process.returncode == -9
    assert wait_until_gone(marker) == []


def test_closing_code_server_ends_its_whole_process_group(vscode: VSCodeDeps, tmp_path: Path) -> None:
    server = CodeServer.start(vscode, tmp_path / "code-server")
    try:
        assert len(group_members(server.process.pid)) > 1, "code-server runs helper processes of its own"
    finally:
        server.close()
    assert group_members(server.process.pid) == []


def test_closing_code_server_ends_the_processes_its_extensions_started(
    vscode: VSCodeDeps, probe_vsix: Path, browser: Any, tmp_path: Path
) -> None:
    marker = unique_sleep()
    server = CodeServer.start(
        vscode, tmp_path / "code-server", extensions=[probe_vsix], env={"CODEX_TEST_PROBE_SPAWN": marker}
    )
    try:
        (tmp_path / "folder").mkdir()
        Workbench.open(browser, server, tmp_path / "folder", tmp_path / "artifacts")
        wait_until_running(marker, timeout=20)  # the extension host starts once a window connects
    finally:
        server.close()
    assert wait_until_gone(marker) == []
