"""Threads: a conversation's history, persisted as JSONL so a restarted server can resume it.

One file per thread, ``<state dir>/threads/<thread id>.jsonl``. The first record describes the
thread; each later record is one history item or one finished turn, appended as it happens, so a
crash loses at most the line being written. Loading is forgiving where it can be and strict where
it must be: a truncated last line (a write cut short) is dropped with a warning; any other damage
skips the whole file with a warning — a damaged thread never stops the server. Writing is
best effort in the same way: when the state directory cannot be created or written (it is a
file, it is read-only, the disk is full), a warning names the path and the reason and the thread
lives on in memory only, so the turn still runs.

Text no encoder accepts (lone surrogates: a prompt's or the model's ``"\\ud800"``, a file name that is
not UTF-8) is escaped as it enters a thread (:mod:`codex_lsp.agent.unicode`), in memory as in the
file: the record can always be written, and the next request sends the model the same text the file
keeps.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from codex_lsp.agent.unicode import escape_json, escape_surrogates

__all__ = ["TITLE_MAX_CHARS", "Thread", "ThreadStore", "ThreadSummary", "default_state_dir", "turn_title"]

log = logging.getLogger(__name__)

TITLE_MAX_CHARS = 200
"""How long a turn's title may be. The prompt is already in the thread (in the user message, with the
editor context); the turn record and the editor's ``codex/turn/started`` need only a title."""


def turn_title(prompt: str) -> str:
    """A turn's title: the prompt, or its first ``TITLE_MAX_CHARS`` characters, the last one "…" to say
    it was cut."""
    return prompt if len(prompt) <= TITLE_MAX_CHARS else prompt[: TITLE_MAX_CHARS - 1] + "…"


