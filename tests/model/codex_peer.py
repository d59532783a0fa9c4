"""Running the real Codex CLI (the pinned ``@openai/codex`` peer) against the fake server, loopback only.

Shared by the fidelity tests: a throwaway ``CODEX_HOME`` whose provider is the fake (its own
``[model_providers]`` entry), an environment scrubbed of real keys and settings with every outside request
sent to a dead proxy, ``codex exec`` run non-interactively with a timeout, and ``codex app-server`` driven
over stdio for sessions of several turns on one thread.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import codex_lsp.testing
from codex_lsp.testing import codex_binary

__all__ = [
    "CODEX_KEY",
    "SCRIPTS",
    "AppServer",
    "clean_env",
    "codex_app_server_session",
    "codex_exec",
    "codex_home",
]

SCRIPTS = Path(codex_lsp.testing.__file__).parent / "scripts"
TIMEOUT = 90
CODEX_KEY = "fake-key"
"""The key Codex reads from ``FAKE_KEY`` (the provider's ``env_key``)."""

CONFIG = """\
model = "gpt-5.5"
model_provider = "fake"
# Loopback only: no update check; below, no plugin-marketplace sync (git ls-remote github.com), no apps,
# no analytics.
check_for_update_on_startup = false

[model_providers.fake]
name = "loopback"
base_url = "{base_url}"
env_key = "FAKE_KEY"
wire_api = "responses"
supports_websockets = {websockets}

[features]
plugins = false
remote_plugin = false
apps = false

[analytics]
enabled = false
"""


def codex_home(root: Path, base_url: str, websockets: bool) -> Path:
    """A throwaway CODEX_HOME under ``root`` whose provider is the fake server."""
    home = root / "codex-home"
    home.mkdir()
    config = CONFIG.format(base_url=base_url, websockets="true" if websockets else "false")
    (home / "config.toml").write_text(config, encoding="utf-8")
    return home


def clean_env(home: Path) -> dict[str, str]:
    """The environment without any real key or Codex setting, pointing Codex at the throwaway home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "CODEX", "AZURE"))}
    scratch = home.parent / "scratch"
    scratch.mkdir(exist_ok=True)
    # Codex refuses to install its helper binaries (the sandbox launcher apply_patch runs through) when
    # CODEX_HOME lies under the temporary directory, so TMPDIR points at a sibling instead.
    env.update(FAKE_KEY=CODEX_KEY, CODEX_HOME=str(home), HOME=str(home), TMPDIR=str(scratch), NO_COLOR="1")
    # Anything that still tries to leave the machine goes to a dead loopback proxy instead.
    dead_proxy = "http://127.0.0.1:9"
    env.update(
        HTTPS_PROXY=dead_proxy, HTTP_PROXY=dead_proxy, ALL_PROXY=dead_proxy, NO_PROXY="127.0.0.1,localhost"
    )
    return env


async def codex_exec(home: Path, cwd: Path, prompt: str) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``codex exec --json`` once; return its exit code, its JSON event lines and its stderr."""
    process = await asyncio.create_subprocess_exec(
        str(codex_binary()),
        "exec",
        "--skip-git-repo-check",
        "--json",
        "--sandbox",
        "workspace-write",
        "-c",
        'approval_policy="never"',
        prompt,
        cwd=cwd,
        env=clean_env(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    events = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return process.returncode or 0, events, err.decode(errors="replace")


class AppServer:
    """``codex app-server`` over stdio: one JSON-RPC message per line (Codex omits ``"jsonrpc"``).

    The shapes come from the binary itself (``codex app-server generate-json-schema``): ``initialize``
    takes ``clientInfo`` {name, version}; ``thread/start`` returns ``thread.id``; ``turn/start`` takes
    ``threadId`` and ``input`` items such as {type: "text", text}; each turn ends with a ``turn/completed``
    notification whose ``turn.status`` is ``completed``, ``interrupted`` or ``failed``.
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._next_id = 0
        self.notifications: list[dict[str, Any]] = []

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        await self.process.stdin.drain()

    async def _receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), TIMEOUT)
        if not line:
            raise RuntimeError("codex app-server closed its output")
        message: dict[str, Any] = json.loads(line)
        if "method" in message and "id" in message:
            raise RuntimeError(f"codex app-server asked something unexpected: {message['method']}")
        return message

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send a request and return its ``result``; notifications met on the way are kept."""
        self._next_id += 1
        await self._send({"id": self._next_id, "method": method, "params": params})
        while True:
            message = await self._receive()
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self.notifications.append(message)

    async def notify(self, method: str) -> None:
        """Send a notification (no answer comes back)."""
        await self._send({"method": method})

    async def until(self, method: str) -> dict[str, Any]:
        """Wait for the next notification named ``method`` and return its params."""
        while True:
            message = await self._receive()
            self.notifications.append(message)
            if message.get("method") == method:
                params: dict[str, Any] = message["params"]
                return params


async def codex_app_server_session(home: Path, cwd: Path, prompts: list[str]) -> list[str]:
    """Run one thread through ``codex app-server``: ``initialize``, ``thread/start``, then one
    ``turn/start`` per prompt, each awaited until ``turn/completed``. Returns each turn's status."""
    process = await asyncio.create_subprocess_exec(
        str(codex_binary()),
        "app-server",
        cwd=cwd,
        env=clean_env(home),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    server = AppServer(process)
    try:
        await server.request("initialize", {"clientInfo": {"name": "codex-lsp-tests", "version": "0"}})
        await server.notify("initialized")
        started = await server.request(
            "thread/start", {"cwd": str(cwd), "approvalPolicy": "never", "sandbox": "workspace-write"}
        )
        thread_id = started["thread"]["id"]
        statuses = []
        for prompt in prompts:
            await server.request(
                "turn/start", {"threadId": thread_id, "input": [{"type": "text", "text": prompt}]}
            )
            completed = await server.until("turn/completed")
            statuses.append(str(completed["turn"]["status"]))
        return statuses
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
