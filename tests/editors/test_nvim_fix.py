"""Neovim's "Fix with Codex", on a diagnostic that a real peer language server (``ruff server``) publishes.

Neovim sends each server only its own diagnostics in a code-action request, so codex-lsp hears of ruff's
F401 only because the plugin forwards every namespace's diagnostics (``codex/didChangeDiagnostics``).
The action is taken through Neovim's own code-action path (``vim.lsp.buf.code_action``), the model is the
fake server's script, and the edit arrives as the server's ``workspace/applyEdit``.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.editors.background import HostedFake
from tests.editors.conftest import NvimFactory
from tests.editors.deps import ruff_binary
from tests.editors.nvim_codex import CodexNvim, patch, script, user_texts

UNUSED_IMPORT = "import os\n\nprint('hi')\n"
FIXED = "print('hi')\n"
REMOVE_IMPORT = script(
    {"output": [{"type": "custom_tool_call", "input": patch("app.py", "@@\n-import os\n-\n print('hi')\n")}]},
    {"output": [{"type": "message", "text": "Removed the unused import of `os`."}]},
)


def test_fix_with_codex_from_the_code_action_menu_fixes_ruffs_diagnostic(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    fake_responses.load(REMOVE_IMPORT)
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses)
    nvim = editor.nvim
    buf = editor.open("app.py", UNUSED_IMPORT)
    nvim.wait_diagnostics(buf, code="F401", source="Ruff")
    editor.wait_forwarded(buf, 1)
    nvim.lua("vim.api.nvim_win_set_cursor(0, {1, 7})")  # on `os`, as a person would be

    # No extra setup: the user asks for code actions and picks Codex's.
    nvim.lua(
        """vim.lsp.buf.code_action({
            apply = true,
            filter = function(action) return action.title == "Fix with Codex: `os` imported but unused" end,
        })"""
    )
    nvim.wait_until("function(b) return #vim.diagnostic.get(b) == 0 end", buf, what="ruff to re-lint the fix")

    assert nvim.buffer_text(buf) == FIXED
    assert (editor.root / "app.py").read_text() == UNUSED_IMPORT  # edited in the buffer, not saved
    assert any("F401" in text and "`os` imported but unused" in text for text in user_texts(fake_responses))
    transcript = editor.wait_transcript("— completed · changed app.py")
    assert "## Fix: `os` imported but unused" in transcript
    assert "- edited app.py" in transcript
    assert "Removed the unused import of `os`." in transcript
    editor.wait_notification("Codex: done, changed app.py")


def test_codex_fix_acts_on_the_diagnostic_under_the_cursor(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    fake_responses.load(REMOVE_IMPORT)
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses)
    nvim = editor.nvim
    buf = editor.open("app.py", UNUSED_IMPORT)
    nvim.wait_diagnostics(buf, code="F401", source="Ruff")
    nvim.lua("vim.api.nvim_win_set_cursor(0, {1, 8})")
    nvim.command("Codex fix")
    nvim.wait_until("function(b) return #vim.diagnostic.get(b) == 0 end", buf, what="ruff to re-lint the fix")
    assert nvim.buffer_text(buf) == FIXED
    assert any("F401" in text for text in user_texts(fake_responses))


def test_before_neovim_0_11_the_client_starts_through_vim_lsp_start(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    # Neovim 0.10 has no vim.lsp.config/vim.lsp.enable: hide them, and start ruff the 0.10 way too.
    fake_responses.load(REMOVE_IMPORT)
    ruff_the_old_way = f"""
        vim.lsp.config, vim.lsp.enable = nil, nil
        vim.api.nvim_create_autocmd("FileType", {{ pattern = "python", callback = function(ev)
            vim.lsp.start({{ name = "ruff", cmd = {{ {json.dumps(str(ruff_binary()))}, "server" }},
                root_dir = vim.fs.dirname(vim.api.nvim_buf_get_name(ev.buf)) }}, {{ bufnr = ev.buf }})
        end }})"""
    editor = CodexNvim.start(
        nvim_factory,
        tmp_path,
        fake_responses,
        ruff=False,
        before_setup=ruff_the_old_way,
        options={"filetypes": ["python"]},
    )
    nvim = editor.nvim
    buf = editor.open("app.py", UNUSED_IMPORT)
    assert nvim.lua("return vim.lsp.get_clients({ name = 'codex' })[1].root_dir") == str(editor.root)
    nvim.wait_diagnostics(buf, code="F401", source="Ruff")
    editor.wait_forwarded(buf, 1)
    nvim.command("Codex fix")
    nvim.wait_until("function(b) return #vim.diagnostic.get(b) == 0 end", buf, what="ruff to re-lint the fix")
    assert nvim.buffer_text(buf) == FIXED
    # filetypes = { "python" }: another file type gets no codex client.
    (editor.root / "notes.lua").write_text("return 1\n")
    other = nvim.edit("notes.lua")
    assert "codex" not in nvim.client_names(other)
