"""Fixtures of the sign-in tests: a fake issuer, a throwaway ``CODEX_HOME``, a frozen clock, file-lock probes.

Nothing here sleeps to synchronise: a test waits on an event (with a timeout) that the code under test sets.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.auth import store

WAIT = 10.0
"""Upper bound on any awaited event; a test that reaches it has failed."""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A throwaway ``CODEX_HOME`` (not created: the code under test must cope)."""
    return tmp_path / "codex-home"


def write_raw(home: Path, data: Any) -> Path:
    """``home/auth.json`` holding ``data`` as Codex writes it (2-space JSON, mode 0600)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "auth.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def put(home: Path, content: bytes) -> Path:
    """``home/auth.json`` holding exactly ``content``."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "auth.json"
    path.write_bytes(content)
    return path


def files_in(home: Path) -> list[str]:
    """The names in ``home`` (none when it does not exist)."""
    return sorted(p.name for p in home.iterdir()) if home.exists() else []


def read_json(home: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((home / "auth.json").read_text(encoding="utf-8"))
    return data


class FrozenClock:
    """``clock=`` for the code under test: a fixed "now" that a test moves by hand."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now


class LockProbe:
    """Wraps the store's ``flock`` so that a test knows, without sleeping, when the code under test found a
    lock held by someone else and started waiting for it (and on which file)."""

    def __init__(self) -> None:
        self.blocked = threading.Event()
        self.acquired = threading.Event()
        self.waited_on: list[str] = []
        self._real = store._flock

    def flock(self, fd: int, blocking: bool) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.waited_on.append(Path(os.readlink(f"/proc/self/fd/{fd}")).name)
            self.blocked.set()
            self._real(fd, blocking)
        self.acquired.set()


@pytest.fixture
def lock_probe(monkeypatch: pytest.MonkeyPatch) -> LockProbe:
    probe = LockProbe()
    monkeypatch.setattr(store, "_flock", probe.flock)
    return probe


class HeldLock:
    """Another holder of a Codex lock file (as a running Codex would hold it): an ``flock`` on its own open
    file description, released by :meth:`release`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def held() -> Iterator[list[HeldLock]]:
    """Locks a test takes as "another process"; released at the end whatever happens."""
    locks: list[HeldLock] = []
    yield locks
    for lock in locks:
        lock.release()
