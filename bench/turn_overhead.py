"""Benchmark: what a turn costs on top of the model, codex-lsp against Codex's own app-server.

A zero-latency fake model (the fake Responses server on 127.0.0.1, every request answered with one short
message) serves both, over WebSocket, each with its own throwaway ``CODEX_HOME`` (no key, no network):

- codex-lsp: ``codex-lsp --stdio`` initialized as VS Code (progress and ``codex/*`` notifications on),
  one ``codex.ask`` per turn on one thread; a turn is timed from writing the request to reading its
  result;
- Codex: the pinned ``codex app-server`` over stdio (``initialize``, ``thread/start``), one
  ``turn/start`` per turn on one thread; a turn is timed from writing ``turn/start`` to reading its
  ``turn/completed``.

After one warm-up turn each, ``--turns`` turns each are timed, interleaved turn by turn so that load
drifting over the run hits both alike. Also counted, per timed turn: the requests the fake received from
each (so both did the same work) and the messages each sent its client (answers, notifications and, from
codex-lsp, ``window/workDoneProgress/create`` requests). Printed as median and min and the ratio of
medians; never asserted.
Target: codex-lsp ≤ 0.5× Codex's median.

Usage: ``.venv/bin/python bench/turn_overhead.py [--turns N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
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
from codex_lsp.testing import AppServer, FakeResponsesServer, PeerNotInstalled, codex_binary, make_codex_home

PROMPT = "Say done."
Turn = Callable[[], Awaitable[int]]
"""Runs one turn; returns how many messages the server sent its client meanwhile."""


async def bench(turns: int) -> None:
    compile_package()
    try:
        codex_binary()
    except PeerNotInstalled as exc:
        print(f"skipped: {exc}")
        return
    with tempfile.TemporaryDirectory(prefix="bench-turns-") as scratch:
        tmp = Path(scratch)
        codex_workspace = tmp / "codex" / "ws"
        codex_workspace.mkdir(parents=True)
        (tmp / "ours").mkdir()
        async with FakeResponsesServer(one_message_script(4 * (turns + 1))) as fake:
            client, workspace = await start_server(tmp / "ours", fake.base_url)
            home = make_codex_home(tmp / "codex", fake.base_url, websockets=True)
            app = await AppServer.start(home, codex_workspace)
            try:
                await initialize(client, workspace)
                await load_agent(client)
                thread_id = await ask(client, PROMPT, None)
                codex_thread_id = await codex_thread(app, codex_workspace)
                await codex_turn(app, codex_thread_id, PROMPT)

                async def ours() -> int:
                    before = client.messages_received()
                    await ask(client, PROMPT, thread_id)
                    return client.messages_received() - before + 1  # and the answer

                async def theirs() -> int:
                    return await codex_turn(app, codex_thread_id, PROMPT)

                sides: dict[str, Turn] = {"codex-lsp (codex.ask)": ours, "codex app-server": theirs}
                samples, counts = await measure(fake, sides, turns)
            finally:
                await client.close()
                await app.close()
    report(samples, counts, turns)


async def measure(
    fake: FakeResponsesServer, sides: dict[str, Turn], turns: int
) -> tuple[dict[str, list[float]], dict[str, list[tuple[int, int]]]]:
    """For each side, turn by turn: seconds per turn, and (model requests, messages to the client)."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    counts: dict[str, list[tuple[int, int]]] = {name: [] for name in sides}
    for _ in range(turns):
        for name, turn in sides.items():
            before = len(fake.requests)
            started = time.perf_counter()
            messages = await turn()
            samples[name].append(time.perf_counter() - started)
            counts[name].append((len(fake.requests) - before, messages))
    return samples, counts


def spread(values: list[int]) -> str:
    return "/".join(map(str, sorted(set(values))))


def report(samples: dict[str, list[float]], counts: dict[str, list[tuple[int, int]]], turns: int) -> None:
    print(f"one-message turns against a zero-latency fake model over WebSocket; {turns} warm turns each")
    print(f"  {'':<24} {'median':>9}   {'min':>9}   per turn: model requests, messages to the client")
    for name, values in samples.items():
        requests, messages = spread([c[0] for c in counts[name]]), spread([c[1] for c in counts[name]])
        print(
            f"  {name:<24} {statistics.median(values) * 1000:6.1f} ms {min(values) * 1000:6.1f} ms"
            f"   {requests:>3} {messages:>10}"
        )
    ours, theirs = (statistics.median(values) for values in samples.values())
    print(f"ratio codex-lsp / codex app-server: {ours / theirs:5.2f}  (target <= 0.5)")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(bench(args.turns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
