"""``codex-lsp exec`` run as a process the way tests/model/codex_peer.py runs ``codex exec``: the same
throwaway ``CODEX_HOME`` and scrubbed environment, its stdout read as JSON Lines."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_lsp.testing import clean_env

__all__ = ["Run", "ours_exec", "state_dir"]

TIMEOUT = 90


@dataclass
class Run:
    """What one exec printed and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        """The stdout lines as JSON (every line must be one object)."""
        return [json.loads(line) for line in self.stdout.splitlines()]


def state_dir(home: Path) -> Path:
    """Where the exec runs of ``home`` keep their threads."""
    return home.parent / "state"


async def ours_exec(
    home: Path,
    cwd: Path,
    prompt: str,
    *args: str,
    env: dict[str, str] | None = None,
    json_events: bool = True,
) -> Run:
    """Run ``codex-lsp exec [--json] --cd CWD ARGS… PROMPT`` against ``home`` (``env`` added to the clean
    environment) and wait for it to end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "exec",
        *(["--json"] if json_events else []),
        "--cd",
        str(cwd),
        *args,
        prompt,
        cwd=cwd,
        env={**clean_env(home), "CODEX_LSP_STATE_DIR": str(state_dir(home)), **(env or {})},
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
    return Run(process.returncode or 0, out.decode(), err.decode(errors="replace"))
