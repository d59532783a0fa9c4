"""Engine behaviour the scenario folders cannot show: edits, net changes, hints, rollback, the CLI process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    FileChange,
    PatchApplyError,
    PatchError,
    PatchParseError,
    compute_changes,
    parse_patch,
    write_changes,
)
from codex_lsp.patch.cli import run_apply_patch
from codex_lsp.patch.errors import MAX_MESSAGE
from codex_lsp.patch.render import render_change
from tests.patch.memory import MemorySource, apply_edits


def _patch(*lines: str) -> str:
    return "\n".join(("*** Begin Patch", *lines, "*** End Patch")) + "\n"


def test_edits_cover_only_changed_characters_and_keep_crlf() -> None:
    old = "".join(f"line {n}\r\n" for n in range(1000))
    patch = _patch("*** Update File: big.txt", "@@", " line 499", "-line 500", "+LINE 500", " line 501")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"big.txt": old})).changes
    assert change.kind is ChangeKind.UPDATE
    assert len(change.edits) == 1
    (edit,) = change.edits
    assert (edit.start_line, edit.end_line, edit.text) == (500, 500, "LINE")
    assert old[edit.start : edit.end] == "line"
    assert apply_edits(old, change.edits) == change.new_text


def test_context_lines_keep_the_files_own_text() -> None:
    old = "a = “x”   \nb = 1\n"
    patch = _patch("*** Update File: f.py", "@@", ' a = "x"', "-b = 1", "+b = 2")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"f.py": old})).changes
    assert change.new_text == "a = “x”   \nb = 2\n"


def test_move_with_edit_is_one_move_change() -> None:
    patch = _patch("*** Update File: a/x.txt", "*** Move to: b/y.txt", "@@", "-one", "+two")
    result = compute_changes(parse_patch(patch), MemorySource({"a/x.txt": "one\n"}))
    (change,) = result.changes
    assert (change.kind, change.path, change.move_to, change.new_text) == (
        ChangeKind.MOVE,
        "a/x.txt",
        "b/y.txt",
        "two\n",
    )
    assert apply_edits("one\n", change.edits) == "two\n"
    assert result.summary == ("M b/y.txt",)


def test_several_hunks_on_one_file_fold_into_one_change() -> None:
    patch = _patch(
        "*** Add File: n.txt",
        "+a",
        "+b",
        "*** Update File: n.txt",
        "@@",
        "-b",
        "+B",
        "*** Update File: n.txt",
        "@@",
        "+c",
    )
    result = compute_changes(parse_patch(patch), MemorySource({}))
    (change,) = result.changes
    assert (change.kind, change.new_text) == (ChangeKind.ADD, "a\nB\nc\n")
    assert result.summary == ("A n.txt", "M n.txt", "M n.txt")


def test_not_found_error_names_chunk_and_nearest_lines() -> None:
    old = "".join(f"value_{n} = {n}\n" for n in range(50))
    patch = _patch(
        "*** Update File: v.py", "@@", " value_9 = 9", "-value_10 = 100", "+value_10 = 11", "@@", "-zzz", "+y"
    )
    with pytest.raises(PatchApplyError) as caught:
        compute_changes(parse_patch(patch), MemorySource({"v.py": old}))
    message = str(caught.value)
    assert "Failed to find expected lines in v.py (chunk 1 of 2)" in message
    assert "Did you mean lines 10-11?" in message
    assert "    11 | value_10 = 10" in message


def test_unified_diff_line_number_picks_between_equal_places() -> None:
    old = "def a():\n    return 1\n\ndef b():\n    return 1\n"
    diff = "--- a/f.py\n+++ b/f.py\n@@ -5 +5 @@\n-    return 1\n+    return 2\n"
    (change,) = compute_changes(parse_patch(diff), MemorySource({"f.py": old})).changes
    assert change.new_text == "def a():\n    return 1\n\ndef b():\n    return 2\n"


PASS_ORDER = {
    # name: (file, the chunk's old line, the file after the edit). In each file the line fits one place at
    # the stricter pass and two at the looser one: checked in the wrong order, the edit would be refused as
    # ambiguous, or (with a line number, below) land on the looser place.
    "exact before trailing whitespace": ("value \nmid\nvalue\n", "value", "value \nmid\nVALUE\n"),
    "trailing before surrounding whitespace": ("  value\nmid\nvalue\n", "value  ", "  value\nmid\nVALUE\n"),
    "surrounding whitespace before punctuation": (
        "a \u2013 b\nmid\na - b\n",
        "  a - b",
        "a \u2013 b\nmid\nVALUE\n",
    ),
}
"""The reference's passes, strictest first: exact, trailing whitespace ignored, surrounding whitespace
ignored, Unicode punctuation folded. The earliest pass with a match decides where a chunk goes."""


@pytest.mark.parametrize("case", PASS_ORDER.values(), ids=PASS_ORDER.keys())
def test_the_strictest_pass_that_fits_decides_the_place(case: tuple[str, str, str]) -> None:
    old, line, expected = case
    patch = _patch("*** Update File: f.txt", "@@", f"-{line}", "+VALUE")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"f.txt": old})).changes
    assert change.new_text == expected


@pytest.mark.parametrize("case", PASS_ORDER.values(), ids=PASS_ORDER.keys())
def test_a_line_number_chooses_only_among_places_of_the_strictest_pass(case: tuple[str, str, str]) -> None:
    """The header points at line 1, which fits only loosely: the place that fits more strictly wins."""
    old, line, expected = case
    diff = f"--- a/f.txt\n+++ b/f.txt\n@@ -1 +1 @@\n-{line}\n+VALUE\n"
    (change,) = compute_changes(parse_patch(diff), MemorySource({"f.txt": old})).changes
    assert change.new_text == expected


def test_disk_failure_midway_restores_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    patch = _patch(
        "*** Update File: a.txt",
        "@@",
        "-a",
        "+A",
        "*** Update File: b.txt",
        "@@",
        "-b",
        "+B",
        "*** Add File: new/dir/c.txt",
        "+c",
    )
    result = compute_changes(parse_patch(patch), DiskFileSource(tmp_path))
    real_replace = os.replace
    calls = []

    def flaky_replace(src: str, dst: str) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(PatchError, match="no file was changed"):
        write_changes(tmp_path, result.changes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "a\n"
    assert (tmp_path / "b.txt").read_text() == "b\n"


def test_cli_process_reads_stdin_and_reports_like_codex(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x\n")
    command = [sys.executable, "-m", "codex_lsp", "apply-patch", "--root", str(tmp_path), "-"]
    good = _patch("*** Add File: hello.txt", "+hi", "*** Delete File: keep.txt")
    done = subprocess.run(command, input=good, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (
        0,
        "Success. Updated the following files:\nA hello.txt\nD keep.txt\n",
    )
    bad = _patch("*** Add File: again.txt", "+x", "*** Update File: hello.txt", "@@", "-nope", "+x")
    failed = subprocess.run(command, input=bad, capture_output=True, text=True, check=False)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert "Failed to find expected lines in hello.txt" in failed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hello.txt"]


def test_a_byte_order_mark_survives_an_edit_of_the_first_line() -> None:
    old = "\ufefffirst\nsecond\n"
    patch = _patch("*** Update File: bom.txt", "@@", "-first", "+FIRST", " second")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"bom.txt": old})).changes
    assert change.new_text == "\ufeffFIRST\nsecond\n"
    assert apply_edits(old, change.edits) == change.new_text
    assert [(e.start, e.end, e.text) for e in change.edits] == [(1, 6, "FIRST")]


def _flaky(monkeypatch: pytest.MonkeyPatch, name: str, failing: int) -> None:
    """Make the ``failing``-th call of ``os.<name>`` fail as a full disk would."""
    real = getattr(os, name)
    calls = [0]

    def flaky(*args: str) -> None:
        calls[0] += 1
        if calls[0] == failing:
            raise OSError(28, "No space left on device", args[0])
        real(*args)

    monkeypatch.setattr(os, name, flaky)


def test_a_failed_unlink_restores_every_file_with_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, mode in (("a.txt", 0o751), ("b.txt", 0o640), ("c.txt", 0o604)):
        (tmp_path / name).write_text(f"{name}\n")
        (tmp_path / name).chmod(mode)
    patch = _patch(
        "*** Update File: a.txt",
        "@@",
        "-a.txt",
        "+A",
        "*** Add File: new/dir/n.txt",
        "+n",
        "*** Delete File: b.txt",
        "*** Delete File: c.txt",
    )
    result = compute_changes(parse_patch(patch), DiskFileSource(tmp_path))
    before = {p.name: (p.read_bytes(), p.stat().st_mode) for p in tmp_path.iterdir()}
    _flaky(monkeypatch, "unlink", 2)
    with pytest.raises(PatchError, match=r"\(c\.txt: No space left on device\); no file was changed"):
        write_changes(tmp_path, result.changes)
    assert {p.name: (p.read_bytes(), p.stat().st_mode) for p in tmp_path.iterdir()} == before


def test_unified_diff_refuses_a_line_number_halfway_between_two_places() -> None:
    old = "x\n1\n2\n3\nx\n"
    diff = "--- a/f.txt\n+++ b/f.txt\n@@ -3 +3 @@\n-x\n+y\n"
    with pytest.raises(PatchApplyError, match="ambiguous: they match at lines 1 and 5"):
        compute_changes(parse_patch(diff), MemorySource({"f.txt": old}))


SHAPES = (
    "class A:\n    def run(self):\n        return 1\n\n\nclass B:\n    def run(self):\n        return 1\n"
)


def test_an_inner_context_line_prefers_matches_before_its_next_occurrence() -> None:
    """``@@ class A:`` then ``@@ def run``: the return after A's run, not B's (found later too)."""
    patch = _patch(
        "*** Update File: s.py",
        "@@ class A:",
        "@@     def run(self):",
        "-        return 1",
        "+        return 2",
    )
    (change,) = compute_changes(parse_patch(patch), MemorySource({"s.py": SHAPES})).changes
    assert change.new_text == SHAPES.replace("return 1", "return 2", 1)


def test_an_ambiguous_context_line_names_the_competing_lines() -> None:
    patch = _patch("*** Update File: s.py", "@@     def run(self):", "-        return 1", "+        return 2")
    with pytest.raises(PatchApplyError) as caught:
        compute_changes(parse_patch(patch), MemorySource({"s.py": SHAPES}))
    assert str(caught.value).startswith(
        "The '@@     def run(self):' line of chunk 1 of 1 in s.py is ambiguous: it matches lines 2 and 7"
    )


def test_an_outer_context_line_is_settled_by_the_inner_one() -> None:
    """``@@ def run`` occurs in both classes; only B's is followed by ``@@ # fast path`` and the lines."""
    text = SHAPES + "\n\nclass C:\n    def run(self):\n        # fast path\n        return 1\n"
    patch = _patch(
        "*** Update File: s.py",
        "@@     def run(self):",
        "@@         # fast path",
        "-        return 1",
        "+        return 3",
    )
    (change,) = compute_changes(parse_patch(patch), MemorySource({"s.py": text})).changes
    assert change.new_text == text[: text.rindex("return 1")] + "return 3\n"


