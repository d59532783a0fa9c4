"""Finding the one patch in what a model sent: a markdown fence, a heredoc, prose, a missing end.

Models behind OpenAI-compatible servers seldom send a bare patch. They wrap it in a fence
(```` ```diff ````), copy the shell form of Codex's prompt (``apply_patch <<'EOF'`` … ``EOF``),
explain it before and after, or stop without ``*** End Patch``. :func:`unwrap` reads such a text
when it holds exactly one patch and says what it took off (:attr:`Envelope.notes`, written for
the model); a text with two readings is refused, naming them. The text is scanned once:

- a *fence* is a line at column 0 of three or more backticks or tildes (an info string may
  follow), closed by the next such line of the same character, at least as long, without one. A
  patch's own lines never start at column 0 with a backtick or a tilde (they start with ``***``,
  ``@@``, a space, ``+`` or ``-``), so a fence quoted inside a patch (a context line
  `` ```python``) is no fence;
- a *heredoc* is a line ``[$ ][apply_patch] <<[-]WORD`` (``WORD`` bare or quoted) up to the line
  ``WORD``. Its body is taken literally, as Codex takes it (no ``$`` expansion). Codex's engine
  accepts a bare ``<<EOF``, ``<<'EOF'`` or ``<<"EOF"`` as the first line and a last line ending in
  ``EOF``; any word, ``<<-``, the ``apply_patch`` command before it and text around it are ours. A
  longer command ending in ``apply_patch`` (``cd src && apply_patch <<'EOF'``) is refused: it would
  read the paths from another folder. Another command's heredoc (``cat > fix.patch <<'EOF'``) is
  no container, only text around the patch;
- a *patch* runs from a line ``*** Begin Patch`` (at column 0: a diff's context line quoting the
  marker starts with a space) through its hunks to ``*** End Patch``. The hunks' grammar says where
  it ends, so an end marker quoted as a context line does not end it, and a padded end marker ends
  it only as the last line, as Codex reads one;
- a *unified diff* is a fenced block, a heredoc or the rest of the text with a ``diff --git`` line
  or a ``---``/``+++`` pair.

Exactly one patch or diff must be found. Two patches, two fenced diffs, a patch and a diff: each is
a reading, and the text is refused. A patch without ``*** End Patch`` is read only when nothing
follows it but the end of its fence, its heredoc or the text; with more text after it, where the
patch ends would be a guess.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from codex_lsp.patch.errors import PatchParseError, clip
from codex_lsp.patch.parser import (
    ADD_FILE,
    BEGIN_PATCH,
    CONTEXT_MARKER,
    CONTEXT_PREFIX,
    DELETE_FILE,
    END_OF_FILE,
    END_PATCH,
    MOVE_TO,
    UPDATE_FILE,
    split_patch_lines,
)

__all__ = ["Envelope", "refuse_several", "unwrap"]

_FENCE = re.compile(r"(`{3,}|~{3,})[ \t]*(.*?)[ \t]*")
_HEREDOC = re.compile(r"(?P<command>.*?)<<-?[ \t]*(?P<quote>['\"]?)(?P<word>[A-Za-z_][\w.-]*)(?P=quote)")
_FENCE_CHARACTERS = ("```", "~~~")
_PATCH_COMMANDS = ("apply_patch", "applypatch")
_PROMPT = "$ "


class Envelope(NamedTuple):
    """The one patch found in a text, and what was taken off to find it."""

    text: str
    """The patch (or unified diff) alone."""
    unified: bool
    """Whether it is a unified diff rather than an apply_patch patch."""
    notes: tuple[str, ...]
    """One line per repair, for the model: what was read, and how to send it next time."""
    first_line: int
    """0-based line of the input where :attr:`text` starts (parse errors count from there)."""


class _Container:
    """A fence or heredoc around part of the text: lines ``start`` (the opener) to ``end`` (the closer)."""

    __slots__ = ("command", "end", "fence", "opener", "start", "word")

    def __init__(self, start: int, opener: str, fence: str = "", word: str = "", command: str = "") -> None:
        self.start = start
        self.end = -1
        self.opener = opener
        self.fence = fence
        self.word = word
        self.command = command

    def closed_by(self, line: str) -> bool:
        if not self.fence:
            return line.strip() == self.word
        if not line.startswith(_FENCE_CHARACTERS):
            return False
        match = _FENCE.fullmatch(line)
        return (
            match is not None
            and not match[2]
            and match[1][0] == self.fence[0]
            and len(match[1]) >= len(self.fence)
        )

    def describe(self) -> str:
        if self.fence:
            return f"a {clip(self.opener, 60)} fence"
        return f"the heredoc `{clip(self.opener, 60)}`"


class _Found(NamedTuple):
    """One reading: a patch at lines ``[start, end)``, or a unified diff starting at ``start``."""

    start: int
    end: int
    ended: bool
    unified: bool
    inside: tuple[_Container, ...]


def refuse_several(text: str) -> None:
    """Raise when ``text`` holds more than one patch or diff (for a text the grammar refused)."""
    found = _scan(split_patch_lines(text))
    if len(found) > 1:
        raise PatchParseError(_several(found))


def unwrap(text: str) -> Envelope | None:
    """The one patch in ``text``; ``None`` when there is none; raises when there are several.

    Also raises for a patch without ``*** End Patch`` that text follows, and for a heredoc fed to
    another command than ``apply_patch``.
    """
    lines = split_patch_lines(text)
    found = _scan(lines)
    if not found:
        return None
    if len(found) > 1:
        raise PatchParseError(_several(found))
    (one,) = found
    for container in one.inside:
        if container.command:
            raise PatchParseError(
                f"the patch is the input of the shell command `{clip(container.command, 80)}`, which would "
                "read it from another folder or pass it on; send the patch alone, with paths relative to "
                "the workspace root"
            )
    if one.unified:
        return _unified(text, lines, one)
    return _patch(lines, one)


def _patch(lines: list[str], one: _Found) -> Envelope:
    limit = one.inside[-1].end if one.inside else len(lines)
    following = next((at for at in range(one.end, limit) if lines[at].strip()), limit)
    if not one.ended and following < limit:
        raise PatchParseError(
            f"the patch that starts on line {one.start + 1} has no '{END_PATCH}' line, and text follows it "
            f"(line {following + 1}: '{clip(lines[following].strip(), 80)}'), so where it ends is a guess; "
            f"end the patch with '{END_PATCH}'"
        )
    body = lines[one.start : one.end]
    notes = [*_container_notes(one.inside), *_prose_note(lines, one)]
    if not one.ended:
        while body and not body[-1]:  # the text's own final newlines, not empty context lines
            body.pop()
        body.append(END_PATCH)
        notes.append(f"note: added the missing `{END_PATCH}` line at the end; end every patch with it")
    return Envelope("\n".join(body) + "\n", False, tuple(notes), one.start)


def _unified(text: str, lines: list[str], one: _Found) -> Envelope:
    if not one.inside:  # the whole text, unchanged: unidiff skips what is not part of a diff
        return Envelope(text, True, (), 0)
    container = one.inside[-1]
    start = container.start + 1
    body = lines[start : container.end]
    notes = [*_container_notes(one.inside), *_prose_note(lines, one._replace(start=start, end=container.end))]
    return Envelope("\n".join(body) + "\n", True, tuple(notes), start)


def _container_notes(inside: tuple[_Container, ...]) -> list[str]:
    return [
        f"note: read the patch inside {container.describe()}; send the patch alone, "
        + ("without a fence" if container.fence else "not as a shell command")
        for container in inside
    ]


def _prose_note(lines: list[str], one: _Found) -> list[str]:
    """A note when text other than the patch and its containers' delimiter lines was ignored."""
    delimiters = {at for c in one.inside for at in (c.start, c.end)}
    before = any(lines[at].strip() and at not in delimiters for at in range(one.start))
    after = any(lines[at].strip() and at not in delimiters for at in range(one.end, len(lines)))
    if not (before or after):
        return []
    where = "before and after" if before and after else "before" if before else "after"
    return [f"note: ignored the text {where} the patch; send the patch alone"]


