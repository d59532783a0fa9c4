"""Properties of the patch engine over generated input (hypothesis)."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    PatchError,
    compute_changes,
    parse_apply_patch,
    parse_patch,
)
from codex_lsp.patch.render import render_apply_patch_update, render_unified_diff
from codex_lsp.patch.unified import parse_unified_diff
from tests.patch.memory import MemorySource, apply_edits

LINE = st.text(alphabet=st.sampled_from("ab \t{}é–“-"), max_size=6)
LINES = st.lists(LINE, max_size=25)
PATCHISH = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "*** Begin Patch",
                "*** End Patch",
                " *** End Patch ",
                "*** Add File: a.txt",
                "*** Delete File: a.txt",
                "*** Update File: a.txt",
                "*** Move to: b/c.txt",
                "*** End of File",
                "@@",
                "@@ def f():",
                "+added",
                "-removed",
                " context",
                "",
                "<<'EOF'",
                "EOF",
                "--- a/a.txt",
                "+++ b/a.txt",
                "@@ -1,2 +1,2 @@",
                "diff --git a/a.txt b/a.txt",
                "\\ No newline at end of file",
                "garbage ***",
            ]
        ),
        max_size=14,
    ).map("\n".join),
)


def _join(lines: list[str], final_eol: bool) -> str:
    text = "\n".join(lines)
    return text + "\n" if final_eol and lines else text


@given(PATCHISH)
@settings(max_examples=400)
def test_parsing_raises_only_patch_errors(text: str) -> None:
    with contextlib.suppress(PatchError):
        parse_patch(text)


@given(PATCHISH, st.dictionaries(st.sampled_from(["a.txt", "b/c.txt"]), LINES.map("\n".join), max_size=2))
@settings(max_examples=300)
def test_applying_arbitrary_patches_raises_only_patch_errors(text: str, files: dict[str, str]) -> None:
    source = MemorySource(files)
    with contextlib.suppress(PatchError):
        compute_changes(parse_patch(text), source)


@given(LINES, LINES)
@settings(max_examples=300)
def test_rendered_apply_patch_applies_back_exactly(old_lines: list[str], new_lines: list[str]) -> None:
    old, new = _join(old_lines, True), _join(new_lines, True)
    patch_text = render_apply_patch_update("f.txt", old, new)
    if not patch_text:
        assert old == new
        return
    result = compute_changes(parse_apply_patch(patch_text), MemorySource({"f.txt": old}))
    (change,) = result.changes
    assert change.new_text == new
    assert apply_edits(old, change.edits) == new


@given(LINES, LINES, st.booleans(), st.booleans())
@settings(max_examples=300)
def test_rendered_unified_diff_applies_back_exactly(
    old_lines: list[str], new_lines: list[str], old_eol: bool, new_eol: bool
) -> None:
    old, new = _join(old_lines, old_eol), _join(new_lines, new_eol)
    diff = render_unified_diff("f.txt", old, new)
    if "@@" not in diff:
        assert old == new
        return
    result = compute_changes(parse_unified_diff(diff), MemorySource({"f.txt": old}))
    (change,) = result.changes
    assert change.kind is ChangeKind.UPDATE
    assert change.new_text == new
    assert apply_edits(old, change.edits) == new


@given(LINES, st.lists(st.tuples(st.integers(0, 30), LINE), min_size=1, max_size=4), LINE)
@settings(max_examples=200)
def test_a_failing_patch_changes_nothing(
    lines: list[str], edits: list[tuple[int, str]], missing: str
) -> None:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "a.txt").write_text(_join(lines, True), encoding="utf-8")
        (root / "keep.txt").write_text("keep\n", encoding="utf-8")
        before = {p.name: p.read_bytes() for p in root.iterdir()}
        good = "".join(f"@@\n+{text}\n" for _, text in edits)
        bad_line = f"-{missing}\u0000not-there"
        patch = (
            "*** Begin Patch\n*** Add File: new/created.txt\n+x\n*** Update File: a.txt\n"
            f"{good}*** Delete File: keep.txt\n*** Update File: a.txt\n@@\n{bad_line}\n+y\n*** End Patch\n"
        )
        try:
            result = compute_changes(parse_apply_patch(patch), DiskFileSource(root))
        except PatchError:
            pass
        else:
            raise AssertionError(f"patch unexpectedly applied: {result.summary}")
        assert {p.name: p.read_bytes() for p in root.iterdir()} == before
