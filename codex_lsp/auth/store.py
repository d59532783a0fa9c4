"""``$CODEX_HOME/auth.json``: read, rewritten and deleted exactly as Codex does, so both tools share it.

Schema (Codex 0.169; pretty-printed with two spaces, no final newline, mode 0600)::

    {"auth_mode": "chatgpt" | "apikey", "OPENAI_API_KEY": "sk-…" | null,
     "tokens": {"id_token", "access_token", "refresh_token", "oauth_provenance"?, "login_owner_id"?,
                "account_id"},
     "last_refresh": "2026-12-07T11:16:41.732777525Z"}

Which credential the file stands for: ``auth_mode`` decides; without it a non-null ``OPENAI_API_KEY`` means
an API key and otherwise the ChatGPT tokens.

Rewrites keep every key we do not know (Codex drops them; a newer Codex's keys must survive us) and the
order of those we do. A rewrite runs under Codex's own two locks, so a running Codex and codex-lsp never
race: ``flock`` on ``auth.lock`` (held across the whole refresh, re-reading the file under it) and on
``auth.json.lock``; the new content goes to a temporary ``.auth-XXXXXX`` (created exclusively, 0600) that
is renamed over ``auth.json``. Nothing here ever deletes the file on an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from codex_lsp.auth.errors import AuthFileError
from codex_lsp.auth.jwt import IdentityClaims, identity_of

__all__ = [
    "AUTH_FILE",
    "AuthFile",
    "AuthMode",
    "Stamp",
    "Tokens",
    "auth_lock",
    "delete_auth_file",
    "format_timestamp",
    "parse_timestamp",
    "read_auth_file",
    "render_auth",
    "stamp_of",
    "write_auth_file",
]

AUTH_FILE = "auth.json"
LOCK_FILE = "auth.lock"
WRITE_LOCK_FILE = "auth.json.lock"
AuthMode = Literal["chatgpt", "apikey"]
Stamp = tuple[int, int, int] | None
"""``(inode, mtime_ns, size)`` of ``auth.json``, ``None`` when it is absent: a cheap "did it change"."""


@dataclass(frozen=True)
class Tokens:
    """The ChatGPT tokens. Their values never appear in a ``repr``."""

    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    account_id: str | None = None
    """``tokens.account_id``: the ``chatgpt-account-id`` header (never taken from the id token)."""
    issuer: str | None = None
    """``tokens.oauth_provenance.issuer``: where the refresh goes when no override is set."""

    @property
    def identity(self) -> IdentityClaims:
        """Who the id token says is signed in."""
        return identity_of(self.id_token)

    def values(self) -> tuple[str, ...]:
        """The secret values, for masking."""
        return (self.id_token, self.access_token, self.refresh_token)


@dataclass(frozen=True)
class AuthFile:
    """One reading of ``auth.json``: what it stands for, and the raw object a rewrite starts from."""

    path: Path
    mode: AuthMode
    api_key: str | None = field(default=None, repr=False)
    tokens: Tokens | None = None
    last_refresh: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    stamp: Stamp = None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value the file holds (tokens and a stored key alike)."""
        found = self.tokens.values() if self.tokens else ()
        return (*found, self.api_key) if self.api_key else found


