"""Only the LSP package speaks LSP: every other module runs without pygls or lsprotocol.

The core layers (``patch``, ``model``, ``agent``) must work without an editor, and the terminal
hosts must not pay for the LSP stack. ``cli.py`` starts the server, so it may import it — lazily,
inside the function that starts it, never at module level.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codex_lsp"
LSP_PACKAGE = PACKAGE / "lsp"
LAZY_IMPORT_ALLOWED = (PACKAGE / "cli.py",)
"""Modules that may import the LSP stack inside a function (not at module level)."""
FORBIDDEN = ("pygls", "lsprotocol")


def _names(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module}
    return set()


def imported_modules(source: str) -> set[str]:
    """Every module an ``import`` or ``from … import`` statement anywhere in ``source`` names."""
    return {name for node in ast.walk(ast.parse(source)) for name in _names(node)}


def module_level_imports(source: str) -> set[str]:
    """The modules ``source`` imports outside any function (what importing it loads at once)."""
    names: set[str] = set()
    stack: list[ast.AST] = [ast.parse(source)]
    while stack:
        node = stack.pop()
        names |= _names(node)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.append(child)
    return names


def outside_lsp() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if LSP_PACKAGE not in path.parents]


def _offenders(names: set[str]) -> list[str]:
    return sorted(name for name in names if name.split(".")[0] in FORBIDDEN)


def test_the_packages_exist() -> None:
    assert (PACKAGE / "patch").is_dir(), "the patch layer is missing"
    assert (LSP_PACKAGE / "server.py").is_file(), "the LSP package is missing"
    assert len(outside_lsp()) > 20, "too few modules found; the layering test would prove little"


@pytest.mark.parametrize("path", outside_lsp(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_outside_lsp_does_not_import_the_lsp_stack(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if path in LAZY_IMPORT_ALLOWED:
        offenders = _offenders(module_level_imports(source))
        assert not offenders, f"{path.name} imports {offenders} at module level; import it where it is used"
    else:
        offenders = _offenders(imported_modules(source))
        assert not offenders, f"{path.name} imports {offenders}; only codex_lsp/lsp/ may use the LSP stack"


def test_detector_sees_imports() -> None:
    """The detectors must catch both import forms and tell module level from function level."""
    source = (
        "import pygls.lsp\nfrom lsprotocol import types\nfrom . import x\n"
        "def start():\n    from codex_lsp.lsp.server import build_server\n    import pygls.server\n"
    )
    assert {"pygls.lsp", "lsprotocol", "codex_lsp.lsp.server", "pygls.server"} <= imported_modules(source)
    assert module_level_imports(source) == {"pygls.lsp", "lsprotocol"}


ACP_SDK = "acp"
ACP_PACKAGE = PACKAGE / "acp"


def acp_sdk_importers() -> list[str]:
    """Modules of ``codex_lsp`` outside ``codex_lsp/acp`` that import the ACP SDK."""
    return sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if ACP_PACKAGE not in path.parents
        and any(name.split(".")[0] == ACP_SDK for name in imported_modules(path.read_text(encoding="utf-8")))
    )


def test_only_the_acp_package_imports_the_acp_sdk() -> None:
    """The ACP SDK is a dependency of ``codex-lsp acp`` alone: no other command may load it."""
    assert any(
        ACP_SDK in {name.split(".")[0] for name in imported_modules(path.read_text(encoding="utf-8"))}
        for path in ACP_PACKAGE.rglob("*.py")
    ), "codex_lsp/acp imports no ACP SDK module; this test would prove nothing"
    assert acp_sdk_importers() == [], "only codex_lsp/acp may import the ACP SDK"
