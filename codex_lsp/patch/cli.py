"""``codex-lsp apply-patch``: the engine on plain files, printing what the reference tool prints.

What was repaired to read the patch (a fence, git's ``a/`` prefix…) goes to stderr, one note a
line, so stdout stays the reference tool's; on failure the notes follow the error.
"""

from __future__ import annotations

import os
import sys

from codex_lsp.patch import DiskFileSource, PatchError, compute_changes, parse_patch, write_changes

__all__ = ["run_apply_patch"]


def run_apply_patch(patch_file: str, *, root: str = ".") -> int:
    """Apply the patch in ``patch_file`` (``-`` for stdin) under ``root``; return the exit status."""
    try:
        if patch_file == "-":
            text = sys.stdin.read()
        else:
            with open(patch_file, encoding="utf-8") as stream:
                text = stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"cannot read patch {patch_file}: {exc}", file=sys.stderr)
        return 1
    if not os.path.isdir(root):
        print(f"--root {root} is not a directory", file=sys.stderr)
        return 1
    try:
        source = DiskFileSource(root)
        result = compute_changes(parse_patch(text), source)
        write_changes(source.root, result.changes)
    except PatchError as exc:
        print(exc, *exc.notes, sep="\n", file=sys.stderr)
        return 1
    except OSError as exc:  # the engine turns these into PatchFileError; a last line of defence
        print(f"apply-patch: {exc.strerror or exc}; no file was changed", file=sys.stderr)
        return 1
    sys.stdout.write(result.success_message())
    for note in result.notes:
        print(note, file=sys.stderr)
    return 0
