"""Across packages, only public surfaces are used: ``codex_lsp.Y`` itself and the names in its ``__all__``.

The core packages (``patch``, ``model``, ``agent``) and ``testing`` each name in their ``__init__``
what the next layer may use (architecture §1). A module of another package, a host (``lsp/``,
``acp/``, ``headless``, ``doctor``, ``demo``, ``cli``), a test or a benchmark imports
``codex_lsp.Y`` and only those names — never ``codex_lsp.Y.some_module``. Inside a package, modules
import their siblings freely, and the tests of a package (``tests/patch`` for ``patch``…) may
reach its internals. The check reads the source (every import, at module level or inside a
function) and attribute chains such as ``codex_lsp.model.errors.X`` after ``import codex_lsp.model``.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SURFACES = ("patch", "model", "agent", "testing", "auth")
"""Packages whose ``__init__`` is the only way in from outside."""
SCANNED = ("codex_lsp", "tests", "bench")
SKIPPED = (ROOT / "tests" / "patch" / "scenarios", ROOT / "tests" / "peers")
"""Fixture files (not code of the project) and installed peers."""


def public_names(package: str) -> frozenset[str]:
    """``codex_lsp.<package>.__all__``, read from the source so the check imports nothing."""
    tree = ast.parse((ROOT / "codex_lsp" / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            return frozenset(ast.literal_eval(node.value))
    raise AssertionError(f"codex_lsp/{package}/__init__.py has no literal __all__")


def owner(path: Path) -> str | None:
    """The package whose internals ``path`` may use: its own, or the one its test folder tests."""
    parts = path.relative_to(ROOT).parts
    if len(parts) > 2 and parts[0] in ("codex_lsp", "tests") and parts[1] in SURFACES:
        return parts[1]
    return None


def _dotted(node: ast.expr) -> str | None:
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(names)])
    return None


def _used(tree: ast.AST) -> Iterator[tuple[int, str, str | None]]:
    """``(line, module, name)`` for every import of a ``codex_lsp`` module and every dotted use of one."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.Attribute):
            package = _dotted(node.value)
            if package is not None and package.startswith("codex_lsp.") and package.count(".") == 1:
                yield node.lineno, package, node.attr


def offences(source: str, own: str | None, surfaces: dict[str, frozenset[str]]) -> list[str]:
    """What ``source`` (a module whose own package is ``own``) uses of other packages' internals."""
    found = []
    for line, module, name in _used(ast.parse(source)):
        parts = module.split(".")
        if parts[0] != "codex_lsp" or len(parts) < 2 or parts[1] not in surfaces or parts[1] == own:
            continue
        package = ".".join(parts[:2])
        if len(parts) > 2:
            found.append(f"line {line}: {module} is private; use {package}")
        elif name is not None and not name.startswith("__") and name not in surfaces[parts[1]]:
            found.append(f"line {line}: {package}.{name} is not in {package}.__all__")
    return found


def scanned() -> list[Path]:
    paths = (path for folder in SCANNED for path in sorted((ROOT / folder).rglob("*.py")))
    return [path for path in paths if not any(skip in path.parents for skip in SKIPPED)]


ALL_SURFACES = {package: public_names(package) for package in SURFACES}


def test_enough_modules_are_checked() -> None:
    paths = scanned()
    assert len(paths) > 150, "too few modules found; the check would prove little"
    assert sum(owner(path) is None for path in paths) > 50, "too few consumers outside the core"


