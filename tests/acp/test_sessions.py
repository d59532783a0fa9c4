"""The ACP lifecycle: initialize, sessions (new, load after a restart, list), modes, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from acp import RequestError, text_block
from acp.schema import McpServerStdio

from tests.acp.harness import patch_call, say, setup, step
from tests.acp.test_turns import silent_before_completion
from tests.agent.harness import user_texts

ADD_HELLO = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"


async def test_initialize_and_new_session_advertise_what_we_do(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        response = await run.conn.new_session(
            cwd=str(s.root), mcp_servers=[McpServerStdio(name="fetch", command="mcp-fetch", args=[], env=[])]
        )
    init = run.init
    assert init.agent_info is not None
    assert init.agent_info.name == "codex-lsp"
    capabilities = init.agent_capabilities
    assert capabilities is not None
    assert capabilities.load_session is True
    assert capabilities.prompt_capabilities is not None
    assert capabilities.prompt_capabilities.embedded_context is True
    assert capabilities.prompt_capabilities.image is False
    assert init.auth_methods == []
    assert response.modes is not None
    assert response.modes.current_mode_id == "auto"
    assert [mode.id for mode in response.modes.available_modes] == ["auto", "review", "read-only"]
    assert response.field_meta == {
        "codex-lsp": {
            "mcpServersDeclined": ["fetch"],
            "note": "codex-lsp does not start MCP servers from the editor; its tools are its own. "
            "Not started: fetch",
        }
    }


async def test_load_after_a_restart_replays_the_thread_and_continues_it(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        async with s.agent() as first:
            first.load([step(patch_call(ADD_HELLO, "call_hello")), step(say("Created hello.txt."))])
            session = await first.new_session()
            await first.conn.prompt(session_id=session, prompt=[text_block("create hello")])
        async with s.agent() as second:
            listed = await second.conn.list_sessions(cwd=str(s.root))
            assert [(info.session_id, info.title) for info in listed.sessions] == [(session, "create hello")]
            await second.conn.load_session(cwd=str(s.root), session_id=session, mcp_servers=[])
            replayed = list(second.editor.updates)
            second.load([step(say("It says hello."))])
            response = await second.conn.prompt(session_id=session, prompt=[text_block("what is in it?")])
    assert [update["sessionUpdate"] for update in replayed] == [
        "user_message_chunk",
        "tool_call",
        "agent_message_chunk",
    ]
    assert replayed[0]["content"]["text"] == "create hello"
    card = replayed[1]
    assert (card["toolCallId"], card["kind"], card["status"]) == ("call_hello", "edit", "completed")
    assert card["locations"] == [{"path": str(s.root / "hello.txt")}]
    assert replayed[2]["content"]["text"] == "Created hello.txt."
    assert response.stop_reason == "end_turn"
    history = user_texts(second.generating[-1])
    assert "create hello" in history
    assert history[-1] == "what is in it?"


async def test_bad_input_gets_clear_errors(tmp_path: Path) -> None:
    async with setup(tmp_path) as s, s.agent() as run:
        with pytest.raises(RequestError, match="unknown session 'nope'"):
            await run.conn.prompt(session_id="nope", prompt=[text_block("go")])
        with pytest.raises(RequestError, match="no saved session 'nope'"):
            await run.conn.load_session(cwd=str(s.root), session_id="nope", mcp_servers=[])
        with pytest.raises(RequestError, match="cwd must be an absolute path"):
            await run.conn.new_session(cwd="relative/dir", mcp_servers=[])
        session = await run.new_session()
        with pytest.raises(RequestError, match="unknown mode 'yolo'; the modes are auto, review, read-only"):
            await run.conn.set_session_mode(session_id=session, mode_id="yolo")
        with pytest.raises(RequestError, match="the prompt is empty"):
            await run.conn.prompt(session_id=session, prompt=[text_block("  ")])
        run.load([silent_before_completion(say("Working."))])
        first = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
        await run.editor.until(lambda update: update.get("sessionUpdate") == "agent_message_chunk")
        with pytest.raises(RequestError, match="a prompt is already running in session"):
            await run.conn.prompt(session_id=session, prompt=[text_block("again")])
        await run.conn.cancel(session_id=session)
        assert (await first).stop_reason == "cancelled"


async def test_the_agent_exits_when_the_editor_closes_its_input_mid_turn(tmp_path: Path) -> None:
    """Closing stdin ends the process by itself (status 0), a running turn included: the SDK's client
    would terminate it after 2 s otherwise, and the exit status would say so."""
    async with setup(tmp_path) as s:
        async with s.agent() as run:
            run.load([silent_before_completion(say("Working."))])
            session = await run.new_session()
            prompt = asyncio.create_task(run.conn.prompt(session_id=session, prompt=[text_block("go")]))
            await run.editor.until(lambda update: update.get("sessionUpdate") == "agent_message_chunk")
        prompt.cancel()
        assert run.process.returncode == 0


async def test_a_missing_key_is_a_clear_error_on_session_new(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        env = s.env()
        del env["FAKE_KEY"]
        s.env = lambda: env  # type: ignore[method-assign]
        async with s.agent() as run:
            assert run.init.auth_methods == [], "a provider with its own key offers no sign-in"
            with pytest.raises(RequestError, match="Missing environment variable: `FAKE_KEY`") as caught:
                await run.conn.new_session(cwd=str(s.root), mcp_servers=[])
            assert caught.value.code == -32603, "not auth_required: signing in would not help"
