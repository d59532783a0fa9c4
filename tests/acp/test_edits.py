"""Edits through the editor (``fs/*``) and through the disk, all files or none."""

from __future__ import annotations

from pathlib import Path

from acp import text_block

from tests.acp.harness import patch_call, say, setup, step

UPDATE_A = "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"


async def test_patch_is_computed_on_the_buffer_text_and_written_through_the_editor(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        editor_text = "# unsaved comment\nvalue = 1\n"
        async with s.agent() as run:
            run.editor.buffers[str(a)] = editor_text
            run.load([step(patch_call(UPDATE_A)), step(say("Done."))])
            session = await run.new_session()
            response = await run.conn.prompt(session_id=session, prompt=[text_block("bump it")])
        assert response.stop_reason == "end_turn"
        assert run.editor.writes == [(str(a), "# unsaved comment\nvalue = 2\n")]
        diffs = [
            content
            for update in run.editor.of_kind("tool_call_update")
            for content in update.get("content", [])
            if content["type"] == "diff"
        ]
        assert diffs[0]["oldText"] == editor_text
        assert diffs[0]["newText"] == "# unsaved comment\nvalue = 2\n"
        assert run.editor.text() == "Done."
