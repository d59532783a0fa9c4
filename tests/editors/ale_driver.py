"""Drive a real Vim with ALE from a test: Vim in a tmux terminal, keys typed through tmux, state read back.

Vim 9 as Debian builds it has no ``--servername`` without X, so the test talks to it two ways:

- **acting** the way a person does: `Vim.keys` and `Vim.command` type into the terminal through ``tmux
  send-keys`` (``:ALECodeAction``, a number and Enter at ALE's menu, ``:checktime``);
- **reading**: ``ale_harness.vim`` (loaded before the test's vimrc) opens a JSON channel back to the test
  (`Vim.eval` sends ``["expr", ..., -N]`` and Vim answers ``[-N, value]``), and `Vim.screen` captures what
  the terminal shows. Vim also logs every channel's traffic, so `Vim.lsp_messages` has what ALE and
  codex-lsp said to each other, byte for byte.

Waits poll a condition (an expression in Vim, or the screen) until it holds, with a bound; nothing sleeps
for a fixed time. Each Vim has its own HOME and XDG folders (no user configuration), this venv first on
PATH (so ``codex-lsp`` is this checkout's), its own tmux server, and `Vim.close` ends tmux, Vim and every
process they started (ALE's language servers and linters included).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

from tests.editors.deps import vim_ale_deps
from tests.editors.emacs_driver import processes_with_env
from tests.editors.nvim_driver import isolated_env
from tests.editors.processes import descendant_groups

__all__ = ["WAIT", "Vim", "VimTimeout", "ale_version", "vim_string"]

WAIT = 20.0
"""Default bound (seconds) on one wait for an editor event."""
HARNESS = Path(__file__).with_name("ale_harness.vim")
COLUMNS, LINES = 200, 50
_NAMES = itertools.count()


class VimTimeout(AssertionError):
    """What a test waited for did not happen in time; the message has the screen and Vim's records."""


def ale_version() -> str:
    """The version of Debian's vim-ale package (ALE itself declares none)."""
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "vim-ale"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def vim_string(value: str) -> str:
    """``value`` as a Vim script string literal (single-quoted: nothing is special but the quote)."""
    return "'" + value.replace("'", "''") + "'"