@pytest.mark.parametrize("path", scanned(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_public_surfaces_are_used_across_packages(path: Path) -> None:
    found = offences(path.read_text(encoding="utf-8"), owner(path), ALL_SURFACES)
    assert not found, f"{path.relative_to(ROOT)} reaches into another package:\n" + "\n".join(found)


def test_the_check_sees_every_way_in() -> None:
    """Submodule imports (at any depth, inside functions too), names missing from ``__all__``,
    and dotted uses are caught; the package's own modules and public names are not."""
    surfaces = {"model": frozenset({"ModelClient"}), "agent": frozenset({"Agent"})}
    source = (
        "from codex_lsp.model import ModelClient\n"
        "from codex_lsp.model.errors import ConfigError\n"
        "import codex_lsp.agent.tools.base\n"
        "from codex_lsp.agent import Agent, context\n"
        "import codex_lsp.model\n"
        "def later():\n"
        "    from codex_lsp.agent.turn import ABORTED\n"
        "    return codex_lsp.model.errors.ModelError, codex_lsp.model.ModelClient, codex_lsp.model.__doc__\n"
    )
    assert offences(source, None, surfaces) == [
        "line 2: codex_lsp.model.errors is private; use codex_lsp.model",
        "line 3: codex_lsp.agent.tools.base is private; use codex_lsp.agent",
        "line 4: codex_lsp.agent.context is not in codex_lsp.agent.__all__",
        "line 7: codex_lsp.agent.turn is private; use codex_lsp.agent",
        "line 8: codex_lsp.model.errors is not in codex_lsp.model.__all__",
    ]
    assert offences(source, "agent", surfaces) == [
        "line 2: codex_lsp.model.errors is private; use codex_lsp.model",
        "line 8: codex_lsp.model.errors is not in codex_lsp.model.__all__",
    ]


def test_the_owner_of_a_module_is_its_package_or_the_package_its_tests_cover() -> None:
    assert owner(ROOT / "codex_lsp" / "agent" / "tools" / "shell.py") == "agent"
    assert owner(ROOT / "tests" / "patch" / "test_engine.py") == "patch"
    assert owner(ROOT / "tests" / "lsp" / "test_turns.py") is None
    assert owner(ROOT / "codex_lsp" / "headless.py") is None
    assert owner(ROOT / "bench" / "stream.py") is None


def _type_checking_names(package: str) -> set[str]:
    tree = ast.parse((ROOT / "codex_lsp" / package / "__init__.py").read_text(encoding="utf-8"))
    blocks = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    imports = [node for block in blocks for node in ast.walk(block) if isinstance(node, ast.ImportFrom)]
    return {alias.name for node in imports for alias in node.names}


@pytest.mark.parametrize("package", SURFACES)
def test_every_public_name_resolves_and_is_typed(package: str) -> None:
    """Each name in ``__all__`` is importable (lazily or not), and a lazy one is also imported
    under ``TYPE_CHECKING`` so that type checkers see what it is."""
    module = importlib.import_module(f"codex_lsp.{package}")
    names = public_names(package)
    assert names == set(module.__all__)
    for name in sorted(names):
        assert getattr(module, name) is not None, name
    lazy = getattr(module, "_LAZY", {})
    lazy_names = {name for group in lazy.values() for name in group}
    assert lazy_names <= names, f"lazy names missing from __all__: {sorted(lazy_names - names)}"
    assert lazy_names <= _type_checking_names(package), "a lazy export has no TYPE_CHECKING import"
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


HEAVY = ("httpx", "websockets", "unidiff")


@pytest.mark.parametrize(
    ("statement", "loaded"),
    [
        ("from codex_lsp.patch import run_apply_patch", set()),
        ("from codex_lsp.model import ConfigError", {"codex_lsp.model.errors"}),
        (
            "from codex_lsp.agent import AgentSettings",
            {"codex_lsp.agent.settings", "codex_lsp.model.permissions"},  # the types of its policies
        ),
        ("from codex_lsp.testing import codex_binary", {"codex_lsp.testing.peers"}),
    ],
)
def test_a_public_name_loads_only_its_own_module(statement: str, loaded: set[str]) -> None:
    """Lazy exports keep start-up cheap: reaching one name does not load the transports."""
    probe = (
        f"import sys; {statement}; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
        "or m.startswith(('codex_lsp.model.', 'codex_lsp.agent.', 'codex_lsp.testing.'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(sorted(loaded))
