"""Unified-diff headers inside an apply_patch patch, read as a bare ``@@`` and a line hint.

Models that know ``git diff`` better than apply_patch write ``@@ -12,3 +12,4 @@`` where the
format wants a bare ``@@``, often with the function ``git diff`` shows after it. The grammar reads
the line as an ``@@`` context line whose text is ``-12,3 +12,4 @@``, which no file holds, so
Codex fails to find it. :func:`read_headers` reads it as the model meant it:

- the old start becomes the chunk's ``hint_line``, and the header is kept (``Chunk.header``).
  The chunk is still found by its lines alone; the hint only picks among places where they all
  fit (the nearest; a tie is refused), so it never moves an edit where the lines do not fit;
- the text after the header (``def f():``) is an ``@@`` context line, as the format writes it;
- two headers for one chunk are refused here. The engine refuses the two readings it can only see
  in the file (:mod:`codex_lsp.patch.update`): a chunk of added lines only, which apply_patch puts
  at the end of the file, under a header naming another line; and a file that holds the line
  ``-12,3 +12,4 @@``, where the grammar's own reading has a place too.
"""

from __future__ import annotations

import re

from codex_lsp.patch.errors import PatchParseError, clip
from codex_lsp.patch.model import Chunk, Patch, UpdateFile
from codex_lsp.patch.parser import CONTEXT_PREFIX

__all__ = ["read_headers"]

_HEADER = r"-(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(?:[ \t]+(.*?))?[ \t]*"
"""A unified header after ``@@ ``; compiled (and cached by :mod:`re`) on first use, off the start-up path."""


def read_headers(patch: Patch) -> Patch:
    """``patch`` with every unified header of its chunks read as a hint, and a note saying so."""
    if not any(_has_header(hunk) for hunk in patch.hunks):
        return patch
    headers: list[str] = []
    hunks = tuple(_read_hunk(hunk, headers) if isinstance(hunk, UpdateFile) else hunk for hunk in patch.hunks)
    return Patch(hunks, (*patch.notes, _note(headers)))


def _has_header(hunk: object) -> bool:
    return isinstance(hunk, UpdateFile) and any(
        context[:1] == "-" and re.fullmatch(_HEADER, context)
        for chunk in hunk.chunks
        for context in chunk.contexts
    )


def _read_hunk(hunk: UpdateFile, headers: list[str]) -> UpdateFile:
    chunks = tuple(_read(hunk, number, chunk, headers) for number, chunk in enumerate(hunk.chunks, 1))
    return hunk._replace(chunks=chunks)


def _read(hunk: UpdateFile, number: int, chunk: Chunk, headers: list[str]) -> Chunk:
    found = [(at, match) for at, text in enumerate(chunk.contexts) if (match := re.fullmatch(_HEADER, text))]
    if not found:
        return chunk
    if len(found) > 1:
        shown = " and ".join(f"'{CONTEXT_PREFIX}{clip(chunk.contexts[at], 60)}'" for at, _ in found[:2])
        raise PatchParseError(
            f"chunk {number} of the update to {clip(hunk.path)} has two unified headers ({shown}); "
            "a chunk starts with one bare '@@' line"
        )
    ((at, match),) = found
    start, count = int(match[1]), int(match[2] or "1")
    header = CONTEXT_PREFIX + chunk.contexts[at].rstrip()
    headers.append(header)
    section = (match[5],) if match[5] else ()
    contexts = (*chunk.contexts[:at], *section, *chunk.contexts[at + 1 :])
    hint = start if count == 0 else max(start - 1, 0)
    return chunk._replace(contexts=contexts, hint_line=hint, header=header)


def _note(headers: list[str]) -> str:
    first = f"`{clip(headers[0], 80)}`"
    if len(headers) == 1:
        what = f"the unified header {first} as a bare `@@` with a line hint"
    else:
        what = f"{len(headers)} unified headers ({first}, …) as bare `@@` lines with line hints"
    return f"note: read {what}; write a bare `@@` next time"
