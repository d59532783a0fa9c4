"""Benchmark: language server start-up, from spawning the process to the ``initialize`` result.

``codex-lsp --stdio`` against a bare pygls 2 server (a ``LanguageServer`` with no feature, written to a
temporary script and started the same way as the console script: an executable file whose first line
names this interpreter), runs interleaved so that load drifting over the run hits both alike. Each run
spawns the server, sends ``initialize`` at once with VS Code's client capabilities, and stops the clock
when the result has been read; the server is then shut down outside the clock. Also, for information:
``python -m codex_lsp.lsp --stdio`` and the interpreter's own start-up (``python -c pass``).

Printed as median and min per server, with the CPU time the server had used when its answer arrived (all
its threads, from ``/proc``: unlike wall time it holds steady when other processes load the machine), and
the ratios; never asserted. Target: codex-lsp ≤ 1.15× the bare pygls server. The package is byte-compiled
first (an installed package runs from bytecode; an editable checkout under ``PYTHONDONTWRITEBYTECODE``
would otherwise recompile every module each run).

Usage: ``.venv/bin/python bench/startup.py [--runs N]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lsp_session import CLI, compile_package, vscode_initialize_params
from codex_lsp.testing import LspClient, cpu_seconds

BARE_SERVER = """\
#!{python}
from pygls.lsp.server import LanguageServer

LanguageServer("bare-pygls", "0").start_io()
"""


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process that has ended so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def time_initialize(
    command: list[str], params: dict[str, Any], env: dict[str, str]
) -> tuple[float, float]:
    """Seconds from spawning ``command`` to reading its ``initialize`` result, and the CPU seconds the
    server had used by then."""
    started = time.perf_counter()
    client = await LspClient.start(command, env=env)
    try:
        result = await asyncio.wait_for(client.request("initialize", params), 30)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(client.pid)
        if not isinstance(result, dict) or "capabilities" not in result:
            raise RuntimeError(f"{command[0]}: unexpected initialize result {result!r}")
    finally:
        await client.close()
    return elapsed, cpu


def time_process(command: list[str]) -> tuple[float, float]:
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started, children_cpu() - cpu


async def bench(runs: int) -> None:
    compile_package()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        tmp = Path(scratch)
        bare = tmp / "bare_pygls_server"
        bare.write_text(BARE_SERVER.format(python=sys.executable), encoding="utf-8")
        bare.chmod(0o755)
        (tmp / "ws").mkdir()
        (tmp / "codex-home").mkdir()  # no config: start-up must not need one
        env = {**os.environ, "CODEX_HOME": str(tmp / "codex-home"), "CODEX_LSP_STATE_DIR": str(tmp / "st")}
        params = vscode_initialize_params(tmp / "ws")
        servers = {
            "bare pygls 2 server": [str(bare)],
            "codex-lsp --stdio": [CLI, "--stdio"],
            "python -m codex_lsp.lsp --stdio": [sys.executable, "-m", "codex_lsp.lsp", "--stdio"],
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in [*servers, "python -c pass"]}
        for run in range(runs + 1):
            for name, command in servers.items():
                sample = await time_initialize(command, params, env)
                if run:  # the first round warms the file cache for all
                    samples[name].append(sample)
            sample = time_process([sys.executable, "-c", "pass"])
            if run:
                samples["python -c pass"].append(sample)
    report(samples, runs)


def report(samples: dict[str, list[tuple[float, float]]], runs: int) -> None:
    wall = {name: [sample[0] for sample in values] for name, values in samples.items()}
    cpu = {name: [sample[1] for sample in values] for name, values in samples.items()}
    print(f"start-up: spawn -> initialize result; {runs} runs, interleaved; CPU: the server's, until then")
    print(f"  {'':<34} {'wall median':>11} {'wall min':>11} {'CPU median':>11}")
    for name in samples:
        print(
            f"  {name:<34} {statistics.median(wall[name]) * 1000:8.1f} ms {min(wall[name]) * 1000:8.1f} ms"
            f" {statistics.median(cpu[name]) * 1000:8.1f} ms"
        )
    bare = "bare pygls 2 server"
    for name, target in (
        ("codex-lsp --stdio", "  (target <= 1.15)"),
        ("python -m codex_lsp.lsp --stdio", ""),
    ):
        median = statistics.median(wall[name]) / statistics.median(wall[bare])
        fastest = min(wall[name]) / min(wall[bare])
        busy = statistics.median(cpu[name]) / statistics.median(cpu[bare])
        print(f"ratio {name} / bare pygls: {median:.2f} wall median{target},", end=" ")
        print(f"{fastest:.2f} wall min, {busy:.2f} CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(bench(args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
