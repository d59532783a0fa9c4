"""Ending an editor under test together with everything it started.

An editor runs in its own process group (``start_new_session``), but that is not enough: Neovim starts
language servers and jobs in sessions of their own, so killing its group misses them, and a server's
helper that outlived its parent is no longer in the editor's process tree. `end_all` therefore notes the
editor's descendants (and their process groups) first, lets the editor stop, and then kills its group and
every group noted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["descendant_groups", "end_all", "group_members"]


def _stat(entry: Path) -> tuple[str, int, int] | None:
    try:
        state, ppid, pgid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
    except (OSError, ValueError):
        return None
    return state, int(ppid), int(pgid)


def _table() -> dict[int, tuple[str, int, int]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(entry)) is not None:
            table[int(entry.name)] = stat
    return table


def descendant_groups(pid: int) -> set[int]:
    """The process groups of every live descendant of ``pid`` (its own group excluded)."""
    table = _table()
    children: dict[int, list[int]] = {}
    for child, (_, ppid, _) in table.items():
        children.setdefault(ppid, []).append(child)
    groups, todo = set(), list(children.get(pid, []))
    while todo:
        current = todo.pop()
        groups.add(table[current][2])
        todo.extend(children.get(current, []))
    groups.discard(os.getpgid(0))  # never the test run's own group
    with contextlib.suppress(ProcessLookupError):
        groups.discard(os.getpgid(pid))
    return groups


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the process group ``pgid``."""
    return [pid for pid, (state, _, group) in _table().items() if group == pgid and state != "Z"]


def end_all(process: subprocess.Popen[bytes], stop: Callable[[], None], grace: float = 5.0) -> None:
    """Run ``stop`` (ask the editor to quit), give it ``grace`` seconds, then kill what is left.

    What is left: the editor's process group and the groups of the descendants it had before ``stop``.
    """
    groups = descendant_groups(process.pid) if process.poll() is None else set()
    with contextlib.suppress(Exception):  # the editor may already be gone, or hang: killing follows
        stop()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    for group in (process.pid, *groups):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while any(group_members(g) for g in (process.pid, *groups)) and time.monotonic() < deadline:
        time.sleep(0.02)  # SIGKILLed processes take a moment to exit
