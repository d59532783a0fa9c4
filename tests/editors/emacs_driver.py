"""Run a real Emacs with Eglot in batch mode from a test.

Emacs has no RPC the way Neovim does, so a test hands it a whole scenario: Emacs Lisp that acts as a
person would (open a file, pick a code action, type a prompt) and waits for what should follow, with a
bound on each wait (``emacs_harness.el``). `run_emacs` starts ``emacs --batch`` with a private HOME
(so no user configuration is read; Debian's site files still load, which is what puts ``elpa-eglot`` on
the load path), this venv first on PATH (so ``codex-lsp`` and ``ruff`` are this checkout's), and returns
what the scenario recorded. The run itself is bounded too, and whatever happens Emacs and everything it
started (``codex-lsp`` included) is ended before `run_emacs` returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.editors.deps import EditorDepsMissing
from tests.editors.nvim_driver import isolated_env
from tests.editors.processes import end_all

__all__ = [
    "EmacsFailed",
    "EmacsRun",
    "eglot_version",
    "elisp_string",
    "emacs_binary",
    "kill_leftovers",
    "lsp_mode_version",
    "processes_with_env",
    "run_emacs",
]

HARNESS = Path(__file__).with_name("emacs_harness.el")
RUN_TIMEOUT = 45.0
"""Bound (seconds) on one Emacs run; each wait inside it has its own, smaller one."""
INSTALL_HINT = "run `make editor-deps` (it installs Debian's emacs-nox, elpa-eglot and elpa-lsp-mode)"


class EmacsFailed(AssertionError):
    """The scenario failed or Emacs did not finish; the message has its report and output."""


@dataclass(frozen=True)
class EmacsRun:
    """What one scenario recorded (``codex-test-record``), plus its prompts and messages."""

    records: dict[str, Any]
    output: str

    def __getitem__(self, key: str) -> Any:
        return self.records[key]


def emacs_binary() -> Path:
    """The ``emacs`` on PATH (Debian's emacs-nox), or `EditorDepsMissing`."""
    found = shutil.which("emacs")
    if found is None:
        raise EditorDepsMissing(f"emacs is not installed; {INSTALL_HINT}")
    return Path(found)


def eglot_version(home: Path) -> str:
    """The Eglot version a batch Emacs loads (``EditorDepsMissing`` when it loads none)."""
    return _package_version(home, "eglot", "eglot.el")


def lsp_mode_version(home: Path) -> str:
    """The lsp-mode version a batch Emacs loads (``EditorDepsMissing`` when it loads none)."""
    return _package_version(home, "lsp-mode", "lsp-mode.el")


def _package_version(home: Path, feature: str, library: str) -> str:
    probe = (
        f"(progn (package-activate-all) (require '{feature}) (require 'lisp-mnt)"
        f' (princ (lm-version (locate-library "{library}"))))'
    )
    home.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(emacs_binary()), "--batch", "--eval", probe],
        env=isolated_env(home),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        why = result.stderr.strip()[-300:]
        raise EditorDepsMissing(f"Emacs cannot load {feature} ({why}); {INSTALL_HINT}")
    return result.stdout.strip()


def elisp_string(value: str) -> str:
    """``value`` as an Emacs Lisp string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_emacs(
    home: Path,
    scenario: str,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
) -> EmacsRun:
    """Run ``scenario`` (Emacs Lisp calling ``codex-test-run``) in a batch Emacs; return its records.

    Raises `EmacsFailed` with the scenario's error, the messages Emacs showed, the end of Eglot's event
    log and Emacs' output when the scenario fails or the run takes longer than ``timeout`` seconds.
    """
    home.mkdir(parents=True, exist_ok=True)
    script, result, output = home / "scenario.el", home / "result.json", home / "emacs-output.log"
    script.write_text(";;; scenario.el  -*- lexical-binding: t; -*-\n" + scenario + "\n", encoding="utf-8")
    result.unlink(missing_ok=True)
    environment = isolated_env(home, {**(env or {}), "CODEX_TEST_RESULT": str(result)})
    command = [str(emacs_binary()), "--batch", "-l", str(HARNESS), "-l", str(script)]
    with output.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    timed_out = False
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        end_all(process, stop=process.terminate, grace=2.0)
    text = output.read_text(encoding="utf-8", errors="replace")
    records: dict[str, Any] = {}
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        records = json.loads(result.read_text(encoding="utf-8"))
    if timed_out or process.returncode != 0 or "error" in records:
        raise EmacsFailed(_report(records, text, timed_out, timeout, process.returncode))
    return EmacsRun(records, text)


def _report(records: dict[str, Any], output: str, timed_out: bool, timeout: float, code: int | None) -> str:
    head = f"Emacs did not finish within {timeout} s" if timed_out else f"Emacs failed (exit {code})"
    parts = [f"{head}: {records.get('error', '(no report)')}"]
    for key in ("messages", "events"):
        if records.get(key):
            parts.append(f"--- {key} ---\n{records[key]}")
    parts.append(f"--- output ---\n{output[-6000:]}")
    return "\n".join(parts)


def processes_with_env(name: str, value: str) -> list[int]:
    """Live processes whose environment has ``name=value``: what a run left behind, if anything."""
    wanted = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z" and wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def kill_leftovers(codex_home: Path) -> list[str]:
    """Kill what a run left behind with this test's ``CODEX_HOME`` (ours: only our servers carry it);
    return their command lines, so the test can fail naming them."""
    commands = []
    for pid in processes_with_env("CODEX_HOME", str(codex_home)):
        with contextlib.suppress(OSError):
            commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
            os.kill(pid, signal.SIGKILL)
    return commands