def test_identical_chunks_under_an_ambiguous_context_edit_each_place_in_order() -> None:
    chunk = ("@@     def run(self):", "-        return 1", "+        return 2")
    patch = _patch("*** Update File: s.py", *chunk, *chunk)
    (change,) = compute_changes(parse_patch(patch), MemorySource({"s.py": SHAPES})).changes
    assert change.new_text == SHAPES.replace("return 1", "return 2")


def test_huge_lines_are_clipped_in_every_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    huge = "y" * 10_000_000
    files = {"a.txt": "".join(f"line {n}\n" for n in range(100)) + huge + "z\n"}
    patches = [
        _patch("*** Update File: a.txt", "@@", f"-{huge}", "+short"),
        _patch("*** Update File: a.txt", f"@@ {huge}", "-line 1", "+short"),
        _patch(f"*** Frobnicate: {huge}"),
        _patch("*** Update File: a.txt", "@@", f"?{huge}"),
    ]
    for patch in patches:
        with pytest.raises(PatchError) as caught:
            compute_changes(parse_patch(patch), MemorySource(files))
        message = str(caught.value)
        assert len(message) < 10_000
        assert "… (" in message
        assert all(len(line) < 400 for line in message.splitlines())
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.txt").write_text(files["a.txt"])
    for patch in (patches[0], _patch(f"*** Add File: {huge}/x.txt", "+x")):
        (tmp_path / "patch.txt").write_text(patch)
        assert run_apply_patch(str(tmp_path / "patch.txt"), root=str(root)) == 1
        err = capsys.readouterr().err
        assert len(err) < 10_000
        assert "… (" in err


