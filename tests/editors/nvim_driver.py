"""Drive a real, headless Neovim from a test.

Each `Nvim` is its own process (``nvim --headless --listen SOCKET``) in its own process group, with
``XDG_*`` and ``HOME`` in a temporary folder and an init file that loads ``nvim_harness.lua``, the plugin
folders the test names and the test's own Lua. The test talks to it over msgpack-RPC (pynvim) one call at a
time, so it can act, wait and assert step by step, the way a person uses the editor.

Waiting happens inside Neovim: `Nvim.wait_until` runs ``vim.wait`` with a Lua predicate, which keeps
Neovim's event loop (language-server messages, timers) turning and returns as soon as the predicate holds.
Nothing sleeps. Teardown ends Neovim and everything it started, language servers included.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pynvim

from tests.editors.deps import nvim_binary, ruff_binary, venv_bin
from tests.editors.processes import end_all

__all__ = ["WAIT", "Diagnostic", "Nvim", "NvimTimeout", "isolated_env", "ruff_server_lua"]

WAIT = 20.0
"""Default bound (seconds) on one wait for an editor event."""

HARNESS = Path(__file__).with_name("nvim_harness.lua")


class NvimTimeout(AssertionError):
    """What a test waited for did not happen in time; the message includes Neovim's recent output."""


@dataclass(frozen=True)
class Diagnostic:
    """One entry of ``vim.diagnostic.get()``: positions are 0-based, as Neovim stores them."""

    lnum: int
    col: int
    end_lnum: int
    end_col: int
    severity: int
    message: str
    source: str | None
    code: str | None
    namespace: str


