"""``make mutation``: mutation testing of the modules where a silent bug costs most, on mutmut.

Runs ``mutmut run`` over the modules listed in ``[tool.mutmut] only_mutate`` (pyproject.toml) with the
tests in ``pytest_add_cli_args_test_selection``, then reports each module's score and fails on any
surviving mutant that is neither killed nor listed, with a reason, in ``survivors/<module>.toml`` beside
this file.

Why mutmut (and not cosmic-ray): mutmut records once which tests call each function and runs, for each
mutant, only those tests, in a worker forked from a warm process; it keeps each verdict keyed by the
hash of the mutated function, so a rerun only tests functions that changed since (the incremental
default). cosmic-ray runs one whole test command per mutant, which over these modules' ~4,000 mutants
takes hours on two cores.

What this wrapper adds to mutmut 3.8 (pinned in the dev extras, since it reaches into its internals):
- the language server and the ACP agent run in child processes of the tests; ``mutation_plugin.py``
  makes them import the mutated code and credits their calls to the test that made them, so a mutant in
  a code-action handler is tried against the end-to-end tests that exercise it;
- mypy (strict, as ``make lint`` runs it) screens the mutants first: one it rejects is a bug the type
  checker already catches;
- the clean run before the mutants only runs the tests the pending mutants need (mutmut runs the whole
  selection each time), and the npm folders the tests use are linked into ``mutants/``, not copied;
- the report per module and the reviewed-survivors check.

Usage: ``python tools/mutation/run.py [--jobs N] [--show] [--recheck] [--module PATH]...``: ``--show``
prints each unexplained survivor's change, ``--recheck`` tries the last run's survivors again (after a new
test; with ``--module``, only that module's, and nothing else), ``--fresh`` forgets every cached verdict
(``rm -rf mutants``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SURVIVORS = HERE / "survivors"

#: mutmut's verdicts, as this report counts them.
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


@dataclass(frozen=True)
class Survivor:
    """A surviving mutant, named so that a review stays valid while the function's other lines change."""

    module: str
    function: str
    change: str

    def key(self) -> tuple[str, str, str]:
        return (self.module, self.function, " ".join(self.change.split()))


def change_of(diff: str) -> str:
    """The lines a mutant removes and adds, as ``-old`` / ``+new`` lines."""
    lines = [
        f"{line[0]} {line[1:].strip()}"
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines)


def function_of(mutant: str) -> str:
    """``codex_lsp.x.xǁClassǁmethod__mutmut_3`` → ``Class.method``; ``x_func__mutmut_1`` → ``func``."""
    name = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    if name.startswith("xǁ"):
        return ".".join(part for part in name[2:].split("ǁ") if part)
    return name.removeprefix("x_")


def reviewed() -> dict[tuple[str, str, str], str]:
    """The reviewed survivors: ``survivors/<module path with dots>.toml``, one ``[[survivor]]`` table each
    (``function``, ``change`` as ``--show`` prints it, ``reason``)."""
    found = {}
    for path in sorted(SURVIVORS.glob("*.toml")):
        module = path.stem.replace(".", "/") + ".py"
        for entry in tomllib.loads(path.read_text(encoding="utf-8")).get("survivor", []):
            if not str(entry.get("reason", "")).strip():
                raise SystemExit(f"{path.name}: {entry['function']}: a reviewed survivor needs a reason")
            survivor = Survivor(module, entry["function"], entry["change"])
            found[survivor.key()] = entry["reason"]
    return found


