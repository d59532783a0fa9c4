"""Parser for the Codex ``apply_patch`` format.

Grammar (as the Codex tool declares it; markers are compared after trimming surrounding spaces)::

    patch       := "*** Begin Patch" NL hunk+ "*** End Patch" NL?
    hunk        := add | delete | update
    add         := "*** Add File: " path NL ("+" line NL)*
    delete      := "*** Delete File: " path NL
    update      := "*** Update File: " path NL ("*** Move to: " path NL)? chunk+
    chunk       := context* change_line+ ("*** End of File" NL)?
    context     := ("@@" | "@@ " text) NL      -- optional before the first chunk only
    change_line := (" " | "+" | "-") line NL | NL   -- an empty line is an empty context line

Several consecutive ``@@ text`` lines narrow the search step by step (class, then method): newer
Codex parsers accept this and models emit it. Two parse modes exist because models do not always
send a bare patch: *strict* checks the Begin/End markers; *lenient* additionally unwraps a heredoc
(``<<'EOF'`` … ``EOF``) that a model copied from a shell invocation. Error messages and their line
numbers follow the reference tool's so a model trained on them understands ours. What models send
beyond both modes (a markdown fence, prose, a missing end marker, unified headers) is read by
:func:`codex_lsp.patch.parse_patch` where one reading exists; this parser stays Codex's.

One refusal is ours alone: an added line holding a NUL character. The engine refuses files with NUL
bytes as binary, so writing one would leave a file that no later patch could touch.
"""

from __future__ import annotations

import itertools

from codex_lsp.patch.errors import PatchParseError, clip
from codex_lsp.patch.model import AddFile, Chunk, DeleteFile, Hunk, Patch, UpdateFile

__all__ = ["parse_apply_patch", "split_patch_lines"]

BEGIN_PATCH = "*** Begin Patch"
END_PATCH = "*** End Patch"
ADD_FILE = "*** Add File: "
DELETE_FILE = "*** Delete File: "
UPDATE_FILE = "*** Update File: "
MOVE_TO = "*** Move to: "
END_OF_FILE = "*** End of File"
CONTEXT_MARKER = "@@"
CONTEXT_PREFIX = "@@ "
HEREDOC_OPENERS = ("<<EOF", "<<'EOF'", '<<"EOF"')

_INVALID_HEADER = (
    "'{line}' is not a valid hunk header. Valid hunk headers: '*** Add File: {{path}}', "
    "'*** Delete File: {{path}}', '*** Update File: {{path}}'"
)
_UNEXPECTED_LINE = (
    "Unexpected line found in update hunk: '{line}'. Every line should start with ' ' "
    "(context line), '+' (added line), or '-' (removed line)"
)
_NO_LINES = "Update hunk does not contain any lines"
NUL_ADDED = (
    "an added line contains a NUL character (\\0); text files cannot hold one and binary content "
    "cannot be patched, so leave it out"
)


