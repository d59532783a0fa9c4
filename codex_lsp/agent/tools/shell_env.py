"""The environment of a shell command, built as Codex 0.169 builds it from ``[shell_environment_policy]``.

In order (each step checked against the pinned Codex: ``tests/agent/test_permissions_codex.py``):

1. **inherit**: ``all`` (the default) starts from this process's environment, ``core`` from its
   :data:`CORE_VARS` only, ``none`` from nothing;
2. **default excludes**: with ``ignore_default_excludes = false``, names matching ``*KEY*``,
   ``*SECRET*`` or ``*TOKEN*`` are dropped (0.169's default is ``true``: nothing is dropped);
3. **exclude**: names matching any of these patterns are dropped;
4. **set**: these variables are set (over anything inherited; never dropped by steps 2–3);
5. **include_only**: when given, only names matching one of these patterns are kept — the ``set``
   ones included.

Patterns are matched against the whole name, case-insensitively; ``*`` is any run of characters, ``?``
one character, and everything else (``[`` included) stands for itself, as in Codex.

On top of Codex, one rule of codex-lsp's own: the variables holding the configuration's secrets (the API
key variables, the provider's ``env_key``, the ``env_http_headers`` variables) are never inherited,
whatever the policy says. A variable the policy ``set``s explicitly is the user's choice and is kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from codex_lsp.model import ShellEnvironmentPolicy

__all__ = ["CORE_VARS", "DEFAULT_EXCLUDES", "matches", "shell_environment"]

CORE_VARS = frozenset(
    {"HOME", "LANG", "LC_ALL", "LC_CTYPE", "LOGNAME", "PATH", "SHELL", "TEMP", "TMP", "TMPDIR", "USER"}
)
"""What ``inherit = "core"`` keeps on Linux (read from the binary: ``USERNAME``, ``LANGUAGE`` and the
other ``LC_*`` are not among them)."""
DEFAULT_EXCLUDES = ("*KEY*", "*SECRET*", "*TOKEN*")


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether ``name`` matches one of ``patterns`` (whole name, any case, ``*`` and ``?``)."""
    return any(_compiled(pattern).fullmatch(name) for pattern in patterns)


def shell_environment(
    environ: Mapping[str, str], policy: ShellEnvironmentPolicy, *, secrets: Iterable[str] = ()
) -> dict[str, str]:
    """The environment a command gets from ``environ`` under ``policy``, without the ``secrets``
    variables (see the module docstring for the order of the steps)."""
    hidden = frozenset(secrets)
    if policy.inherit == "all":
        env = {name: value for name, value in environ.items() if name not in hidden}
    elif policy.inherit == "core":
        env = {name: value for name, value in environ.items() if name in CORE_VARS and name not in hidden}
    else:
        env = {}
    if not policy.ignore_default_excludes:
        env = {name: value for name, value in env.items() if not matches(name, DEFAULT_EXCLUDES)}
    if policy.exclude:
        env = {name: value for name, value in env.items() if not matches(name, policy.exclude)}
    env.update(policy.set)
    if policy.include_only:
        env = {name: value for name, value in env.items() if matches(name, policy.include_only)}
    return env
