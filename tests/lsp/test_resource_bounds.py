"""Resources a hostile or careless editor can exhaust (issue 15, items 9–11), asserted as bounds on work
and memory of a real ``codex-lsp --stdio`` process — never on wall time.

Work is the server's CPU time (all its threads, from ``/proc``): unlike wall time it does not count
waiting for a CPU, so it holds on a busy machine. Memory is its resident set size. Each bound is
generous (several times what the server needs) and far below what the bug it guards against costs.
``bench/resources.py`` prints the same figures.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from codex_lsp.testing import (
    FakeResponsesServer,
    LspClient,
    Script,
    clean_env,
    cpu_seconds,
    make_codex_home,
)

WAIT = 60.0
"""Seconds any one answer may take before the test fails (a sanity bound, never a measure)."""


def source(lines: int) -> str:
    """Python-like text, every line different."""
    return "".join(f"    value_{n} = combine(item_{n % 97}, {n}, 'x{n % 13}')\n" for n in range(lines))


def diagnostics(lines: int, count: int) -> list[dict[str, Any]]:
    """``count`` diagnostics spread over the file, as a linter reports them."""
    step = max(1, lines // count)
    return [
        {
            "range": {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 12}},
            "severity": 2,
            "code": "F841",
            "source": "ruff",
            "message": f"Local variable `value_{line}` is assigned to but never used",
        }
        for line in range(step // 2, step * count, step)
    ][:count]


async def execute(client: LspClient, command: str, argument: dict[str, Any] | None = None) -> Any:
    params = {"command": command, "arguments": [argument or {}]}
    async with asyncio.timeout(WAIT):
        return await client.request("workspace/executeCommand", params)


@asynccontextmanager
async def server(tmp: Path, fake: FakeResponsesServer) -> AsyncIterator[tuple[LspClient, Path]]:
    """``codex-lsp --stdio`` initialized, its agent side loaded, talking to ``fake``."""
    home = make_codex_home(tmp, fake.base_url, websockets=True)
    env = {**clean_env(home), "CODEX_LSP_STATE_DIR": str(tmp / "state")}
    workspace = tmp / "ws"
    workspace.mkdir()
    command = [sys.executable, "-m", "codex_lsp", "--stdio", "--log-level", "warning"]
    client = await LspClient.start(command, env=env, cwd=workspace)
    try:
        uri = workspace.as_uri()
        init = {"processId": None, "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "ws"}]}
        async with asyncio.timeout(WAIT):
            await client.request("initialize", {**init, "capabilities": {}})
            await client.notify("initialized", {})
        await execute(client, "codex.status")
        yield client, workspace
    finally:
        await client.close()


async def open_with_diagnostics(client: LspClient, uri: str, text: str, found: list[dict[str, Any]]) -> None:
    """Open a document and report its diagnostics as the editor plugin does; return once the server has
    taken both (a request answered after them)."""
    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    await client.notify("textDocument/didOpen", {"textDocument": item})
    await client.notify("codex/didChangeDiagnostics", {"uri": uri, "version": 1, "diagnostics": found})
    await execute(client, "codex.status")


async def fix_all_cpu(client: LspClient, uri: str) -> float:
    """The server's CPU seconds for one "Fix all N problems in this file" turn (zero-latency model)."""
    before = cpu_seconds(client.pid)
    result = await execute(client, "codex.fixDiagnostics", {"uri": uri, "version": 1, "all": True})
    assert result["status"] == "completed", result
    return cpu_seconds(client.pid) - before


FIX_LINES = 100_000
MARGINAL_CPU_PER_DIAGNOSTIC = 0.002
"""Seconds of server CPU one more diagnostic may add to a "fix all" (it takes about 0.05 ms; rebuilding
the file's line index for each one took about 80 ms on a 100,000-line file)."""


async def test_fix_all_is_linear_in_the_diagnostics_not_diagnostics_times_file_size(tmp_path: Path) -> None:
    """Item 11: "Fix all" of 300 diagnostics on a 100,000-line file costs about what 10 cost; each
    extra diagnostic adds work of its own size, not a pass over the file."""
    few, many = 10, 300
    text = source(FIX_LINES)
    turn = {"requests": [{"output": [{"type": "message", "text": "ok"}]}]}
    script = Script.model_validate({"turns": [turn, turn, turn]})
    async with FakeResponsesServer(script) as fake, server(tmp_path, fake) as (client, workspace):
        uris = [(workspace / f"big{n}.py").as_uri() for n in range(3)]
        for uri, count in zip(uris, (few, few, many), strict=True):
            await open_with_diagnostics(client, uri, text, diagnostics(FIX_LINES, count))
        await fix_all_cpu(client, uris[0])  # warm: the first turn loads what turns need
        base = await fix_all_cpu(client, uris[1])
        loaded = await fix_all_cpu(client, uris[2])
    per_diagnostic = (loaded - base) / (many - few)
    print(f"fix all on {FIX_LINES:,} lines: {few} → {base:.3f} s CPU, {many} → {loaded:.3f} s CPU")
    assert per_diagnostic < MARGINAL_CPU_PER_DIAGNOSTIC, (
        f"each diagnostic added {per_diagnostic * 1000:.1f} ms of server CPU"
    )
