"""Benchmark: a ``textDocument/codeAction`` round trip on a 20,000-line file with 500 diagnostics.

One codex-lsp server, initialized as VS Code, with a 20,000-line Python file open and its 500 diagnostics
(one every 40 lines) reported through ``codex/didChangeDiagnostics``, as the editor plugin does. On that
one connection, interleaved request by request, it times the round trip (request written → answer read)
of:

- a no-op request: ``codex.interrupt`` with no turn running, answered at once (the baseline);
- for information, another trivially answered request: a lightbulb request on a one-line document
  with no diagnostic (no action, ``null``);
- the realistic case: the lightbulb request VS Code sends as the cursor moves (``triggerKind``
  Automatic, an empty range on one line that has a diagnostic, the context carrying the diagnostics
  that overlap it), every request on another such line; answered with "Fix with Codex: …" and
  "Fix all 500 problems…";
- for information, the same without the plugin (a second document whose diagnostics the server
  learns only from request contexts), and the worst case: the whole file selected, all 500
  diagnostics in the context (20 single fixes, "fix all", three selection actions).

Printed as median and min per request and the ratio of medians against the no-op; never asserted.
Target: the realistic case ≤ 2× the no-op.

Usage: ``.venv/bin/python bench/code_action.py [--runs N] [--lines N] [--diagnostics N]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.lsp_session import compile_package, execute, ready_server
from codex_lsp.testing import LspClient

WARM_UP = 20


def source(lines: int) -> str:
    """Python-like text, every line different."""
    return "".join(f"    value_{n} = combine(item_{n % 97}, {n}, 'x{n % 13}')\n" for n in range(lines))


def diagnostics(lines: int, count: int) -> list[dict[str, Any]]:
    """``count`` diagnostics spread evenly over the file, as a linter reports them."""
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
    ]


def lightbulb(uri: str, diagnostic: dict[str, Any]) -> dict[str, Any]:
    """VS Code's automatic request with the cursor inside ``diagnostic`` (which the context carries)."""
    line = diagnostic["range"]["start"]["line"]
    cursor = {"line": line, "character": 6}
    return {
        "textDocument": {"uri": uri},
        "range": {"start": cursor, "end": cursor},
        "context": {"diagnostics": [diagnostic], "triggerKind": 2},
    }


def select_all(uri: str, lines: int, known: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole file selected, every diagnostic in the context, actions asked for explicitly."""
    return {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}},
        "context": {"diagnostics": known, "triggerKind": 1},
    }


async def open_document(client: LspClient, uri: str, text: str) -> None:
    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    await client.notify("textDocument/didOpen", {"textDocument": item})


async def bench(runs: int, lines: int, count: int) -> None:
    compile_package()
    with tempfile.TemporaryDirectory(prefix="bench-code-action-") as scratch:
        async with ready_server(Path(scratch)) as (client, workspace):
            text, known = source(lines), diagnostics(lines, count)
            uri, bare_uri = (workspace / "big.py").as_uri(), (workspace / "big_no_plugin.py").as_uri()
            small_uri = (workspace / "small.py").as_uri()
            await open_document(client, uri, text)
            await open_document(client, bare_uri, text)
            await open_document(client, small_uri, "x = 1\n")
            nothing = {
                "textDocument": {"uri": small_uri},
                "range": {"start": {"line": 0, "character": 1}, "end": {"line": 0, "character": 1}},
                "context": {"diagnostics": [], "triggerKind": 2},
            }
            await client.notify(
                "codex/didChangeDiagnostics", {"uri": uri, "version": 1, "diagnostics": known}
            )
            cursor = iter(range(10**9))

            def moving(target: str) -> Callable[[], Awaitable[Any]]:
                def send() -> Awaitable[Any]:
                    diagnostic = known[(next(cursor) * 7) % len(known)]
                    return client.request("textDocument/codeAction", lightbulb(target, diagnostic))

                return send

            cases: dict[str, Callable[[], Awaitable[Any]]] = {
                "no-op (codex.interrupt)": lambda: execute(client, "codex.interrupt"),
                "codeAction, nothing known": lambda: client.request("textDocument/codeAction", nothing),
                "codeAction, cursor on a line": moving(uri),
                "  the same, no plugin": moving(bare_uri),
                "codeAction, all selected": lambda: client.request(
                    "textDocument/codeAction", select_all(uri, lines, known)
                ),
            }
            answers = {name: await send() for name, send in cases.items()}
            samples = await measure(cases, runs)
    report(samples, answers, runs, lines, count)


async def measure(cases: dict[str, Callable[[], Awaitable[Any]]], runs: int) -> dict[str, list[float]]:
    """Round trips of every case, interleaved request by request, after a warm-up."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for run in range(WARM_UP + runs):
        for name, send in cases.items():
            started = time.perf_counter()
            await send()
            if run >= WARM_UP:
                samples[name].append(time.perf_counter() - started)
    return samples


def describe(answer: Any) -> str:
    if not isinstance(answer, list):
        return repr(answer)[:40]
    return f"{len(answer)} actions"


def report(
    samples: dict[str, list[float]], answers: dict[str, Any], runs: int, lines: int, count: int
) -> None:
    print(f"code actions: {lines:,}-line file, {count} diagnostics; {runs} round trips each, interleaved")
    print(f"  {'':<30} {'median':>9}   {'min':>9}   answer")
    for name, values in samples.items():
        median, fastest = statistics.median(values) * 1000, min(values) * 1000
        print(f"  {name:<30} {median:6.2f} ms {fastest:6.2f} ms   {describe(answers[name])}")
    noop = statistics.median(samples["no-op (codex.interrupt)"])
    nothing = statistics.median(samples["codeAction, nothing known"])
    for name in list(samples)[2:]:
        target = "  (target <= 2.0)" if name == "codeAction, cursor on a line" else ""
        median = statistics.median(samples[name])
        print(f"ratio {name.strip()}: {median / noop:5.2f} x no-op{target},", end=" ")
        print(f"{median / nothing:5.2f} x nothing known")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--diagnostics", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(bench(args.runs, args.lines, args.diagnostics))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
