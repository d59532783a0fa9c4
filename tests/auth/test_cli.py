"""``codex-lsp login [--device-auth|--with-api-key]``, ``login status`` and ``logout`` as a user runs
them: the installed command in a subprocess, a throwaway ``CODEX_HOME``, the fake issuer's environment and
nothing else (no real key or home leaks in). Every run is also checked for secrets and tracebacks."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from codex_lsp.testing import FakeIssuer, chatgpt_auth
from tests.auth.conftest import WAIT, write_raw

CODEX_LSP = Path(sys.executable).parent / "codex-lsp"
API_KEY = "sk-proj-abcdefghij0123456789-12345"
RUN_TIMEOUT = 60.0
"""One command, start-up included (the machine is shared)."""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    """Runs the command with a clean environment pointed at ``home`` and the issuer; remembers every output
    so that a test can check that no secret was ever printed."""

    def __init__(self, tmp_path: Path, issuer: FakeIssuer) -> None:
        self.home = tmp_path / "codex-home"
        self.issuer = issuer
        user_home = tmp_path / "user"
        user_home.mkdir()
        self.env = {
            "PATH": f"{CODEX_LSP.parent}:/usr/bin:/bin",
            "HOME": str(user_home),
            "LANG": "C.UTF-8",
            "CODEX_HOME": str(self.home),
            **issuer.env(),
        }
        self.outputs: list[str] = []

    def _check(self, run: Run) -> Run:
        self.outputs += [run.stdout, run.stderr]
        assert "Traceback" not in run.stderr, run.stderr
        return run

    async def __call__(self, *args: str, stdin: bytes = b"", **env: str) -> Run:
        proc = await asyncio.create_subprocess_exec(
            str(CODEX_LSP),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**self.env, **env},
        )
        try:
            async with asyncio.timeout(RUN_TIMEOUT):
                out, err = await proc.communicate(stdin)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode is not None
        return self._check(Run(proc.returncode, out.decode(), err.decode()))

    def secrets(self) -> list[str]:
        return [API_KEY, *(token for issued in self.issuer.issued for token in issued.values())]

    def assert_no_secret_printed(self) -> None:
        printed = "\n".join(self.outputs)
        for secret in self.secrets():
            assert secret not in printed


@pytest_asyncio.fixture
async def cli(tmp_path: Path, issuer: FakeIssuer) -> AsyncIterator[Cli]:
    runner = Cli(tmp_path, issuer)
    yield runner
    runner.assert_no_secret_printed()


def auth_path(cli: Cli) -> Path:
    return cli.home / "auth.json"


async def test_api_key_login_status_and_logout(cli: Cli) -> None:
    saved = await cli("login", "--with-api-key", stdin=f"{API_KEY}\n".encode())
    assert saved.returncode == 0, saved.stderr
    assert saved.stderr == "Reading API key from stdin...\n"
    assert saved.stdout.startswith("API key saved.")
    assert auth_path(cli).read_bytes() == (
        b'{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "' + API_KEY.encode() + b'"\n}'
    )
    assert stat.S_IMODE(auth_path(cli).stat().st_mode) == 0o600

    status = await cli("login", "status")
    assert (status.returncode, status.stdout) == (0, "API key configured - sk-proj-***12345\n")

    out = await cli("logout")
    assert (out.returncode, out.stdout) == (0, "Successfully logged out\n")
    assert not auth_path(cli).exists()
    assert cli.issuer.on("/oauth/revoke") == [], "an API key has no refresh token to revoke"

    status = await cli("login", "status")
    assert (status.returncode, status.stdout) == (1, "Not logged in\n")
    again = await cli("logout")
    assert (again.returncode, again.stdout) == (0, "Not logged in\n")


async def test_device_auth_prints_the_url_and_code_then_signs_in(cli: Cli) -> None:
    cli.issuer.auto_approve = True
    done = await cli("login", "--device-auth")
    assert done.returncode == 0, done.stderr
    ((_, device),) = cli.issuer.devices.items()
    assert f"{cli.issuer.url}/codex/device" in done.stdout
    assert device.user_code in done.stdout
    assert done.stdout.index(device.user_code) < done.stdout.index("Successfully logged in")
    assert done.stdout.rstrip().endswith("Successfully logged in (ChatGPT (dev@example.com))")
    assert stat.S_IMODE(auth_path(cli).stat().st_mode) == 0o600
    saved = json.loads(auth_path(cli).read_text())
    assert saved["tokens"]["access_token"] == cli.issuer.issued[-1]["access_token"]
    assert saved["OPENAI_API_KEY"] is None

    status = await cli("login", "status")
    assert (status.returncode, status.stdout) == (0, "Logged in using ChatGPT (dev@example.com)\n")
    out = await cli("logout")
    assert (out.returncode, out.stdout) == (0, "Successfully logged out\n")
    (revoke,) = cli.issuer.on("/oauth/revoke")
    assert revoke.json()["token"] == cli.issuer.issued[-1]["refresh_token"]
    assert not auth_path(cli).exists()


async def test_browser_login_prints_the_url_and_signs_in(cli: Cli, tmp_path: Path) -> None:
    """``BROWSER=true``: the page "opens" without a browser; the test then plays the user's browser."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        str(CODEX_LSP),
        "login",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**cli.env, "BROWSER": "true", "CODEX_LSP_AUTH_CALLBACK_PORTS": str(port)},
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(RUN_TIMEOUT):
            lines = [await proc.stdout.readline() for _ in range(4)]
            url = lines[3].decode().strip()
            assert lines[0].decode() == f"Starting local login server on http://127.0.0.1:{port}.\n"
            assert url.startswith(f"{cli.issuer.url}/oauth/authorize?")
            query = parse_qs(urlsplit(url).query)
            assert query["redirect_uri"] == [f"http://127.0.0.1:{port}/auth/callback"]
            async with httpx.AsyncClient(follow_redirects=True, trust_env=False, timeout=WAIT) as client:
                page = await client.get(url)
            assert page.status_code == 200
            rest = await proc.stdout.read()
            err = await proc.stderr.read()
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    run = cli._check(Run(proc.returncode or 0, b"".join(lines).decode() + rest.decode(), err.decode()))
    assert run.returncode == 0, run.stderr
    assert "Successfully logged in (ChatGPT (dev@example.com))" in run.stdout
    saved = json.loads(auth_path(cli).read_text())
    assert saved["OPENAI_API_KEY"].startswith("sk-exchanged-")
    assert saved["OPENAI_API_KEY"] not in run.stdout + run.stderr


