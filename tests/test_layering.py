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
