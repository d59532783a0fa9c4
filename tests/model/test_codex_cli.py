"""Fidelity against the real Codex CLI (pinned @openai/codex 0.169.0): ``codex exec`` runs a scripted turn
against the fake server over WebSocket and over HTTP SSE, applying a patch through the ``apply_patch``
custom tool. If this fails, the fake is wrong, not the test (codex_peer.py has the setup)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_lsp.testing import FakeResponsesServer, Script
from tests.model.codex_peer import CODEX_KEY, SCRIPTS, codex_exec, codex_home


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
    assert all(r.headers["authorization"] == f"Bearer {CODEX_KEY}" for r in fake.requests)
