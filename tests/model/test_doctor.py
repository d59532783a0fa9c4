"""``codex-lsp doctor`` against the fake server, through a real temporary CODEX_HOME with a config.toml.

Each case checks the exit status, the transport and the advice, and that the key never appears in what
doctor prints; the subprocess cases prove the CLI wiring and that debug logging does not leak the key.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import pytest

from codex_lsp.cli import build_parser
from codex_lsp.doctor import DoctorReport, diagnose, render_json, render_text
from codex_lsp.testing import FakeResponsesServer
from tests.model.codex_peer import clean_env, codex_home
from tests.model.helpers import API_KEY, say, script

ENV = {"FAKE_KEY": API_KEY}
AZURE = "azure-0123456789-env-secret"
STATIC = "static-x-api-key-secret"
TENANT = "tenant-7f3e9a"
REPO = Path(__file__).resolve().parents[2]


def printed(report: DoctorReport) -> str:
    """Both renderings, checked for the key on the way."""
    text = render_text(report) + render_json(report)
    assert API_KEY not in text
    return text


async def test_success_over_websocket(fake: FakeResponsesServer, tmp_path: Path) -> None:
    fake.load(script([say("ok", served_model="gpt-5.5-served")]))
    home = codex_home(tmp_path, fake.base_url, websockets=True)
    report = await diagnose(home, env=ENV, deadline=5, check_sandbox=False)

    assert report.exit_code == 0, report
    assert (report.provider, report.model, report.base_url) == ("fake", "gpt-5.5", fake.base_url)
    assert report.key_source == "env FAKE_KEY"
    assert report.config_file == str(home / "config.toml")
    assert report.transport == "websocket"
    assert report.fallback is None
    assert report.handshake_ms is not None
    assert report.first_event_ms is not None
    assert report.served_model == "gpt-5.5-served"
    assert report.stage == "done"
    assert len(fake.handshakes) == 1
    (request,) = fake.requests
    assert request.transport == "websocket"
    assert request.body["tools"] == []
    assert "previous_response_id" not in request.body, "a single request, no prewarm"
    text = printed(report)
    assert "from env FAKE_KEY" in text
    assert "OK: a request completed" in text


async def test_success_over_http(fake: FakeResponsesServer, tmp_path: Path) -> None:
    fake.load(script([say("ok")]))
    report = await diagnose(codex_home(tmp_path, fake.base_url, websockets=False), env=ENV, deadline=5)

    assert report.exit_code == 0, report
    assert report.transport == "http"
    assert report.handshake_ms is None
    assert report.first_event_ms is not None
    assert report.served_model == "gpt-5.5"
    assert fake.handshakes == []
    assert [r.transport for r in fake.requests] == ["http"]
    assert report.sandbox is not None
    assert set(report.sandbox) == {"active", "tool", "detail"}
    text = printed(report)
    assert "disabled (supports_websockets = false)" in text
    assert "sandbox" in text


async def test_a_426_falls_back_to_http_and_still_succeeds(fake: FakeResponsesServer, tmp_path: Path) -> None:
    fake.load(script([say("ok")], handshake_faults=[{"status": 426}]))
    report = await diagnose(codex_home(tmp_path, fake.base_url, websockets=True), env=ENV, deadline=5)

    assert report.exit_code == 0, report
    assert report.transport == "http"
    assert report.fallback is not None
    assert "426" in report.fallback
    assert [h.status for h in fake.handshakes] == [426]
    assert [r.transport for r in fake.requests] == ["http"]
    assert "fell back from WebSocket" in printed(report)


async def test_no_key_says_where_to_put_one(fake: FakeResponsesServer, tmp_path: Path) -> None:
    report = await diagnose(codex_home(tmp_path, fake.base_url, websockets=True), env={}, deadline=5)

    assert report.exit_code == 1
    assert report.cause == "no_key"
    assert report.error == "Missing environment variable: `FAKE_KEY`."
    assert report.key_source is None
    assert report.advice is not None
    assert "Export FAKE_KEY=" in report.advice
    assert "auth.json" not in report.advice, "an env_key provider never reads the sign-in"
    assert fake.handshakes == []
    assert fake.requests == []
    text = printed(report)
    assert "FAILED" in text
    assert "not found" in text


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_a_refused_key_is_reported(fake: FakeResponsesServer, tmp_path: Path, websockets: bool) -> None:
    refusal = {"code": "invalid_api_key", "message": "Incorrect API key provided"}
    if websockets:
        fake.load(script(handshake_faults=[{"status": 401, **refusal}]))
    else:
        fake.load(script([{"fault": {"kind": "status", "status": 401, **refusal}}]))
    report = await diagnose(codex_home(tmp_path, fake.base_url, websockets), env=ENV, deadline=5)

    assert report.exit_code == 1
    assert report.cause == "key_refused"
    assert report.error is not None
    assert "401" in report.error
    assert report.advice is not None
    assert "env FAKE_KEY" in report.advice
    assert "401" in printed(report)


async def test_a_closed_port_is_a_connection_problem(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/v1"
    report = await diagnose(codex_home(tmp_path, base_url, websockets=True), env=ENV, deadline=5)

    assert report.exit_code == 1
    assert report.cause == "connect"
    assert report.advice is not None
    assert base_url in report.advice
    assert "proxy" in report.advice
    assert "Could not connect" in printed(report)


async def test_a_hanging_handshake_is_a_connect_timeout(fake: FakeResponsesServer, tmp_path: Path) -> None:
    fake.load(script(handshake_faults=[{"hang": True}]))
    report = await diagnose(codex_home(tmp_path, fake.base_url, websockets=True), env=ENV, deadline=0.3)

    assert report.exit_code == 1
    assert report.stage == "handshake"
    assert report.cause == "connect_timeout"
    assert report.advice is not None
    assert "proxy" in report.advice


async def test_a_refused_upgrade_tries_http(fake: FakeResponsesServer, tmp_path: Path) -> None:
    fake.load(script([say("ok")], handshake_faults=[{"status": 404}]))
    report = await diagnose(codex_home(tmp_path, fake.base_url, websockets=True), env=ENV, deadline=5)

    assert report.exit_code == 0, report
    assert report.transport == "http"
    assert report.fallback is not None
    assert "404" in report.fallback
    assert any("supports_websockets = false" in note for note in report.notes)


async def test_an_invalid_setting_names_the_key_and_the_file(
    fake: FakeResponsesServer, tmp_path: Path
) -> None:
    home = codex_home(tmp_path, fake.base_url, websockets=True)
    config = home / "config.toml"
    config.write_text(config.read_text().replace('wire_api = "responses"', "stream_max_retries = -3"))
    report = await diagnose(home, env=ENV, deadline=5)

    assert report.exit_code == 1
    assert report.cause == "config"
    assert report.error is not None
    assert "model_providers.fake.stream_max_retries" in report.error
    assert str(config) in report.error
    assert report.advice is not None
    assert str(config) in report.advice
    assert fake.requests == []
    text = printed(report)
    assert f"config        {config} (invalid)" in text
    assert "none found" not in text, "an invalid config.toml is not a missing one"
    assert f"sign-in       not checked ({config} could not be read)" in text
    assert "API key       not found" not in text


async def test_a_config_that_is_not_toml_is_named(tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    config = home / "config.toml"
    config.write_text('model = "unterminated\n')
    report = await diagnose(home, env=ENV, deadline=5, check_sandbox=False)

    assert report.cause == "config"
    assert (report.config_file, report.bad_file) == (str(config), str(config))
    assert report.error is not None
    assert "not valid TOML" in report.error
    assert f"{config} (invalid)" in printed(report)


@pytest.mark.parametrize("content", ['{"OPENAI_API_KEY": "sk-broken', '["not", "an", "object"]'])
async def test_a_bad_auth_json_is_blamed_not_config_toml(
    fake: FakeResponsesServer, tmp_path: Path, content: str
) -> None:
    home = codex_home(tmp_path, fake.base_url, websockets=True)
    config = home / "config.toml"
    config.write_text(config.read_text().replace('env_key = "FAKE_KEY"', "requires_openai_auth = true"))
    auth = home / "auth.json"
    auth.write_text(content)
    report = await diagnose(home, env={}, deadline=5, check_sandbox=False)

    assert report.exit_code == 1
    assert report.cause == "auth_file"
    assert report.bad_file == str(auth)
    assert report.advice is not None
    assert report.advice.startswith(f"Fix or remove {auth}: ")
    assert "config.toml" not in report.advice
    text = printed(report)
    assert "sk-broken" not in text
    assert f"config        {home / 'config.toml'}\n" in text, "config.toml itself is fine"
    assert f"sign-in       not checked ({auth} could not be read)" in text
    assert fake.requests == []


async def test_a_missing_codex_home_is_mentioned(tmp_path: Path) -> None:
    home = tmp_path / "no-such-home"
    report = await diagnose(home, env={}, deadline=5, check_sandbox=False)

    assert not report.codex_home_exists
    assert any(f"CODEX_HOME {home} does not exist" in note for note in report.notes)
    assert report.cause == "not_signed_in", "the defaults (OpenAI) need a sign-in, and there is none"
    text = printed(report)
    assert f"codex home    {home} (missing)" in text
    assert "config        none found (defaults)" in text


def test_a_non_positive_timeout_is_a_usage_error() -> None:
    parser = build_parser()
    for bad in ("-5", "0", "-0.5", "nan", "inf", "soon"):
        with pytest.raises(SystemExit) as caught:
            parser.parse_args(["doctor", "--timeout", bad])
        assert caught.value.code == 2, bad
    assert parser.parse_args(["doctor", "--timeout", "0.5"]).timeout == 0.5
    assert parser.parse_args(["doctor"]).timeout == 20.0


async def test_the_cli_rejects_a_negative_timeout_before_doing_anything(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "doctor",
        "--codex-home",
        str(tmp_path),
        "--timeout",
        "-5",
        cwd=REPO,
        env=clean_env(tmp_path / "home"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert out == b""
    assert "argument --timeout: must be a positive number of seconds, not -5" in err.decode()
    assert "network" not in err.decode()


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_the_cli_never_prints_a_secret_even_when_debugging(
    fake: FakeResponsesServer, tmp_path: Path, websockets: bool
) -> None:
    """The key, ``env_http_headers`` values (one under a harmless-looking name) and a key-like
    ``http_headers`` value, all really sent."""
    fake.load(script([say("ok")]))
    home = codex_home(tmp_path, fake.base_url, websockets)
    config = home / "config.toml"
    headers = (
        'env_http_headers = { "api-key" = "AZURE_KEY", "x-tenant" = "TENANT" }\n'
        f'http_headers = {{ "x-api-key" = "{STATIC}" }}\n'
    )
    config.write_text(
        config.read_text().replace('wire_api = "responses"\n', f'wire_api = "responses"\n{headers}')
    )
    env = {**clean_env(home), "FAKE_KEY": API_KEY, "AZURE_KEY": AZURE, "TENANT": TENANT}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "doctor",
        "--codex-home",
        str(home),
        "--timeout",
        "10",
        "--json",
        "--debug",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    stdout, stderr = out.decode(), err.decode()

    assert process.returncode == 0, stdout + stderr
    for secret in (API_KEY, AZURE, STATIC, TENANT):
        assert secret not in stdout
        assert secret not in stderr
    assert "DEBUG" in stderr, "debug logging was on"
    if websockets:
        assert "> api-key: ***" in stderr, "the handshake headers were logged, masked"
        assert "> x-tenant: ***" in stderr, "every env_http_headers value is a secret, whatever its name"
    report = json.loads(stdout)
    assert report["completed"] is True
    assert report["transport"] == ("websocket" if websockets else "http")
    assert report["key_source"] == "env FAKE_KEY"
    assert report["exit_code"] == 0
    sent = fake.requests[0].headers
    assert sent["authorization"] == f"Bearer {API_KEY}", "the key was sent, only hidden"
    assert (sent["api-key"], sent["x-api-key"], sent["x-tenant"]) == (AZURE, STATIC, TENANT)


async def test_a_chatgpt_sign_in_is_reported_without_its_tokens(
    fake: FakeResponsesServer, tmp_path: Path
) -> None:
    """The sign-in's kind, account and plan, when the access token expires and whether the next request
    refreshes it first; the probe goes out signed in; no token anywhere in the report."""
    from codex_lsp.testing import access_token, write_chatgpt_auth

    fake.load(script([say("ok")]))
    home = codex_home(tmp_path, fake.chatgpt_base_url, websockets=True, openai_auth=True)
    written = write_chatgpt_auth(home, access=access_token(7200))
    report = await diagnose(home, env={}, deadline=5, check_sandbox=False)
    assert report.exit_code == 0, report
    assert report.account_mode == "chatgpt"
    assert report.account is not None
    assert (report.account["email"], report.account["plan"]) == ("dev@example.com", "plus")
    assert "refreshDue" not in report.account, "not due: left out of the report"
    assert fake.handshakes[0].headers["authorization"] == f"Bearer {written['tokens']['access_token']}"
    text = printed(report)
    assert "ChatGPT sign-in (dev@example.com, plus; workspace acct-fake-workspace)" in text
    assert "expires in 120 min" in text or "expires in 119 min" in text
    assert "refresh       not due" in text
    for name in ("id_token", "access_token", "refresh_token"):
        assert written["tokens"][name] not in text


async def test_not_signed_in_says_how_to_sign_in(fake: FakeResponsesServer, tmp_path: Path) -> None:
    home = codex_home(tmp_path, fake.chatgpt_base_url, websockets=True, openai_auth=True)
    report = await diagnose(home, env={}, deadline=5, check_sandbox=False)
    assert report.exit_code == 1
    assert report.cause == "not_signed_in"
    assert report.advice is not None
    assert "codex-lsp login" in report.advice
    assert "--device-auth" in report.advice
    assert fake.handshakes == []
