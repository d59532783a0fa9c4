"""Snapshots: what each change was computed against, and the writer's refusal when the disk moved on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    FileChange,
    PatchApplyError,
    PatchFileError,
    PatchStaleError,
    PathKind,
    Snapshot,
    compute_changes,
    parse_patch,
    snapshot_of,
    write_changes,
)
from codex_lsp.patch.source import disk_stamp
from tests.patch.memory import MemorySource


def _patch(*lines: str) -> str:
    return "\n".join(("*** Begin Patch", *lines, "*** End Patch")) + "\n"


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (temporary files included) with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class _TextOnly:
    """A source with ``read_text`` only, as hosts wrote them before snapshots existed."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def resolve(self, raw: str) -> str:
        return raw

    def kind(self, path: str) -> PathKind:
        return PathKind.FILE if path in self.files else PathKind.MISSING

    def read_text(self, path: str) -> str:
        return self.files[path]


# --- snapshots in the result ---


def test_a_disk_snapshot_carries_the_stamp_of_the_file_it_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\n")
    source = DiskFileSource(tmp_path)
    snapshot = source.snapshot("a.txt")
    assert snapshot == Snapshot("one\n", None, disk_stamp(os.stat(tmp_path / "a.txt")))
    assert source.read_text("a.txt") == "one\n"


def test_every_change_carries_the_snapshot_it_was_computed_against() -> None:
    files = {"u.txt": "u\n", "d.txt": "d\n", "m.txt": "m\n", "dest.txt": "old dest\n"}
    source = MemorySource(files, versions={"u.txt": 7, "d.txt": 3, "m.txt": 12, "dest.txt": 5})
    patch = _patch(
        "*** Update File: u.txt",
        "@@",
        "-u",
        "+U",
        "*** Delete File: d.txt",
        "*** Update File: m.txt",
        "*** Move to: dest.txt",
        "@@",
        "-m",
        "+M",
        "*** Update File: x.txt",
        "*** Move to: fresh.txt",
        "@@",
        "-x",
        "+X",
        "*** Add File: n.txt",
        "+n",
    )
    source.files["x.txt"] = "x\n"
    changes = {c.path: c for c in compute_changes(parse_patch(patch), source).changes}
    assert changes["u.txt"].base == Snapshot("u\n", 7)
    assert changes["d.txt"].base == Snapshot("d\n", 3)
    move = changes["m.txt"]
    assert (move.kind, move.base, move.replaced) == (
        ChangeKind.MOVE,
        Snapshot("m\n", 12),
        Snapshot("old dest\n", 5),
    )
    assert changes["x.txt"].replaced is None  # the destination did not exist
    assert changes["n.txt"].base is None
    for change in changes.values():
        assert change.base is None or change.base.text == change.old_text


def test_a_source_with_only_read_text_still_works() -> None:
    source = _TextOnly({"a.txt": "one\n"})
    assert snapshot_of(source, "a.txt") == Snapshot("one\n", None, None)
    (change,) = compute_changes(
        parse_patch(_patch("*** Update File: a.txt", "@@", "-one", "+two")), source
    ).changes
    assert (change.new_text, change.base) == ("two\n", Snapshot("one\n"))


def test_a_move_onto_a_deleted_binary_file_is_refused(tmp_path: Path) -> None:
    """It would write the binary file's path again, as Delete + Add of it would."""
    (tmp_path / "blob.bin").write_bytes(b"\x00\xff")
    (tmp_path / "a.txt").write_text("a\n")
    patch = _patch(
        "*** Delete File: blob.bin", "*** Update File: a.txt", "*** Move to: blob.bin", "@@", "-a", "+b"
    )
    with pytest.raises(PatchFileError, match="not a UTF-8 text file"):
        compute_changes(parse_patch(patch), DiskFileSource(tmp_path))


# --- the writer checks the disk against them ---


def _compute(root: Path, *lines: str) -> tuple[FileChange, ...]:
    return compute_changes(parse_patch(_patch(*lines)), DiskFileSource(root)).changes