def _several(found: list[_Found]) -> str:
    readings = []
    for item in found:
        what = (
            f"a unified diff from line {item.start + 1}"
            if item.unified
            else f"lines {item.start + 1}-{item.end}"
        )
        readings.append(what + (f" (inside {item.inside[-1].describe()})" if item.inside else ""))
    return (
        f"the text holds {len(found)} patches, and which one is meant is a guess: {'; '.join(readings)}. "
        "Send one patch with every change in it, and nothing else"
    )


def _scan(lines: list[str]) -> list[_Found]:
    """Every patch and unified diff in ``lines``, with the fences and heredocs around each."""
    found: list[_Found] = []
    diffs: dict[int, int] = {}  # id of the innermost container (0: none) → its diff's index in found
    stack: list[_Container] = []
    at, total = 0, len(lines)
    while at < total:
        line = lines[at]
        if line.rstrip() == BEGIN_PATCH:
            end, ended = _extent(lines, at)
            found.append(_Found(at, end, ended, False, tuple(stack)))
            at = end
            continue
        if stack and _close(stack, line, at):
            pass
        elif (not stack or stack[-1].fence) and "<<" in line and (heredoc := _heredoc(line, at)):
            stack.append(heredoc)
        elif not stack and line.startswith(_FENCE_CHARACTERS) and (fence := _FENCE.fullmatch(line)):
            stack.append(_Container(at, line.strip(), fence=fence[1]))
        elif _diff_header(lines, at):
            key = id(stack[-1]) if stack else 0
            if key not in diffs:
                diffs[key] = len(found)
                found.append(_Found(at, at + 1, True, True, tuple(stack)))
        at += 1
    for container in stack:
        container.end = total
    return found


