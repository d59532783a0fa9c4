"""pytest plugin loaded by ``make mutation`` (never by ``make test``): lets mutants reach the processes the
tests start, and credits those processes' calls to the test that made them.

- Every run (stats, clean, each mutant): child Python processes import the mutated copy of ``codex_lsp``
  (``mutants/``) and this folder's ``hook/sitecustomize.py``, via ``PYTHONPATH``; mutmut's own
  ``MUTANT_UNDER_TEST`` is inherited, so a mutant is live in the language server as in the test.
- The stats run: hits reported by child processes (see ``hook/sitecustomize.py``) are credited to the
  test during which they were written, fixture teardown included (a module's server shuts down in its
  last test's teardown).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

HOOK = Path(__file__).resolve().parent / "hook"


class ChildHits:
    """Reads what child processes reported and credits it to the running test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.offsets: dict[Path, int] = {}
        self.epochs = 0

    def new_epoch(self) -> None:
        self.epochs += 1
        fresh = self.directory / "epoch.new"
        fresh.write_text(str(self.epochs), encoding="utf-8")
        os.replace(fresh, self.directory / "epoch")  # a new inode: children notice it with one stat()

    def drain(self) -> set[str]:
        names: set[str] = set()
        for path in self.directory.glob("*.hits"):
            start = self.offsets.get(path, 0)
            with path.open("rb") as file:
                file.seek(start)
                data = file.read()
            complete = data[: data.rfind(b"\n") + 1]
            self.offsets[path] = start + len(complete)
            names.update(complete.decode("utf-8").split())
        return names

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self.drain()  # between tests: nothing to credit
        self.new_epoch()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
        result = yield
        from mutmut.state import state

        nodeid = item.nodeid.removeprefix("mutants/")
        for name in self.drain():
            state().tests_by_mangled_function_name[name].add(nodeid)
        return result


def pytest_configure(config: pytest.Config) -> None:
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    if not mutant:
        return
    # mutmut runs pytest inside mutants/, the copy whose codex_lsp carries the mutants.
    paths = [str(HOOK), str(Path.cwd()), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    if mutant == "stats" and not config.pluginmanager.has_plugin("codex-lsp-child-hits"):
        directory = Path(tempfile.mkdtemp(prefix="mutation-hits-"))
        os.environ["MUTATION_HITS_DIR"] = str(directory)
        config.pluginmanager.register(ChildHits(directory), "codex-lsp-child-hits")
