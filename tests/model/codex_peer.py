"""Running the real Codex CLI (the pinned ``@openai/codex`` peer) against the fake server, loopback only.

Shared by the fidelity tests: ``codex exec`` run non-interactively with a timeout, and ``codex app-server``
driven over stdio for sessions of several turns on one thread. The throwaway ``CODEX_HOME``, the scrubbed
environment and the app-server client live in :mod:`codex_lsp.testing.peers` (the benchmarks use them too).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import codex_lsp.testing
from codex_lsp.testing import CODEX_KEY, AppServer, PeerNotInstalled, clean_env, codex_binary
from codex_lsp.testing import make_codex_home as codex_home

__all__ = [
    "CODEX_KEY",
    "SCRIPTS",
    "AppServer",
    "clean_env",
    "codex_app_server_session",
    "codex_exec",
    "codex_home",
    "needs_codex",
]

SCRIPTS = Path(codex_lsp.testing.__file__).parent / "scripts"


def _peer_installed() -> bool:
    try:
        codex_binary()
    except PeerNotInstalled:
        return False
    return True


needs_codex = pytest.mark.skipif(
    not _peer_installed(), reason="the pinned Codex is not installed (make test installs it)"
)
"""Marks a test that runs the pinned Codex (``make test`` installs it, so there it always runs)."""
TIMEOUT = 90


async def codex_exec(
    home: Path,
    cwd: Path,
    prompt: str,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    *,
    sandbox: str | None = "workspace-write",
) -> tuple[int, list[dict[str, Any]], str]:
    """Run ``codex exec --json [args…] prompt`` once (``env`` added to the clean environment); return its
    exit code, its JSON event lines and its stderr. ``sandbox`` is given as ``--sandbox`` (which beats
    the configuration); ``None`` leaves the sandbox to the configuration."""
    flags = ("--sandbox", sandbox) if sandbox is not None else ()
    process = await asyncio.create_subprocess_exec(
        str(codex_binary()),
        "exec",
        "--skip-git-repo-check",
        "--json",
        *flags,
        "-c",
        'approval_policy="never"',
        *args,
        prompt,
        cwd=cwd,
        env={**clean_env(home), **(env or {})},
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


async def codex_app_server_session(home: Path, cwd: Path, prompts: list[str]) -> list[str]:
    """Run one thread through ``codex app-server``: ``initialize``, ``thread/start``, then one
    ``turn/start`` per prompt, each awaited until ``turn/completed``. Returns each turn's status."""
    server = await AppServer.start(home, cwd)
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
        await server.close()