@pytest.mark.parametrize(
    "args", [("login", "--device-auth", "--with-api-key"), ("login", "status", "--device-auth")]
)
async def test_options_that_exclude_each_other_exit_2(cli: Cli, args: tuple[str, ...]) -> None:
    done = await cli(*args, stdin=API_KEY.encode())
    assert done.returncode == 2
    assert done.stderr.startswith("codex-lsp login")
    assert not auth_path(cli).exists()
    assert cli.issuer.requests == []


@pytest.mark.parametrize(
    ("forced", "args", "stdin"),
    [
        ("api", ("login", "--device-auth"), b""),
        ("api", ("login",), b""),
        ("chatgpt", ("login", "--with-api-key"), API_KEY.encode()),
    ],
)
async def test_forced_login_method_refuses_the_other_kind(
    cli: Cli, forced: str, args: tuple[str, ...], stdin: bytes
) -> None:
    cli.home.mkdir()
    (cli.home / "config.toml").write_text(f'forced_login_method = "{forced}"\n')
    done = await cli(*args, stdin=stdin)
    assert done.returncode == 1
    assert f'forced_login_method = "{forced}"' in done.stderr
    assert not auth_path(cli).exists()
    assert cli.issuer.requests == []


@pytest.mark.parametrize(
    ("setting", "allowed"), [('"acct-other"', "acct-other"), ('["acct-a", "acct-b"]', "acct-a, acct-b")]
)
async def test_forced_workspace_refuses_a_device_sign_in_elsewhere(
    cli: Cli, setting: str, allowed: str
) -> None:
    """One id (a string, as Codex documents it) or a list of ids."""
    cli.home.mkdir()
    (cli.home / "config.toml").write_text(f"forced_chatgpt_workspace_id = {setting}\n")
    cli.issuer.auto_approve = True
    done = await cli("login", "--device-auth")
    assert done.returncode == 1
    assert f"Login is restricted to workspace id {allowed}." in done.stderr
    assert not auth_path(cli).exists()


async def test_failures_exit_1_with_a_sentence_and_no_traceback(cli: Cli, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9"
    unreachable = await cli("login", "--device-auth", CODEX_LSP_AUTH_ISSUER=dead)
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("codex-lsp login: cannot reach the sign-in server")

    empty = await cli("login", "--with-api-key", stdin=b"\n")
    assert empty.returncode == 1
    assert "no API key" in empty.stderr
    assert not auth_path(cli).exists()

    a_file = tmp_path / "not-a-dir"
    a_file.write_text("")
    unwritable = await cli("login", "--with-api-key", stdin=API_KEY.encode(), CODEX_HOME=str(a_file))
    assert unwritable.returncode == 1
    assert unwritable.stderr.splitlines()[-1].startswith("codex-lsp login: cannot write")

    cli.home.mkdir()
    auth_path(cli).write_text('{"auth_mode": "apikey", "OPENAI_API_KEY": ')
    broken = await cli("login", "status")
    assert broken.returncode == 1
    assert broken.stdout.startswith("Not logged in: ")

    write_raw(cli.home, chatgpt_auth())
    offline = await cli("logout", CODEX_REVOKE_TOKEN_URL_OVERRIDE=f"{dead}/oauth/revoke")
    assert (offline.returncode, offline.stdout) == (0, "Successfully logged out\n")
    assert not auth_path(cli).exists()


def test_the_environment_of_the_runs_is_clean(tmp_path: Path) -> None:
    """The runs see no real key or home: only what :class:`Cli` sets."""
    runner = Cli(tmp_path, FakeIssuer())
    assert not any(name.endswith("API_KEY") for name in runner.env)
    assert runner.env["HOME"] != os.environ.get("HOME")
