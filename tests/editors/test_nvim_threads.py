""":Codex new, :Codex threads and :Codex status in a real Neovim."""

from __future__ import annotations

from pathlib import Path

from tests.editors.background import HostedFake
from tests.editors.conftest import NvimFactory
from tests.editors.nvim_codex import KEY, CodexNvim, script, user_texts


def say(text: str) -> dict[str, object]:
    return {"output": [{"type": "message", "text": text}]}


def test_new_starts_a_thread_and_threads_picks_one_to_continue(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    fake_responses.load(script(say("First."), say("Second."), say("Third.")))
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses, ruff=False)
    nvim = editor.nvim
    editor.open("app.py", "print('hi')\n")

    nvim.command("Codex ask the first question")
    editor.wait_idle()
    nvim.command("Codex new")
    nvim.wait_until(
        "function() local n = codex_test.notifications; return n[#n].message:find('new thread') end",
        what="the new thread",
    )
    nvim.command("Codex ask the second question")
    editor.wait_idle()
    said = user_texts(fake_responses, last=True)
    assert not any("the first question" in t for t in said)

    # :Codex threads lists both (vim.ui.select, answered here as a person would pick); pick the first.
    nvim.lua(
        """vim.ui.select = function(items, opts, on_choice)
            _G.listed = vim.tbl_map(opts.format_item, items)
            for _, item in ipairs(items) do
                if item.title:find('first question') then return on_choice(item) end
            end
        end"""
    )
    nvim.command("Codex threads")
    nvim.wait_until("function() return _G.listed ~= nil end", what="the thread list")
    listed = nvim.lua("return _G.listed")
    assert len(listed) == 2
    assert listed[0].startswith("* ")  # the current thread (the second) comes first, marked
    assert "second question" in listed[0]
    nvim.command("Codex ask the third question")
    editor.wait_idle()
    said = user_texts(fake_responses, last=True)
    assert any("the first question" in t for t in said)
    assert not any("the second question" in t for t in said)


def test_status_and_account_show_the_server_without_the_key(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses, ruff=False)
    nvim = editor.nvim
    editor.open("app.py", "print('hi')\n")
    nvim.command("Codex status")
    nvim.wait_until(
        "function() return #codex_test.notifications > 0 end",
        what="the status",
    )
    _, message = nvim.notifications()[-1]
    assert message.splitlines() == [
        "Codex: codex-lsp 0.1.0",
        f"provider fake, model gpt-5.5, {fake_responses.base_url}",
        "key found (env CODEX_LSP_TEST_KEY)",
        "transport websocket (not connected yet)",
        "edit mode auto, 0 turn(s) running",
    ]
    assert KEY not in message
    nvim.command("Codex account")
    nvim.wait_until("function() return #codex_test.notifications > 1 end", what="the account")
    assert nvim.notifications()[-1] == (
        2,
        "Codex: provider fake uses its own key (env CODEX_LSP_TEST_KEY), not the OpenAI sign-in",
    )
