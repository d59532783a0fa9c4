"""What the language-server benchmarks share: byte-compiling, VS Code's ``initialize``, a ready session.

Not a benchmark itself: ``bench/startup.py``, ``bench/code_action.py``, ``bench/turn_overhead.py`` and
``bench/memory.py`` import it as ``bench.lsp_session`` (the editable install ``make bench`` uses puts the
checkout on ``sys.path``).
"""

from __future__ import annotations

import compileall
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol.converters import get_converter
from pytest_lsp import client_capabilities

from codex_lsp.testing import AppServer, LspClient, Script, clean_env, make_codex_home

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("codex-lsp"))
"""The installed console script, as an editor runs it."""
SERVER = [CLI, "--stdio", "--log-level", "warning"]
DEAD_PROVIDER = "http://127.0.0.1:9/v1"
"""A provider no request can reach, for sessions that never run a turn."""


def compile_package() -> None:
    """Byte-compile the package, as an installed one would be.

    An editable checkout under ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile every module in
    every server process, which would be timed.
    """
    compileall.compile_dir(str(ROOT / "codex_lsp"), quiet=1)


def vscode_initialize_params(root: Path, *, streaming: bool = True) -> dict[str, Any]:
    """``initialize`` as VS Code sends it: its client capabilities, one workspace folder, and (as the
    codex-lsp extension adds) ``experimental.codex`` when ``streaming``."""
    capabilities = get_converter().unstructure(client_capabilities("visual_studio_code"))
    if streaming:
        capabilities["experimental"] = {"codex": {"streaming": True}}
    uri = root.as_uri()
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "Visual Studio Code", "version": "1.100.0"},
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": root.name}],
        "capabilities": capabilities,
    }


def server_env(tmp: Path, base_url: str) -> tuple[dict[str, str], Path]:
    """The environment and workspace folder for a server under ``tmp``: a throwaway ``CODEX_HOME``
    whose provider is ``base_url`` (no real key, outside requests to a dead proxy), its own state
    directory."""
    home = make_codex_home(tmp, base_url, websockets=True)
    env = {**clean_env(home), "CODEX_LSP_STATE_DIR": str(tmp / "state")}
    workspace = tmp / "ws"
    workspace.mkdir()
    return env, workspace


async def execute(client: LspClient, command: str, argument: dict[str, Any] | None = None) -> Any:
    """Run a ``codex.*`` command (``workspace/executeCommand`` with one object argument)."""
    params = {"command": command, "arguments": [argument or {}]}
    return await client.request("workspace/executeCommand", params)


async def start_server(tmp: Path, base_url: str = DEAD_PROVIDER) -> tuple[LspClient, Path]:
    """Start codex-lsp in a fresh workspace under ``tmp`` (see :func:`server_env`); not yet initialized."""
    env, workspace = server_env(tmp, base_url)
    return await LspClient.start(SERVER, env=env, cwd=workspace), workspace


async def initialize(client: LspClient, workspace: Path) -> None:
    """``initialize`` as VS Code (answered once the server has started)."""
    await client.request("initialize", vscode_initialize_params(workspace))


async def load_agent(client: LspClient) -> None:
    """``initialized``, then wait until the agent side has loaded and taken the configuration."""
    await client.notify("initialized", {})
    status = await execute(client, "codex.status")
    if "configError" in status:
        raise RuntimeError(f"the server did not take the configuration: {status['configError']}")


@asynccontextmanager
async def ready_server(tmp: Path, base_url: str = DEAD_PROVIDER) -> AsyncIterator[tuple[LspClient, Path]]:
    """codex-lsp, initialized as VS Code, with its agent side loaded; yields the client and the
    workspace folder, and shuts the server down after."""
    client, workspace = await start_server(tmp, base_url)
    try:
        await initialize(client, workspace)
        await load_agent(client)
        yield client, workspace
    finally:
        await client.close()


# -- one-message turns, through codex-lsp and through Codex's app-server ------------------------------

ANSWER = "Done."
"""What the fake model answers every request with (one message, no tool call)."""


def one_message_script(turns: int) -> Script:
    """A fake-model script answering ``turns`` requests with :data:`ANSWER` and nothing else."""
    step = {"output": [{"type": "message", "text": ANSWER}]}
    return Script.model_validate({"turns": [{"requests": [step]} for _ in range(turns)]})


async def ask(client: LspClient, prompt: str, thread_id: str | None) -> str:
    """One ``codex.ask`` turn on ``thread_id`` (a new thread when ``None``); returns the thread id."""
    argument: dict[str, Any] = {"prompt": prompt}
    if thread_id is not None:
        argument["threadId"] = thread_id
    result = await execute(client, "codex.ask", argument)
    if result["status"] != "completed" or result["message"] != ANSWER:
        raise RuntimeError(f"codex-lsp: the turn did not complete as scripted: {result}")
    return str(result["threadId"])


async def codex_thread(app: AppServer, workspace: Path) -> str:
    """``initialize``, ``initialized`` and ``thread/start`` on Codex's app-server; returns the thread id."""
    await app.request("initialize", {"clientInfo": {"name": "codex-lsp-bench", "version": "0"}})
    await app.notify("initialized")
    started = await app.request(
        "thread/start", {"cwd": str(workspace), "approvalPolicy": "never", "sandbox": "workspace-write"}
    )
    return str(started["thread"]["id"])


async def codex_turn(app: AppServer, thread_id: str, prompt: str) -> int:
    """One ``turn/start`` on Codex's app-server, until its ``turn/completed``; returns how many
    messages (the answer and notifications) it sent meanwhile."""
    app.notifications.clear()  # a long session would otherwise keep every delta
    await app.request("turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": prompt}]})
    completed = await app.until("turn/completed")
    if completed["turn"]["status"] != "completed":
        raise RuntimeError(f"codex app-server: the turn did not complete: {completed['turn']}")
    return len(app.notifications) + 1