def _link_node_modules() -> None:
    """mutmut copies ``tests/`` into ``mutants/`` on every run, following symlinks; here symlinks are
    kept and the npm folders (Codex, editor clients: hundreds of MB) are linked instead."""
    import mutmut.__main__ as cli
    from mutmut.configuration import config
    from mutmut.utils import file_utils

    def copy_also_copy_files() -> None:
        for path in map(Path, config().also_copy):
            target = Path("mutants") / path
            if not path.exists():
                continue
            if path.is_file():
                shutil.copy2(path, target)
                continue
            # Afresh each run (tests come and go); symlinks stay links (the patch scenarios test them).
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                path,
                target,
                symlinks=True,
                ignore=shutil.ignore_patterns("node_modules", "__pycache__", ".hypothesis"),
            )
            for folder in path.rglob("node_modules"):
                if "node_modules" in folder.parent.parts:
                    continue
                link = Path("mutants") / folder
                link.symlink_to(folder.resolve())

    file_utils.copy_also_copy_files = copy_also_copy_files
    cli.copy_also_copy_files = copy_also_copy_files  # type: ignore[attr-defined]


def _clean_run_of_pending_only() -> None:
    """Before the mutants, mutmut runs the tests once unmutated; only those the pending mutants need."""
    import mutmut.__main__ as cli

    pending: list[str] = []
    collect = cli.collect_source_file_mutation_data
    tests_for = cli.tests_for_mutant_names
    get_runner = cli.get_mutant_runner

    def collect_and_note(*, mutant_names: Any) -> Any:
        mutants, by_path = collect(mutant_names=mutant_names)
        pending[:] = [name.replace("__init__.", "") for _, name, result in mutants if result is None]
        return mutants, by_path

    def tests_for_pending(names: Any) -> set[str]:
        return tests_for(names or pending)

    def runner_without_idle_clean_run(max_children: int) -> Any:
        runner = get_runner(max_children)
        clean = runner.run_clean_tests

        def run_clean_tests(*, tests: Any) -> int:
            return int(clean(tests=tests)) if pending and tests else 0

        runner.run_clean_tests = run_clean_tests  # type: ignore[method-assign]
        return runner

    cli.collect_source_file_mutation_data = collect_and_note  # type: ignore[assignment]
    cli.tests_for_mutant_names = tests_for_pending  # type: ignore[assignment]
    cli.get_mutant_runner = runner_without_idle_clean_run  # type: ignore[assignment]


def mutate_new_modules(modules: list[str]) -> None:
    """A module just added to ``only_mutate`` has a plain copy in ``mutants/`` (mutmut copies the whole
    source) and no verdicts; mutmut would take the copy, newer than the source, for its mutated version
    and try nothing. Removing it makes mutmut mutate the module."""
    for module in modules:
        copy = ROOT / "mutants" / module
        if copy.exists() and not copy.with_name(copy.name + ".meta").exists():
            copy.unlink()


def forget_survivors(modules: list[str]) -> list[str]:
    """Drop the verdict of every mutant that was not killed, so the next run tries it again (against
    the tests written since) along with anything not tried yet; their names."""
    from mutmut.stats import status_by_exit_code

    forgotten: list[str] = []
    for module in modules:
        meta = ROOT / "mutants" / f"{module}.meta"
        if not meta.exists():
            continue
        data = json.loads(meta.read_text(encoding="utf-8"))
        verdicts = data["exit_code_by_key"]
        for name, code in verdicts.items():
            if status_by_exit_code[code] not in KILLED:
                verdicts[name] = None
                forgotten.append(name)
        meta.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return forgotten


def run_mutmut(jobs: int, modules: list[str], recheck: bool) -> None:
    import mutmut.__main__ as cli
    from mutmut.configuration import config

    # Every listed module is always mutated: mutmut would copy any other one back unmutated while keeping
    # its verdicts. Unchanged functions cost nothing (their verdicts are cached); --module narrows the
    # recheck and the report.
    _link_node_modules()
    _clean_run_of_pending_only()
    # mutmut's generated trampolines carry ignores that strict mypy would call unused.
    mypy = [sys.executable, "-m", "mypy", "--output", "json", "--no-warn-unused-ignores", "codex_lsp"]
    config().type_check_command = mypy
    mutate_new_modules(config().only_mutate)
    names: list[str] = []
    if recheck:
        forgotten = forget_survivors(modules or config().only_mutate)
        # Narrowed to some modules, only their survivors run; what other modules still have pending
        # waits for a run without --module.
        names = forgotten if modules else []
        if modules and not names:
            return
    try:
        cli._run(names, jobs)
    except SystemExit as stop:
        if stop.code:
            raise


