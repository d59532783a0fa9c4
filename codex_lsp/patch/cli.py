"""``codex-lsp apply-patch``: the engine on plain files, printing what the reference tool prints."""

from __future__ import annotations

import sys
from pathlib import Path

from codex_lsp.patch import DiskFileSource, PatchError, compute_changes, parse_patch, write_changes

__all__ = ["run_apply_patch"]


def run_apply_patch(patch_file: str, *, root: str = ".") -> int:
    """Apply the patch in ``patch_file`` (``-`` for stdin) under ``root``; return the exit status."""
    try:
        text = sys.stdin.read() if patch_file == "-" else Path(patch_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read patch {patch_file}: {exc}", file=sys.stderr)
        return 1
    workspace = Path(root)
    if not workspace.is_dir():
        print(f"--root {root} is not a directory", file=sys.stderr)
        return 1
    try:
        result = compute_changes(parse_patch(text), DiskFileSource(workspace))
        write_changes(workspace.resolve(), result.changes)
    except PatchError as exc:
        print(exc, file=sys.stderr)
        return 1
    sys.stdout.write(result.success_message())
    return 0
