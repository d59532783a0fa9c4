"""What the protocol fuzz tests (LSP: tests/lsp_serve/test_fuzz.py, ACP: tests/acp/test_fuzz.py) share: the
hypothesis profile, small JSON values, values that fit no field, and breaking one field of a message.

The profile is deterministic (``derandomize``, no example database) with a bounded number of examples and no
deadline, so a CI run is stable and takes seconds; ``CODEX_LSP_FUZZ_EXAMPLES=N`` runs N examples from a
random seed instead, to fuzz further locally (the timeout grows with N); ``CODEX_LSP_FUZZ_SHRINK=0`` skips
shrinking.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

__all__ = [
    "EXAMPLES",
    "FUZZ",
    "SMALL_INT",
    "SMALL_JSON",
    "TIMEOUT",
    "WRONG_VALUES",
    "paths_in",
    "replaced",
]

EXAMPLES = int(os.environ.get("CODEX_LSP_FUZZ_EXAMPLES", "60"))
TIMEOUT = 90 + 3 * EXAMPLES
"""The test's own time limit (pytest-timeout), for a run of :data:`EXAMPLES` examples."""
SHRINK = os.environ.get("CODEX_LSP_FUZZ_SHRINK", "1") != "0"
"""``CODEX_LSP_FUZZ_SHRINK=0``: report the first failing example as found, without shrinking it (quicker,
when a slow failure such as a missing answer only needs to be seen)."""
FUZZ = settings(
    phases=tuple(Phase) if SHRINK else (Phase.explicit, Phase.reuse, Phase.generate),
    max_examples=EXAMPLES,
    derandomize="CODEX_LSP_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

SMALL_INT = st.one_of(st.integers(0, 20), st.integers(0, 2**31 - 1))
JSON_LEAF = st.one_of(st.none(), st.booleans(), SMALL_INT, st.text(max_size=8))
SMALL_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
WRONG_VALUES: tuple[Any, ...] = (
    *(-1, 2**63, -(2**70), 1.5e308),
    *("", "\ud800", None, True, [], {}, [None], {"a": 0}),
)
"""Values that fit almost no field: negative and huge numbers, a lone surrogate, every JSON type."""


def paths_in(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value`` (dict keys and list indexes), ``()`` (the value itself) first."""
    paths = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            paths += paths_in(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            paths += paths_in(inner, (*path, index))
    return paths


def replaced(value: Any, path: tuple[Any, ...], new: Any, delete: bool = False) -> Any:
    """A copy of ``value`` with what is at ``path`` replaced by ``new`` (or removed, with ``delete``)."""
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    head, rest = path[0], path[1:]
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = replaced(copy[head], rest, new, delete)
    return copy
