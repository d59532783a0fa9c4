"""The lexical path rules every patch path goes through, and the link-following check after them.

A path from a patch becomes one clean workspace-relative POSIX path, or it is refused: absolute
(POSIX, Windows drive or backslash), climbing above the root, empty, or with a NUL byte. ``.git``
entries are recognised at any depth and in any spelling a file system may fold onto ``.git``, and
nothing else is: ``.gitignore`` and ``.github`` are ordinary files a patch may change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_lsp.patch import PatchPathError, check_inside, normalise_path
from codex_lsp.patch.paths import check_not_git, is_git_path, real_relative

FOLDED = {
    "a": "a",  # a single character: too short to be a drive letter
    "src/app.py": "src/app.py",
    "./src//app.py/": "src/app.py",
    "src/./lib/../app.py": "src/app.py",
    "docs/release notes.txt": "docs/release notes.txt",
    "ab:c": "ab:c",  # a colon after the second character is part of a name
    "1:x": "1:x",  # a digit is no drive letter
}


@pytest.mark.parametrize(("raw", "clean"), FOLDED.items(), ids=FOLDED.keys())
def test_a_relative_path_is_folded_to_its_clean_form(raw: str, clean: str) -> None:
    assert normalise_path(raw) == clean


ABSOLUTE = "is outside the workspace: patch paths must be relative to the workspace root"
CLIMBS = "is outside the workspace: it climbs above the root"
REFUSED = {
    "posix": ("/etc/passwd", ABSOLUTE),
    "backslash": ("\\Windows\\win.ini", ABSOLUTE),
    "drive-backslash": ("C:\\Windows\\win.ini", ABSOLUTE),
    "drive-slash": ("c:/Windows/win.ini", ABSOLUTE),
    "drive-relative": ("C:win.ini", ABSOLUTE),
    "bare-drive": ("D:", ABSOLUTE),
    "parent": ("../x", CLIMBS),
    "parent-later": ("a/../../x", CLIMBS),
    "empty": ("", "is not a valid file path"),
    "nul": ("a\0b", "is not a valid file path"),
    "nul-alone": ("\0", "is not a valid file path"),
    "dot": (".", "does not name a file inside the workspace"),
    "climbs-back-to-root": ("a/..", "does not name a file inside the workspace"),
}


@pytest.mark.parametrize(("raw", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_a_path_that_names_no_file_inside_the_workspace_is_refused(raw: str, reason: str) -> None:
    with pytest.raises(PatchPathError) as caught:
        normalise_path(raw)
    assert reason in str(caught.value)


GIT = [
    ".git",
    ".git/config",
    "vendor/lib/.git/hooks/pre-commit",
    ".GIT/config",
    ".git. /config",
    ".git\\config",
]
NOT_GIT = [
    ".gitignore",
    ".gitmodules",
    ".github/workflows/ci.yml",
    "docs/.gitkeep",
    "mirror.git/config",
    "git/x",
]


@pytest.mark.parametrize("path", GIT)
def test_every_spelling_of_a_git_entry_is_one(path: str) -> None:
    assert is_git_path(path)


@pytest.mark.parametrize("path", NOT_GIT)
def test_a_name_that_only_contains_git_is_an_ordinary_file(path: str) -> None:
    assert not is_git_path(path)
    check_not_git(path)


def test_the_git_refusal_tells_the_model_why_and_what_to_do() -> None:
    with pytest.raises(PatchPathError) as caught:
        check_not_git(".git/hooks/pre-commit")
    assert str(caught.value) == (
        "Refusing to change '.git/hooks/pre-commit': .git is read-only: a patch may not change the "
        "repository's metadata (its config and hooks run commands); leave .git alone"
    )


def test_check_inside_gives_the_location_under_the_root(tmp_path: Path) -> None:
    root = str(tmp_path.resolve())
    assert check_inside(root, "src/app.py") == os.path.join(root, "src", "app.py")


def test_real_relative_follows_links_inside_the_workspace_and_refuses_links_out(tmp_path: Path) -> None:
    root = tmp_path.resolve() / "ws"
    (root / "src").mkdir(parents=True)
    (root / "alias").symlink_to("src")
    (root / "here").symlink_to(".")
    (tmp_path / "ws-sibling").mkdir()  # its name starts with the root's: still outside
    (root / "out").symlink_to("../ws-sibling")
    assert real_relative(str(root), "alias/app.py") == "src/app.py"
    assert real_relative(str(root), "here") == ""  # the root itself
    for path in ("out/x", "here/out"):
        with pytest.raises(PatchPathError, match="a symbolic link on the way leads to"):
            real_relative(str(root), path)
        with pytest.raises(PatchPathError):
            check_inside(str(root), path)


def test_a_workspace_whose_name_ends_in_a_space_still_contains_its_files(tmp_path: Path) -> None:
    """The root is compared up to its separator: trailing blanks are part of its name."""
    root = tmp_path.resolve() / "my project "
    (root / "src").mkdir(parents=True)
    assert real_relative(str(root), "src/app.py") == "src/app.py"
    assert check_inside(str(root), "src/app.py") == os.path.join(root, "src", "app.py")
