""":checkhealth codex and :help codex in a real Neovim."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

from tests.editors.background import HostedFake
from tests.editors.conftest import NvimFactory
from tests.editors.nvim_codex import KEY, PLUGIN, CodexNvim
from tests.editors.nvim_driver import Nvim


def checkhealth(nvim: Nvim) -> str:
    """Run ``:checkhealth codex`` and return the report it shows."""
    nvim.command("checkhealth codex")
    return "\n".join(nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, true)"))


def report_lines(report: str) -> list[str]:
    """The report's result lines (``- ✅ OK …``, ``- ❌ ERROR …``) without their icons."""
    return [re.sub(r"^- \S+ ", "- ", line) for line in report.splitlines() if line.startswith("- ")]


def test_checkhealth_finds_the_server_its_configuration_and_key_and_reaches_the_endpoint(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake
) -> None:
    editor = CodexNvim.start(nvim_factory, tmp_path, fake_responses, ruff=False)
    nvim = editor.nvim
    # Before any file is open no codex-lsp runs: the check starts one of its own.
    lines = report_lines(checkhealth(nvim))
    version = nvim.lua("return vim.version()")
    server = nvim.lua("return vim.fn.exepath('codex-lsp')")
    assert lines == [
        "- OK Neovim {major}.{minor}.{patch} (vim.lsp.config / vim.lsp.enable)".format(**version),
        "- OK require('codex').setup() was called",
        f"- OK `codex-lsp` found: {server}",
        "- OK codex-lsp 0.1.0 answers (started for this check)",
        f"- OK configuration read: provider fake, model gpt-5.5, {fake_responses.base_url}",
        "- OK API key found (env CODEX_LSP_TEST_KEY)",
        lines[6],
    ]
    assert re.fullmatch(r"- OK websocket endpoint reachable \(\d+ ms\)", lines[6])
    assert fake_responses.read(lambda server: server.generating_requests()) == []  # no model request

    # With a file open, the running server is asked.
    editor.open("app.py", "print('hi')\n")
    report = checkhealth(nvim)
    assert re.search(r"OK codex-lsp 0\.1\.0 answers \(the running client \(id \d+\)\)", report)
    assert "ERROR" not in report
    assert KEY not in report + nvim.messages() + nvim.lsp_log()


def test_checkhealth_says_what_is_missing(nvim_factory: NvimFactory, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    editor = CodexNvim.start(
        nvim_factory,
        tmp_path,
        None,
        ruff=False,
        base_url=f"http://127.0.0.1:{port}/v1",
        env={"CODEX_LSP_TEST_KEY": ""},
    )
    lines = report_lines(checkhealth(editor.nvim))
    assert "- ERROR no API key found" in lines
    assert any(
        line.startswith("- ERROR websocket endpoint not reachable: cannot connect to ")
        and f"127.0.0.1:{port}" in line
        for line in lines
    ), "\n".join(lines)

    missing = CodexNvim.start(
        nvim_factory, tmp_path / "other", None, ruff=False, options={"cmd": ["no-such-codex-lsp", "--stdio"]}
    )
    lines = report_lines(checkhealth(missing.nvim))
    assert '- ERROR `no-such-codex-lsp` not found (cmd = { "no-such-codex-lsp", "--stdio" })' in lines


def test_the_help_file_has_its_tags_and_every_link_resolves(
    nvim_factory: NvimFactory, tmp_path: Path
) -> None:
    plugin = tmp_path / "codex.nvim"
    shutil.copytree(PLUGIN, plugin)  # :helptags writes doc/tags next to the help file
    nvim = nvim_factory(plugins=[plugin])
    nvim.command(f"helptags {plugin / 'doc'}")
    assert "E154" not in nvim.messages()  # no duplicate tags
    tags = [line.split("\t")[0] for line in (plugin / "doc" / "tags").read_text().splitlines()]
    for tag in (
        "codex",
        "codex-setup",
        "codex-options",
        ":Codex",
        ":Codex-ask",
        "codex-health",
        "codex-review",
        "codex-sign-in",
        ":Codex-login",
        "CodexAccountChanged",
    ):
        assert tag in tags
    nvim.command("help :Codex-fix")
    assert nvim.lua("return vim.fs.basename(vim.api.nvim_buf_get_name(0))") == "codex.txt"
    assert "*:Codex-fix*" in nvim.lua("return vim.api.nvim_get_current_line()")
    text = (plugin / "doc" / "codex.txt").read_text()
    links = sorted(set(re.findall(r"\|([^|\s]+)\|", text)))
    broken = nvim.lua(
        """local broken = {}
        for _, link in ipairs(...) do
            if not pcall(vim.cmd.help, link) then table.insert(broken, link) end
        end
        return broken""",
        links,
    )
    assert broken == []
    assert len(links) > 20
