"""The core layers never import the LSP stack (DESIGN.md §2): they must run without an editor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codex_lsp"
CORE_LAYERS = ("patch", "model", "agent")
FORBIDDEN = ("pygls", "lsprotocol")


def imported_modules(source: str) -> set[str]:
    """Return every module name an ``import`` or ``from … import`` statement in ``source`` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_files() -> list[Path]:
    return [path for layer in CORE_LAYERS for path in sorted((PACKAGE / layer).rglob("*.py"))]


def test_core_layers_exist() -> None:
    assert (PACKAGE / "patch").is_dir(), "the patch layer is missing"
    assert core_files(), "no core module found; the layering test would prove nothing"


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_does_not_import_lsp(path: Path) -> None:
    offenders = sorted(
        name for name in imported_modules(path.read_text(encoding="utf-8")) if name.split(".")[0] in FORBIDDEN
    )
    assert not offenders, f"{path.name} imports {offenders}; core layers must stay free of LSP"


def test_detector_sees_imports() -> None:
    """The detector itself must catch both import forms, or the test above could never fail."""
    found = imported_modules("import pygls.lsp\nfrom lsprotocol import types\nfrom . import x\n")
    assert {"pygls.lsp", "lsprotocol"} <= found