def split_patch_lines(text: str) -> list[str]:
    """Split on ``\\n`` and drop one trailing ``\\r`` per line (never on other Unicode breaks)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def parse_apply_patch(text: str) -> Patch:
    """Parse ``text`` in the apply_patch format, unwrapping a heredoc if needed."""
    lines = split_patch_lines(text.strip())
    body = _body_between_markers(lines)
    hunks: list[Hunk] = []
    at = 0
    while at < len(body):
        hunk, used = _parse_hunk(body, at)
        hunks.append(hunk)
        at += used
    if "\0" in text:  # one C-speed scan; the lines are looked at only when there is one
        _refuse_added_nul(body)
    return Patch(tuple(hunks))


def _refuse_added_nul(body: list[str]) -> None:
    """Raise for the first ``+`` line with a NUL (other lines may hold one: they never match)."""
    for at, line in enumerate(body):
        if line.startswith("+") and "\0" in line:
            raise PatchParseError(NUL_ADDED, at + 2)


def _body_between_markers(lines: list[str]) -> list[str]:
    """Return the lines between Begin/End, trying the heredoc-wrapped form when strict fails."""
    error = _boundary_error(lines)
    if error is None:
        return lines[1:-1]
    if len(lines) >= 4 and lines[0] in HEREDOC_OPENERS and lines[-1].endswith("EOF"):
        inner = lines[1:-1]
        inner_error = _boundary_error(inner)
        if inner_error is None:
            return inner[1:-1]
        raise PatchParseError(inner_error)
    raise PatchParseError(error)


def _boundary_error(lines: list[str]) -> str | None:
    if not lines or lines[0].strip() != BEGIN_PATCH:
        return f"The first line of the patch must be '{BEGIN_PATCH}'"
    if len(lines) < 2 or lines[-1].strip() != END_PATCH:
        return f"The last line of the patch must be '{END_PATCH}'"
    return None


def _parse_hunk(lines: list[str], at: int) -> tuple[Hunk, int]:
    """Parse the hunk starting at ``lines[at]``; return it and how many lines it used.

    Parsing walks indices into one list: slicing the remaining lines per hunk or chunk would copy
    the rest of the patch every time and make big patches quadratic.
    """
    header = lines[at].strip()
    line_number = at + 2
    if header.startswith(ADD_FILE):
        return _parse_add(header.removeprefix(ADD_FILE), lines, at)
    if header.startswith(DELETE_FILE):
        return DeleteFile(header.removeprefix(DELETE_FILE)), 1
    if header.startswith(UPDATE_FILE):
        return _parse_update(header.removeprefix(UPDATE_FILE), lines, at)
    raise PatchParseError(_INVALID_HEADER.format(line=clip(header)), line_number)


def _parse_add(path: str, lines: list[str], at: int) -> tuple[Hunk, int]:
    contents: list[str] = []
    for line in itertools.islice(lines, at + 1, None):
        if not line.startswith("+"):
            break
        contents.append(line[1:] + "\n")
    return AddFile(path, "".join(contents)), 1 + len(contents)


def _parse_update(path: str, lines: list[str], at: int) -> tuple[Hunk, int]:
    end = len(lines)
    cursor = at + 1
    move_to: str | None = None
    if cursor < end and lines[cursor].startswith(MOVE_TO):
        move_to = lines[cursor].removeprefix(MOVE_TO)
        cursor += 1
    chunks: list[Chunk] = []
    while cursor < end:
        line = lines[cursor]
        if not line.strip():
            cursor += 1
            continue
        if line.startswith("***"):
            break
        chunk, used = _parse_chunk(lines, cursor, first=not chunks)
        chunks.append(chunk)
        cursor += used
    if not chunks:
        raise PatchParseError(f"Update file hunk for path '{clip(path)}' is empty", at + 2)
    return UpdateFile(path, tuple(chunks), move_to), cursor - at


def _parse_chunk(lines: list[str], at: int, *, first: bool) -> tuple[Chunk, int]:
    """Parse one chunk at ``lines[at]``: its ``@@`` context lines, then change lines."""
    line_number = at + 2
    end = len(lines)
    contexts: list[str] = []
    cursor = at
    while cursor < end and (lines[cursor] == CONTEXT_MARKER or lines[cursor].startswith(CONTEXT_PREFIX)):
        if lines[cursor] != CONTEXT_MARKER:
            contexts.append(lines[cursor].removeprefix(CONTEXT_PREFIX))
        cursor += 1
    if cursor == at and not first:
        raise PatchParseError(
            f"Expected update hunk to start with a @@ context marker, got: '{clip(lines[at])}'", line_number
        )
    if cursor >= end:
        raise PatchParseError(_NO_LINES, line_number + cursor - at)
    body_start = cursor
    old: list[str] = []
    new: list[str] = []
    kinds: list[str] = []
    end_of_file = False
    while cursor < end:
        line = lines[cursor]
        if not line:
            old.append("")
            new.append("")
            kinds.append(" ")
        elif line[0] == " ":
            old.append(line[1:])
            new.append(line[1:])
            kinds.append(" ")
        elif line[0] == "+":
            new.append(line[1:])
            kinds.append("+")
        elif line[0] == "-":
            old.append(line[1:])
            kinds.append("-")
        elif line == END_OF_FILE:
            if cursor == body_start:
                raise PatchParseError(_NO_LINES, line_number + cursor - at)
            end_of_file = True
            cursor += 1
            break
        elif cursor == body_start:
            raise PatchParseError(_UNEXPECTED_LINE.format(line=clip(line)), line_number + cursor - at)
        else:
            break
        cursor += 1
    chunk = Chunk(tuple(old), tuple(new), tuple(contexts), end_of_file, kinds="".join(kinds))
    return chunk, cursor - at
