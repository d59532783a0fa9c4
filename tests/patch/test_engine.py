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
    PatchApplyError,
    PatchError,
    compute_changes,
    parse_patch,
    write_changes,
)
from tests.patch.memory import MemorySource, apply_edits


def _patch(*lines: str) -> str:
    return "\n".join(("*** Begin Patch", *lines, "*** End Patch")) + "\n"


def test_edits_cover_only_changed_lines_and_keep_crlf() -> None:
    old = "".join(f"line {n}\r\n" for n in range(1000))
    patch = _patch("*** Update File: big.txt", "@@", " line 499", "-line 500", "+LINE 500", " line 501")
    (change,) = compute_changes(parse_patch(patch), MemorySource({"big.txt": old})).changes
    assert change.kind is ChangeKind.UPDATE
    assert len(change.edits) == 1
    (edit,) = change.edits
    assert (edit.start_line, edit.end_line, edit.text) == (500, 501, "LINE 500\r\n")
    assert old[edit.start : edit.end] == "line 500\r\n"
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
    assert [(e.start, e.end) for e in change.edits] == [(1, 7)]
