"""Command-line entry point.

Sub-commands import their modules lazily so that ``--version`` and ``--help`` stay instant and so
that the server modes do not pay for code they never run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from codex_lsp import __version__

Handler = Callable[[argparse.Namespace], int]


def _cmd_apply_patch(args: argparse.Namespace) -> int:
    from codex_lsp.patch.cli import run_apply_patch

    return run_apply_patch(args.patch_file, root=args.root)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for ``codex-lsp``."""
    parser = argparse.ArgumentParser(
        prog="codex-lsp",
        description="A Codex-style coding agent behind the Language Server Protocol.",
    )
    parser.add_argument("--version", action="version", version=f"codex-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ap = sub.add_parser(
        "apply-patch",
        help="apply a patch (Codex apply_patch format or unified diff) atomically",
        description=(
            "Apply a patch in the Codex apply_patch format or as a unified diff to the files under "
            "--root. Either every file changes or none does."
        ),
    )
    ap.add_argument(
        "patch_file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="the patch file, or - for standard input (default)",
    )
    ap.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="workspace root that every path is resolved in (default: current directory)",
    )
    ap.set_defaults(handler=_cmd_apply_patch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    return handler(args)
