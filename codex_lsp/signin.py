"""``codex-lsp login`` / ``login status`` / ``logout``: the terminal host of the sign-in.

The same flows as ``codex login`` and the same ``$CODEX_HOME/auth.json``, so a user can sign in with either
tool and use both: the browser (PKCE, a callback on ``127.0.0.1:1455``), ``--device-auth`` (a code to enter
on any device: the way for SSH sessions and containers) and ``--with-api-key`` (the key read from standard
input, never from the command line where other users could see it). ``forced_login_method`` and
``forced_chatgpt_workspace_id`` in config.toml are honoured as Codex honours them.

Exit status: 0 signed in (or out), 1 failed or not signed in, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import os
import sys
import webbrowser
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from codex_lsp.auth import (
    AUTH_FILE,
    AuthProblem,
    BrowserLogin,
    DeviceLogin,
    LoginCancelled,
    login_status,
    logout,
    save_api_key,
)
from codex_lsp.model import ConfigError, codex_home, read_config

__all__ = ["run_login", "run_logout", "run_status"]


def _config_limits(home: Path) -> tuple[str | None, tuple[str, ...]]:
    """``forced_login_method`` and ``forced_chatgpt_workspace_id`` from config.toml (none when unreadable:
    a broken config.toml must not stop a user from signing in)."""
    try:
        config = read_config(home / "config.toml")
    except ConfigError:
        return None, ()
    return config.forced_login_method, config.forced_chatgpt_workspace_id


def _refusal(forced: str | None, api_key: bool) -> str | None:
    if forced == "api" and not api_key:
        return 'forced_login_method = "api" in config.toml: sign in with an API key (--with-api-key)'
    if forced == "chatgpt" and api_key:
        return 'forced_login_method = "chatgpt" in config.toml: sign in with ChatGPT (without --with-api-key)'
    return None


async def _device(home: Path, env: Mapping[str, str], workspaces: tuple[str, ...], out: TextIO) -> None:
    login = DeviceLogin(home, env, workspace_ids=workspaces)
    code = await login.start()
    out.write(
        "Follow these steps to sign in with ChatGPT using device code authorization:\n\n"
        f"1. Open this link in your browser and sign in to your account\n   {code.verification_url}\n\n"
        f"2. Enter this one-time code (expires in 15 minutes)\n   {code.user_code}\n\n"
    )
    out.flush()
    await login.wait(code)


async def _browser(home: Path, env: Mapping[str, str], workspaces: tuple[str, ...], out: TextIO) -> None:
    login = BrowserLogin(home, env, workspace_ids=workspaces)
    url = await login.start()
    out.write(
        f"Starting local login server on http://127.0.0.1:{login.port}.\n"
        f"If your browser did not open, navigate to this URL to authenticate:\n\n{url}\n\n"
        "On a machine without a browser, use `codex-lsp login --device-auth` instead.\n"
    )
    out.flush()
    try:
        await asyncio.to_thread(webbrowser.open, url)
        await login.wait()
    finally:
        await login.close()


def run_login(
    *,
    device: bool,
    api_key: bool,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``codex-lsp login``; the exit status."""
    environ = os.environ if env is None else env
    home = home or codex_home(environ)
    out, err = out or sys.stdout, err or sys.stderr
    forced, workspaces = _config_limits(home)
    if (refusal := _refusal(forced, api_key)) is not None:
        err.write(f"codex-lsp login: {refusal}\n")
        return 1
    try:
        if api_key:
            err.write("Reading API key from stdin...\n")
            asyncio.run(save_api_key(home, (stdin or sys.stdin).read()))
            out.write("API key saved. Authentication is checked when you send a request.\n")
            return 0
        asyncio.run(
            _device(home, environ, workspaces, out) if device else _browser(home, environ, workspaces, out)
        )
    except KeyboardInterrupt:
        err.write("codex-lsp login: interrupted; nothing was written\n")
        return 130
    except LoginCancelled:
        err.write("codex-lsp login: Login cancelled; nothing was written\n")
        return 1
    except AuthProblem as exc:
        err.write(f"codex-lsp login: {exc.message}\n")
        return 1
    except OSError as exc:
        err.write(f"codex-lsp login: cannot write {home / AUTH_FILE}: {exc.strerror or exc}\n")
        return 1
    text, _ = login_status(home)
    out.write(f"Successfully logged in ({text.removeprefix('Logged in using ')})\n")
    return 0


def run_status(*, home: Path | None = None, out: TextIO | None = None) -> int:
    """``codex-lsp login status``: 0 when signed in."""
    text, signed_in = login_status(home or codex_home())
    (out or sys.stdout).write(text + "\n")
    return 0 if signed_in else 1


def run_logout(
    *, home: Path | None = None, env: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int:
    """``codex-lsp logout``: revoke the sign-in (a failure to revoke is ignored) and delete auth.json."""
    environ = os.environ if env is None else env
    home = home or codex_home(environ)
    try:
        signed_out = asyncio.run(logout(home, environ))
    except OSError as exc:
        sys.stderr.write(f"codex-lsp logout: cannot delete {home / AUTH_FILE}: {exc.strerror or exc}\n")
        return 1
    (out or sys.stdout).write("Successfully logged out\n" if signed_out else "Not logged in\n")
    return 0