class _Channel:
    """The test's end of Vim's JSON channel (Vim connects to it from ale_harness.vim)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._socket: socket.socket | None = None
        self._buffer = ""
        self._ids = itertools.count(1)

    def accept(self, timeout: float) -> None:
        self._listener.settimeout(timeout)
        self._socket, _ = self._listener.accept()
        self._listener.close()

    def eval(self, expr: str, timeout: float) -> Any:
        if self._socket is None:
            raise RuntimeError("Vim has not connected")
        number = -next(self._ids)
        self._socket.settimeout(timeout)
        self._socket.sendall(json.dumps(["expr", expr, number]).encode() + b"\n")
        decoder = json.JSONDecoder()
        while True:
            self._buffer = self._buffer.lstrip()
            with contextlib.suppress(json.JSONDecodeError):
                message, end = decoder.raw_decode(self._buffer)
                self._buffer = self._buffer[end:]
                if isinstance(message, list) and message and message[0] == number:
                    return message[1]
                continue
            chunk = self._socket.recv(65536)
            if not chunk:
                raise ConnectionError("Vim closed the channel")
            self._buffer += chunk.decode("utf-8", errors="replace")

    def close(self) -> None:
        for sock in (self._socket, self._listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


class Vim:
    """One Vim in its own tmux server; see the module docstring."""

    def __init__(self, home: Path, tmux: list[str], channel: _Channel, chlog: Path) -> None:
        self.home = home
        self._tmux = tmux
        self._channel = channel
        self.chlog = chlog
        self._pids: tuple[int, int] | None = None

    @classmethod
    def start(
        cls,
        home: Path,
        vimrc: str,
        *,
        cwd: Path,
        file: str,
        env: Mapping[str, str] | None = None,
        timeout: float = WAIT,
    ) -> Self:
        """Start ``vim -N -u VIMRC FILE`` in ``cwd``: the harness first, then ``vimrc`` (the test's)."""
        tools = vim_ale_deps()
        home.mkdir(parents=True, exist_ok=True)
        rc, chlog, echoed = home / "vimrc", home / "channel.log", home / "echoed.log"
        rc.write_text(f"source {HARNESS}\n{vimrc}\n", encoding="utf-8")
        channel = _Channel()
        environment = isolated_env(
            home,
            {
                **(env or {}),
                "CODEX_TEST_PORT": str(channel.port),
                "CODEX_TEST_CHLOG": str(chlog),
                "CODEX_TEST_ECHOED": str(echoed),
            },
        )
        environment.pop("TMUX", None)
        environment["TERM"] = "xterm-256color"
        name = f"codex-ale-{os.getpid()}-{next(_NAMES)}"
        tmux = [str(tools["tmux"]), "-L", name, "-f", os.devnull]
        vim = cls(home, tmux, channel, chlog)
        command = [str(tools["vim"]), "-N", "-u", str(rc), "-i", "NONE", "-n", file]
        # The tmux server starts here and inherits this environment; so do its panes, Vim's among them.
        size = ["-x", str(COLUMNS), "-y", str(LINES)]
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", "vim", *size, "-c", str(cwd), "--", *command],
            env=environment,
            check=True,
            timeout=timeout,
        )
        try:
            pids = vim._tmux_run("display-message", "-p", "-t", "vim", "#{pid} #{pane_pid}").split()
            vim._pids = (int(pids[0]), int(pids[1]))
            channel.accept(timeout)
        except BaseException:
            vim.close()
            raise
        return vim

    # --- acting ---

    def _tmux_run(self, *args: str) -> str:
        command = [*self._tmux, *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=WAIT, check=True)
        return result.stdout

    def keys(self, *keys: str) -> None:
        """Press keys by tmux's names (``Enter``, ``Escape``, ``C-c``)."""
        self._tmux_run("send-keys", "-t", "vim", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally."""
        self._tmux_run("send-keys", "-t", "vim", "-l", "--", text)

    def command(self, ex: str) -> None:
        """Type an Ex command and Enter, as a person does: ``vim.command("ALECodeAction")``."""
        self.type(f":{ex}")
        self.keys("Enter")

    # --- reading ---

    def eval(self, expr: str, timeout: float = WAIT) -> Any:
        """Evaluate a Vim expression and return its value (``"ERROR"`` if Vim could not)."""
        return self._channel.eval(expr, timeout)

    def state(self, name: str) -> dict[str, Any]:
        """Buffer ``name``'s text and modified flag, the cursor, ALE's preview windows, :messages."""
        return dict(self.eval(f"CodexTestState({vim_string(name)})"))

    def problems(self, name: str) -> list[dict[str, Any]]:
        """ALE's problems for buffer ``name`` (``lnum``, ``col``, ``code``, ``text``, ``linter``...)."""
        return list(self.eval(f"CodexTestProblems({vim_string(name)})"))

    def echoed(self) -> str:
        """Everything Vim wrote to its message area so far (``echo`` included), in order."""
        return str(self.eval("CodexTestEchoed()"))

    def screen(self) -> str:
        """What the terminal shows now, one line per row."""
        return self._tmux_run("capture-pane", "-p", "-t", "vim")

    def wait_until(self, expr: str, what: str, timeout: float = WAIT) -> Any:
        """Poll the Vim expression ``expr`` until it is truthy; return its value."""
        return self._wait(lambda: self.eval(expr), what, timeout)

    def wait_screen(self, pattern: str, what: str, timeout: float = WAIT) -> re.Match[str]:
        """Poll the screen until the regular expression ``pattern`` matches it; return the match."""
        found = self._wait(lambda: re.search(pattern, self.screen(), re.MULTILINE), what, timeout)
        assert isinstance(found, re.Match)
        return found

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        """Poll a condition outside Vim (a file, the fake server) until it is truthy; return its value."""
        return self._wait(condition, what, timeout)

    def _wait(self, condition: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value and value != "ERROR":
                return value
            if time.monotonic() > deadline:
                raise VimTimeout(f"timed out after {timeout} s waiting for {what}\n{self.report()}")
            time.sleep(0.05)

    def lsp_messages(self, command: str = "codex-lsp") -> list[tuple[str, dict[str, Any]]]:
        """What ALE sent (``"sent"``) to and received (``"received"``) from the server ``command``, in order.

        Read from Vim's channel log: every language server ALE started whose command contains ``command``
        (a restarted one included).
        """
        log = self.chlog.read_text(encoding="utf-8", errors="replace")
        channels = {
            number
            for job, number in re.findall(r"Starting job: (.*)\n +[\d.]+ on (\d+): Created channel", log)
            if command in job
        }
        entry = re.compile(
            r"^ +[\d.]+ (SEND|RECV) on (\d+)\((in|out)\): '(.*?)'\n(?= +[\d.]+ |==== |\Z)",
            re.MULTILINE | re.DOTALL,
        )
        streams: dict[tuple[str, str], str] = {}
        order: list[tuple[str, str, int]] = []  # (channel, direction, bytes so far) per chunk
        for kind, number, _, data in entry.findall(log):
            if number not in channels:
                continue
            key = (number, "sent" if kind == "SEND" else "received")
            streams[key] = streams.get(key, "") + data
            order.append((*key, len(streams[key])))
        parsed = {key: _frames(text) for key, text in streams.items()}
        messages: list[tuple[str, dict[str, Any]]] = []
        taken = dict.fromkeys(parsed, 0)
        for number, direction, upto in order:  # interleave by when each message was complete
            key = (number, direction)
            while taken[key] < len(parsed[key]) and parsed[key][taken[key]][0] <= upto:
                messages.append((direction, parsed[key][taken[key]][1]))
                taken[key] += 1
        return messages

    def report(self) -> str:
        """The screen, Vim's records and the end of the language-server traffic (for a failure message)."""
        parts = []
        try:
            parts.append(f"--- screen ---\n{self.screen().rstrip()}")
        except subprocess.SubprocessError:
            parts.append("--- screen ---\n(tmux is gone: Vim has exited)")
        with contextlib.suppress(Exception):
            state = self.eval("CodexTestState('%')", timeout=2)
            parts.append(f"--- messages ---\n{state['messages'].strip()}")
            parts.append(f"--- previews ---\n{state['previews']}")
            parts.append(f"--- ALE's LSP errors ---\n{state['lsp_errors']}")
        with contextlib.suppress(Exception):
            traffic = [f"{d}: {json.dumps(m)[:600]}" for d, m in self.lsp_messages()[-20:]]
            parts.append("--- codex-lsp traffic (last 20) ---\n" + "\n".join(traffic))
        with contextlib.suppress(Exception):
            log = self.chlog.read_text(encoding="utf-8", errors="replace")
            errors = re.findall(r"RECV on \d+\(err\): '(.*?)'\n(?= +[\d.]+ |\Z)", log, re.DOTALL)
            parts.append("--- language servers' stderr ---\n" + "".join(errors)[-3000:])
        return "\n".join(parts)

    # --- ending ---

    def close(self) -> None:
        """End tmux, Vim and everything Vim started (language servers and linters included).

        Every one of them inherited ``CODEX_TEST_CHLOG`` (this Vim's own log path), so whatever is left,
        even a job started while tmux went down, is found by its environment and killed.
        """
        groups: set[int] = set()
        if self._pids is not None:
            server, pane = self._pids
            groups = descendant_groups(server) | {pane}
        with contextlib.suppress(Exception):
            self._tmux_run("kill-server")
        self._channel.close()
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while left := processes_with_env("CODEX_TEST_CHLOG", str(self.chlog)):
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)  # SIGKILLed processes take a moment to exit


def _frames(stream: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON-RPC messages of an LSP byte stream, each with the offset where it ends."""
    found: list[tuple[int, dict[str, Any]]] = []
    position = 0
    header = re.compile(r"Content-Length: (\d+)\r?\n(?:[^\r\n]+\r?\n)*\r?\n")
    while (match := header.search(stream, position)) is not None:
        start = match.end()
        raw = stream[start:]
        decoder = json.JSONDecoder()
        try:
            message, length = decoder.raw_decode(raw)
        except json.JSONDecodeError:
            break
        found.append((start + length, message))
        position = start + length
    return found
