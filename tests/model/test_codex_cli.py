"""Fidelity against the real Codex CLI (pinned @openai/codex 0.169.0): ``codex exec`` runs a scripted turn
against the fake server over WebSocket and over HTTP SSE, applying a patch through the ``apply_patch``
custom tool. If this fails, the fake is wrong, not the test (reference §0b has the setup)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

import codex_lsp.testing
from codex_lsp.testing.fake_responses import FakeResponsesServer
from codex_lsp.testing.fake_script import Script
from codex_lsp.testing.peers import codex_binary

SCRIPTS = Path(codex_lsp.testing.__file__).parent / "scripts"
TIMEOUT = 90


CONFIG = """\
model = "gpt-5.5"
model_provider = "fake"
# Loopback only: no update check; below, no plugin-marketplace sync (git ls-remote github.com), no apps,
# no analytics.
check_for_update_on_startup = false

[model_providers.fake]
name = "loopback"
base_url = "{base_url}"
env_key = "FAKE_KEY"
wire_api = "responses"
supports_websockets = {websockets}

[features]
plugins = false
remote_plugin = false
apps = false

[analytics]
enabled = false
"""


def codex_home(root: Path, base_url: str, websockets: bool) -> Path:
    """A throwaway CODEX_HOME whose provider is the fake server (reference §0b)."""
    home = root / "codex-home"
    home.mkdir()
    config = CONFIG.format(base_url=base_url, websockets="true" if websockets else "false")
    (home / "config.toml").write_text(config, encoding="utf-8")
    return home


def clean_env(home: Path) -> dict[str, str]:
    """The environment without any real key or Codex setting, pointing Codex at the throwaway home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "CODEX", "AZURE"))}
    scratch = home.parent / "scratch"
    scratch.mkdir(exist_ok=True)
    # Codex refuses to install its helper binaries (the sandbox launcher apply_patch runs through) when
    # CODEX_HOME lies under the temporary directory, so TMPDIR points at a sibling instead.
    env.update(FAKE_KEY="fake-key", CODEX_HOME=str(home), HOME=str(home), TMPDIR=str(scratch), NO_COLOR="1")
    # Anything that still tries to leave the machine goes to a dead loopback proxy instead.
    dead_proxy = "http://127.0.0.1:9"
    env.update(
        HTTPS_PROXY=dead_proxy, HTTP_PROXY=dead_proxy, ALL_PROXY=dead_proxy, NO_PROXY="127.0.0.1,localhost"
    )
    return env


async def codex_exec(home: Path, cwd: Path, prompt: str) -> tuple[int, list[dict[str, Any]], str]:
    process = await asyncio.create_subprocess_exec(
        str(codex_binary()),
        "exec",
        "--skip-git-repo-check",
        "--json",
        "--sandbox",
        "workspace-write",
        "-c",
        'approval_policy="never"',
        prompt,
        cwd=cwd,
        env=clean_env(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    events = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return process.returncode or 0, events, err.decode(errors="replace")


@pytest.mark.parametrize("websockets", [True, False], ids=["ws", "http"])
async def test_codex_exec_applies_a_patch_through_the_fake(
    fake: FakeResponsesServer, tmp_path: Path, websockets: bool
) -> None:
    fake.load(Script.load(SCRIPTS / "apply_patch_turn.json"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    home = codex_home(tmp_path, fake.base_url, websockets)
    code, events, stderr = await codex_exec(home, workdir, "Create hello.txt saying hello.")

    assert code == 0, stderr[-2000:]
    assert (workdir / "hello.txt").read_text() == "hello from the fake model\n"
    kinds = [e["type"] for e in events]
    assert kinds[0] == "thread.started", kinds
    assert kinds[-1] == "turn.completed", kinds
    messages = [e["item"]["text"] for e in events if e.get("item", {}).get("type") == "agent_message"]
    assert messages == ["Created hello.txt."]
    assert fake.pending_steps == 0
    assert fake.unscripted == 0
    assert fake.other_requests == []

    first, follow_up = fake.generating_requests()
    output = next(i for i in follow_up.effective_input if i["type"] == "custom_tool_call_output")
    assert output["call_id"] == "call_patch"
    assert "A hello.txt" in output["output"]
    assert fake.turn_states() == [None, "ts-1" if websockets else "h-1"]
    if websockets:
        assert [h.status for h in fake.handshakes] == [101], "one socket for the whole turn"
        assert all(r.transport == "websocket" for r in fake.requests)
        assert [r.prewarm for r in fake.requests] == [True, False, False]
        assert follow_up.body["previous_response_id"] == first.response_id
        assert fake.handshakes[0].headers["openai-beta"] == "responses_websockets=2026-02-06"
    else:
        assert fake.handshakes == []
        assert all(r.transport == "http" for r in fake.requests)
        assert "previous_response_id" not in follow_up.body
        kinds_in = [i["type"] for i in follow_up.body["input"]]
        assert kinds_in[-2:] == ["custom_tool_call", "custom_tool_call_output"]
    assert all(r.headers["authorization"] == "Bearer fake-key" for r in fake.requests)
