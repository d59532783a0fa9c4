"""Which file a patch path names when a model wrote it git's way or absolute.

The engine resolves every path of a patch through one :class:`PathReader`, so every host gets the
same two repairs, each only where the path keeps one reading, and each told to the model
(:attr:`PathReader.notes`):

- git's ``a/`` and ``b/`` prefixes (``*** Update File: a/src/app.py``) are dropped from a path
  that must exist (an update, a deletion) when the stripped path names a file and the prefixed one
  does not. When both name a file, the path is read as written, unless another path of the patch
  needed its prefix dropped: then both readings are likely and the path is refused, naming the
  two files. A path the patch creates (an addition, a move's destination) names no file either
  way, so it is read as written, and refused when other paths of the patch carry git's prefixes
  (``b/new.py`` then means ``new.py`` as likely as a new folder ``b``). A path is never given a
  prefix it does not have.
- an absolute path is resolved by the source, which reads one inside the workspace as the
  relative path it names (confined like any other; one outside stays refused); the reader notes
  it.

Files are looked up as the patch finds them: a path an earlier or later hunk of the same patch
adds or moves to counts as existing, so ``Add File: a/x.py`` then ``Update File: a/x.py`` edits
the new file, never an ``x.py`` beside it.
"""

from __future__ import annotations

import os

from codex_lsp.patch.errors import PatchError, PatchPathError, clip
from codex_lsp.patch.model import AddFile, DeleteFile, Patch
from codex_lsp.patch.source import FileSource, PathKind

__all__ = ["PathReader"]

_GIT_PREFIXES = ("a/", "b/")
_SHOWN = 3


class PathReader:
    """Resolves the raw paths of one patch against one source, with the repairs above."""

    __slots__ = ("_absolute", "_read", "_refused", "_source", "_stripped")

    def __init__(self, patch: Patch, source: FileSource) -> None:
        self._source = source
        self._read: dict[str, str] = {}
        self._refused: dict[str, str] = {}
        self._stripped: dict[str, str] = {}
        self._absolute: dict[str, str] = {}
        if any(raw.startswith(_GIT_PREFIXES) for raw in _raw_paths(patch)):
            self._decide(patch)

    def resolve(self, raw: str) -> str:
        """The workspace path ``raw`` names; raises :class:`PatchPathError` as the source does, or
        when ``raw`` has two readings."""
        refused = self._refused.get(raw)
        if refused is not None:
            raise PatchPathError(refused)
        path = self._source.resolve(self._read.get(raw, raw))
        if raw in self._read:
            self._stripped.setdefault(raw, path)
        elif os.path.isabs(raw):
            self._absolute.setdefault(raw, path)
        return path

    @property
    def notes(self) -> tuple[str, ...]:
        """One line per kind of repair made so far, for the model."""
        notes: list[str] = []
        if self._stripped:
            notes.append(
                f"note: read {_pairs(self._stripped)} without git's a/ and b/ prefixes; "
                "write paths relative to the workspace root, without them"
            )
        if self._absolute:
            notes.append(f"note: read {_pairs(self._absolute)}; write paths relative to the workspace root")
        return tuple(notes)

    def _decide(self, patch: Patch) -> None:
        existing: dict[str, None] = {}
        created: dict[str, None] = {}
        for hunk in patch.hunks:
            if isinstance(hunk, AddFile):
                created[hunk.path] = None
            else:
                existing[hunk.path] = None
                if not isinstance(hunk, DeleteFile) and hunk.move_to is not None:
                    created[hunk.move_to] = None
        both: list[str] = []
        for raw in existing:
            if not raw.startswith(_GIT_PREFIXES):
                continue
            literal = raw in created or self._is_file(raw)
            stripped = raw[2:] in created or self._is_file(raw[2:])
            if stripped and not literal:
                self._read[raw] = raw[2:]
            elif stripped:
                both.append(raw)
        if not self._read:
            return
        for raw in both:
            self._refused[raw] = _two_readings(raw, f"the file '{clip(raw)}' (both files exist)")
        for raw in created:
            if raw.startswith(_GIT_PREFIXES) and raw not in existing:
                self._refused[raw] = _two_readings(raw, f"a new file '{clip(raw)}'")

    def _is_file(self, raw: str) -> bool:
        try:
            return self._source.kind(self._source.resolve(raw)) is PathKind.FILE
        except PatchError:
            return False


def _raw_paths(patch: Patch) -> list[str]:
    paths: list[str] = []
    for hunk in patch.hunks:
        paths.append(hunk.path)
        if not isinstance(hunk, AddFile | DeleteFile) and hunk.move_to is not None:
            paths.append(hunk.move_to)
    return paths


def _two_readings(raw: str, literal: str) -> str:
    return (
        f"'{clip(raw)}' has two readings: {literal}, or '{clip(raw[2:])}' with git's '{raw[:2]}' prefix "
        "dropped, as other paths of this patch need it; write every path relative to the workspace "
        "root, without git's a/ and b/ prefixes"
    )


def _pairs(read: dict[str, str]) -> str:
    shown = [f"`{clip(raw, 80)}` as `{clip(path, 80)}`" for raw, path in list(read.items())[:_SHOWN]]
    more = len(read) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
