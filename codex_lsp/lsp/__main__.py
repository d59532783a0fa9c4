"""``python -m codex_lsp.lsp --stdio``: the language server over stdin/stdout.

``codex-lsp --stdio`` is the usual way in (it also offers the socket modes and logging flags);
this entry point is the plain stdio server, logging warnings to stderr — never to stdout, which
carries the protocol.
"""

from __future__ import annotations

import argparse
import logging
import sys

from codex_lsp.lsp.server import build_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codex_lsp.lsp", description=__doc__)
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="stderr log level",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    build_server().start_io()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
