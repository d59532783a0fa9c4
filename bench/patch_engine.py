"""Benchmark: a 1,000-hunk change to a 100,000-line file, applied by three engines.

Times, as whole processes in the same run and on fresh copies of the same file:
- ``codex-lsp apply-patch`` with the change in apply_patch format and as a unified diff;
- ``git apply`` of the unified diff (the baseline);
- Codex's own Rust engine (the native binary from npm ``@openai/codex``, run through a symlink
  named ``apply_patch`` with the patch on stdin — a patch this size does not fit in one argument).
Also times our engine in process (no interpreter start-up). Prints medians and ratios; asserts
only that every engine produced the same file.

Usage: ``python bench/patch_engine.py [--lines N] [--hunks N] [--runs N]``
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from codex_lsp.patch import DiskFileSource, compute_changes, parse_patch, render_unified_diff, write_changes
from codex_lsp.testing import codex_binary

CLI = [str(Path(sys.executable).with_name("codex-lsp"))]
"""The installed console script, as a user or another tool runs it (``python -m`` adds runpy's cost)."""


def make_file(lines: int) -> list[str]:
    """Source-like lines; each is unique so every engine places every hunk the same way."""
    return [f"    value_{n} = combine(item_{n % 97}, {n}, 'x{n % 13}')" for n in range(lines)]


def make_patch(old: list[str], hunks: int) -> tuple[list[str], str]:
    """Change one line and add one after it in ``hunks`` places; return new lines and apply_patch text."""
    new = list(old)
    step = len(old) // hunks
    out = ["*** Begin Patch", "*** Update File: big.py"]
    for k in reversed(range(hunks)):
        at = k * step + step // 2
        new[at : at + 1] = [old[at].replace("combine", "merge"), f"    # note {k}"]
    for k in range(hunks):
        at = k * step + step // 2
        out.append("@@")
        out += [f" {line}" for line in old[at - 3 : at]]
        out += [f"-{old[at]}", f"+{old[at].replace('combine', 'merge')}", f"+    # note {k}"]
        out += [f" {line}" for line in old[at + 1 : at + 4]]
    out.append("*** End Patch")
    return new, "\n".join(out) + "\n"


def main() -> int:
    # An installed package runs from compiled bytecode; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would otherwise recompile every module in every process.
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "codex_lsp"), quiet=1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--hunks", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    old = make_file(args.lines)
    new, patch_text = make_patch(old, args.hunks)
    old_text, new_text = "\n".join(old) + "\n", "\n".join(new) + "\n"
    diff_text = render_unified_diff("big.py", old_text, new_text)
    base = Path(tempfile.mkdtemp(prefix="codex-lsp-bench-"))
    (base / "patch.txt").write_text(patch_text)
    (base / "patch.diff").write_text(diff_text)
    shim = base / "bin" / "apply_patch"
    shim.parent.mkdir()
    shim.symlink_to(codex_binary())
    counter = iter(range(10**6))

    def prepare() -> Path:
        work = base / f"ws{next(counter)}"
        work.mkdir()
        (work / "big.py").write_text(old_text)
        return work

    def check(work: Path, who: str) -> None:
        got = (work / "big.py").read_text()
        if got != new_text:
            raise SystemExit(f"{who} produced a different file")
        shutil.rmtree(work)

    def process(command: list[str], stdin: Path | None = None) -> Callable[[Path], None]:
        def run(work: Path) -> None:
            feed = stdin.read_bytes() if stdin else b""
            subprocess.run(command, cwd=work, input=feed, stdout=subprocess.DEVNULL, check=True)

        return run

    def in_process(work: Path) -> None:
        result = compute_changes(parse_patch(patch_text), DiskFileSource(work))
        write_changes(work, result.changes)

    def engine_only(work: Path) -> None:
        compute_changes(parse_patch(patch_text), DiskFileSource(work))

    cases: list[tuple[str, Callable[[Path], None], bool]] = [
        ("git apply (unified diff)", process(["git", "apply", str(base / "patch.diff")]), True),
        ("codex apply_patch (Rust)", process([str(shim)], stdin=base / "patch.txt"), True),
        ("codex-lsp apply-patch", process([*CLI, "apply-patch", str(base / "patch.txt")]), True),
        ("codex-lsp apply-patch (diff)", process([*CLI, "apply-patch", str(base / "patch.diff")]), True),
        ("codex-lsp in-process", in_process, True),
        ("codex-lsp in-process, no write", engine_only, False),
        ("python -c pass (start-up)", process([sys.executable, "-c", "pass"]), False),
    ]
    print(f"file: {args.lines:,} lines; change: {args.hunks:,} hunks; runs: {args.runs} (interleaved)")
    samples: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.runs):
        # Round-robin, so that load drifting over the run hits every engine alike.
        for name, run, writes in cases:
            work = prepare()
            start = time.perf_counter()
            run(work)
            samples[name].append(time.perf_counter() - start)
            if writes:
                check(work, name)
            else:
                shutil.rmtree(work)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"  {'':<32} {'median':>8}    {'min':>8}")
    for name, values in samples.items():
        print(f"  {name:<32} {medians[name] * 1000:8.1f} ms {min(values) * 1000:8.1f} ms")
    ours = medians["codex-lsp apply-patch"]
    git = medians["git apply (unified diff)"]
    codex = medians["codex apply_patch (Rust)"]
    print(f"ratio codex-lsp / git apply:        {ours / git:5.2f}  (target <= 1.0)")
    print(f"ratio codex-lsp / codex engine:     {ours / codex:5.2f}  (target <= 2.0)")
    print(f"ratio codex-lsp diff / git apply:   {medians['codex-lsp apply-patch (diff)'] / git:5.2f}")
    shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
