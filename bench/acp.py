"""Benchmark: ``codex-lsp acp`` against Zed's Codex bridge (``codex-acp``, pinned in tests/peers).

Both agents run the same scripted two-prompt session (``testing/scripts/two_turn_session.json``: each
prompt makes the model add a file with ``apply_patch``, then answer) against the same fake Responses
server on 127.0.0.1, driven by the ACP SDK's client side as an editor would: ``initialize`` with
``fs/*`` offered, ``session/new``, ``session/set_mode auto`` (the peer starts read-only), two
``session/prompt``s. Each agent gets a fresh workspace and an identical throwaway ``CODEX_HOME`` whose
provider is the fake (no network). Measured per run, printed as medians, never asserted:

- initialize: from starting the process to the ``initialize`` answer (process start included);
- per prompt: from sending ``session/prompt`` to its answer (all updates received);
- model requests per prompt: generating requests the fake received (prewarms counted apart);
- what the editor was sent: updates by kind, and the ``fs/*`` requests (who wrote the files).

Target: ours ≤ 0.5× the peer's per-prompt time, with the same request count.
Usage: ``.venv/bin/python bench/acp.py [--runs N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

# Run as ``python bench/acp.py``, this folder comes first on sys.path, and this file's name would shadow
# the ACP SDK (``acp``): take the folder off before importing it.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

from acp import spawn_agent_process, text_block  # noqa: E402
from acp.interfaces import Client  # noqa: E402
from acp.schema import (  # noqa: E402
    AllowedOutcome,
    ClientCapabilities,
    FileSystemCapabilities,
    Implementation,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    ToolCallUpdate,
    WriteTextFileResponse,
)

import codex_lsp.testing  # noqa: E402
from codex_lsp.testing import (  # noqa: E402
    FakeResponsesServer,
    PeerNotInstalled,
    Script,
    clean_env,
    codex_acp_binary,
    make_codex_home,
)

SCRIPT = Path(codex_lsp.testing.__file__).parent / "scripts" / "two_turn_session.json"
PROMPTS = ("Create hello.txt", "Create bye.txt")
TIMEOUT = 60


@dataclass
class Editor:
    """An editor that records what it is sent and saves what it is asked to write."""

    updates: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    writes: int = 0

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates[str(update.session_update)] += 1

    async def read_text_file(self, session_id: str, path: str, **kwargs: Any) -> ReadTextFileResponse:
        self.reads += 1
        return ReadTextFileResponse(content=await asyncio.to_thread(Path(path).read_text, encoding="utf-8"))

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.writes += 1
        await asyncio.to_thread(Path(path).write_text, content, encoding="utf-8")
        return WriteTextFileResponse()

    async def request_permission(
        self, session_id: str, tool_call: ToolCallUpdate, options: list[PermissionOption], **kwargs: Any
    ) -> RequestPermissionResponse:
        allow = next(option for option in options if option.kind.startswith("allow"))
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=allow.option_id)
        )


@dataclass
class Run:
    initialize: float
    prompts: list[float]
    requests: list[int]
    prewarms: int
    editor: Editor
    created: bool


def environment(tmp: Path, base_url: str) -> dict[str, str]:
    """A throwaway CODEX_HOME whose provider is the fake; no real key; outside requests to a dead proxy."""
    env = clean_env(make_codex_home(tmp, base_url, websockets=True))
    env["CODEX_LSP_STATE_DIR"] = str(tmp / "state")
    return env


async def session(command: list[str]) -> Run:
    """One agent, one fresh workspace, the scripted two-prompt session."""
    with tempfile.TemporaryDirectory(prefix="bench-acp-") as scratch:
        tmp = Path(scratch)
        root = tmp / "ws"
        root.mkdir()
        async with FakeResponsesServer(Script.load(SCRIPT)) as fake:
            editor = Editor()
            capabilities = ClientCapabilities(
                fs=FileSystemCapabilities(read_text_file=True, write_text_file=True)
            )
            started = time.perf_counter()
            async with spawn_agent_process(
                cast("Client", editor),
                command[0],
                *command[1:],
                env=environment(tmp, fake.base_url),
                cwd=root,
                transport_kwargs={"stderr": asyncio.subprocess.DEVNULL},
            ) as (conn, _):
                async with asyncio.timeout(TIMEOUT):
                    await conn.initialize(
                        protocol_version=1,
                        client_capabilities=capabilities,
                        client_info=Implementation(name="bench", version="0"),
                    )
                    initialized = time.perf_counter() - started
                    new = await conn.new_session(cwd=str(root), mcp_servers=[])
                    await conn.set_session_mode(session_id=new.session_id, mode_id="auto")
                    prompts, requests = [], []
                    for text in PROMPTS:
                        before = len([r for r in fake.requests if not r.prewarm])
                        start = time.perf_counter()
                        answer = await conn.prompt(session_id=new.session_id, prompt=[text_block(text)])
                        prompts.append(time.perf_counter() - start)
                        requests.append(len([r for r in fake.requests if not r.prewarm]) - before)
                        assert answer.stop_reason == "end_turn", answer
            created = (root / "hello.txt").is_file() and (root / "bye.txt").is_file()
            prewarms = len([r for r in fake.requests if r.prewarm])
            return Run(initialized, prompts, requests, prewarms, editor, created)


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms"


async def main(runs: int) -> None:
    try:
        peer = [str(codex_acp_binary())]
    except PeerNotInstalled as exc:
        print(f"skipped: {exc}")
        return
    agents = {"codex-lsp acp": [sys.executable, "-m", "codex_lsp", "acp"], "codex-acp 0.16 (peer)": peer}
    results: dict[str, list[Run]] = {name: [] for name in agents}
    await session(agents["codex-lsp acp"])  # warm the file cache for both, measured or not
    await session(peer)
    for _ in range(runs):
        for name, command in agents.items():
            results[name].append(await session(command))
    print(
        f"ACP session: initialize, new session, mode auto, {len(PROMPTS)} prompts; {runs} runs each, medians"
    )
    print(f"{'agent':<24}{'initialize':>12}{'prompt 1':>12}{'prompt 2':>12}{'requests':>10}{'prewarms':>10}")
    for name, measured in results.items():
        first = [run.prompts[0] for run in measured]
        second = [run.prompts[1] for run in measured]
        counts = measured[-1].requests
        print(
            f"{name:<24}{median_ms([r.initialize for r in measured]):>12}{median_ms(first):>12}"
            f"{median_ms(second):>12}{'/'.join(map(str, counts)):>10}{measured[-1].prewarms:>10}"
        )
    ours, theirs = results["codex-lsp acp"], results["codex-acp 0.16 (peer)"]
    for index in range(len(PROMPTS)):
        ratio = statistics.median(r.prompts[index] for r in ours) / statistics.median(
            r.prompts[index] for r in theirs
        )
        print(f"prompt {index + 1}: ours / peer = {ratio:.2f} (target <= 0.5)")
    same = all(r.requests == theirs[0].requests for r in [*ours, *theirs])
    created = all(r.created for r in [*ours, *theirs])
    print(f"model requests per prompt equal: {same}; files created by both: {created}")
    for name, measured in results.items():
        editor = measured[-1].editor
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(editor.updates.items()))
        print(
            f"{name}: updates {kinds}; fs/read_text_file {editor.reads}, fs/write_text_file {editor.writes}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
