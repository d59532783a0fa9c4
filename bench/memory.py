"""Benchmark: the language server's memory, idle and over 100 turns on one thread.

``codex-lsp --stdio`` initialized as VS Code, against the zero-latency fake model of
``bench/turn_overhead.py`` (every request answered with one short message, over WebSocket). The resident
set size (``VmRSS`` of ``/proc/PID/status``) is read:

- after ``initialize`` (start-up: pygls and the server, the agent side not loaded yet);
- after ``initialized``, once the agent side (agent, model client, pydantic) has loaded: the server idle
  and ready;
- after 10 turns, and then every so often up to ``--turns`` (100) ``codex.ask`` turns on one thread.

For information, the pinned Codex ``app-server`` is read at the same points, running the same turns
interleaved with ours. Printed, never asserted. Targets: < 60 MB idle; < 5 MB growth from turn 10 to
turn 100.

Usage: ``.venv/bin/python bench/memory.py [--turns N]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.lsp_session import (
    ask,
    codex_thread,
    codex_turn,
    compile_package,
    initialize,
    load_agent,
    one_message_script,
    start_server,
)
from codex_lsp.testing import (
    AppServer,
    FakeResponsesServer,
    PeerNotInstalled,
    codex_binary,
    make_codex_home,
    rss_kib,
)

PROMPT = "Say done."
FIRST = 10


def first_checkpoint(turns: int) -> int:
    """The turn growth is measured from: the 10th (halfway in a run too short for that)."""
    return FIRST if turns > FIRST else max(1, turns // 2)


def checkpoints(turns: int) -> list[int]:
    """The turn counts after which memory is read: the first checkpoint, and each quarter of the way."""
    quarters = (turns * k // 4 for k in range(1, 5))
    return sorted({t for t in (first_checkpoint(turns), *quarters) if 0 < t <= turns})


def mib(kib: int | None) -> str:
    return f"{kib / 1024:7.1f} MiB" if kib is not None else f"{'-':>11}"


async def bench(turns: int, with_codex: bool) -> None:
    compile_package()
    if with_codex:
        try:
            codex_binary()
        except PeerNotInstalled as exc:
            print(f"(Codex not measured: {exc})")
            with_codex = False
    rows: list[tuple[str, int, int | None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        tmp = Path(scratch)
        (tmp / "ours").mkdir()
        codex_workspace = tmp / "codex" / "ws"
        codex_workspace.mkdir(parents=True)
        async with FakeResponsesServer(one_message_script(2 * turns + 2)) as fake:
            client, workspace = await start_server(tmp / "ours", fake.base_url)
            app = None
            if with_codex:
                home = make_codex_home(tmp / "codex", fake.base_url, websockets=True)
                app = await AppServer.start(home, codex_workspace)
            try:
                await initialize(client, workspace)
                codex_thread_id = await codex_thread(app, codex_workspace) if app else ""

                def read(label: str) -> None:
                    rows.append((label, rss_kib(client.pid), rss_kib(app.process.pid) if app else None))

                read("after initialize")
                await load_agent(client)
                read("idle, agent loaded")
                thread_id = None
                wanted = checkpoints(turns)
                for turn in range(1, turns + 1):
                    thread_id = await ask(client, f"{PROMPT} ({turn})", thread_id)
                    if app:
                        await codex_turn(app, codex_thread_id, f"{PROMPT} ({turn})")
                    if turn in wanted:
                        read(f"after {turn} turns")
            finally:
                await client.close()
                if app:
                    await app.close()
    report(rows, turns)


def report(rows: list[tuple[str, int, int | None]], turns: int) -> None:
    print(f"resident memory (VmRSS), {turns} one-message turns on one thread")
    print(f"  {'':<22} {'codex-lsp':>11} {'codex app-server':>17}")
    for label, ours, theirs in rows:
        print(f"  {label:<22} {mib(ours)} {mib(theirs):>17}")
    values = {label: ours for label, ours, _ in rows}
    for label, name, target in (
        ("start-up (after initialize)", "after initialize", "  (target < 60 MB idle)"),
        ("idle with the agent loaded", "idle, agent loaded", ""),
    ):
        print(f"{label}: {values[name] / 1024:.1f} MiB = {values[name] * 1024 / 1e6:.1f} MB{target}")
    first = first_checkpoint(turns)
    if first < turns:
        growth = values[f"after {turns} turns"] - values[f"after {first} turns"]
        print(f"growth from turn {first} to turn {turns}: {growth / 1024:+.1f} MiB  (target < 5 MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--no-codex", action="store_true", help="measure codex-lsp only")
    args = parser.parse_args()
    asyncio.run(bench(args.turns, not args.no_codex))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
