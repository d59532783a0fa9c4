"""Loaded by every Python process that ``make mutation`` starts through the tests (the language server,
the ACP agent, ``codex-lsp exec``): in mutmut's stats run, report which mutated functions this process
called, so the test that started it gets the credit.

mutmut learns which tests cover a function by recording, inside the pytest process, the functions each
test calls. Our end-to-end tests drive the server in a child process, where those calls would be lost and
every function only the server runs would count as untested. Here each process appends the name of each
function it calls to ``<MUTATION_HITS_DIR>/<pid>.hits``, once per epoch; the pytest plugin
(``mutation_plugin.py``) starts a new epoch at each test by replacing the ``epoch`` file (a new inode) and
credits the lines written during the test to it.
"""

from __future__ import annotations

import os


def _report_hits(directory: str) -> None:
    from mutmut.mutation import trampoline

    epoch_path = os.path.join(directory, "epoch")
    out = open(os.path.join(directory, f"{os.getpid()}.hits"), "a", buffering=1, encoding="utf-8")  # noqa: SIM115
    seen: set[str] = set()
    epoch: list[int | None] = [None]

    def hit(name: str, caller: str | None = None) -> None:
        try:
            current: int | None = os.stat(epoch_path).st_ino
        except OSError:
            current = None
        if current != epoch[0]:
            epoch[0] = current
            seen.clear()
        if name not in seen:
            seen.add(name)
            out.write(name + "\n")

    trampoline.record_trampoline_hit = hit  # type: ignore[assignment]


if os.environ.get("MUTANT_UNDER_TEST") == "stats" and os.environ.get("MUTATION_HITS_DIR"):
    _report_hits(os.environ["MUTATION_HITS_DIR"])