def isolated_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``os.environ`` with HOME and the XDG folders under ``home`` and this venv first on PATH.

    An editor under test then reads no user configuration and finds ``codex-lsp`` and ``ruff`` from this
    checkout.
    """
    env = dict(os.environ)
    env["HOME"] = str(home)
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        env[var] = str(home / sub)
        (home / sub).mkdir(parents=True, exist_ok=True)
    env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


def ruff_server_lua() -> str:
    """Lua that attaches ``ruff server`` (a real peer language server) to Python buffers, the 0.11 way."""
    cmd = json.dumps([str(ruff_binary()), "server"])
    return (
        f"vim.lsp.config('ruff', {{ cmd = vim.json.decode({json.dumps(cmd)}), filetypes = {{ 'python' }},"
        " root_markers = { 'pyproject.toml', 'ruff.toml', '.git' } })\n"
        "vim.lsp.enable('ruff')\n"
    )


def _lua_string(value: str) -> str:
    return "vim.json.decode(" + json.dumps(json.dumps(value)) + ")"


def _write_init(path: Path, plugins: Sequence[Path], init: str) -> None:
    lines = ["-- Written by tests/editors/nvim_driver.py for one test run."]
    lines += [f"vim.opt.runtimepath:prepend({_lua_string(str(p))})" for p in plugins]
    lines += [f"dofile({_lua_string(str(HARNESS))})", init]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Nvim:
    """A running headless Neovim and the RPC session to it."""

    def __init__(self, api: Any, process: subprocess.Popen[bytes], home: Path, output: Path) -> None:
        self.api = api
        """The pynvim session, for anything the helpers below do not cover."""
        self.process = process
        self.home = home
        self.output_path = output

    @classmethod
    def start(
        cls,
        home: Path,
        *,
        cwd: Path,
        init: str = "",
        plugins: Sequence[Path] = (),
        env: Mapping[str, str] | None = None,
        timeout: float = WAIT,
    ) -> Self:
        """Start Neovim in ``cwd`` with ``home`` as its private HOME/XDG root.

        ``plugins`` are prepended to 'runtimepath'; ``init`` is Lua run after the harness (set up the plugin
        and language servers there, e.g. `ruff_server_lua`); ``env`` adds environment variables.
        """
        home.mkdir(parents=True, exist_ok=True)
        init_file = home / "init.lua"
        _write_init(init_file, plugins, init)
        output = home / "nvim-output.log"
        # A Unix socket path must stay under ~100 bytes; pytest's tmp_path can be longer.
        sock_dir = Path(tempfile.mkdtemp(prefix="nvim-"))
        sock = sock_dir / "rpc.sock"
        with output.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(nvim_binary()),
                    "--headless",
                    "--listen",
                    str(sock),
                    "-n",
                    "-i",
                    "NONE",
                    "-u",
                    str(init_file),
                ],
                cwd=cwd,
                env=isolated_env(home, env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            api = _attach(sock, process, output, timeout)
        except BaseException:
            end_all(process, process.kill)
            shutil.rmtree(sock_dir, ignore_errors=True)
            raise
        shutil.rmtree(sock_dir, ignore_errors=True)  # connected: the socket file is no longer needed
        return cls(api, process, home, output)

    # --- acting -------------------------------------------------------------------------------------------

    def command(self, command: str) -> None:
        """Run an Ex command, e.g. ``"edit app.py"`` or ``"Codex ask fix it"``."""
        self.api.command(command)

    def lua(self, code: str, *args: Any) -> Any:
        """Run Lua (``...`` holds ``args``) and return its first result."""
        return self.api.exec_lua(code, *args)

    def edit(self, path: Path | str) -> int:
        """Open ``path`` here (FileType fires, so language servers attach); return its buffer number."""
        self.lua("vim.cmd.edit(vim.fn.fnameescape(...))", str(path))
        return int(self.lua("return vim.api.nvim_get_current_buf()"))

    # --- reading ------------------------------------------------------------------------------------------

    def buffer_text(self, bufnr: int = 0) -> str:
        """The buffer's text as saved would write it (lines joined by newlines, final newline included)."""
        return (
            str(self.lua("return table.concat(vim.api.nvim_buf_get_lines(..., 0, -1, true), '\\n')", bufnr))
            + "\n"
        )

    def diagnostics(self, bufnr: int = 0) -> list[Diagnostic]:
        """Every diagnostic in the buffer, from all sources (namespaces)."""
        return [Diagnostic(**d) for d in self.lua("return codex_test.diagnostics(...)", bufnr)]

    def client_names(self, bufnr: int = 0) -> list[str]:
        """The language servers attached to the buffer."""
        names = self.lua(
            "return vim.tbl_map(function(c) return c.name end, vim.lsp.get_clients({bufnr = ...}))", bufnr
        )
        return [str(n) for n in names]

    def messages(self) -> str:
        """What ``:messages`` shows."""
        return str(self.lua("return vim.api.nvim_exec2('messages', { output = true }).output"))

    def notifications(self) -> list[tuple[int, str]]:
        """Every ``vim.notify`` call so far, as (level, message)."""
        return [(int(n["level"]), str(n["message"])) for n in self.lua("return codex_test.notifications")]

    def progress(self) -> list[dict[str, Any]]:
        """Every ``LspProgress`` event so far: ``{client, token, value}`` (``value`` as sent)."""
        return list(self.lua("return codex_test.progress"))

    def output(self) -> str:
        """What Neovim printed (headless, messages and errors go to its stdout/stderr)."""
        return self.output_path.read_text(encoding="utf-8", errors="replace")

    def lsp_log(self) -> str:
        """Neovim's LSP log (raise its level with ``vim.lsp.log.set_level('debug')`` in ``init``)."""
        path = Path(str(self.lua("return vim.lsp.log.get_filename()")))
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # --- waiting ------------------------------------------------------------------------------------------

    def wait_until(
        self, predicate: str, *args: Any, timeout: float = WAIT, what: str = "", interval_ms: int = 20
    ) -> None:
        """Wait until the Lua function ``predicate`` (source text) returns true when called with ``args``.

        Example: ``nvim.wait_until("function(b) return #vim.diagnostic.get(b) > 0 end", buf)``.
        Raises `NvimTimeout` with Neovim's messages and output when it does not within ``timeout`` seconds.
        """
        ok = self.lua("return codex_test.wait(...)", int(timeout * 1000), interval_ms, predicate, *args)
        if not ok:
            raise NvimTimeout(f"timed out after {timeout}s waiting for {what or predicate}\n{self.report()}")

    def wait_diagnostics(
        self, bufnr: int = 0, *, code: str | None = None, source: str | None = None, timeout: float = WAIT
    ) -> list[Diagnostic]:
        """Wait for a diagnostic matching ``code`` and ``source`` (None: any); return all of the buffer's."""
        self.wait_until(
            """function(bufnr, code, source)
                for _, d in ipairs(vim.diagnostic.get(bufnr)) do
                    local code_ok = code == nil or code == vim.NIL or tostring(d.code) == code
                    if code_ok and (source == nil or source == vim.NIL or d.source == source) then
                        return true
                    end
                end
                return false
            end""",
            bufnr,
            code,
            source,
            timeout=timeout,
            what=f"a diagnostic (code={code}, source={source}) in buffer {bufnr}",
        )
        return self.diagnostics(bufnr)

    def wait_client(self, name: str, bufnr: int = 0, *, timeout: float = WAIT) -> None:
        """Wait until the language server ``name`` is attached to the buffer and initialized."""
        self.wait_until(
            """function(b, n)
                local client = vim.lsp.get_clients({ bufnr = b, name = n })[1]
                return client ~= nil and client.initialized
            end""",
            bufnr,
            name,
            timeout=timeout,
            what=f"language server {name!r} on buffer {bufnr}",
        )

    def report(self) -> str:
        """Messages, notifications and output: what a failing test prints to explain itself."""
        parts = [f"--- nvim output ---\n{self.output()}"]
        with contextlib.suppress(Exception):  # Neovim may be gone; the output file still tells why
            parts.insert(
                0, f"--- :messages ---\n{self.messages()}\n--- notifications ---\n{self.notifications()}"
            )
        return "\n".join(parts)

    # --- ending -------------------------------------------------------------------------------------------

    def close(self, grace: float = 5.0) -> None:
        """Quit Neovim; after ``grace`` seconds kill whatever is left of it and of what it started.

        The quit is sent without waiting for an answer, so a Neovim stuck in a busy loop cannot hang the
        teardown: it is killed instead (see `end_all`).
        """

        def quit_nvim() -> None:
            self.api.command("qall!", async_=True)
            self.api.close()

        end_all(self.process, quit_nvim, grace)


def _attach(sock: Path, process: subprocess.Popen[bytes], output: Path, timeout: float) -> Any:
    # Neovim gives no readiness signal: the socket file appears at bind(), before listen(), so retry.
    deadline = time.monotonic() + timeout
    while True:
        try:
            return pynvim.attach("socket", path=str(sock))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            if process.poll() is not None:
                raise RuntimeError(
                    f"nvim exited with {process.returncode}: {output.read_text(errors='replace')}"
                ) from error
            if time.monotonic() > deadline:
                raise NvimTimeout(f"nvim did not listen on {sock} within {timeout}s") from None
            time.sleep(0.01)
