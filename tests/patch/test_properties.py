"""Properties of the patch engine over generated input (hypothesis)."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
import unittest.mock
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    PatchError,
    PatchFileError,
    compute_changes,
    parse_apply_patch,
    parse_patch,
    write_changes,
)
from codex_lsp.patch.render import render_apply_patch_update, render_unified_diff
from codex_lsp.patch.unified import parse_unified_diff
from tests.patch.memory import MemorySource, apply_edits
from tests.patch.trees import snapshot

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


FAULTY_CALLS = st.tuples(st.sampled_from(["open", "mkdir", "replace", "unlink", "fchmod"]), st.integers(1, 6))


@given(LINES, st.lists(LINE, min_size=1, max_size=4), FAULTY_CALLS)
@settings(max_examples=200, deadline=None)
def test_a_failing_patch_changes_nothing(lines: list[str], added: list[str], fault: tuple[str, int]) -> None:
    """The writer fails at one system call, chosen at random: the disk is as before, or fully patched."""
    with tempfile.TemporaryDirectory() as name:
        root, control = Path(name) / "ws", Path(name) / "control"
        root.mkdir()
        (root / "a.txt").write_text(_join(lines, True), encoding="utf-8")
        (root / "keep.txt").write_text("keep\n", encoding="utf-8")
        (root / "keep.txt").chmod(0o640)
        (root / "blob.bin").write_bytes(b"\x00\xff\x00")
        (root / "script.sh").write_text("echo\n", encoding="utf-8")
        (root / "script.sh").chmod(0o750)
        (root / "link.txt").symlink_to("a.txt")
        chunks = "".join(f"@@\n+{text}\n" for text in added)
        patch = (
            "*** Begin Patch\n*** Add File: new/dir/created.txt\n+x\n"
            f"*** Update File: link.txt\n{chunks}*** Delete File: keep.txt\n*** Delete File: blob.bin\n"
            "*** Update File: script.sh\n*** Move to: bin/script.sh\n@@\n-echo\n+echo moved\n*** End Patch\n"
        )
        changes = compute_changes(parse_apply_patch(patch), DiskFileSource(root)).changes
        shutil.copytree(root, control, symlinks=True)
        write_changes(control, changes)
        before = snapshot(root)
        message = ""
        try:
            with _failing(*fault):
                write_changes(root, changes)
        except PatchFileError as exc:
            message = str(exc)
        event("rolled back" if message else "applied")
        if message:
            assert message.endswith("no file was changed")
            assert snapshot(root) == before
        else:
            assert snapshot(root) == snapshot(control)


@contextlib.contextmanager
def _failing(name: str, failing: int) -> Iterator[None]:
    """Make the ``failing``-th call of ``os.<name>`` fail (later ones, the rollback's, succeed)."""
    real = getattr(os, name)
    calls = itertools.count(1)

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == failing:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    with unittest.mock.patch.object(os, name, flaky):
        yield


HOSTILE_PATHS = st.sampled_from(
    [
        "a.txt",
        "b/c.txt",
        "new.txt",
        ".git/config",
        ".git/hooks/pre-commit",
        ".GIT/config",
        "sub/.git",
        "b/../.git/HEAD",
        "../outside/x.txt",
        "b/../../outside/y.txt",
        "{outside}/abs.txt",
        "out/x.txt",
        "out",
        "meta/config",
        "meta/hooks/post-checkout",
        "cfg",
        "hooks/pre-push",
        "link.txt",
        "dangling",
        "loop",
        "C:/win.txt",
    ]
)
HOSTILE_HUNKS: st.SearchStrategy[tuple[str, Any, list[str]]] = st.one_of(
    st.tuples(st.just("Add"), HOSTILE_PATHS, LINES),
    st.tuples(st.just("Delete"), HOSTILE_PATHS, st.just([])),
    st.tuples(st.just("Update"), HOSTILE_PATHS, LINES),
    st.tuples(st.just("Move"), st.tuples(HOSTILE_PATHS, HOSTILE_PATHS), LINES),
    st.tuples(st.just("Unified"), st.tuples(HOSTILE_PATHS, HOSTILE_PATHS), LINES),
)


def _hostile_patch(hunks: list[tuple[str, Any, list[str]]], outside: Path) -> str:
    unified: list[str] = []
    out = ["*** Begin Patch"]
    for kind, target, lines in hunks:
        if kind == "Add":
            out += [f"*** Add File: {target}", *(f"+{line}" for line in lines)]
        elif kind == "Delete":
            out.append(f"*** Delete File: {target}")
        elif kind == "Update":
            out += [f"*** Update File: {target}", "@@", *(f"+{line}" for line in lines or ["x"])]
        elif kind == "Move":
            out += [f"*** Update File: {target[0]}", f"*** Move to: {target[1]}", "@@", " a"]
        else:
            unified += [
                f"--- a/{target[0]}",
                f"+++ b/{target[1]}",
                "@@ -1 +1 @@",
                "-a",
                *(f"+{x}" for x in lines or ["b"]),
            ]
    text = "\n".join(unified) + "\n" if unified else "\n".join([*out, "*** End Patch"]) + "\n"
    return text.replace("{outside}", str(outside))


@given(st.lists(HOSTILE_HUNKS, min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_hostile_patches_write_nothing_outside_the_workspace_or_in_git(
    hunks: list[tuple[str, Any, list[str]]],
) -> None:
    """Escapes, links out or into .git, odd spellings: refused (PatchError only), or confined."""
    with tempfile.TemporaryDirectory() as name:
        base = Path(name)
        root, outside = base / "ws", base / "outside"
        (root / ".git" / "hooks").mkdir(parents=True)
        (root / ".git" / "config").write_text("[core]\n")
        (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (root / "b").mkdir()
        (root / "b" / "c.txt").write_text("a\n")
        (root / "a.txt").write_text("a\n")
        outside.mkdir()
        (outside / "keep.txt").write_text("a\n")
        for link, target in (
            ("out", "../outside"),
            ("meta", ".git"),
            ("cfg", ".git/config"),
            ("hooks", ".git/hooks"),
            ("link.txt", "a.txt"),
            ("dangling", "../outside/new.txt"),
            ("loop", "loop"),
        ):
            (root / link).symlink_to(target)
        git_before, outside_before = snapshot(root / ".git"), snapshot(outside)
        patch = _hostile_patch(hunks, outside)
        try:
            source = DiskFileSource(root)
            write_changes(source.root, compute_changes(parse_patch(patch), source).changes)
        except PatchError as exc:
            event(f"refused: {type(exc).__name__}")
        else:
            event("applied")
        assert snapshot(root / ".git") == git_before, patch
        assert snapshot(outside) == outside_before, patch
        assert sorted(p.name for p in base.iterdir()) == ["outside", "ws"], patch
