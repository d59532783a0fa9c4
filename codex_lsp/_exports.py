"""Lazy package exports (PEP 562): a package names its public surface without importing it.

A package ``__init__`` lists its exports by defining module, and sets
``__getattr__ = lazy_exports(__name__, {"module": ("Name", ...)})``; each name is imported the
first time it is asked for. Start-up stays cheap: importing ``codex_lsp.agent`` to reach one
small module no longer loads the model client and its transports. The ``__init__`` also imports
the same names under ``TYPE_CHECKING``, so type checkers see real types, and lists them in
``__all__``; tests/test_surfaces.py checks that the three lists agree.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package``: ``exports`` maps a submodule to the names it defines."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def load(name: str) -> object:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return load