def stamp_of(path: Path) -> Stamp:
    """The file's identity and version, ``None`` when it does not exist."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def parse_timestamp(value: Any) -> datetime | None:
    """``last_refresh`` (RFC 3339, possibly with nanoseconds) as an aware datetime; ``None`` if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]  # the fraction only, not the offset
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_timestamp(ns: int | None = None) -> str:
    """Now (or ``ns`` since the epoch) as Codex writes ``last_refresh``: UTC, nanoseconds, ``Z``."""
    ns = time.time_ns() if ns is None else ns
    seconds, fraction = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def _string(data: dict[str, Any], key: str, path: Path, where: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AuthFileError(f"{path}: {where}{key} must be a string", path=path)
    return value


def _tokens(raw: Any, path: Path) -> Tokens | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AuthFileError(f"{path}: tokens must be an object", path=path)
    values = {
        key: _string(raw, key, path, "tokens.") for key in ("id_token", "access_token", "refresh_token")
    }
    provenance = raw.get("oauth_provenance")
    issuer = provenance.get("issuer") if isinstance(provenance, dict) else None
    if values["access_token"] is None:
        raise AuthFileError(f"{path}: tokens.access_token is missing; sign in again", path=path)
    return Tokens(
        id_token=values["id_token"] or "",
        access_token=values["access_token"],
        refresh_token=values["refresh_token"] or "",
        account_id=_string(raw, "account_id", path, "tokens."),
        issuer=issuer if isinstance(issuer, str) and issuer else None,
    )


def _mode(data: dict[str, Any], api_key: str | None, path: Path) -> AuthMode:
    mode = data.get("auth_mode")
    if mode is None:
        return "apikey" if api_key is not None else "chatgpt"
    if not isinstance(mode, str):
        raise AuthFileError(f"{path}: auth_mode must be a string", path=path)
    if mode in ("chatgpt", "apikey"):
        return "chatgpt" if mode == "chatgpt" else "apikey"
    raise AuthFileError(
        f"{path}: auth_mode {mode!r} is not supported by codex-lsp yet; sign in with ChatGPT or an API key "
        "(`codex-lsp login`)",
        path=path,
    )


def read_auth_file(path: Path) -> AuthFile | None:
    """Read ``auth.json``; ``None`` when it does not exist. Raises :class:`AuthFileError` (never quoting a
    value) when it is unreadable or holds nothing usable."""
    stamp = stamp_of(path)
    if stamp is None:
        return None
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuthFileError(f"{path} is not readable JSON ({exc.__class__.__name__})", path=path) from None
    if not isinstance(data, dict):
        raise AuthFileError(f"{path}: expected a JSON object at the top level", path=path)
    api_key = _string(data, "OPENAI_API_KEY", path, "")
    mode = _mode(data, api_key, path)
    tokens = _tokens(data.get("tokens"), path)
    if mode == "apikey" and api_key is None:
        raise AuthFileError(f"{path}: auth_mode is apikey but OPENAI_API_KEY is empty", path=path)
    if mode == "chatgpt" and tokens is None:
        raise AuthFileError(
            f"{path} holds neither an API key nor ChatGPT tokens; sign in again (`codex-lsp login`)",
            path=path,
        )
    return AuthFile(
        path=path,
        mode=mode,
        api_key=api_key,
        tokens=tokens,
        last_refresh=parse_timestamp(data.get("last_refresh")),
        raw=data,
        stamp=stamp,
    )


def render_auth(data: dict[str, Any]) -> bytes:
    """The file's bytes as Codex writes them: two-space indentation, UTF-8, no final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def write_auth_file(home: Path, data: dict[str, Any]) -> Path:
    """Replace ``home/auth.json`` atomically: an exclusive temporary file created 0600 (never readable by
    anyone else, not even for an instant; the umask can only narrow it), then a rename (a reader sees the
    old file or the new one, never half of one). Call it under :func:`auth_lock`."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = home / AUTH_FILE
    content = render_auth(data)
    for _ in range(16):
        temp = home / f".auth-{secrets.token_hex(3)}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - sixteen collisions of 24 random bits
        raise OSError(f"cannot create a temporary file in {home}")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return target


def delete_auth_file(home: Path) -> bool:
    """Delete ``home/auth.json`` (logout); whether there was one."""
    try:
        (home / AUTH_FILE).unlink()
    except FileNotFoundError:
        return False
    return True


def _flock(fd: int, blocking: bool) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)


async def _acquire(path: Path) -> int:
    """Open ``path`` (0600) and take an exclusive ``flock`` on it in a worker thread, so waiting for a
    Codex that holds it never blocks the event loop. Cancelled while waiting, the descriptor is closed as
    soon as the thread returns (closing releases the lock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    future = asyncio.get_running_loop().run_in_executor(None, _flock, fd, True)
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(lambda _: os.close(fd))
        raise
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.asynccontextmanager
async def auth_lock(home: Path) -> AsyncIterator[None]:
    """Hold Codex's locks for a rewrite of ``home/auth.json``: ``auth.lock``, then ``auth.json.lock``."""
    os.makedirs(home, mode=0o700, exist_ok=True)
    outer = await _acquire(home / LOCK_FILE)
    try:
        inner = await _acquire(home / WRITE_LOCK_FILE)
        try:
            yield
        finally:
            os.close(inner)
    finally:
        os.close(outer)