def default_state_dir() -> Path:
    """``$CODEX_LSP_STATE_DIR``, else the user state directory of codex-lsp (platformdirs)."""
    override = os.environ.get("CODEX_LSP_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir("codex-lsp", appauthor=False))


class _ThreadRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: Literal["thread"] = "thread"
    id: str
    cwd: str
    created_at: float
    model: str | None = None


class _ItemRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: Literal["item"] = "item"
    turn_id: str
    item: dict[str, Any]


class _TurnRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: Literal["turn"] = "turn"
    turn_id: str
    status: str
    prompt: str = ""
    finished_at: float


_Record = _ThreadRecord | _ItemRecord | _TurnRecord
_RECORD = TypeAdapter[_Record](_Record)


class ThreadSummary(BaseModel):
    """What a thread list shows."""

    model_config = ConfigDict(frozen=True)

    id: str
    cwd: str
    created_at: float
    updated_at: float
    turns: int
    title: str = Field(default="", description="The first prompt, shortened.")


class Thread:
    """A conversation: its history (input items, in order) and where it is persisted."""

    def __init__(
        self, record: _ThreadRecord, path: Path | None, warn: Callable[[str], None] | None = None
    ) -> None:
        self.id = record.id
        self.cwd = record.cwd
        self.created_at = record.created_at
        self.updated_at = record.created_at
        self.model = record.model
        self.history: list[dict[str, Any]] = []
        self.prompts: list[str] = []
        self.turns = 0
        self._path = path
        self._warn = warn or _log_warning
        self.scrub: Callable[[str], str] = _unchanged
        """Masks the model client's secrets (a key, a sign-in's tokens) in what is written to the file; the
        agent sets it. The history in memory is kept as it was (the model needs its own words back)."""

    @property
    def saved(self) -> bool:
        """Whether the thread is being persisted (it can be resumed by a later process)."""
        return self._path is not None

    def append(self, turn_id: str, items: Iterable[dict[str, Any]]) -> None:
        """Add items to the history and to the file (their text escaped where UTF-8 cannot carry it)."""
        batch = [escape_json(item) for item in items]
        self.history.extend(batch)
        self._write(_ItemRecord(turn_id=turn_id, item=item) for item in batch)

    def finish_turn(self, turn_id: str, status: str, prompt: str) -> None:
        """Record that a turn ended (its items were appended as they happened), with its title
        (:func:`turn_title`: the prompt itself is in the history already, written once)."""
        prompt = escape_surrogates(turn_title(prompt))
        self.turns += 1
        self.prompts.append(prompt)
        self.updated_at = time.time()
        self._write([_TurnRecord(turn_id=turn_id, status=status, prompt=prompt, finished_at=self.updated_at)])

    def summary(self) -> ThreadSummary:
        title = self.prompts[0] if self.prompts else ""
        title = title if len(title) <= 80 else title[:77] + "..."
        return ThreadSummary(
            id=self.id,
            cwd=self.cwd,
            created_at=self.created_at,
            updated_at=self.updated_at,
            turns=self.turns,
            title=title,
        )

    def _write(self, records: Iterable[BaseModel]) -> None:
        if self._path is None:
            return
        lines = self.scrub("".join(record.model_dump_json() + "\n" for record in records))
        if not lines:
            return
        try:
            with self._path.open("a", encoding="utf-8") as stream:
                stream.write(lines)
        except OSError as exc:
            self._warn(f"cannot write {self._path} ({_why(exc)}); the rest of this thread is not saved")
            self._path = None


class ThreadStore:
    """Creates, lists and loads threads under one state directory (``None``: memory only)."""

    def __init__(self, state_dir: Path | None, *, on_warning: Callable[[str], None] | None = None) -> None:
        """``on_warning`` receives each warning (default: the ``logging`` module)."""
        self.directory = state_dir / "threads" if state_dir is not None else None
        self.warnings: list[str] = []
        self._on_warning = on_warning or _log_warning

    def create(self, cwd: str, *, model: str | None = None) -> Thread:
        """A new thread, saved under the state directory — or, if that cannot be written, in memory
        only (with a warning naming the path and the reason)."""
        record = _ThreadRecord(id=str(uuid.uuid4()), cwd=cwd, created_at=time.time(), model=model)
        path = self._new_file(record) if self.directory is not None else None
        return Thread(record, path, self._warn)

    def _new_file(self, record: _ThreadRecord) -> Path | None:
        assert self.directory is not None
        path = self.directory / f"{record.id}.jsonl"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as stream:
                stream.write(record.model_dump_json() + "\n")
        except OSError as exc:
            self._warn(
                f"cannot save threads in {self.directory} ({_why(exc)}); this thread is kept in memory "
                "only (set CODEX_LSP_STATE_DIR to a writable directory)"
            )
            return None
        return path

    def list(self) -> list[ThreadSummary]:
        """Every readable thread, most recently updated first; damaged files are reported and skipped."""
        if self.directory is None or not self.directory.is_dir():
            return []
        try:
            files = sorted(self.directory.glob("*.jsonl"))
        except OSError as exc:
            self._warn(f"cannot list {self.directory} ({_why(exc)})")
            return []
        threads = [self._load_file(path) for path in files]
        return sorted(
            (t.summary() for t in threads if t is not None), key=lambda s: s.updated_at, reverse=True
        )

    def load(self, thread_id: str) -> Thread | None:
        """The thread with that id, or ``None`` if it does not exist or cannot be read."""
        if self.directory is None or not _safe_id(thread_id):
            return None
        path = self.directory / f"{thread_id}.jsonl"
        return self._load_file(path) if path.is_file() else None

    def _load_file(self, path: Path) -> Thread | None:
        try:
            raw = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._skip(path, f"cannot be read ({exc})")
            return None
        lines = raw.split("\n")
        if lines and lines[-1]:
            self._warn(f"thread file {path.name}: the last line was cut short and is ignored")
        try:
            records = [_RECORD.validate_json(line) for line in lines[:-1] if line]
        except ValidationError as exc:
            self._skip(path, f"is damaged ({exc.errors()[0]['msg']})")
            return None
        if not records or not isinstance(records[0], _ThreadRecord):
            self._skip(path, "does not start with a thread record")
            return None
        thread = Thread(records[0], path, self._warn)
        for record in records[1:]:
            if isinstance(record, _ItemRecord):
                thread.history.append(record.item)
            elif isinstance(record, _TurnRecord):
                thread.turns += 1
                thread.prompts.append(record.prompt)
                thread.updated_at = record.finished_at
        return thread

    def _skip(self, path: Path, why: str) -> None:
        self._warn(f"thread file {path.name} {why}; skipped")

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self._on_warning(message)


def _unchanged(text: str) -> str:
    return text


def _log_warning(message: str) -> None:
    log.warning("%s", message)


def _why(exc: OSError) -> str:
    """The reason of an ``OSError`` in a few words, naming the path it concerns."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _safe_id(thread_id: str) -> bool:
    return bool(thread_id) and all(c.isalnum() or c == "-" for c in thread_id)