def test_every_message_is_capped() -> None:
    error = PatchApplyError("x" * 100_000)
    assert len(str(error)) < MAX_MESSAGE + 100
    assert str(error).endswith("(message cut: 92000 more characters)")


@pytest.mark.parametrize(
    "patch",
    [
        _patch("*** Add File: n.txt", "+fine", "+a\0b"),
        _patch("*** Update File: a.txt", "@@", "-a", "+a\0"),
        "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n a\n+\0\n",
    ],
    ids=["add", "update", "unified"],
)
def test_a_nul_in_an_added_line_is_refused(patch: str) -> None:
    with pytest.raises(PatchParseError, match=r"on line \d: an added line contains a NUL character"):
        compute_changes(parse_patch(patch), MemorySource({"a.txt": "a\n"}))


def test_a_nul_elsewhere_is_no_parse_error() -> None:
    """Only added text matters: a removed line with NUL is parsed, and then matches nothing."""
    with pytest.raises(PatchApplyError, match="Failed to find expected lines"):
        compute_changes(
            parse_patch(_patch("*** Update File: a.txt", "@@", "-a\0", "+b")), MemorySource({"a.txt": "a\n"})
        )


def test_a_binary_deletion_renders_as_git_does() -> None:
    change = FileChange(ChangeKind.DELETE, "logo.png", None, None)
    assert render_change(change) == (
        "diff --git a/logo.png b/logo.png\ndeleted file mode 100644\n"
        "Binary files a/logo.png and /dev/null differ\n"
    )
