"""``codex-lsp --stdio | --tcp | --ws``: the flags, their errors, and the socket modes end to end."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Origin

from codex_lsp import cli
from codex_lsp.lsp import logging_setup, serve
from codex_lsp.lsp.access import ListenAddress
from codex_lsp.lsp.serve import ServeOptions
from tests.lsp_serve.tiny import ECHO, build_tiny_server
from tests.lsp_serve.wire import (
    WAIT,
    initialize,
    notification,
    receive,
    request,
    response,
    send,
    start_tiny,
    stderr_line_with,
)

TOKEN = "file-token-for-the-cli-tests-0123"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stdio", "--log-level", "verbose"], "argument --log-level: invalid choice: 'verbose'"),
        (["--tcp", "0.0.0.0:8765"], "--tcp 0.0.0.0 is not a loopback address; add --allow-remote"),
        (["--ws", "[::]:8765"], "--ws :: is not a loopback address; add --allow-remote"),
        (["--tcp", "127.0.0.1:port"], "argument --tcp: '127.0.0.1:port' has no valid port"),
        (["--stdio", "--tcp", "1"], "argument --tcp: not allowed with argument --stdio"),
        (["--stdio", "--token-file", "t"], "--token-file needs --tcp or --ws"),
        (["--stdio", "--allow-remote"], "--allow-remote needs --tcp or --ws"),
        (["--tcp", "1", "--allow-origin", "http://a.b"], "--allow-origin needs --ws"),
        (["--ws", "1", "--allow-origin", "a.b"], "argument --allow-origin: 'a.b' is not an origin"),
        (["--log-file", "x.log"], "--log-file needs --stdio, --tcp or --ws"),
        (["--stdio", "demo"], "--stdio runs the language server; it cannot be combined with 'demo'"),
    ],
)
def test_bad_server_flags_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_the_command_line_offers_the_levels_logging_knows() -> None:
    assert cli.LOG_LEVELS == logging_setup.LOG_LEVELS


def test_flags_become_serve_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ServeOptions] = []

    def fake_run(options: ServeOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(serve, "run", fake_run)
    assert cli.main(["--stdio"]) == 0
    argv = ["--ws", "8000", "--allow-origin", "HTTP://Example.com/", "--allow-origin", "null"]
    assert cli.main([*argv, "--log-level", "DEBUG", "--log-file", "s.log", "--token-file", "t"]) == 0
    assert cli.main(["--tcp", "0.0.0.0:9", "--allow-remote"]) == 0
    assert seen == [
        ServeOptions("stdio"),
        ServeOptions(
            "ws",
            ListenAddress("127.0.0.1", 8000),
            "debug",
            Path("s.log"),
            Path("t"),
            frozenset({"http://example.com", "null"}),
        ),
        ServeOptions("tcp", ListenAddress("0.0.0.0", 9)),
    ]


@pytest.mark.usefixtures("root_logging")
def test_without_the_server_module_the_command_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "codex_lsp.lsp.server", None)
    assert cli.main(["--stdio"]) == 1
    assert "codex-lsp: error: this build has no language server" in capsys.readouterr().err


@pytest.mark.usefixtures("root_logging")
def test_unusable_log_and_token_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve.run(ServeOptions("stdio", log_file=tmp_path / "no" / "x.log"), build_tiny_server) == 2
    expected = f"codex-lsp: error: cannot open --log-file {tmp_path}/no/x.log: No such file"
    assert expected in capsys.readouterr().err
    options = ServeOptions("tcp", ListenAddress("127.0.0.1", 0), token_file=tmp_path / "none")
    assert serve.run(options, build_tiny_server) == 2
    assert f"codex-lsp: error: cannot read the token file {tmp_path}/none" in capsys.readouterr().err


@pytest.mark.usefixtures("root_logging")
def test_a_remote_address_is_served_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The warning is checked without binding a non-loopback address: the listener is replaced."""
    listened: list[ListenAddress] = []

    async def fake_serve_tcp(server: Any, address: ListenAddress, token: str, ready: Any) -> None:
        listened.append(address)

    monkeypatch.setattr(serve, "serve_tcp", fake_serve_tcp)
    assert serve.run(ServeOptions("tcp", ListenAddress("0.0.0.0", 0)), build_tiny_server) == 0
    assert listened == [ListenAddress("0.0.0.0", 0)]
    assert "codex-lsp: warning: listening on 0.0.0.0, which is not loopback" in capsys.readouterr().err


