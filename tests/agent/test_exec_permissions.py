"""``codex-lsp exec`` (a real process against the fake Responses server) under the configuration's
permissions: ``sandbox_mode`` from config.toml or ``-c`` confines the model's commands for real (writes,
network, ``writable_roots``), ``shell_environment_policy`` builds exactly what a command sees, and a granular
``approval_policy`` runs turns, each switch deciding its questions."""

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

from codex_lsp.testing import FakeResponsesServer, Script
from tests.agent.harness import call, outputs, patch_call, say
from tests.agent.test_sandbox import needs_bwrap

pytestmark = needs_bwrap

KEY = "sk-exec-permissions"
ADD = "*** Begin Patch\n*** Add File: added.txt\n+added\n*** End Patch"


def _config(base_url: str, top: str) -> str:
    return (
        f'model = "gpt-5.5"\nmodel_provider = "fake"\n{top}\n'
        f'[model_providers.fake]\nbase_url = "{base_url}"\nenv_key = "FAKE_KEY"\n'
        'env_http_headers = { "x-tenant-key" = "FAKE_HEADER" }\n'
        "stream_max_retries = 1\nrequest_max_retries = 1\n"
    )


async def run_exec(
    tmp_path: Path, steps: list[dict[str, Any]], *args: str, top: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, list[str]]:
    """``codex-lsp exec --shell ARGS`` on ``tmp_path/ws`` with ``top`` atop config.toml; its exit code,
    stderr and the tool outputs the model read back."""
    root = tmp_path / "ws"
    root.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "codex-home"
    home.mkdir(parents=True, exist_ok=True)
    script = Script.model_validate({"turns": [{"requests": [{"output": [step]} for step in steps]}]})
    async with FakeResponsesServer(script) as fake:
        (home / "config.toml").write_text(_config(fake.base_url, top), encoding="utf-8")
        environment = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "CODEX_API_KEY")}
        environment.update(
            CODEX_HOME=str(home), FAKE_KEY=KEY, CODEX_LSP_STATE_DIR=str(tmp_path / "state"), **(env or {})
        )
        process = await asyncio.create_subprocess_exec(
            *(
                sys.executable,
                "-m",
                "codex_lsp",
                "exec",
                "--skip-git-repo-check",
                "--cd",
                str(root),
                "--shell",
                *args,
                "go",
            ),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        _, err = await asyncio.wait_for(process.communicate(), 60)
        requests = fake.generating_requests()
    return process.returncode or 0, err.decode(), outputs(requests[-1]) if requests else []


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A host directory outside the workspace and outside /tmp."""
    base = next((p for p in ("/var/tmp", str(Path.home())) if os.access(p, os.W_OK)), None)
    if base is None:
        pytest.skip("no writable host directory outside /tmp")
    path = Path(tempfile.mkdtemp(prefix="codex-lsp-exec-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("where", ["config.toml", "-c"])
async def test_read_only_refuses_the_commands_writes_and_every_patch(tmp_path: Path, where: str) -> None:
    top, args = (
        ('sandbox_mode = "read-only"', ())
        if where == "config.toml"
        else ("", ("-c", 'sandbox_mode="read-only"'))
    )
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "kept.txt").write_text("kept\n")
    code, err, (command_output, patch_output) = await run_exec(
        tmp_path,
        [
            call("shell", command=["sh", "-c", "cat kept.txt && echo x > made.txt"]),
            patch_call(ADD),
            say("done"),
        ],
        "--allow",
        "sh",
        *args,
        "-c",
        'approval_policy="never"',
        top=top,
    )
    assert code == 0, err
    assert "Read-only file system" in command_output
    assert "kept\n" in command_output, "reading works"
    assert not (tmp_path / "ws" / "made.txt").exists()
    assert patch_output.startswith("apply_patch refused: writing is blocked by the read-only sandbox")
    assert not (tmp_path / "ws" / "added.txt").exists()


async def test_workspace_write_writes_the_workspace_and_the_writable_roots_only(
    tmp_path: Path, host_dir: Path
) -> None:
    outside = tmp_path / "outside"  # under /tmp, which exclude_slash_tmp makes read-only
    outside.mkdir()
    script = f"echo x > made.txt; echo x > {host_dir}/root.txt; echo x > {outside}/no.txt"
    code, err, (command_output, patch_output) = await run_exec(
        tmp_path,
        [call("shell", command=["sh", "-c", script]), patch_call(ADD), say("done")],
        "--allow",
        "sh",
        top=(
            'sandbox_mode = "workspace-write"\nsandbox_workspace_write = { '
            f'writable_roots = ["{host_dir}"], exclude_slash_tmp = true, exclude_tmpdir_env_var = true }}'
        ),
    )
    assert code == 0, err
    assert (tmp_path / "ws" / "made.txt").exists()
    assert (host_dir / "root.txt").exists()
    assert not (outside / "no.txt").exists()
    assert command_output.count("Read-only file system") == 1
    assert (tmp_path / "ws" / "added.txt").read_text() == "added\n", patch_output


async def test_the_network_is_there_only_with_network_access(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
    steps = [call("shell", command=[sys.executable, "-c", probe]), say("done")]
    try:
        _, _, (without,) = await run_exec(tmp_path / "a", steps, "--allow", sys.executable)
        _, _, (with_access,) = await run_exec(
            tmp_path / "b",
            steps,
            "--allow",
            sys.executable,
            "-c",
            "sandbox_workspace_write.network_access=true",
        )
    finally:
        server.close()
    assert "connected" not in without
    assert with_access.endswith("connected\n")


@pytest.mark.parametrize("default_excludes", [False, True])
async def test_a_command_sees_the_environment_the_policy_builds(
    tmp_path: Path, default_excludes: bool
) -> None:
    top = (
        "[shell_environment_policy]\n"
        f'inherit = "all"\nignore_default_excludes = {str(not default_excludes).lower()}\n'
        'exclude = ["CLSP_DROP*"]\ninclude_only = ["CLSP_*", "FAKE_*", "PATH"]\n'
        'set = { CLSP_SET = "set", CLSP_SET_TOKEN = "kept" }\n'
    )
    env = {
        "CLSP_PLAIN": "plain",
        "CLSP_API_KEY": "key",
        "CLSP_DROP_ME": "excluded",
        "CLSP_SECRETIVE": "secret",
        "FAKE_HEADER": "a secret sent as a header",
    }
    code, err, (printed,) = await run_exec(
        tmp_path, [call("shell", command=["printenv"]), say("done")], "--allow", "printenv", top=top, env=env
    )
    assert code == 0, err
    seen = dict(line.split("=", 1) for line in printed.split("Output:\n", 1)[1].splitlines())
    seen.pop("PWD", None)  # bubblewrap's --chdir sets it
    assert seen.pop("PATH")
    expected = {
        "CLSP_PLAIN": "plain",
        "CLSP_SET": "set",
        "CLSP_SET_TOKEN": "kept",
        "CODEX_SANDBOX_NETWORK_DISABLED": "1",
    }
    if not default_excludes:
        expected.update(CLSP_API_KEY="key", CLSP_SECRETIVE="secret")
    assert seen == expected, "FAKE_KEY and FAKE_HEADER, the provider's key and header, are never passed on"


async def test_a_granular_policy_runs_the_turn_and_each_switch_decides(tmp_path: Path) -> None:
    switches = "sandbox_approval = false, rules = false, mcp_elicitations = true"
    top = f"approval_policy = {{ granular = {{ {switches} }} }}"
    code, err, (command_output, patch_output) = await run_exec(
        tmp_path, [call("shell", command=["touch", "made"]), patch_call(ADD), say("done")], top=top
    )
    assert code == 0, err
    assert "declined without asking" in command_output
    assert "granular with sandbox_approval = false" in command_output
    assert not (tmp_path / "ws" / "made").exists()
    assert (tmp_path / "ws" / "added.txt").exists(), patch_output
