"""Over ACP, text no encoder accepts never breaks a session's thread (issue 15, item 4): a prompt and
a model message with lone surrogates and a file name that is not UTF-8 end the turn normally, the
next prompt on the session works, and after a restart the session loads and continues."""

from __future__ import annotations

import os
from pathlib import Path

from acp import text_block

from tests.acp.harness import call, say, setup, step
from tests.agent.harness import outputs


async def test_lone_surrogates_and_a_latin1_name_never_break_a_session(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        os.close(os.open(os.fsencode(s.root) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
        async with s.agent() as run:
            run.load(
                [step(say("looking \ud800 around"), call("list_dir")), step(say("done \udfff"))],
                [step(say("second prompt"))],
            )
            session = await run.new_session()
            first = await run.conn.prompt(session_id=session, prompt=[text_block("find \ud800 it")])
            assert first.stop_reason == "end_turn"
            second = await run.conn.prompt(session_id=session, prompt=[text_block("again")])
            assert second.stop_reason == "end_turn"
            assert run.editor.text().endswith("second prompt")
        assert "caf\\xe9.txt" in outputs(run.generating[1])[0]
        async with s.agent() as later:
            await later.conn.load_session(cwd=str(s.root), session_id=session, mcp_servers=[])
            replayed = [u["content"]["text"] for u in later.editor.of_kind("user_message_chunk")]
            assert replayed == ["find \\ud800 it", "again"]
            said = "".join(u["content"]["text"] for u in later.editor.of_kind("agent_message_chunk"))
            assert "looking \\ud800 around" in said
            assert "done \\udfff" in said
            later.load([step(say("third prompt"))])
            third = await later.conn.prompt(session_id=session, prompt=[text_block("once more")])
            assert third.stop_reason == "end_turn"
