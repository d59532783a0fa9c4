"""Locate and run the reference peers that ``make test`` installs under ``tests/peers``.

The Codex CLI ships as a native binary inside the npm package ``@openai/codex`` (one optional
dependency per platform). Tests and benchmarks run it as the reference implementation, so they
need its path rather than the ``bin/codex.js`` Node launcher. Zed's Codex bridge for ACP editors,
``@zed-industries/codex-acp``, ships the same way (``bench/acp.py`` compares ``codex-lsp acp`` with it).

Running a peer against the fake Responses server, loopback only, takes a throwaway ``CODEX_HOME``
whose provider is the fake (:func:`make_codex_home`), an environment scrubbed of real keys and
settings with every outside request sent to a dead proxy (:func:`clean_env`), and for sessions of
several turns ``codex app-server`` driven over stdio (:class:`AppServer`). The tests and the
benchmarks share these.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "APP_SERVER_TIMEOUT",
    "CODEX_KEY",
    "AppServer",
    "PeerNotInstalled",
    "clean_env",
    "codex_acp_binary",
    "codex_binary",
    "codex_models",
    "make_codex_home",
    "peers_dir",
]

_REPO_ROOT = Path(__file__).resolve().parents[2]


class PeerNotInstalled(RuntimeError):
    """The reference peer is missing; ``make test`` installs it."""


def peers_dir() -> Path:
    """Return the folder holding the peers' ``node_modules`` (``$CODEX_LSP_PEERS`` overrides it)."""
    override = os.environ.get("CODEX_LSP_PEERS")
    return Path(override) if override else _REPO_ROOT / "tests" / "peers"


def codex_binary() -> Path:
    """Return the native Codex CLI binary of the pinned ``@openai/codex`` package."""
    modules = peers_dir() / "node_modules" / "@openai"
    for candidate in sorted(modules.glob("codex-*/vendor/*/bin/codex")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise PeerNotInstalled(
        f"no native Codex binary under {modules}; run `make test` (it runs `npm ci` in tests/peers)"
    )


def codex_acp_binary() -> Path:
    """Return the native ``codex-acp`` binary of the pinned ``@zed-industries/codex-acp`` package."""
    modules = peers_dir() / "node_modules" / "@zed-industries"
    for candidate in sorted(modules.glob("codex-acp-*/bin/codex-acp")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise PeerNotInstalled(
        f"no native codex-acp binary under {modules}; run `make test` (it runs `npm ci` in tests/peers)"
    )


# -- running a peer against the fake server -------------------------------------------------------------

APP_SERVER_TIMEOUT = 90
"""Seconds to wait for any one message from ``codex app-server``."""
CODEX_KEY = "fake-key"
"""The key Codex reads from ``FAKE_KEY`` (the provider's ``env_key``)."""

_CONFIG = """\
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


def make_codex_home(
    root: Path, base_url: str, websockets: bool, *, openai_auth: bool = False, top: str = ""
) -> Path:
    """A throwaway CODEX_HOME (``root/codex-home``) whose provider is the fake server at ``base_url``: its
    key in ``FAKE_KEY``, or with ``openai_auth`` the user's OpenAI sign-in (``requires_openai_auth``, the
    credentials in ``auth.json``). ``top`` adds top-level config.toml lines."""
    home = root / "codex-home"
    home.mkdir()
    config = _CONFIG.format(base_url=base_url, websockets="true" if websockets else "false")
    if openai_auth:
        config = config.replace('env_key = "FAKE_KEY"', "requires_openai_auth = true")
    if top:
        config = top.rstrip("\n") + "\n" + config
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


def codex_models() -> tuple[str, dict[str, Any]]:
    """The pinned Codex's version (``codex-cli 0.169.0``) and its bundled model catalog (``codex debug models
    --bundled``), read with a throwaway home and no network."""
    with tempfile.TemporaryDirectory(prefix="codex-models-") as scratch:
        home = Path(scratch) / "codex-home"
        home.mkdir()
        env = clean_env(home)
        version, catalog = (
            subprocess.run(
                [str(codex_binary()), *args], env=env, capture_output=True, text=True, check=True, timeout=60
            ).stdout
            for args in (["--version"], ["debug", "models", "--bundled"])
        )
    parsed: dict[str, Any] = json.loads(catalog)
    return version.strip(), parsed


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

    @classmethod
    async def start(cls, home: Path, cwd: Path, env: dict[str, str] | None = None) -> AppServer:
        """Start ``codex app-server`` in ``cwd`` with the throwaway ``home`` (stderr discarded); ``env`` is
        added to the clean environment."""
        process = await asyncio.create_subprocess_exec(
            str(codex_binary()),
            "app-server",
            cwd=cwd,
            env={**clean_env(home), **(env or {})},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    async def close(self) -> None:
        """Close its stdin (it then exits) and wait for it; kill it if it lingers."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        await self.process.stdin.drain()

    async def _receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), APP_SERVER_TIMEOUT)
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
