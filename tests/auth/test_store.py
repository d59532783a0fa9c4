"""``auth.json`` as Codex keeps it: which sign-in it stands for, errors that quote nothing, the atomic 0600
rewrite in Codex's byte format, Codex's two file locks, and the ``last_refresh`` timestamps."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.auth import AuthFileError, read_auth_file
from codex_lsp.auth.store import (
    auth_lock,
    delete_auth_file,
    format_timestamp,
    parse_timestamp,
    render_auth,
    write_auth_file,
)
from codex_lsp.testing import chatgpt_auth
from tests.auth.conftest import WAIT, HeldLock, LockProbe, write_raw

SECRET = "sk-proj-SECRETSECRET-0123456789"
TOKENS = {"id_token": "id.x.y", "access_token": "at-opaque", "refresh_token": "rt-1", "account_id": "acct"}

# -- which sign-in the file stands for ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mode", "api_key"),
    [
        ({"auth_mode": "chatgpt", "OPENAI_API_KEY": None, "tokens": TOKENS}, "chatgpt", None),
        ({"auth_mode": "apikey", "OPENAI_API_KEY": SECRET}, "apikey", SECRET),
        ({"OPENAI_API_KEY": None, "tokens": TOKENS}, "chatgpt", None),
        ({"tokens": TOKENS}, "chatgpt", None),
        ({"OPENAI_API_KEY": SECRET}, "apikey", SECRET),
        ({"OPENAI_API_KEY": SECRET, "tokens": TOKENS}, "apikey", SECRET),
        ({"auth_mode": "chatgpt", "OPENAI_API_KEY": SECRET, "tokens": TOKENS}, "chatgpt", SECRET),
    ],
    ids=[
        "chatgpt",
        "apikey",
        "absent-null-key",
        "absent-no-key",
        "absent-key",
        "absent-key-and-tokens",
        "chatgpt-next-to-key",
    ],
)
def test_auth_mode_decides_else_a_stored_key_means_apikey(
    home: Path, data: dict[str, Any], mode: str, api_key: str | None
) -> None:
    path = write_raw(home, data)
    file = read_auth_file(path)
    assert file is not None
    assert (file.mode, file.api_key) == (mode, api_key)
    assert (file.tokens is not None) == ("tokens" in data)


def test_a_missing_file_is_no_sign_in(home: Path) -> None:
    assert read_auth_file(home / "auth.json") is None


def test_an_unknown_auth_mode_is_an_error_naming_the_file(home: Path) -> None:
    path = write_raw(home, {"auth_mode": "chatgptAuthTokens", "tokens": TOKENS})
    with pytest.raises(AuthFileError) as caught:
        read_auth_file(path)
    assert str(path) in caught.value.message
    assert "chatgptAuthTokens" in caught.value.message
    assert caught.value.path == path


@pytest.mark.parametrize(
    "content",
    [
        f'{{"auth_mode": "apikey", "OPENAI_API_KEY": "{SECRET}"',
        f'["{SECRET}"]',
        f'"{SECRET}"',
        json.dumps({"auth_mode": [SECRET], "tokens": TOKENS}),
        json.dumps({"auth_mode": {"k": SECRET}}),
        json.dumps({"OPENAI_API_KEY": [SECRET]}),
        json.dumps({"OPENAI_API_KEY": {"key": SECRET}}),
        json.dumps({"tokens": SECRET}),
        json.dumps({"tokens": {**TOKENS, "access_token": [SECRET]}}),
        json.dumps({"tokens": {**TOKENS, "refresh_token": {"v": SECRET}}}),
        json.dumps({"tokens": {**TOKENS, "account_id": [SECRET]}}),
        json.dumps({"tokens": {**TOKENS, "access_token": None}, "x": SECRET}),
        json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": None, "tokens": {"access_token": SECRET}}),
        json.dumps({"auth_mode": "chatgpt", "OPENAI_API_KEY": SECRET}),
        b'{"OPENAI_API_KEY": "\xff' + SECRET.encode() + b'"}',
    ],
    ids=[
        "truncated-json",
        "array",
        "string",
        "auth_mode-list",
        "auth_mode-object",
        "key-list",
        "key-object",
        "tokens-string",
        "access-list",
        "refresh-object",
        "account-list",
        "no-access-token",
        "apikey-without-key",
        "chatgpt-without-tokens",
        "not-utf8",
    ],
)
def test_an_unusable_file_is_an_error_that_quotes_no_value(home: Path, content: str | bytes) -> None:
    home.mkdir(parents=True)
    path = home / "auth.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = path.read_bytes()
    with pytest.raises(AuthFileError) as caught:
        read_auth_file(path)
    assert str(path) in caught.value.message
    assert "SECRET" not in caught.value.message
    assert "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None, "the parser's message (which may quote the file) is not chained"
    assert path.read_bytes() == before, "nothing is rewritten or deleted because of an error"


def test_an_unreadable_path_is_an_error_naming_the_file(home: Path) -> None:
    (home / "auth.json").mkdir(parents=True)
    with pytest.raises(AuthFileError) as caught:
        read_auth_file(home / "auth.json")
    assert str(home / "auth.json") in caught.value.message


# -- the rewrite -------------------------------------------------------------------------------------------

CODEX_FILE: dict[str, Any] = {
    "auth_mode": "chatgpt",
    "OPENAI_API_KEY": None,
    "tokens": {
        "id_token": "id.é.ü",
        "access_token": "at",
        "refresh_token": "rt",
        "oauth_provenance": {"issuer": "https://auth.openai.com", "client_id": "app_x"},
        "login_owner_id": "o" * 43,
        "account_id": "acct-日本",
        "future_token_key": {"nested": [1, 2]},
    },
    "last_refresh": "2026-12-07T11:16:41.732777525Z",
    "agent_identity": {"name": "Zoë"},
}


def test_the_file_is_written_in_codex_bytes_keys_and_unknown_keys_kept(home: Path) -> None:
    path = write_auth_file(home, CODEX_FILE)
    raw = path.read_bytes()
    assert raw == json.dumps(CODEX_FILE, indent=2, ensure_ascii=False).encode("utf-8")
    assert not raw.endswith(b"\n"), "Codex writes no final newline"
    assert b'\n  "tokens": {\n    "id_token"' in raw, "two-space indentation"
    assert "acct-日本".encode() in raw, "non-ASCII kept as UTF-8, not \\u escapes"
    assert b"\\u" not in raw
    reread = read_auth_file(path)
    assert reread is not None
    assert list(reread.raw) == list(CODEX_FILE)
    assert list(reread.raw["tokens"]) == list(CODEX_FILE["tokens"])
    again = write_auth_file(home, reread.raw)
    assert again.read_bytes() == raw, "a read-then-write round trip changes nothing"


def test_render_auth_matches_what_is_written(home: Path) -> None:
    assert write_auth_file(home, CODEX_FILE).read_bytes() == render_auth(CODEX_FILE)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_the_file_is_0600_whatever_the_umask_and_the_old_mode(home: Path, umask: int) -> None:
    old = write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": SECRET})
    old.chmod(0o644)
    previous = os.umask(umask)
    try:
        path = write_auth_file(home, CODEX_FILE)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_home_is_created_private(tmp_path: Path) -> None:
    home = tmp_path / "new" / "codex-home"
    previous = os.umask(0)
    try:
        write_auth_file(home, CODEX_FILE)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_the_rewrite_is_a_rename_to_a_new_inode(home: Path) -> None:
    path = write_raw(home, CODEX_FILE)
    inode = path.stat().st_ino
    with path.open("rb") as reader_of_the_old_file:
        write_auth_file(home, {**CODEX_FILE, "last_refresh": "2027-01-01T00:00:00.000000000Z"})
        assert json.loads(reader_of_the_old_file.read())["last_refresh"] == CODEX_FILE["last_refresh"]
    assert path.stat().st_ino != inode
    assert [p.name for p in home.iterdir()] == ["auth.json"], "no temporary file left"


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    home: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = write_raw(home, {"auth_mode": "apikey", "OPENAI_API_KEY": SECRET})
    before = path.read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if failing == "write":
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, fd: int, mode: str) -> None:
                self.file = real_fdopen(fd, mode)

            def __enter__(self) -> Full:
                return self

            def __exit__(self, *exc: object) -> None:
                self.file.close()

            def write(self, data: bytes) -> int:
                self.file.write(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fdopen", Full)
    else:
        monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(OSError, match="No space"):
        write_auth_file(home, CODEX_FILE)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["auth.json"], "the .auth-* temporary is removed"


def test_delete_says_whether_there_was_a_file(home: Path) -> None:
    assert delete_auth_file(home) is False
    write_raw(home, CODEX_FILE)
    assert delete_auth_file(home) is True
    assert not (home / "auth.json").exists()


# -- Codex's locks -----------------------------------------------------------------------------------------

TRY_LOCK = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR)\n"
    "try:\n"
    "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "except BlockingIOError:\n"
    "    sys.exit(3)\n"
)
HOLD_LOCK = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('locked', flush=True)\n"
    "sys.stdin.readline()\n"
)
WAIT_LOCK = "import fcntl, os, sys\nfcntl.flock(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX)\n"


def another_process_could_lock(path: Path) -> bool:
    """Whether another process gets ``flock(LOCK_EX|LOCK_NB)`` on ``path`` right now."""
    done = subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], timeout=WAIT, check=False)
    assert done.returncode in (0, 3)
    return done.returncode == 0


async def another_process_gets_the_lock(path: Path) -> bool:
    """Whether another process, waiting for ``path``'s lock, gets it within :data:`WAIT` seconds."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", WAIT_LOCK, str(path))
    try:
        async with asyncio.timeout(WAIT):
            return await proc.wait() == 0
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False


