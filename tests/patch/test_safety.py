"""What a patch may not do to a workspace, and what the disk looks like when one is refused.

``.git`` stays read-only, symbolic links are written through (never replaced), modes are kept or
follow the umask, read-only and unreadable files are refused with one line, and no refusal —
from the engine, the writer or the operating system — leaves a file changed or prints a traceback.
Where file modes matter and the tests run as root (which ignores them), the command runs with the
capabilities that bypass them dropped (``setpriv``).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from codex_lsp.patch import (
    ChangeKind,
    DiskFileSource,
    FileChange,
    PatchFileError,
    PatchPathError,
    compute_changes,
    parse_patch,
    write_changes,
)
from codex_lsp.patch.cli import run_apply_patch
from tests.patch.memory import MemorySource
from tests.patch.trees import snapshot


def _patch(*lines: str) -> str:
    return "\n".join(("*** Begin Patch", *lines, "*** End Patch")) + "\n"


def apply_in_process(root: Path, patch: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``apply-patch`` in this process on ``patch``; return the exit status and stderr."""
    patch_file = root.parent / "patch.txt"
    patch_file.write_text(patch, encoding="utf-8")
    code = run_apply_patch(str(patch_file), root=str(root))
    return code, capsys.readouterr().err


def cli(
    root: Path, patch: str, *, unprivileged: bool = False, umask: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``codex-lsp apply-patch`` as a process, optionally without the file-mode bypass of root."""
    command = [sys.executable, "-m", "codex_lsp", "apply-patch", "--root", str(root), "-"]
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: root's writes ignore file modes")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *command]
    preexec = None if umask is None else (lambda: os.umask(umask) and None)
    return subprocess.run(
        command, input=patch, capture_output=True, text=True, check=False, preexec_fn=preexec, timeout=60
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A workspace with a ``.git`` directory (config, a hook) and one ordinary file."""
    root = tmp_path / "ws"
    (root / ".git" / "hooks").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (root / ".git" / "hooks" / "pre-commit.sample").write_text("#!/bin/sh\n")
    (root / "x.txt").write_text("x\n")
    return root


GIT_PATCHES = {
    "add-config": _patch("*** Add File: .git/config", "+[core]", '+\tfsmonitor = "touch pwned"'),
    "update-config": _patch("*** Update File: .git/config", "@@", "-\tbare = false", "+\tbare = true"),
    "add-hook": _patch("*** Add File: .git/hooks/pre-commit", "+#!/bin/sh", "+touch pwned"),
    "delete": _patch("*** Delete File: .git/hooks/pre-commit.sample"),
    "climb-back": _patch("*** Add File: sub/../.git/hooks/post-checkout", "+touch pwned"),
    "upper-case": _patch("*** Add File: .GIT/hooks/pre-commit", "+touch pwned"),
    # Windows and some mounts drop a name's trailing dots and spaces: these all open .git itself.
    "trailing-dot": _patch("*** Add File: .git./hooks/pre-commit", "+touch pwned"),
    "trailing-space": _patch("*** Add File: .git /hooks/pre-commit", "+touch pwned"),
    "upper-dots": _patch("*** Update File: .GIT../config", "@@", "-\tbare = false", "+\tbare = true"),
    "dot-space-file": _patch("*** Add File: vendor/lib/.git. ", "+gitdir: ../../.git"),
    "git-file": _patch("*** Add File: vendor/lib/.git", "+gitdir: ../../.git"),
    "nested": _patch("*** Add File: vendor/lib/.git/config", "+[core]"),
    "move-into": _patch(
        "*** Update File: x.txt", "*** Move to: .git/hooks/pre-push", "@@", "-x", "+touch pwned"
    ),
    # On Windows a backslash separates names: this is the hook there, and is refused everywhere.
    "backslashes": _patch("*** Add File: vendor\\lib\\.git\\hooks\\pre-commit", "+touch pwned"),
    "unified": (
        "--- a/.git/config\n+++ b/.git/config\n@@ -1,2 +1,2 @@\n [core]\n-\tbare = false\n+\tbare = true\n"
    ),
}


@pytest.mark.parametrize("patch", GIT_PATCHES.values(), ids=GIT_PATCHES.keys())
def test_nothing_in_a_git_directory_may_change(
    repo: Path, patch: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(repo)
    code, err = apply_in_process(repo, patch, capsys)
    assert code == 1
    assert ".git is read-only" in err
    assert len(err.splitlines()) == 1
    assert snapshot(repo) == before


@pytest.mark.parametrize("patch", GIT_PATCHES.values(), ids=GIT_PATCHES.keys())
def test_every_host_inherits_the_git_rule(patch: str) -> None:
    """A source that checks nothing itself (an editor's buffers) still cannot reach .git."""
    files = {".git/config": "[core]\n\tbare = false\n", ".git/hooks/pre-commit.sample": "", "x.txt": "x\n"}
    with pytest.raises(PatchPathError, match=r"\.git is read-only"):
        compute_changes(parse_patch(patch), MemorySource(files))


def test_files_only_named_like_git_may_change(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patch = _patch(
        "*** Add File: .gitignore",
        "+*.pyc",
        "*** Add File: .github/workflows/ci.yml",
        "+on: push",
        "*** Add File: vendor/lib.git/README",
        "+a bare mirror's name",
    )
    assert apply_in_process(repo, patch, capsys) == (0, "")
    assert (repo / ".gitignore").read_text() == "*.pyc\n"
    assert (repo / ".github" / "workflows" / "ci.yml").read_text() == "on: push\n"
    assert (repo / "vendor" / "lib.git" / "README").is_file()


def test_git_stays_readable(repo: Path) -> None:
    source = DiskFileSource(repo)
    assert source.read_text(source.resolve(".git/config")).startswith("[core]")


LINKED_GIT_PATCHES = {
    "dir-link": _patch("*** Add File: meta/hooks/pre-commit", "+touch pwned"),
    "file-link": _patch("*** Update File: cfg", "@@", "-\tbare = false", "+\tbare = true"),
    "hooks-link": _patch("*** Add File: hooks/post-checkout", "+touch pwned"),
    "move-onto-link": _patch("*** Update File: x.txt", "*** Move to: hooks/pre-push", "@@", "-x", "+y"),
}


@pytest.mark.parametrize("patch", LINKED_GIT_PATCHES.values(), ids=LINKED_GIT_PATCHES.keys())
def test_a_link_into_git_is_refused(repo: Path, patch: str, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "meta").symlink_to(".git")
    (repo / "cfg").symlink_to(".git/config")
    (repo / "hooks").symlink_to(".git/hooks")
    with pytest.raises(PatchPathError, match=r"a symbolic link on the way leads to '\.git/"):
        compute_changes(parse_patch(patch), DiskFileSource(repo))  # an editor host: no writer after it
    before = snapshot(repo)
    code, err = apply_in_process(repo, patch, capsys)
    assert (code, len(err.splitlines())) == (1, 1)
    assert ".git is read-only" in err
    assert snapshot(repo) == before


def test_the_writer_itself_refuses_git_and_outside_targets(tmp_path: Path) -> None:
    """Changes computed elsewhere (another source, a stale plan) meet the same rules on disk."""
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[core]\n")
    (root / "cfg").symlink_to(".git/config")
    (root / "out").symlink_to(tmp_path)
    before = snapshot(tmp_path)
    for change in (
        FileChange(ChangeKind.UPDATE, "cfg", "[core]\n", "[x]\n"),
        FileChange(ChangeKind.ADD, ".git/hooks/pre-commit", None, "x\n"),
        FileChange(ChangeKind.DELETE, ".git/config", "[core]\n", None),
        FileChange(ChangeKind.ADD, "out/escaped.txt", None, "x\n"),
    ):
        with pytest.raises(PatchPathError):
            write_changes(root, [change])
    assert snapshot(tmp_path) == before


# --- symbolic links inside the workspace (the scenarios 052-056 show the single cases) ---


def test_an_edit_through_a_link_keeps_the_link_and_its_mode(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("one\n")
    (tmp_path / "t.txt").chmod(0o751)
    (tmp_path / "l.txt").symlink_to("t.txt")
    patch = _patch("*** Update File: l.txt", "@@", "-one", "+two")
    write_changes(tmp_path, compute_changes(parse_patch(patch), DiskFileSource(tmp_path)).changes)
    assert os.readlink(tmp_path / "l.txt") == "t.txt"
    assert (tmp_path / "t.txt").read_text() == "two\n"
    assert stat.S_IMODE((tmp_path / "t.txt").stat().st_mode) == 0o751


def test_one_file_under_two_names_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both changes would be computed from the old text and the second would silently win."""
    (tmp_path / "ws").mkdir()
    root = tmp_path / "ws"
    (root / "t.txt").write_text("one\n")
    (root / "l.txt").symlink_to("t.txt")
    before = snapshot(root)
    code, err = apply_in_process(
        root,
        _patch(
            "*** Update File: l.txt", "@@", "-one", "+two", "*** Update File: t.txt", "@@", "-one", "+three"
        ),
        capsys,
    )
    assert code == 1
    assert err == (
        "'l.txt' and 't.txt' are the same file (through a symbolic link); change it under one name only\n"
    )
    assert snapshot(root) == before


def test_one_file_removed_under_one_name_and_written_under_another_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "t.txt").write_text("one\n")
    (root / "l.txt").symlink_to("t.txt")
    before = snapshot(root)
    patch = _patch("*** Delete File: t.txt", "*** Update File: l.txt", "@@", "-one", "+two")
    code, err = apply_in_process(root, patch, capsys)
    assert (code, err) == (
        1,
        "'t.txt' is both removed and written through a symbolic link; change it under one name only\n",
    )
    assert snapshot(root) == before


def test_a_deleted_link_is_restored_as_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "t.txt").write_text("kept\n")
    (tmp_path / "l.txt").symlink_to("t.txt")
    (tmp_path / "z.txt").write_text("z\n")
    before = snapshot(tmp_path)
    patch = _patch("*** Delete File: l.txt", "*** Delete File: z.txt")
    changes = compute_changes(parse_patch(patch), DiskFileSource(tmp_path)).changes
    _fail_call(monkeypatch, "unlink", 2)
    with pytest.raises(PatchFileError, match="no file was changed"):
        write_changes(tmp_path, changes)
    assert snapshot(tmp_path) == before


# --- modes ---


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    done = cli(tmp_path, _patch("*** Add File: new/made.txt", "+x"), umask=0o027)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "new" / "made.txt").stat().st_mode) == 0o640
    done = cli(tmp_path, _patch("*** Add File: open.txt", "+x"), umask=0o002)
    assert stat.S_IMODE((tmp_path / "open.txt").stat().st_mode) == 0o664


def test_edited_and_moved_files_keep_their_mode(tmp_path: Path) -> None:
    (tmp_path / "tool.sh").write_text("echo 1\n")
    (tmp_path / "tool.sh").chmod(0o750)
    (tmp_path / "secret.txt").write_text("s\n")
    (tmp_path / "secret.txt").chmod(0o600)
    patch = _patch(
        "*** Update File: tool.sh",
        "*** Move to: bin/tool.sh",
        "@@",
        "-echo 1",
        "+echo 2",
        "*** Update File: secret.txt",
        "@@",
        "-s",
        "+t",
    )
    done = cli(tmp_path, patch, umask=0o022)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "bin" / "tool.sh").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "secret.txt").stat().st_mode) == 0o600


# --- read-only, unreadable and unwritable files (as a user whose writes obey file modes) ---


def test_a_read_only_file_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    (tmp_path / "ro.txt").write_text("locked\n")
    (tmp_path / "ro.txt").chmod(0o444)
    before = snapshot(tmp_path)
    for patch in (
        _patch("*** Add File: first.txt", "+x", "*** Update File: ro.txt", "@@", "-locked", "+open"),
        _patch("*** Add File: ro.txt", "+replaced"),
        _patch("*** Update File: ro.txt", "*** Move to: moved.txt", "@@", "-locked", "+open"),
    ):
        done = cli(tmp_path, patch, unprivileged=True)
        assert done.returncode == 1
        assert done.stderr.splitlines() == [
            "ro.txt is read-only; no file was changed (make it writable first if it should change)"
        ]
        assert snapshot(tmp_path) == before


def test_a_read_only_file_may_still_be_deleted_or_renamed(tmp_path: Path) -> None:
    """Like rm -f, git and Codex: removing or renaming a name is the directory's business."""
    for name in ("gone.txt", "renamed.txt"):
        (tmp_path / name).write_text("locked\n")
        (tmp_path / name).chmod(0o444)
    patch = _patch(
        "*** Delete File: gone.txt", "*** Update File: renamed.txt", "*** Move to: new.txt", "@@", " locked"
    )
    done = cli(tmp_path, patch, unprivileged=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt"]
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o444


def test_an_unreadable_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("s\n")
    (tmp_path / "secret.txt").chmod(0o000)
    done = cli(tmp_path, _patch("*** Update File: secret.txt", "@@", "-s", "+t"), unprivileged=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["Cannot read secret.txt: Permission denied"]


def test_an_unwritable_directory_is_one_line_and_rolls_back(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_text("a\n")
    (tmp_path / "locked").chmod(0o555)
    before = snapshot(tmp_path)
    patch = _patch("*** Add File: open/new.txt", "+n", "*** Update File: locked/a.txt", "@@", "-a", "+b")
    done = cli(tmp_path, patch, unprivileged=True)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Could not write the patch to disk (locked/a.txt: Permission denied); no file was changed"
    ]
    assert snapshot(tmp_path) == before


def test_an_unexpected_os_error_in_the_command_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("codex_lsp.patch.cli.write_changes", broken)
    (tmp_path / "ws").mkdir()
    code, err = apply_in_process(tmp_path / "ws", _patch("*** Add File: a.txt", "+a"), capsys)
    assert (code, err) == (1, "apply-patch: Input/output error; no file was changed\n")


# --- deleting files that are not text ---


def test_a_binary_file_is_deleted_without_decoding_and_restored_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytes(range(256)) * 4
    (tmp_path / "blob.bin").write_bytes(data)
    (tmp_path / "blob.bin").chmod(0o640)
    (tmp_path / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    (tmp_path / "z.txt").write_text("z\n")
    patch = _patch("*** Delete File: blob.bin", "*** Delete File: latin1.txt", "*** Delete File: z.txt")
    result = compute_changes(parse_patch(patch), DiskFileSource(tmp_path))
    assert [(c.kind, c.path, c.old_text) for c in result.changes[:2]] == [
        (ChangeKind.DELETE, "blob.bin", None),
        (ChangeKind.DELETE, "latin1.txt", None),
    ]
    before = snapshot(tmp_path)
    _fail_call(monkeypatch, "unlink", 3)
    with pytest.raises(PatchFileError):
        write_changes(tmp_path, result.changes)
    assert snapshot(tmp_path) == before
    monkeypatch.undo()
    write_changes(tmp_path, result.changes)
    assert list(tmp_path.iterdir()) == []


def test_a_deleted_binary_file_cannot_come_back_as_text() -> None:
    """Delete then Add nets to an edit of the binary file, which stays refused."""
    patch = _patch("*** Delete File: blob.bin", "*** Add File: blob.bin", "+text")
    with pytest.raises(PatchFileError, match="not a UTF-8 text file"):
        compute_changes(parse_patch(patch), _BinarySource())


class _BinarySource(MemorySource):
    def __init__(self) -> None:
        super().__init__({"blob.bin": ""})

    def read_text(self, path: str) -> str:
        raise PatchFileError(f"{path} is not a UTF-8 text file (it looks binary); refusing to edit it")


# --- failures while writing, and where the workspace's name is unusual ---


def test_a_failed_last_write_restores_the_others_and_leaves_its_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file whose write failed is not even rewritten: no watcher sees a change, no build reruns."""
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    os.utime(tmp_path / "b.txt", ns=(1_000_000_000, 1_000_000_000))
    before = snapshot(tmp_path)
    patch = _patch("*** Update File: a.txt", "@@", "-a", "+A", "*** Update File: b.txt", "@@", "-b", "+B")
    changes = compute_changes(parse_patch(patch), DiskFileSource(tmp_path)).changes
    _fail_call(monkeypatch, "replace", 2)
    with pytest.raises(PatchFileError, match="no file was changed"):
        write_changes(tmp_path, changes)
    assert snapshot(tmp_path) == before
    assert (tmp_path / "b.txt").stat().st_mtime_ns == 1_000_000_000


def test_the_new_text_of_a_private_file_is_never_readable_by_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the file takes its final mode, its new content is the owner's alone, whatever the umask."""
    (tmp_path / "secret.txt").write_text("s\n")
    (tmp_path / "secret.txt").chmod(0o600)
    changes = compute_changes(
        parse_patch(_patch("*** Update File: secret.txt", "@@", "-s", "+t")), DiskFileSource(tmp_path)
    ).changes
    modes: list[int] = []
    real_fchmod = os.fchmod

    def watched_fchmod(fd: int, mode: int) -> None:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fchmod(fd, mode)

    monkeypatch.setattr(os, "fchmod", watched_fchmod)
    umask = os.umask(0o002)
    try:
        write_changes(tmp_path, changes)
    finally:
        os.umask(umask)
    assert modes == [0o600]
    assert (tmp_path / "secret.txt").read_text() == "t\n"


def test_a_workspace_whose_name_ends_in_a_space_is_written_and_named_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "my project "
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    patch = _patch("*** Update File: a.txt", "@@", "-a", "+A", "*** Add File: sub/b.txt", "+b")
    write_changes(root, compute_changes(parse_patch(patch), DiskFileSource(root)).changes)
    assert ((root / "a.txt").read_text(), (root / "sub" / "b.txt").read_text()) == ("A\n", "b\n")
    patch = _patch("*** Update File: a.txt", "@@", "-A", "+AA")
    changes = compute_changes(parse_patch(patch), DiskFileSource(root)).changes
    _fail_call(monkeypatch, "open", 1)
    with pytest.raises(PatchFileError) as caught:
        write_changes(root, changes)
    assert str(caught.value) == (
        "Could not write the patch to disk (a.txt: No space left on device); no file was changed"
    )


def test_a_temporary_file_that_cannot_be_created_is_reported_as_its_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the name changes: the error stays the operating system's (here ENOSPC) for whoever logs it."""
    changes = _a_to_upper_a(tmp_path)
    _fail_call(monkeypatch, "open", 1)
    with pytest.raises(PatchFileError, match=r"\(a\.txt: No space left on device\)") as caught:
        write_changes(tmp_path, changes)
    cause = caught.value.__cause__
    assert isinstance(cause, OSError)
    assert (cause.errno, cause.filename) == (errno.ENOSPC, os.path.join(os.path.realpath(tmp_path), "a.txt"))


def test_an_os_error_without_a_description_is_shown_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = _a_to_upper_a(tmp_path)

    def gone(*args: object) -> None:
        raise OSError("the volume went away")

    monkeypatch.setattr(os, "replace", gone)
    with pytest.raises(PatchFileError) as caught:
        write_changes(tmp_path, changes)
    assert str(caught.value) == (
        "Could not write the patch to disk (the volume went away); no file was changed"
    )
    assert (tmp_path / "a.txt").read_text() == "a\n"


# --- helpers ---


def _a_to_upper_a(root: Path) -> list[FileChange]:
    """The changes of a patch turning ``a.txt`` (written here as ``a``) into ``A``."""
    (root / "a.txt").write_text("a\n")
    patch = _patch("*** Update File: a.txt", "@@", "-a", "+A")
    return list(compute_changes(parse_patch(patch), DiskFileSource(root)).changes)


def _fail_call(monkeypatch: pytest.MonkeyPatch, name: str, failing: int) -> None:
    """Make the ``failing``-th call of ``os.<name>`` fail as a full disk would."""
    real = getattr(os, name)
    calls = [0]

    def flaky(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == failing:
            raise OSError(28, "No space left on device", str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, flaky)
