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


def _cmd_exec(args: argparse.Namespace) -> int:
    import asyncio
    from pathlib import Path

    from codex_lsp.agent.settings import AgentSettings
    from codex_lsp.headless import run_exec

    if not Path(args.cd).is_dir():
        print(f"codex-lsp exec: --cd {args.cd} is not a directory", file=sys.stderr)
        return 1
    prompt = " ".join(args.prompt)
    if prompt == "-":
        prompt = sys.stdin.read()
    settings = AgentSettings(shell_enabled=args.shell, shell_allow=tuple(args.allow))
    return asyncio.run(
        run_exec(
            prompt,
            cd=Path(args.cd),
            dry_run=args.dry_run,
            model=args.model,
            thread_id=args.thread,
            settings=settings,
        )
    )


def _cmd_threads(args: argparse.Namespace) -> int:
    from codex_lsp.headless import run_threads

    return run_threads()


def _cmd_doctor(args: argparse.Namespace) -> int:
    from codex_lsp.doctor import main as run_doctor

    return run_doctor(args.codex_home, timeout=args.timeout, as_json=args.json, debug=args.debug)


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from codex_lsp.demo import run_demo

    return asyncio.run(run_demo())


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

    demo = sub.add_parser(
        "demo",
        help="run the agent loop offline on a small buggy project, with a scripted model",
        description=(
            "Fix a real bug in a temporary project with a scripted model on 127.0.0.1: "
            "no API key, no network."
        ),
    )
    demo.set_defaults(handler=_cmd_demo)

    ex = sub.add_parser(
        "exec",
        help="run one agent turn on a folder from the terminal",
        description=(
            "Run one agent turn without an editor: the agent's text streams to stdout, patches "
            "are applied atomically. Exit status 0 completed, 1 failed, 130 interrupted."
        ),
    )
    ex.add_argument("prompt", nargs="+", metavar="PROMPT", help="what to do (- reads it from stdin)")
    ex.add_argument("--cd", default=".", metavar="DIR", help="workspace folder (default: current directory)")
    ex.add_argument("--dry-run", action="store_true", help="print the diff instead of writing files")
    ex.add_argument("--model", help="model to use (default: from $CODEX_HOME/config.toml)")
    ex.add_argument("--thread", metavar="ID", help="continue a saved thread")
    ex.add_argument("--shell", action="store_true", help="offer the shell tool (each command is approved)")
    ex.add_argument("--allow", action="append", default=[], metavar="CMD", help="run CMD without asking")
    ex.set_defaults(handler=_cmd_exec)

    th = sub.add_parser(
        "threads",
        help="list the saved threads that exec --thread can continue",
        description=(
            "List the saved threads, newest first: id, creation time and the first line of the first "
            "prompt. Threads live under $CODEX_LSP_STATE_DIR (default: the user state directory)."
        ),
    )
    th.set_defaults(handler=_cmd_threads)

    dr = sub.add_parser(
        "doctor",
        help="check the model configuration and connection with one tiny request",
        description=(
            "Read $CODEX_HOME/config.toml and auth.json as the server does, show the provider, model, "
            "base URL and key source (never the key), send one tiny request and report the transport, "
            "latencies, served model, and any error with what to do about it. Exit status 0 only when "
            "the request completed."
        ),
    )
    dr.add_argument(
        "--codex-home", metavar="DIR", help="the Codex home to read (default: $CODEX_HOME or ~/.codex)"
    )
    dr.add_argument(
        "--timeout", type=float, default=20.0, metavar="SECONDS", help="give up after this long (default: 20)"
    )
    dr.add_argument("--json", action="store_true", help="print the report as JSON")
    dr.add_argument("--debug", action="store_true", help="log the transport at debug level to stderr")
    dr.set_defaults(handler=_cmd_doctor)
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
