"""A tiny pygls server that records every handler call, and a command line that serves it.

The transports are tested against this server, not the real one, so that a test can tell whether a
refused connection reached any handler. ``python -m tests.lsp_serve.tiny ARGS`` runs ``codex-lsp
ARGS`` with this server in place of ``codex_lsp.lsp.server``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

ECHO = "tiny/echo"
STRAY = "tiny/stray"
END = "tiny/end"


class TinyServer(LanguageServer):
    """A LanguageServer whose ``calls`` lists every handler that ran, in order."""

    def __init__(self) -> None:
        super().__init__("tiny", "0")
        self.calls: list[str] = []
        self.init_options: Any = None


def build_tiny_server() -> TinyServer:
    """Build the server: ``initialize``, an echo request, a misbehaving request and a self-ending one."""
    server = TinyServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: TinyServer, params: lsp.InitializeParams) -> None:
        ls.calls.append("initialize")
        ls.init_options = params.initialization_options

    @server.feature(ECHO)
    def echo(ls: TinyServer, params: Any) -> Any:
        ls.calls.append(ECHO)
        return {"echo": params.text, "initOptions": ls.init_options}

    @server.feature(STRAY)
    def stray(ls: TinyServer, params: Any) -> str:
        """Write to stdout the two ways a careless handler could: print and a child process."""
        ls.calls.append(STRAY)
        print("stray print from a handler")
        subprocess.run(["sh", "-c", "echo stray output from a child; cat"], check=True, timeout=5)
        return "done"

    @server.feature(END)
    def end(ls: TinyServer, params: Any) -> None:
        """The server ending its own process, as a lifecycle watchdog would."""
        ls.calls.append(END)
        sys.exit(7)

    return server


def install_as_real_server() -> None:
    """Make ``codex_lsp.lsp.server.build_server`` build the tiny server in this process."""
    module = types.ModuleType("codex_lsp.lsp.server")
    module.build_server = build_tiny_server  # type: ignore[attr-defined]
    sys.modules["codex_lsp.lsp.server"] = module


def main() -> int:
    install_as_real_server()
    from codex_lsp.cli import main as cli_main

    code = cli_main(sys.argv[1:])
    # Reported on stderr so a test can see the status the command returned, not just the process's.
    print(json.dumps({"returned": code, "pid": os.getpid()}), file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
