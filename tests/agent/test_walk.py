"""The git-aware walk agrees with git itself about what is ignored."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from codex_lsp.agent.tools.walk import IgnoreRules, resolve_arg, walk, workspace_relative
from codex_lsp.patch import PatchPathError
from tests.agent.fakes import write_files

TREE: dict[str, str | bytes] = {
    ".gitignore": "*.tmp\n/top-only.txt\nlogs/\n",
    "ws/.gitignore": "build/\n!keep.tmp\n",
    "ws/a.py": "",
    "ws/keep.tmp": "",
    "ws/drop.tmp": "",
    "ws/top-only.txt": "",
    "ws/build/x.py": "",
    "ws/logs/app.log": "",
    "ws/sub/.gitignore": "*.log\n!important.log\n/local.py\n",
    "ws/sub/important.log": "",
    "ws/sub/other.log": "",
    "ws/sub/local.py": "",
    "ws/sub/deeper/local.py": "",
    "ws/sub/deeper/notes.md": "",
    "ws/private/secret.txt": "",
    "top-only.txt": "",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_files(tmp_path, TREE)
    (tmp_path / ".git" / "info").mkdir(parents=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("private/\n")
    return tmp_path


def walked_files(root: Path) -> list[str]:
    return sorted(entry.path for entry in walk(root) if not entry.is_dir)


def test_walk_applies_every_layer(repo: Path) -> None:
    assert walked_files(repo / "ws") == [
        ".gitignore",
        "a.py",
        "keep.tmp",
        "sub/.gitignore",
        "sub/deeper/local.py",
        "sub/deeper/notes.md",
        "sub/important.log",
        "top-only.txt",
    ]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_walk_matches_git(repo: Path) -> None:
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".git" / "info" / "exclude").write_text("private/\n")
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "ws"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert walked_files(repo / "ws") == sorted(path.removeprefix("ws/") for path in listed)


def test_depth_limit_and_preorder(repo: Path) -> None:
    entries = [(e.path, e.depth) for e in walk(repo / "ws", "sub", max_depth=1)]
    assert entries == [("sub/.gitignore", 1), ("sub/deeper", 1), ("sub/important.log", 1)]


def test_ignored_anywhere_checks_ancestors(repo: Path) -> None:
    rules = IgnoreRules(repo / "ws")
    assert rules.ignored_anywhere("build/new.py")
    assert rules.ignored_anywhere(".git/config")
    assert not rules.ignored_anywhere("sub/deeper/new.py")


def test_resolve_arg(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    assert resolve_arg(tmp_path, ".") == ""
    assert resolve_arg(tmp_path, None) == ""
    assert resolve_arg(tmp_path, "./src/") == "src"
    assert resolve_arg(tmp_path, str(tmp_path / "src")) == "src"
    assert workspace_relative(tmp_path, "/elsewhere/x") == "/elsewhere/x"
    with pytest.raises(PatchPathError):
        resolve_arg(tmp_path, "src/../../x")
