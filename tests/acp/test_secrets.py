"""Over ACP, configured secrets reach neither a command nor the editor nor the thread file (issue 15,
items 13 and 14): ``printenv`` runs without the key variable or a copy of the key, and a key the model
streams back, or a command prints, is masked in every ``session/update``, in the permission question and in
the saved thread."""

from __future__ import annotations

from pathlib import Path

from acp import text_block

from codex_lsp.testing import CODEX_KEY
from tests.acp.harness import call, say, setup, step
from tests.agent.harness import outputs

VISIBLE = "visible-value-of-a-harmless-variable"


async def test_printenv_and_an_echoed_key_show_no_secret(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        env = {**s.env(), "KEY_COPY": f"Bearer {CODEX_KEY}", "HARMLESS": VISIBLE}
        s.env = lambda: env  # type: ignore[method-assign]
        async with s.agent("--shell") as run:
            run.editor.permissions = ["allow-once", "allow-once"]
            run.load(
                [
                    step(
                        call("shell", "call_env", command=["printenv"]),
                        call("shell", "call_echo", command=["echo", CODEX_KEY]),
                    ),
                    step(say(f"the key is {CODEX_KEY}, and again: {CODEX_KEY}")),
                ]
            )
            session = await run.new_session()
            response = await run.conn.prompt(
                session_id=session, prompt=[text_block(f"run printenv with {CODEX_KEY}")]
            )
        assert response.stop_reason == "end_turn"
        printed = outputs(run.generating[1])[0]
        assert VISIBLE in printed, "the command ran and its output reached the model"
        assert "FAKE_KEY=" not in printed
        assert "KEY_COPY=" not in printed
        assert len(run.editor.asked) == 2, "both commands were asked about"
        cards = [u for u in run.editor.updates if u.get("toolCallId") == "call_echo"]
        assert "***" in repr(cards), "the echo's card shows its output, masked"
        assert run.editor.text() == "the key is ***, and again: ***"
        saved = "".join(p.read_text() for p in s.state.rglob("*.jsonl"))
        assert "the key is ***" in saved
        shown = repr(run.editor.updates) + repr(run.editor.asked) + saved
        assert CODEX_KEY not in shown
