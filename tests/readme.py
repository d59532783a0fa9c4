"""Reading README.md the way its readers do: a section under a heading, and the fenced code blocks in it.

The README's configuration snippets are checked by tests (tests/test_readme_snippets.py parses them;
tests/editors/test_emacs.py runs the Emacs one in a real Emacs), so what the README shows is what works.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["README", "fenced_blocks", "section"]

README = Path(__file__).resolve().parents[1] / "README.md"
_HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def section(title: str, text: str | None = None) -> str:
    """The text under the heading ``title`` (any level), up to the next heading of that level or above."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines(keepends=True)
    start = level = None
    in_code = False
    for number, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match is None:
            continue
        depth = len(match.group(1))
        if start is None and match.group(2) == title:
            start, level = number + 1, depth
        elif start is not None and level is not None and depth <= level:
            return "".join(lines[start:number])
    if start is None:
        raise LookupError(f"README.md has no heading {title!r}")
    return "".join(lines[start:])


def fenced_blocks(text: str, language: str) -> list[str]:
    """The bodies of the ```language blocks in ``text``, in order."""
    return [body for lang, body in _FENCE.findall(text) if lang == language]
