"""Differential test: on random files and random edits our engine and Codex's own agree byte for byte.

The patch is rendered so that every chunk fits one place only (our stricter rule then agrees with
Codex's first-match rule), and its context lines are optionally roughened — trailing spaces,
different indentation, typographic quotes and dashes in the file — so the fuzzy passes are
exercised on both sides too. ``CODEX_LSP_FUZZ_EXAMPLES`` raises the example count for a deeper run.

Differences by design, each checked to still be one:

- a chunk that fits several places at the strictest pass where it fits at all: Codex edits the first,
  we refuse, naming the places (``AMBIGUOUS``). Each such refusal is checked to be that one: told the
  first place we name, we write what Codex wrote. Any other refusal, or an ambiguity Codex does not
  resolve that way (a pass order of ours differing from Codex's), fails;
- the wrappings models put around a patch (``WRAPPINGS``: a markdown fence, prose, a heredoc fed to
  ``apply_patch``, a missing ``*** End Patch``, unified ``@@ -a,b +c,d @@`` headers): Codex refuses
  them, we read the one patch inside and give the bare patch's result. Codex's own heredoc form
  (``<<'EOF'`` … ``EOF``) is read alike by both. Texts with two readings are refused by both (the
  scenarios 108-114 show it), so they are no difference.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from codex_lsp.patch import (
    Patch,
    PatchError,
    UpdateFile,
    compute_changes,
    parse_apply_patch,
    parse_patch,
    split_hunks,
)
from codex_lsp.patch.render import render_apply_patch_update
from codex_lsp.testing import codex_binary
from tests.patch.memory import MemorySource
from tests.patch.test_engine import PASS_ORDER

LINE = st.text(alphabet=st.sampled_from("ab -'\""), max_size=5)
LINES = st.lists(LINE, min_size=1, max_size=15)
TYPOGRAPHIC = str.maketrans({"-": "\u2013", "'": "\u2019", '"': "\u201c"})


def _roughen(patch: str, mode: int) -> str:
    """Make the patch's context lines differ from the file the way models' patches do."""
    if mode == 0:
        return patch

    def rough(line: str) -> str:
        if not line.startswith(" "):
            return line
        return line + "  " if mode == 1 else " " + line.strip()

    return "\n".join(rough(line) for line in patch.split("\n"))


def _codex(root: Path, patch: str) -> bytes | None:
    done = subprocess.run(
        [str(codex_binary()), "--codex-run-as-apply-patch", patch],
        cwd=root,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return (root / "f.txt").read_bytes() if done.returncode == 0 else None


@given(LINES, LINES, st.integers(0, 2), st.booleans())
@settings(max_examples=int(os.environ.get("CODEX_LSP_FUZZ_EXAMPLES", "150")), deadline=None)
def test_codex_and_codex_lsp_agree(
    old_lines: list[str], new_lines: list[str], mode: int, typographic: bool
) -> None:
    file_lines = [line.translate(TYPOGRAPHIC) for line in old_lines] if typographic else old_lines
    old = "\n".join(file_lines) + "\n"
    patch = render_apply_patch_update("f.txt", "\n".join(old_lines) + "\n", "\n".join(new_lines) + "\n")
    if not patch:
        return
    patch = _roughen(patch, mode)
    refusal = ""
    try:
        ours: bytes | None = _ours(parse_apply_patch(patch), old)
    except PatchError as exc:
        ours, refusal = None, str(exc)
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "f.txt").write_text(old, encoding="utf-8")
        theirs = _codex(root, patch)
    if ours is None and theirs is not None:
        # Roughening can make a chunk fit twice at the pass that finds it: Codex takes the first
        # place, we refuse — the documented deliberate difference, and only that one.
        assert _at_first_places(patch, old, refusal) == theirs, f"patch:\n{patch}\nfile:\n{old!r}"
        event("ambiguous: Codex took the first place")
        return
    assert ours == theirs, f"patch:\n{patch}\nfile:\n{old!r}"


AMBIGUOUS = re.compile(
    r"The expected lines of chunk (\d+) of \d+ in f\.txt are ambiguous: "
    r"they match at lines (\d+)(?:, \d+)* and \d+( more)?\. "
)
"""Our refusal of a chunk that fits several places (two at least, named from the first)."""


def _ours(patch: Patch, old: str) -> bytes:
    changes = compute_changes(patch, MemorySource({"f.txt": old})).changes
    return (changes[0].new_text or "").encode() if changes else old.encode()


def _at_first_places(patch: str, old: str, refusal: str) -> bytes:
    """What we write when each chunk we refuse as ambiguous is told the first place we name (its line
    number), which is what Codex's first-match rule does. Any other refusal fails the test."""
    parsed = parse_apply_patch(patch)
    (update,) = parsed.hunks
    assert isinstance(update, UpdateFile)
    chunks = list(update.chunks)
    while True:
        found = AMBIGUOUS.search(refusal)
        assert found, f"a refusal where Codex applies the patch, not the documented one: {refusal}"
        number, line = int(found[1]) - 1, int(found[2]) - 1
        assert chunks[number].hint_line is None, f"told the place, and still refused: {refusal}"
        chunks[number] = chunks[number]._replace(hint_line=line)
        try:
            return _ours(parsed._replace(hunks=(update._replace(chunks=tuple(chunks)),)), old)
        except PatchError as exc:
            refusal = str(exc)