def _close(stack: list[_Container], line: str, at: int) -> bool:
    """Close the innermost container ``line`` closes; a fence's end also ends a heredoc left open in it."""
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth].closed_by(line):
            for closed in stack[depth:]:
                closed.end = at
            del stack[depth:]
            return True
    return False


def _heredoc(line: str, at: int) -> _Container | None:
    """A heredoc opener that feeds ``apply_patch`` (or a bare one); another command's is marked."""
    stripped = line.strip()
    match = _HEREDOC.fullmatch(stripped)
    if match is None:
        return None
    command = match["command"].strip().removeprefix(_PROMPT).strip()
    if command in ("", *_PATCH_COMMANDS):
        return _Container(at, stripped, word=match["word"])
    if command.endswith(_PATCH_COMMANDS):  # `cd src && apply_patch <<'EOF'`: refused if it holds the patch
        return _Container(at, stripped, word=match["word"], command=command)
    return None


def _diff_header(lines: list[str], at: int) -> bool:
    line = lines[at]
    if line.startswith("diff --git "):
        return True
    return line.startswith("--- ") and at + 1 < len(lines) and lines[at + 1].startswith("+++ ")


def _extent(lines: list[str], begin: int) -> tuple[int, bool]:
    """Where the patch starting at ``lines[begin]`` ends (exclusive), and whether its end marker is there.

    The hunks are walked as the parser reads them; whatever cannot continue the patch ends it.
    """
    at, total = begin + 1, len(lines)
    while at < total:
        header = lines[at].strip()
        if header == END_PATCH:
            return at + 1, True
        at += 1
        if header.startswith(ADD_FILE):
            while at < total and lines[at].startswith("+"):
                at += 1
        elif header.startswith(UPDATE_FILE):
            if at < total and lines[at].startswith(MOVE_TO):
                at += 1
            while at < total and _chunk_line(lines[at]):
                at += 1
        elif not header.startswith(DELETE_FILE):
            at -= 1
            break
    last = at - 1
    while last > begin and not lines[last].strip():
        last -= 1
    if last > begin and lines[last].strip() == END_PATCH:  # a padded end marker, as the last line
        return last + 1, True
    return at, False


def _chunk_line(line: str) -> bool:
    """Whether ``line`` can belong to an update hunk's chunks (blank lines between them included)."""
    if not line.strip() or line[0] in " +-":
        return True
    return line in (CONTEXT_MARKER, END_OF_FILE) or line.startswith(CONTEXT_PREFIX)
