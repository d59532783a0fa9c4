"""The language server runs the model's commands as the folder's configuration says, as exec and ACP do:
``sandbox_mode = "read-only"`` refuses their writes for real, ``network_access`` and ``writable_roots``
open what they name, and ``shell_environment_policy`` builds exactly what a command sees (through
``printenv``). Granular approval policies: tests/lsp/test_approvals.py."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_lsp.testing import FakeResponsesServer
from tests.agent.test_sandbox import needs_bwrap
from tests.lsp.harness import call, editor_session, load, outputs, say, write_codex_home

pytestmark = [needs_bwrap, pytest.mark.asyncio(loop_scope="module")]


def configure(tmp_path: Path, fake: FakeResponsesServer, top: str) -> None:
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    config = home / "config.toml"
    config.write_text(top + "\n" + config.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


async def test_read_only_and_the_environment_policy(tmp_path: Path, fake: FakeResponsesServer) -> None:
    configure(
        tmp_path,
        fake,
        'sandbox_mode = "read-only"\n'
        'shell_environment_policy = { inherit = "none", set = { CLSP_ONLY = "this" } }',
    )
    options = {"shell": {"enabled": True, "allow": ["printenv", "touch"]}}
    async with editor_session(tmp_path, fake, "vscode", init_options=options, env={"CLSP_HOST": "x"}) as ed:
        assert (await ed.execute("codex.status"))["sandboxMode"] == "read-only"
        load(
            fake,
            [
                call("shell", {"command": ["printenv"]}),
                call("shell", {"command": ["touch", "made"]}),
                say("done"),
            ],
        )
        result = await ed.execute("codex.ask", {"prompt": "go"})
        assert result["status"] == "completed", result
        printed, touched = outputs(fake)[-2:]
        assert not (ed.root / "made").exists()
    seen = dict(line.split("=", 1) for line in printed.split("Output:\n", 1)[1].splitlines())
    seen.pop("PWD", None)  # bubblewrap's --chdir sets it
    assert seen == {"CLSP_ONLY": "this", "CODEX_SANDBOX_NETWORK_DISABLED": "1"}
    assert "Read-only file system" in touched


async def test_network_access_and_writable_roots(
    tmp_path: Path, fake: FakeResponsesServer, listener: int
) -> None:
    extra = tmp_path / "extra"  # under /tmp, read-only without the root: /tmp is excluded
    extra.mkdir()
    configure(
        tmp_path,
        fake,
        "sandbox_workspace_write = { network_access = true, exclude_slash_tmp = true, "
        f'exclude_tmpdir_env_var = true, writable_roots = ["{extra}"] }}',
    )
    probe = (
        f"open('{extra}/made', 'w').close(); "
        f"import socket; socket.create_connection(('127.0.0.1', {listener}), timeout=2); print('connected')"
    )
    options = {"shell": {"enabled": True, "allow": [sys.executable]}}
    async with editor_session(tmp_path, fake, "neovim", init_options=options) as ed:
        load(fake, [call("shell", {"command": [sys.executable, "-c", probe]}), say("done")])
        assert (await ed.execute("codex.ask", {"prompt": "go"}))["status"] == "completed"
    assert outputs(fake)[-1].endswith("connected\n")
    assert (extra / "made").exists()