@dataclass
class Tally:
    """One module's verdicts, as the report counts them."""

    module: str
    counts: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values()) - self.counts["pending"]

    @property
    def score(self) -> float:
        return 100.0 * self.counts["killed"] / self.total if self.total else 100.0


def tally(
    module: str,
    known: dict[tuple[str, str, str], str],
    used: set[tuple[str, str, str]],
    unexplained: list[tuple[Survivor, str, str]],
) -> Tally:
    """Count one module's cached verdicts; note the reviewed survivors met and the others."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    meta = ROOT / "mutants" / f"{module}.meta"
    verdicts = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"] if meta.exists() else {}
    counts: Counter[str] = Counter()
    for mutant, code in sorted(verdicts.items()):
        status = status_by_exit_code[code]
        if status in KILLED or status == "not checked":
            counts["killed" if status in KILLED else "pending"] += 1
            continue
        try:
            diff = get_diff_for_mutant(mutant, path=module)
        except (FileNotFoundError, ValueError):  # mutants/ older than the source: rerun to compare
            diff = "(no diff: the mutated copy is out of date; run make mutation)"
        survivor = Survivor(module, function_of(mutant), change_of(diff))
        if status == "survived" and survivor.key() in known:
            counts["reviewed"] += 1
            used.add(survivor.key())
        else:
            counts["unexplained"] += 1
            unexplained.append((survivor, mutant, status))
    return Tally(module, counts)


def report(show: bool, only: list[str]) -> int:
    """Print each module's score; list, and fail on, the survivors nobody reviewed."""
    known = reviewed()
    modules = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    unexplained: list[tuple[Survivor, str, str]] = []
    used: set[tuple[str, str, str]] = set()
    rows = [tally(module, known, used, unexplained) for module in only or modules["only_mutate"]]

    print(f"\n{'module':44} {'mutants':>7} {'killed':>7} {'equiv.':>7} {'open':>5} {'score':>7}")
    for row in rows:
        c = row.counts
        figures = f"{row.total:7} {c['killed']:7} {c['reviewed']:7} {c['unexplained']:5} {row.score:6.1f}%"
        print(f"{row.module:44} {figures}")
        if c["pending"]:
            print(f"  ({c['pending']} mutant(s) not tried yet: run make mutation)")
    in_scope = {row.module for row in rows}
    stale = {key for key in set(known) - used if key[0] in in_scope}
    if stale:
        print(f"\n{len(stale)} reviewed survivor(s) no longer survive (killed or gone); remove them:")
        for module, function, change in sorted(stale):
            print(f"  {module} {function}: {change}")
    if unexplained:
        print(f"\n{len(unexplained)} mutant(s) survived without a reviewed reason:")
        for survivor, mutant, status in unexplained:
            print(f"  [{status}] {mutant}")
            if show:
                print("    " + survivor.change.replace("\n", "\n    "))
        where = SURVIVORS.relative_to(ROOT)
        print(f"\nKill each with a test, or list it in {where}/<module>.toml with a one-line reason.")
    if any(row.total == 0 or row.counts["pending"] for row in rows):
        print("\nSome mutants have no verdict yet: run make mutation.")
        return 1
    return 1 if stale or unexplained else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tried at once")
    parser.add_argument("--show", action="store_true", help="print each unexplained survivor's change")
    parser.add_argument("--fresh", action="store_true", help="forget the cached verdicts first")
    parser.add_argument("--report-only", action="store_true", help="only report the cached verdicts")
    parser.add_argument("--recheck", action="store_true", help="try again every mutant that survived")
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        help="recheck only this module's survivors (with --recheck) and report only it (repeatable)",
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    sys.path.insert(0, str(HERE))  # the pytest plugin, loaded with -p mutation_plugin
    if args.fresh:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    if not args.report_only:
        run_mutmut(args.jobs, args.module, args.recheck)
    return report(args.show, args.module)


if __name__ == "__main__":
    sys.exit(main())
