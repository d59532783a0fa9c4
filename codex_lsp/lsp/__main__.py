"""``python -m codex_lsp.lsp --stdio [--log-level LEVEL]``: the language server over stdin/stdout.

``codex-lsp --stdio`` is the usual way in (it also offers the socket modes and logging flags);
this entry point is the plain stdio server (the same reader, framing and exit statuses), logging to
stderr (warnings and above by default) — never to stdout, which carries the protocol. The arguments
are read by hand: argparse alone would add a noticeable share to the server's start-up.
"""

from __future__ import annotations

import gc
import logging
import sys

from codex_lsp.lsp.serve import run_stdio
from codex_lsp.lsp.server import build_server

USAGE = "usage: python -m codex_lsp.lsp [--stdio] [--log-level DEBUG|INFO|WARNING|ERROR]"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def parse(argv: list[str]) -> str:
    """The log level the arguments ask for; ``SystemExit`` on anything else."""
    level, rest = "WARNING", list(argv)
    while rest:
        argument = rest.pop(0)
        if argument == "--stdio":
            continue
        if argument in ("-h", "--help"):
            print(USAGE)
            raise SystemExit(0)
        if argument == "--log-level" and rest and rest[0].upper() in LEVELS:
            level = rest.pop(0).upper()
            continue
        print(f"{USAGE}\nerror: unexpected argument {argument!r}", file=sys.stderr)
        raise SystemExit(2)
    return level


def main(argv: list[str] | None = None) -> int:
    level = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    gc.freeze()  # the modules loaded so far live as long as the process (see serve.settle_heap)
    return run_stdio(build_server)


if __name__ == "__main__":
    raise SystemExit(main())