@pytest.mark.usefixtures("root_logging")
def test_a_token_file_the_group_can_read_is_served_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens: list[str] = []

    async def fake_serve_tcp(server: Any, address: ListenAddress, token: str, ready: Any) -> None:
        tokens.append(token)

    monkeypatch.setattr(serve, "serve_tcp", fake_serve_tcp)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o640)
    options = ServeOptions("tcp", ListenAddress("127.0.0.1", 0), token_file=token_file)
    assert serve.run(options, build_tiny_server) == 0
    assert tokens == [TOKEN]
    warning = f"codex-lsp: warning: the token file {token_file} is readable by other users; chmod 600 it"
    assert warning in capsys.readouterr().err
    token_file.chmod(0o600)
    assert serve.run(options, build_tiny_server) == 0
    assert "warning" not in capsys.readouterr().err


async def test_tcp_from_the_command_line_prints_a_token_that_never_reaches_the_log() -> None:
    proc = await start_tiny("--tcp", "127.0.0.1:0", "--log-level", "debug")
    seen: list[str] = []
    token = (await stderr_line_with(proc, "codex-lsp: token: ", seen)).split("token: ")[1].strip()
    listening = await stderr_line_with(proc, "codex-lsp: listening on tcp://127.0.0.1:", seen)
    assert "initializationOptions.token" in listening
    port = int(listening.split("127.0.0.1:")[1].split()[0])

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    wrong = ("y" if token.startswith("x") else "x") + token[1:]  # one token in 64 starts with "x"
    await send(writer, initialize(wrong))
    assert "wrong token" in (await receive(reader))["error"]["message"]
    writer.close()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await send(writer, initialize(token, theme="dark"))
    await response(reader, 1)
    await send(writer, request(ECHO, 2, {"text": "hi"}))
    assert (await response(reader, 2))["result"]["initOptions"] == {"theme": "dark"}
    await send(writer, request("shutdown", 3))
    await response(reader, 3)
    await send(writer, notification("exit"))
    assert await asyncio.wait_for(proc.wait(), WAIT) == 0
    writer.close()

    assert proc.stderr is not None
    log = "".join(seen) + (await proc.stderr.read()).decode()
    assert log.count(token) == 1, "the token is printed once and redacted from every log line"
    assert "Refused a connection from 127.0.0.1" in log
    assert "Language server initialized" in log, "debug logging should include pygls' own records"


async def test_ws_from_the_command_line_with_a_token_file_and_an_allowed_origin(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    proc = await start_tiny(
        "--ws",
        "127.0.0.1:0",
        "--token-file",
        str(token_file),
        "--allow-origin",
        "http://localhost:5173",
        "--log-level",
        "debug",
    )
    seen: list[str] = []
    listening = await stderr_line_with(proc, "codex-lsp: listening on ws://127.0.0.1:", seen)
    url = listening.split("listening on ")[1].split()[0]
    async with ws_connect(f"{url}/?token={TOKEN}", origin=Origin("http://localhost:5173")) as client:
        await client.send(json.dumps(initialize()))
        assert json.loads(await asyncio.wait_for(client.recv(), WAIT))["id"] == 1
        await client.send(json.dumps(request("shutdown", 2)))
        assert json.loads(await asyncio.wait_for(client.recv(), WAIT))["id"] == 2
        await client.send(json.dumps(notification("exit")))
        assert await asyncio.wait_for(proc.wait(), WAIT) == 0
    assert proc.stderr is not None
    log = "".join(seen) + (await proc.stderr.read()).decode()
    assert "GET /?token=[redacted] HTTP/1.1" in log, "websockets logs the request line at debug level"
    assert TOKEN not in log
    assert "token:" not in log, "a token from a file is not printed"
