"""The Neovim driver against a real headless Neovim 0.11 and a real peer language server, ``ruff server``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.editors.conftest import NvimFactory
from tests.editors.nvim_driver import NvimTimeout, ruff_server_lua

UNUSED_IMPORT = "import os\n\nprint('hi')\n"


def test_ruff_server_publishes_f401_for_an_unused_import(nvim_factory: NvimFactory, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(UNUSED_IMPORT)
    nvim = nvim_factory(init=ruff_server_lua())
    buf = nvim.edit("app.py")
    nvim.wait_client("ruff", buf)
    diagnostics = nvim.wait_diagnostics(buf, code="F401", source="Ruff")
    assert [(d.code, d.lnum, d.col, d.end_col) for d in diagnostics] == [("F401", 0, 7, 9)]
    assert "`os` imported but unused" in diagnostics[0].message
    assert nvim.client_names(buf) == ["ruff"]


def test_a_code_action_taken_without_a_menu_edits_the_buffer_and_the_diagnostic_clears(
    nvim_factory: NvimFactory, tmp_path: Path
) -> None:
    # The path "Fix with Codex" will take: vim.lsp.buf.code_action with a filter and apply = true.
    (tmp_path / "app.py").write_text(UNUSED_IMPORT)
    nvim = nvim_factory(init=ruff_server_lua())
    buf = nvim.edit("app.py")
    nvim.wait_diagnostics(buf, code="F401")
    nvim.lua("vim.api.nvim_win_set_cursor(0, {1, 7})")  # on `os`, as a person would be
    nvim.lua(
        """vim.lsp.buf.code_action({
            apply = true,
            filter = function(action) return action.title == "Ruff (F401): Remove unused import: `os`" end,
        })"""
    )
    nvim.wait_until("function(b) return #vim.diagnostic.get(b) == 0 end", buf, what="ruff to re-lint")
    assert nvim.buffer_text(buf) == "\nprint('hi')\n"
    assert (tmp_path / "app.py").read_text() == UNUSED_IMPORT  # edited in the buffer, not saved


def test_a_wait_that_never_holds_fails_with_what_neovim_said(nvim_factory: NvimFactory) -> None:
    nvim = nvim_factory()
    nvim.command("echomsg 'visible in the report'")
    nvim.lua("vim.notify('a notification', vim.log.levels.WARN)")
    with pytest.raises(NvimTimeout, match="never true") as raised:
        nvim.wait_until("function() return false end", timeout=0.2, what="never true")
    assert "visible in the report" in str(raised.value)
    assert nvim.notifications() == [(3, "a notification")]
