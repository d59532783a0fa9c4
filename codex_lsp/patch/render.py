"""Rendering changes as patch text: unified diffs for people, apply_patch text for the model.

The unified renderer is what ``--dry-run`` and review previews show; the apply_patch renderer
produces a patch our own engine accepts without ambiguity (context grows until the chunk fits one
place), which the property tests use to check that parse → match → apply round-trips.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from codex_lsp.patch.model import ChangeKind, FileChange
from codex_lsp.patch.text import SplitText

__all__ = ["render_apply_patch_update", "render_change", "render_unified_diff"]

_NO_EOL = "\\ No newline at end of file"


def render_unified_diff(path: str, old: str | None, new: str | None, *, new_path: str | None = None) -> str:
    """A ``git diff``-style unified diff of one file (``None`` text: the file does not exist)."""
    old_lines = _lines(old)
    new_lines = _lines(new)
    source = "/dev/null" if old is None else f"a/{path}"
    target = "/dev/null" if new is None else f"b/{new_path or path}"
    out = [f"diff --git a/{path} b/{new_path or path}"]
    if old is None:
        out.append("new file mode 100644")
    elif new is None:
        out.append("deleted file mode 100644")
    elif new_path and new_path != path:
        out += [f"rename from {path}", f"rename to {new_path}"]
    keys_old = [line.rstrip("\r\n") for line in old_lines]
    keys_new = [line.rstrip("\r\n") for line in new_lines]
    groups = list(difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_grouped_opcodes(3))
    if groups:
        out += [f"--- {source}", f"+++ {target}"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += _marked(" ", old_lines, keys_old, i1, i2)
                continue
            out += _marked("-", old_lines, keys_old, i1, i2)
            out += _marked("+", new_lines, keys_new, j1, j2)
    return "\n".join(out) + "\n"


def render_change(change: FileChange) -> str:
    """The unified diff of one :class:`FileChange` (a file that is not text: git's binary form)."""
    if change.kind is ChangeKind.DELETE and change.old_text is None:
        return (
            f"diff --git a/{change.path} b/{change.path}\ndeleted file mode 100644\n"
            f"Binary files a/{change.path} and /dev/null differ\n"
        )
    if change.kind is ChangeKind.MOVE:
        return render_unified_diff(change.path, change.old_text, change.new_text, new_path=change.move_to)
    return render_unified_diff(change.path, change.old_text, change.new_text)


def render_apply_patch_update(path: str, old: str, new: str) -> str:
    """An apply_patch ``Update File`` turning ``old`` into ``new`` (both LF, ``new`` ends with ``\\n``)."""
    old_lines = SplitText(old).contents
    new_lines = SplitText(new).contents
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    changes = [op[1:] for op in matcher.get_opcodes() if op[0] != "equal"]
    out = ["*** Begin Patch", f"*** Update File: {path}"]
    floor = first = 0
    while first < len(changes):
        last = first
        lo, hi = _unique_window(old_lines, changes[first][0], changes[last][1], floor)
        while last + 1 < len(changes) and changes[last + 1][0] <= hi:
            last += 1
            lo, hi = _unique_window(old_lines, changes[first][0], changes[last][1], floor)
        (i1, _, j1, _), (_, i2, _, j2) = changes[first], changes[last]
        out.append("@@")
        out += [f" {line}" for line in old_lines[lo:i1]]
        out += [f"-{line}" for line in old_lines[i1:i2]]
        out += [f"+{line}" for line in new_lines[j1:j2]]
        out += [f" {line}" for line in old_lines[i2:hi]]
        floor, first = hi, last + 1
    if len(out) == 2:
        return ""
    out.append("*** End Patch")
    return "\n".join(out) + "\n"


def _unique_window(lines: Sequence[str], start: int, end: int, floor: int) -> tuple[int, int]:
    """Grow ``[start, end)`` with surrounding lines until it occurs once at or after ``floor``."""
    lo, hi = start, end
    while True:
        window = list(lines[lo:hi])
        hits = [
            p
            for p in range(floor, len(lines) - len(window) + 1)
            if list(lines[p : p + len(window)]) == window
        ]
        if window and hits == [lo]:
            return lo, hi
        if lo == floor and hi == len(lines):
            return lo, hi
        lo = max(floor, lo - 1)
        hi = min(len(lines), hi + 1)


def _lines(text: str | None) -> list[str]:
    if not text:
        return []
    split = SplitText(text)
    return [split.line_text(n) for n in range(len(split.contents))]


def _marked(prefix: str, lines: Sequence[str], keys: Sequence[str], start: int, end: int) -> list[str]:
    out: list[str] = []
    for number in range(start, end):
        out.append(prefix + keys[number])
        if not lines[number].endswith("\n"):
            out.append(_NO_EOL)
    return out


def _range(start: int, end: int) -> str:
    count = end - start
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"
