"""The plugin's own logic in a real Neovim, without a model: options, mappings, :Codex, positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pynvim import NvimError

from tests.editors.conftest import NvimFactory
from tests.editors.nvim_codex import PLUGIN, lua_table
from tests.editors.nvim_driver import Nvim


@pytest.fixture
def nvim(nvim_factory: NvimFactory) -> Nvim:
    """A Neovim with the plugin on its 'runtimepath' and nothing set up."""
    return nvim_factory(plugins=[PLUGIN])


def setup_error(nvim: Nvim, options: dict[str, object]) -> str:
    return str(nvim.lua(f"local ok, err = pcall(require('codex').setup, {lua_table(options)}); return err"))


def test_every_module_loads(nvim: Nvim) -> None:
    modules = sorted(p.stem for p in (PLUGIN / "lua" / "codex").glob("*.lua"))
    assert "init" in modules
    failed = nvim.lua(
        """local failed = {}
        for _, name in ipairs(...) do
            local ok, err = pcall(require, name == 'init' and 'codex' or ('codex.' .. name))
            if not ok then failed[#failed + 1] = tostring(err) end
        end
        return failed""",
        modules,
    )
    assert failed == []


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"cmdd": ["codex-lsp"]}, "codex.setup: unknown option cmdd"),
        ({"cmd": []}, "codex.setup: option cmd: expected a non-empty list of strings, got {}"),
        (
            {"filetypes": "python"},
            'codex.setup: option filetypes: expected "*" or a list of filetypes, got "python"',
        ),
        (
            {"keymaps": {"ask": 1}},
            "codex.setup: option keymaps: expected a key sequence or false for ask, got {",
        ),
        (
            {"transcript": {"open": "sometimes"}},
            "codex.setup: option transcript.open: expected one of ask, always",
        ),
        (
            {"diagnostics": {"debounce": -1}},
            "codex.setup: option diagnostics.debounce: expected a number of milli",
        ),
    ],
)
def test_a_bad_option_is_a_one_line_error_naming_it(
    nvim: Nvim, options: dict[str, object], error: str
) -> None:
    message = setup_error(nvim, options)
    assert message.startswith(error)
    assert "\n" not in message
    assert nvim.lua("return vim.fn.exists(':Codex')") == 0  # nothing was set up


def test_keymaps_are_off_by_default_and_on_when_asked(nvim_factory: NvimFactory) -> None:
    def mapped(nvim: Nvim) -> list[str]:
        descriptions = nvim.lua(
            "return vim.tbl_map(function(m) return m.desc or '' end, vim.api.nvim_get_keymap('n'))"
        )
        return sorted(d for d in descriptions if "Codex" in d)

    plain = nvim_factory(plugins=[PLUGIN], init="require('codex').setup({})")
    assert mapped(plain) == []
    assert plain.lua("return vim.fn.exists(':Codex')") == 2
    some = nvim_factory(plugins=[PLUGIN], init="require('codex').setup({ keymaps = { ask = '<F5>' } })")
    assert mapped(some) == ["Ask Codex"]
    assert some.lua("return vim.fn.maparg('<F5>', 'x')") == ":Codex ask<CR>"
    every = nvim_factory(plugins=[PLUGIN], init="require('codex').setup({ keymaps = true })")
    assert len(mapped(every)) == 6


def test_codex_completes_its_subcommands_and_rejects_unknown_ones(nvim_factory: NvimFactory) -> None:
    nvim = nvim_factory(plugins=[PLUGIN], init="require('codex').setup({})")

    def complete(line: str) -> list[str]:
        return list(nvim.lua("return vim.fn.getcompletion(..., 'cmdline')", line))

    assert complete("Codex ")[:4] == ["accept", "account", "apply", "ask"]
    assert complete("Codex fi") == ["fix"]
    assert complete("Codex fix ") == ["file"]
    assert complete("Codex lo") == ["login", "logout"]
    assert complete("Codex login ") == ["apikey", "browser", "device"]
    assert complete("Codex login b") == ["browser"]
    with pytest.raises(NvimError):  # an error message fails the command
        nvim.command("Codex frobnicate")
    level, message = nvim.notifications()[-1]
    assert level == 4
    assert message.startswith('Codex: unknown subcommand "frobnicate"; try one of: accept, account, apply,')


def test_codex_login_sends_the_method_as_the_server_names_it(nvim_factory: NvimFactory) -> None:
    # The browser sign-in listens on a fixed port (127.0.0.1:1455), so it is not run end to end here: a
    # client that records the requests stands in for the server.
    nvim = nvim_factory(plugins=[PLUGIN], init="require('codex').setup({})")
    sent = nvim.lua(
        """local sent = {}
        local client = { id = 1 }
        function client:request(method, params)
            table.insert(sent, { method = method, command = params.command, argument = params.arguments[1] })
            return true, #sent
        end
        local account = require('codex.account')
        for _, method in ipairs({ 'browser', 'device', 'sideways' }) do account.login(client, method) end
        account.login(client)
        return sent"""
    )
    assert [(s["method"], s["command"]) for s in sent] == [("workspace/executeCommand", "codex.login")] * 3
    assert [s["argument"] for s in sent] == [{"method": m} for m in ("browser", "device", "device")]
    assert nvim.notifications()[-1] == (
        4,
        'Codex: unknown sign-in method "sideways"; try device, browser or apikey',
    )
    with pytest.raises(NvimError):
        nvim.command("Codex login apikey sk-typed-on-the-command-line")
    assert nvim.notifications()[-1][1].startswith("Codex: usage: :Codex login [device|browser|apikey]")


def test_codex_without_a_server_says_so(nvim_factory: NvimFactory, tmp_path: Path) -> None:
    nvim = nvim_factory(plugins=[PLUGIN], init="require('codex').setup({ filetypes = { 'lua' } })")
    (tmp_path / "notes.txt").write_text("hello\n")
    nvim.edit("notes.txt")
    with pytest.raises(NvimError):
        nvim.command("Codex ask hello")
    assert nvim.notifications()[-1] == (
        4,
        "Codex: codex-lsp is not running: open a file it attaches to (see :help codex-setup)",
    )


def test_forwarded_diagnostics_use_the_servers_position_encoding(nvim: Nvim) -> None:
    # Neovim stores byte columns; the server counts in its negotiated encoding. "é" is 2 bytes, 1 UTF-16
    # unit; "😀" 4 bytes, 2 UTF-16 units, 1 UTF-32 unit.
    converted = nvim.lua(
        """local buf = vim.api.nvim_create_buf(false, true)
        vim.api.nvim_buf_set_lines(buf, 0, -1, true, { "é = '😀' + x" })
        local ns = vim.api.nvim_create_namespace("a linter")
        vim.diagnostic.set(ns, buf, { { lnum = 0, col = 12, end_col = 13, message = "undefined name x",
            severity = vim.diagnostic.severity.ERROR, source = "pyflakes", code = "F821" } })
        local result = {}
        for _, encoding in ipairs({ "utf-8", "utf-16", "utf-32" }) do
            result[encoding] = require("codex.diagnostics").collect(buf, encoding)[1]
        end
        return result"""
    )
    assert {
        enc: (d["range"]["start"]["character"], d["range"]["end"]["character"])
        for enc, d in converted.items()
    } == {
        "utf-8": (12, 13),
        "utf-16": (9, 10),
        "utf-32": (8, 9),
    }
    assert converted["utf-16"]["severity"] == 1
    assert converted["utf-16"]["source"] == "pyflakes"
    assert converted["utf-16"]["code"] == "F821"
    assert converted["utf-16"]["message"] == "undefined name x"