async def test_the_locks_are_codex_files_0600_and_exclude_other_processes(home: Path) -> None:
    previous = os.umask(0)
    try:
        async with auth_lock(home):
            for name in ("auth.lock", "auth.json.lock"):
                assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
                assert not another_process_could_lock(home / name), f"{name} is not held"
    finally:
        os.umask(previous)
    for name in ("auth.lock", "auth.json.lock"):
        assert another_process_could_lock(home / name), f"{name} is released on exit"


async def test_the_lock_waits_for_another_process_that_holds_it(home: Path, lock_probe: LockProbe) -> None:
    write_raw(home, CODEX_FILE)
    other = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD_LOCK,
        str(home / "auth.lock"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert other.stdin is not None
    assert other.stdout is not None
    try:
        async with asyncio.timeout(WAIT):
            assert await other.stdout.readline() == b"locked\n"
        entered = asyncio.Event()

        async def rewrite() -> None:
            async with auth_lock(home):
                entered.set()

        task = asyncio.create_task(rewrite())
        assert await asyncio.to_thread(lock_probe.blocked.wait, WAIT), "the lock was not waited for"
        assert lock_probe.waited_on == ["auth.lock"]
        assert not entered.is_set()
        other.stdin.write(b"done\n")
        await other.stdin.drain()
        async with asyncio.timeout(WAIT):
            await task
        assert entered.is_set()
    finally:
        if other.returncode is None:
            other.kill()
        await other.wait()


async def test_a_cancelled_waiter_does_not_keep_the_lock(
    home: Path, lock_probe: LockProbe, held: list[HeldLock]
) -> None:
    held.append(HeldLock(home / "auth.lock"))

    async def rewrite() -> None:
        async with auth_lock(home):
            raise AssertionError("entered while another holder had the lock")

    task = asyncio.create_task(rewrite())
    assert await asyncio.to_thread(lock_probe.blocked.wait, WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    held[0].release()
    assert await asyncio.to_thread(lock_probe.acquired.wait, WAIT), "the waiting thread got the lock"
    assert await another_process_gets_the_lock(home / "auth.lock"), "the cancelled waiter leaked the lock"


async def test_a_failure_inside_the_lock_releases_both(home: Path) -> None:
    with pytest.raises(RuntimeError):
        async with auth_lock(home):
            raise RuntimeError("boom")
    assert another_process_could_lock(home / "auth.lock")
    assert another_process_could_lock(home / "auth.json.lock")


# -- timestamps --------------------------------------------------------------------------------------------

UTC_2026 = datetime(2026, 12, 7, 11, 16, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-07T11:16:41.732777525Z", UTC_2026 + timedelta(microseconds=732777)),
        ("2026-12-07T11:16:41.732777525z", UTC_2026 + timedelta(microseconds=732777)),
        ("2026-12-07T11:16:41Z", UTC_2026),
        ("2026-12-07T11:16:41.5Z", UTC_2026 + timedelta(microseconds=500000)),
        ("2026-12-07T11:16:41.000000001Z", UTC_2026),
        ("2026-12-07T11:16:41+00:00", UTC_2026),
        ("2026-12-07T11:16:41", UTC_2026),
        ("2026-12-07T13:16:41+02:00", UTC_2026),
        ("2026-12-07T13:16:41.250+02:00", UTC_2026 + timedelta(microseconds=250000)),
        ("2026-12-07T06:16:41.732777525-05:00", UTC_2026 + timedelta(microseconds=732777)),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1765106201, None),
    ],
)
def test_parse_timestamp(text: object, expected: datetime | None) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_format_timestamp_is_codex_shape() -> None:
    assert format_timestamp(0) == "1970-01-01T00:00:00.000000000Z"
    assert format_timestamp(1_765_106_201_732_777_525) == "2025-12-07T11:16:41.732777525Z"
    now = format_timestamp()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z", now)
    parsed = parse_timestamp(now)
    assert parsed is not None
    assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=1)
    assert parsed.utcoffset() == UTC.utcoffset(None)


def test_chatgpt_auth_of_the_testing_kit_reads_as_chatgpt(home: Path) -> None:
    """The fake's files are what the other tests build on: check they read as Codex's."""
    path = write_raw(home, chatgpt_auth())
    file = read_auth_file(path)
    assert file is not None
    assert file.mode == "chatgpt"
    assert file.last_refresh == UTC_2026 + timedelta(microseconds=732777)
