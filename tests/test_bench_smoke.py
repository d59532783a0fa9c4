"""The language-server benchmarks still run: each once, in a tiny mode, as ``make bench`` runs them.

Only that they finish and print their report; never what they measured (times vary by machine).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codex_lsp.testing import PeerNotInstalled, codex_binary

BENCH = Path(__file__).resolve().parents[1] / "bench"


def codex_installed() -> bool:
    try:
        codex_binary()
    except PeerNotInstalled:
        return False
    return True


def run_bench(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("startup.py", ["--runs", "1"], "ratio codex-lsp --stdio / bare pygls:"),
        (
            "code_action.py",
            ["--runs", "1", "--lines", "400", "--diagnostics", "10"],
            "ratio codeAction, cursor on a line:",
        ),
        ("memory.py", ["--turns", "2", "--no-codex"], "growth from turn 1 to turn 2:"),
        (
            "resources.py",
            ["--lines", "400", "--diagnostics", "2", "20", "--documents", "20", "--flood", "3"],
            "memory kept after closing:",
        ),
    ],
)
def test_the_bench_runs(name: str, args: list[str], expected: str) -> None:
    assert expected in run_bench(name, *args)


@pytest.mark.skipif(not codex_installed(), reason="the pinned Codex peer is missing (make test installs it)")
@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("turn_overhead.py", ["--turns", "1"], "ratio codex-lsp / codex app-server:"),
        ("memory.py", ["--turns", "1"], "after 1 turns"),
    ],
)
def test_the_bench_against_codex_runs(name: str, args: list[str], expected: str) -> None:
    assert expected in run_bench(name, *args)
