""":Codex ask and :Codex cancel in a real Neovim.

The answer streams into the transcript as the model writes it, progress reaches LspProgress, asks continue
one thread, and a cancelled turn leaves the buffer untouched.
"""

from __future__ import annotations

from pathlib import Path

from tests.editors.background import HostedFake
from tests.editors.conftest import NvimFactory
from tests.editors.nvim_codex import CodexNvim, patch, script, user_texts

APP = "import os\n\nprint('hi')\n"
ANSWER = "It prints a greeting; `os` is imported but never used."
SLOW = {"delay_ms": 40, "chunk_size": 4}


def test_ask_streams_the_answer_into_the_transcript(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    fake_responses.load(
        script(
            {
                "output": [
                    {"type": "reasoning", "summary": ["Reading the file."]},
                    {"type": "message", "text": ANSWER},
                ],
                **SLOW,
            },
            {"output": [{"type": "message", "text": "Nothing else."}]},
        )
    )
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses, ruff=False)
    nvim = editor.nvim
    buf = editor.open("app.py", APP)
    nvim.command("Codex ask what does this file do?")

    # The transcript opens beside the file and shows the answer while it is still being written.
    assert nvim.lua("return require('codex.transcript').window() ~= nil")
    assert nvim.lua("return vim.api.nvim_get_current_buf()") == buf  # the cursor stays in the file
    nvim.wait_until(
        """function(answer)
            local text = require('codex.transcript').text()
            return text:find('It prints', 1, true) ~= nil and text:find(answer, 1, true) == nil
        end""",
        ANSWER,
        what="part of the answer, before all of it",
    )
    editor.wait_idle()
    transcript = editor.wait_transcript("— completed")
    assert transcript == (
        "## Ask: what does this file do?\n\n> Reading the file.\n\n" + ANSWER + "\n\n— completed"
    )
    assert (2, "Codex: done") in nvim.notifications()
    assert nvim.buffer_text(buf) == APP

    # Progress went through LspProgress (what fidget-style plugins read): begun, cancellable, ended.
    kinds = [p["value"]["kind"] for p in nvim.progress() if p["client"] == "codex"]
    assert kinds[0] == "begin"
    assert kinds[-1] == "end"
    begin = next(p["value"] for p in nvim.progress() if p["value"]["kind"] == "begin")
    assert begin["title"] == "Codex"
    assert begin["cancellable"] is True

    # A second ask continues the same thread: the model sees the first question again.
    nvim.command("Codex ask anything else?")
    editor.wait_transcript("Nothing else.")
    editor.wait_idle()
    said = user_texts(fake_responses, last=True)
    assert any("what does this file do?" in t for t in said)
    assert any("anything else?" in t for t in said)


def test_cancel_mid_turn_stops_it_and_leaves_the_buffer_untouched(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    long_answer = "Let me look at this carefully before editing anything. " * 6
    fake_responses.load(
        script(
            {
                "output": [
                    {"type": "message", "text": long_answer},
                    {
                        "type": "custom_tool_call",
                        "input": patch("app.py", "@@\n-import os\n-\n print('hi')\n"),
                    },
                ],
                "delay_ms": 60,
                "chunk_size": 3,
            }
        )
    )
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses, ruff=False)
    nvim = editor.nvim
    buf = editor.open("app.py", APP)
    nvim.command("Codex ask remove the unused import")
    editor.wait_transcript("Let me look")
    assert editor.running() == 1

    nvim.command("Codex cancel")
    editor.wait_idle()
    transcript = editor.wait_transcript("— interrupted")
    assert long_answer.strip() not in transcript  # it stopped mid-answer
    assert (2, "Codex: turn interrupted") in nvim.notifications()
    assert nvim.buffer_text(buf) == APP
    assert (editor.root / "app.py").read_text() == APP
    assert fake_responses.read(lambda server: len(server.generating_requests())) == 1


def test_ask_on_a_visual_selection_sends_the_selection(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    fake_responses.load(script({"output": [{"type": "message", "text": "It prints hi."}]}))
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses, ruff=False)
    nvim = editor.nvim
    editor.open("app.py", "import os\n\nprint('hi')\n")
    nvim.lua("vim.api.nvim_win_set_cursor(0, {3, 0})")
    nvim.command("execute \"normal! f'vf'\\<Esc>\"")  # select 'hi' and leave Visual mode
    nvim.command("'<,'>Codex ask explain this")
    editor.wait_idle()
    said = "\n".join(user_texts(fake_responses))
    assert "explain this" in said
    assert "from 3:7 to 3:11" in said
    assert "```\n'hi'\n```" in said
