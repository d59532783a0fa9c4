"""The model package's internal layering, read from the source (AST), type-checking imports included:
client → session → connections → transports, and no module of the package imports its way back up."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[2] / "codex_lsp" / "model"
PACKAGE = "codex_lsp.model"


def model_imports(source: str) -> set[str]:
    """The ``codex_lsp.model`` modules ``source`` imports (short names), in any import form and at any
    depth (``if TYPE_CHECKING:`` blocks and function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = PACKAGE if node.level else (node.module or "")
            module = f"{PACKAGE}.{node.module}" if node.level and node.module else base
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name.startswith(PACKAGE + "."):
                found.add(name[len(PACKAGE) + 1 :].split(".")[0])
    return found


def graph() -> dict[str, set[str]]:
    modules = {path.stem for path in MODEL.glob("*.py") if path.stem != "__init__"}
    return {
        path.stem: model_imports(path.read_text(encoding="utf-8")) & modules
        for path in MODEL.glob("*.py")
        if path.stem != "__init__"
    }


def test_session_does_not_import_the_client() -> None:
    assert "client" not in graph()["session"]


def _writes_through(source: str, owners: set[str]) -> list[str]:
    """Assignments (plain or augmented) to an attribute or item reached through one of ``owners``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign)
            else []
        )
        for target in targets:
            base = target
            while isinstance(base, ast.Attribute | ast.Subscript):
                base = base.value
                if ast.unparse(base) in owners:
                    found.append(ast.unparse(target))
                    break
    return found


def test_the_session_never_writes_the_shared_state() -> None:
    """The session asks Connections to change its state (count_request, disable_websockets, ...)."""
    source = (MODEL / "session.py").read_text(encoding="utf-8")
    assert _writes_through(source, {"self.connections", "links"}) == []
    assert _writes_through(
        "links.requests_sent['http'] += 1\nself.connections.x = 1\n", {"self.connections", "links"}
    ) == [
        "links.requests_sent['http']",
        "self.connections.x",
    ]


@pytest.mark.parametrize("module", ["connections", "ws_transport", "http_transport", "errors", "request"])
def test_lower_layers_import_neither_session_nor_client(module: str) -> None:
    assert not graph()[module] & {"client", "session"}


def test_the_package_has_no_import_cycle() -> None:
    try:
        order = list(TopologicalSorter(graph()).static_order())
    except CycleError as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"import cycle in codex_lsp.model: {exc.args[1]}")
    assert order.index("connections") < order.index("session") < order.index("client")


def test_the_detector_sees_every_import_form() -> None:
    """Without this the checks above could pass on a detector that sees nothing."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from codex_lsp.model.client import ModelClient\n"
        "from . import session\n"
        "from .events import X\n"
        "import codex_lsp.model.retry\n"
        "from codex_lsp.model import notices\n"
        "def f():\n    from codex_lsp.model.redact import Redactor\n"
    )
    assert model_imports(source) == {"client", "session", "events", "retry", "notices", "redact"}