def test_codex_checks_the_passes_in_our_order() -> None:
    """Where the stricter pass fits one place and the looser one two, Codex edits the stricter place too
    (``PASS_ORDER``; a pass order of ours differing from Codex's would refuse, or move, these edits)."""
    for old, line, expected in PASS_ORDER.values():
        patch = f"*** Begin Patch\n*** Update File: f.txt\n@@\n-{line}\n+VALUE\n*** End Patch\n"
        with tempfile.TemporaryDirectory() as name:
            root = Path(name)
            (root / "f.txt").write_text(old, encoding="utf-8")
            assert _codex(root, patch) == expected.encode(), patch
        assert _ours(parse_apply_patch(patch), old) == expected.encode(), patch


def _hunked_patch(old: str, new: str, *, headers: bool = False) -> str:
    """An apply_patch Update of ``f.txt`` from the hunks ``git diff`` would cut (each fits one place)."""
    out = ["*** Begin Patch", "*** Update File: f.txt"]
    for hunk in split_hunks(old, new):
        out += [hunk.header if headers else "@@", *hunk.diff_lines()]
    return "\n".join([*out, "*** End Patch"]) + "\n"


CODEX_READS = "Codex reads it too"
WRAPPINGS: dict[str, tuple[Callable[[str, str], str], str]] = {
    "heredoc, Codex's form": (lambda old, new: f"<<'EOF'\n{_hunked_patch(old, new)}EOF\n", CODEX_READS),
    "markdown fence": (
        lambda old, new: f"```diff\n{_hunked_patch(old, new)}```\n",
        "Codex wants '*** Begin Patch' on the first line; we read the one fenced patch",
    ),
    "prose around": (
        lambda old, new: f"Here is the patch:\n\n{_hunked_patch(old, new)}\nThis fixes it.\n",
        "Codex wants the markers on the first and last lines; we read the one patch among the prose",
    ),
    "apply_patch heredoc": (
        lambda old, new: f"apply_patch <<'PATCH'\n{_hunked_patch(old, new)}PATCH\n",
        "Codex's parser takes only a bare <<EOF, <<'EOF' or <<\"EOF\" line; we read apply_patch's heredoc",
    ),
    "missing End Patch": (
        lambda old, new: _hunked_patch(old, new).removesuffix("*** End Patch\n"),
        "Codex wants '*** End Patch' last; we add it when nothing follows the patch",
    ),
    "unified headers": (
        lambda old, new: _hunked_patch(old, new, headers=True),
        "Codex reads '@@ -a,b +c,d @@' as context '-a,b +c,d @@' and finds no such line; we read a line hint",
    ),
}
"""How models wrap a patch, and whether Codex reads each: where it does not, the reason we do."""


@given(LINES, LINES, st.sampled_from(sorted(WRAPPINGS)))
@settings(max_examples=int(os.environ.get("CODEX_LSP_FUZZ_EXAMPLES", "60")), deadline=None)
def test_wrapped_patches_differ_from_codex_only_where_listed(
    old_lines: list[str], new_lines: list[str], wrapping: str
) -> None:
    """Ours: every wrapping gives the bare patch's result. Codex: the same where it reads the wrapping,
    a refusal (changing nothing) where ``WRAPPINGS`` says it does not."""
    old, new = "\n".join(old_lines) + "\n", "\n".join(new_lines) + "\n"
    if old == new:
        return
    wrap, codex = WRAPPINGS[wrapping]
    text = wrap(old, new)
    strict = compute_changes(parse_apply_patch(_hunked_patch(old, new)), MemorySource({"f.txt": old})).changes
    expected = (strict[0].new_text or "").encode() if strict else old.encode()
    assert compute_changes(parse_patch(text), MemorySource({"f.txt": old})).changes == strict, text
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "f.txt").write_text(old, encoding="utf-8")
        theirs = _codex(root, text)
        untouched = (root / "f.txt").read_bytes() == old.encode()
    if codex == CODEX_READS:
        assert theirs == expected, f"Codex read {wrapping} differently:\n{text}"
    else:
        assert theirs is None, f"Codex now reads {wrapping}; update WRAPPINGS:\n{text}"
        assert untouched, f"Codex changed the file while refusing {wrapping}:\n{text}"
