"""Sticky fallback to HTTP: after a 426 on the handshake, or once WebSocket retries run out; never for
overload. The switch is announced once, as a notice in the stream (logged at INFO only, so that nothing
prints it a second time), names the scheme the base URL really uses, and lasts for the client's lifetime."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.model import ModelClient
from codex_lsp.model.errors import RetriesExhausted
from codex_lsp.model.notices import FallbackNotice
from codex_lsp.testing import FakeResponsesServer, loopback_settings
from tests.model.conftest import ClientFactory
from tests.model.helpers import API_KEY, run, say, script, texts, user

REPO = Path(__file__).resolve().parents[2]


def kinds(events: Sequence[object]) -> list[str]:
    return [getattr(e, "type", "") for e in events if getattr(e, "type", "").startswith("codex_lsp.")]


async def test_426_switches_to_http_for_good(
    fake: FakeResponsesServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake.load(
        script(
            [say("over http", header_turn_state="h-1"), say("still http")],
            [say("next turn")],
            handshake_faults=[{"status": 426}],
        )
    )
    client = make_client()
    session = client.new_turn()
    history = [user("go")]
    with caplog.at_level(logging.INFO, logger="codex_lsp.model"):
        events = await run(session, history)
        assert kinds(events) == ["codex_lsp.fallback"]
        assert texts(events) == "over http"
        history.append(user("more"))
        assert kinds(await run(session, history)) == []
        assert texts(await run(client.new_turn(), [user("again")])) == "next turn"
    assert client.transport == "http"
    assert client.websockets_disabled
    assert [h.status for h in fake.handshakes] == [426]
    assert [r.transport for r in fake.requests] == ["http", "http", "http"]
    assert fake.turn_states() == [None, "h-1", None]
    assert sum("Falling back from WebSockets" in r.message for r in caplog.records) == 1


async def test_426_during_prewarm_also_falls_back(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("fine")], handshake_faults=[{"status": 426}]))
    client = make_client(prewarm=True)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "fine"
    assert kinds(events) == ["codex_lsp.fallback"], "the switch the prewarm met is announced too"
    assert client.transport == "http"
    assert [r.transport for r in fake.requests] == ["http"]


async def test_exhausted_websocket_retries_fall_back_and_reset_the_counter(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    refused = [{"status": 404, "message": "no websocket here"}] * 3
    fake.load(
        script([say("x", fault={"kind": "status", "status": 500}), say("via http")], handshake_faults=refused)
    )
    client = make_client(stream_max_retries=2)
    events = await run(client.new_turn(), [user("go")])
    assert kinds(events) == ["codex_lsp.retry", "codex_lsp.retry", "codex_lsp.fallback", "codex_lsp.retry"]
    assert texts(events) == "via http"
    assert [h.status for h in fake.handshakes] == [404, 404, 404]
    assert [r.transport for r in fake.requests] == ["http", "http"]
    await run(client.new_turn(), [user("later")])
    assert len(fake.handshakes) == 3, "no WebSocket attempt after the switch"


async def test_streams_that_keep_breaking_fall_back(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    cut = {"kind": "close", "after_events": 2}
    fake.load(script([say("x", fault=cut), say("x", fault=cut), say("http saves the day")]))
    client = make_client(stream_max_retries=1)
    events = await run(client.new_turn(), [user("go")])
    assert kinds(events) == ["codex_lsp.retry", "codex_lsp.fallback"]
    assert [r.transport for r in fake.requests] == ["websocket", "websocket", "http"]
    assert texts(events) == "http saves the day"


async def test_overload_never_triggers_the_switch(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    overloaded = {"kind": "status", "status": 503, "code": "server_is_overloaded", "message": "busy"}
    fake.load(script([say("x", fault=overloaded) for _ in range(5)] + [say("served")]))
    client = make_client(stream_max_retries=1)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "served"
    assert all(e.overload for e in events if e.type == "codex_lsp.retry")
    assert client.transport == "websocket"
    assert all(r.transport == "websocket" for r in fake.requests)


async def test_overload_schedule_runs_out_without_switching(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    overloaded = {"kind": "failed", "code": "server_is_overloaded", "message": "busy"}
    fake.load(script([say("x", fault=overloaded) for _ in range(7)]))
    client = make_client()
    with pytest.raises(RetriesExhausted, match="overloaded"):
        await run(client.new_turn(), [user("go")])
    assert len(fake.requests) == 6
    assert client.transport == "websocket"


async def test_http_only_provider_never_opens_a_websocket(
    fake: FakeResponsesServer, make_client: ClientFactory
) -> None:
    fake.load(script([say("plain")]))
    client = make_client(websockets=False, prewarm=True)
    events = await run(client.new_turn(), [user("go")])
    assert texts(events) == "plain"
    assert kinds(events) == []
    assert fake.handshakes == []
    assert fake.requests[0].transport == "http"
    assert "previous_response_id" not in fake.requests[0].body
    assert "generate" not in fake.requests[0].body


@pytest.mark.parametrize(
    ("base_url", "named"),
    [("http://127.0.0.1:9/v1", "HTTP"), ("https://api.example.com/v1", "HTTPS"), ("wss://h/v1", "HTTPS")],
)
async def test_the_notice_names_the_scheme_the_base_url_uses(base_url: str, named: str) -> None:
    async with ModelClient(loopback_settings(base_url)) as client:
        notice = client.disable_websockets("the server refused the WebSocket upgrade (HTTP 426)")
    assert notice is not None
    assert notice.message.startswith(f"Falling back from WebSockets to {named} transport. ")
    assert FallbackNotice(reason="r").message.startswith("Falling back from WebSockets to HTTPS transport.")


def _exec_home(root: Path, base_url: str) -> Path:
    home = root / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model_provider = "fake"\n[model_providers.fake]\nbase_url = "{base_url}"\nenv_key = "FAKE_KEY"\n'
        "supports_websockets = true\nstream_max_retries = 1\nrequest_max_retries = 1\n",
        encoding="utf-8",
    )
    return home


FALLBACKS: dict[str, dict[str, Any]] = {
    "426": {"handshake_faults": [{"status": 426}]},
    "retries exhausted": {"handshake_faults": [{"status": 404}] * 3},
}


@pytest.mark.parametrize("cause", list(FALLBACKS))
async def test_exec_prints_the_fallback_once_and_accurately(
    fake: FakeResponsesServer, tmp_path: Path, cause: str
) -> None:
    """``codex-lsp exec`` as a process, prewarm on as by default: one ``[codex]`` line, saying HTTP for
    the fake's ``http://`` base URL, whether the prewarm or the request met the refusal."""
    fake.load(script([say("answered over http")], **FALLBACKS[cause]))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "CODEX"))}
    env.update(
        CODEX_HOME=str(_exec_home(tmp_path, fake.base_url)),
        FAKE_KEY=API_KEY,
        CODEX_LSP_STATE_DIR=str(tmp_path / "state"),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "codex_lsp",
        "exec",
        "--cd",
        str(workspace),
        "--skip-git-repo-check",
        "say something",
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    stdout, stderr = out.decode(), err.decode()

    assert process.returncode == 0, stdout + stderr
    assert "answered over http" in stdout
    lines = [line for line in stderr.splitlines() if "falling back" in line.lower()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("[codex] Falling back from WebSockets to HTTP transport. "), lines[0]
    assert [r.transport for r in fake.requests][-1] == "http"
