"""Finding live processes by a unique marker in their command line (for kill tests)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path


def unique_sleep() -> str:
    """A ``sleep`` duration no other process on the machine is using (it doubles as a marker)."""
    return f"30.{uuid.uuid4().int % 10**9:09d}"


def live_with_arg(marker: str) -> list[int]:
    """Pids of running (not zombie) processes with ``marker`` as one of their arguments."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in args and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(marker: str, timeout: float = 3.0) -> list[int]:
    """Poll until no live process carries ``marker``; return the survivors at the deadline."""
    deadline = time.monotonic() + timeout
    while (alive := live_with_arg(marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


def wait_until_running(marker: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not live_with_arg(marker):
        if time.monotonic() > deadline:
            raise AssertionError(f"no process with {marker} started")
        time.sleep(0.01)
