"""What the model is told about its sandbox and the approval policy: Codex's ``<permissions instructions>``.

Codex 0.169 sends it in the developer message after the base prompt (with ``developer_instructions``
before it). The sandbox sentence and the ``never`` policy sentence are Codex's own words, checked against
the pinned binary by tests/model/test_request_differential.py; the sentence for a policy under which
commands ask is ours, because Codex's describes parameters of its own shell tool (``sandbox_permissions``,
``prefix_rule``) that codex-lsp's does not have.

Which sandbox applies is decided by the caller (the configured ``sandbox_mode``, or what the shell really
gets when the sandbox cannot run); this module only words it. The writable roots of ``workspace-write``
follow Codex's rule: the workspace, ``/tmp`` and ``$TMPDIR`` (unless excluded) and the configured
``writable_roots``, sorted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["permissions_text", "writable_roots"]

_SANDBOX = {
    "read-only": "The sandbox only permits reading files.",
    "workspace-write": (
        "The sandbox permits reading files, and editing files in `cwd` and `writable_roots`. Editing files "
        "in other directories requires approval."
    ),
    "danger-full-access": "No filesystem sandboxing - all commands are permitted.",
}
_NEVER = (
    "Approval policy is currently never. Do not provide the `sandbox_permissions` for any reason, commands "
    "will be rejected."
)
_ASKS = (
    "Approval policy is currently {policy}. A command that is not on the user's allow list runs only once "
    "the user approves it, and the user may decline; say in your message why a command is needed."
)


def writable_roots(
    cwd: Path | str,
    extra: Iterable[str] = (),
    *,
    exclude_slash_tmp: bool = False,
    exclude_tmpdir_env_var: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The writable roots of ``workspace-write`` as Codex lists them: sorted, each once."""
    environ = os.environ if env is None else env
    roots = {str(cwd), *extra}
    if not exclude_slash_tmp:
        roots.add("/tmp")
    tmpdir = environ.get("TMPDIR")
    if tmpdir and not exclude_tmpdir_env_var:
        roots.add(tmpdir)
    return sorted(roots)


def permissions_text(sandbox_mode: str, *, network: bool, policy: str, roots: Iterable[str] = ()) -> str:
    """The ``<permissions instructions>`` text; ``roots`` are listed for ``workspace-write`` only."""
    lines = [
        "<permissions instructions>",
        "Filesystem sandboxing defines which files can be read or written. "
        f"`sandbox_mode` is `{sandbox_mode}`: {_SANDBOX[sandbox_mode]} "
        f"Network access is {'enabled' if network else 'restricted'}.",
        _NEVER if policy == "never" else _ASKS.format(policy=policy),
    ]
    listed = [f"`{root}`" for root in roots] if sandbox_mode == "workspace-write" else []
    if listed:
        verb = "root is" if len(listed) == 1 else "roots are"
        lines.append(f" The writable {verb} {', '.join(listed)}.")
    lines.append("</permissions instructions>")
    return "\n".join(lines)