@pytest.mark.parametrize(
    ("meanwhile", "name"),
    [
        (lambda root: (root / "src" / "a.py").write_text("x = 1\ny = 3\n"), "changed"),
        (lambda root: (root / "src" / "a.py").write_text("x = 1\r\ny = 2\r\n"), "line endings"),
        (lambda root: (root / "src" / "a.py").unlink(), "removed"),
        (lambda root: (root / "src" / "a.py").write_text("x = 9\ny = 2\n"), "same size"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_file_changed_between_compute_and_write_is_refused_and_nothing_is_written(
    tmp_path: Path, meanwhile: object, name: str
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "b.txt").write_text("b\n")
    changes = _compute(
        tmp_path,
        "*** Add File: new/made.txt",
        "+made",
        "*** Update File: b.txt",
        "@@",
        "-b",
        "+B",
        "*** Update File: src/a.py",
        "@@",
        " x = 1",
        "-y = 2",
        "+y = 20",
    )
    assert callable(meanwhile)
    meanwhile(tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(PatchStaleError) as caught:
        write_changes(tmp_path, changes)
    assert str(caught.value) == (
        "src/a.py changed on disk after the patch was computed; nothing was written — read it again"
    )
    assert isinstance(caught.value, PatchApplyError)
    assert _tree(tmp_path) == before
    assert not (tmp_path / "new").exists()


def test_a_new_file_that_appeared_meanwhile_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("keep\n")
    changes = _compute(tmp_path, "*** Add File: n.txt", "+mine", "*** Delete File: keep.txt")
    (tmp_path / "n.txt").write_text("theirs\n")
    with pytest.raises(PatchStaleError) as caught:
        write_changes(tmp_path, changes)
    assert str(caught.value) == (
        "n.txt was created on disk after the patch was computed; nothing was written — read it again"
    )
    assert _tree(tmp_path) == {"keep.txt": b"keep\n", "n.txt": b"theirs\n"}


def test_a_deleted_file_changed_meanwhile_is_kept(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("d\n")
    changes = _compute(tmp_path, "*** Delete File: d.txt")
    (tmp_path / "d.txt").write_text("d and more\n")
    with pytest.raises(PatchStaleError, match=r"^d\.txt changed on disk"):
        write_changes(tmp_path, changes)
    assert (tmp_path / "d.txt").read_text() == "d and more\n"


@pytest.mark.parametrize("destination_existed", [False, True])
def test_a_move_checks_its_source_and_its_destination(tmp_path: Path, destination_existed: bool) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    if destination_existed:
        (tmp_path / "b.txt").write_text("old b\n")
    lines = ("*** Update File: a.txt", "*** Move to: b.txt", "@@", "-a", "+A")
    changes = _compute(tmp_path, *lines)
    (tmp_path / "b.txt").write_text("someone else's b\n")
    before = _tree(tmp_path)
    word = "changed" if destination_existed else "was created"
    with pytest.raises(PatchStaleError, match=rf"^b\.txt {word} on disk"):
        write_changes(tmp_path, changes)
    assert _tree(tmp_path) == before
    (tmp_path / "b.txt").unlink()
    changes = _compute(tmp_path, *lines)
    (tmp_path / "a.txt").write_text("a, edited\n")
    with pytest.raises(PatchStaleError, match=r"^a\.txt changed on disk"):
        write_changes(tmp_path, changes)


def test_a_move_onto_an_unchanged_file_and_a_touched_file_are_written(tmp_path: Path) -> None:
    """Only the bytes count: a new stamp alone (``touch``) is no change."""
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("old b\n")
    (tmp_path / "t.txt").write_text("t\n")
    changes = _compute(
        tmp_path,
        "*** Update File: a.txt",
        "*** Move to: b.txt",
        "@@",
        "-a",
        "+A",
        "*** Update File: t.txt",
        "@@",
        "-t",
        "+T",
    )
    info = os.stat(tmp_path / "t.txt")
    os.utime(tmp_path / "t.txt", ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    write_changes(tmp_path, changes)
    assert _tree(tmp_path) == {"b.txt": b"A\n", "t.txt": b"T\n"}
