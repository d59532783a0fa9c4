"""The README's configuration for other editors parses, and says what the server expects.

Helix, Zed and Sublime Text cannot be installed here, so their snippets are checked as far as a test
can without the editor: the TOML and JSON parse (no comments: JSON with comments is not JSON), they
start ``codex-lsp`` the way "Starting the server" says, and every server command they send is one the
server knows, with arguments its own parser accepts. The Emacs snippet runs in a real Emacs
(tests/editors/test_emacs.py).
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest

from codex_lsp.lsp.features.commands import COMMANDS, parse_ask
from tests.readme import fenced_blocks, section

EDITORS = ("Emacs", "Vim / Neovim + coc.nvim", "Helix", "Zed", "Sublime Text", "Any other LSP client")
SUBLIME_VARIABLES = {"${file}": "/home/me/project/app.py", "${file_name}": "app.py"}
"""Sublime's own variables, as it expands them before sending the command."""


def _json_blocks(title: str) -> list[Any]:
    return [json.loads(block) for block in fenced_blocks(section(title), "json")]


def _check_command(command: str, arguments: list[Any]) -> None:
    """``command`` is the server's, and codex.ask's arguments pass the server's own check."""
    assert command in COMMANDS
    if command == "codex.ask":
        parse_ask(tuple(arguments))
    else:
        assert len(arguments) <= 1
        assert all(isinstance(a, dict) for a in arguments)


@pytest.mark.parametrize("title", EDITORS)
def test_each_editor_has_its_section_with_fix_and_ask(title: str) -> None:
    text = section(title)
    assert "**Fix with Codex**" in text
    assert "**Ask**" in text


SNIPPETS = [
    ("Vim / Neovim + coc.nvim", "json"),
    ("Helix", "toml"),
    ("Zed", "json"),
    ("Sublime Text", "json"),
    ("Any other LSP client", "json"),
]


@pytest.mark.parametrize(("title", "language"), SNIPPETS)
def test_the_snippets_parse(title: str, language: str) -> None:
    blocks = fenced_blocks(section(title), language)
    assert blocks, f"no ```{language} block under {title}"
    for block in blocks:
        if language == "toml":
            tomllib.loads(block)
        else:
            json.loads(block)


def test_helix_defines_the_server_and_adds_it_to_a_language() -> None:
    (block,) = fenced_blocks(section("Helix"), "toml")
    config = tomllib.loads(block)
    assert config["language-server"]["codex-lsp"] == {"command": "codex-lsp", "args": ["--stdio"]}
    (python,) = config["language"]
    assert python["name"] == "python"
    assert "codex-lsp" in python["language-servers"]


def test_helix_ask_line_is_a_command_with_json_arguments_the_server_accepts() -> None:
    lines = re.findall(r"`:lsp-workspace-command (\S+)(?: (\{.*?\}))?`", section("Helix"))
    assert [name for name, _ in lines] == ["codex.ask", "codex.interrupt"]
    for name, raw in lines:
        _check_command(name, [json.loads(raw)] if raw else [])


def test_zed_runs_the_agent_over_acp() -> None:
    (settings,) = _json_blocks("Zed")
    (server,) = settings["agent_servers"].values()
    assert (server["command"], server["args"]) == ("codex-lsp", ["acp"])


def test_sublime_client_and_palette_entries_match() -> None:
    settings, entries = _json_blocks("Sublime Text")
    clients = settings["clients"]
    assert clients["codex-lsp"]["command"] == ["codex-lsp", "--stdio"]
    assert clients["codex-lsp"]["enabled"] is True
    assert {entry["command"] for entry in entries} == {"lsp_execute"}
    for entry in entries:
        args = entry["args"]
        assert args["session_name"] in clients
        expanded = json.dumps(args["command_args"])
        for variable, value in SUBLIME_VARIABLES.items():
            expanded = expanded.replace(variable, value)
        assert "${" not in expanded, f"{entry['caption']}: a variable Sublime does not expand in objects"
        _check_command(args["command_name"], json.loads(expanded))


def test_the_generic_example_is_a_command_the_server_accepts() -> None:
    (params,) = _json_blocks("Any other LSP client")
    _check_command(params["command"], params["arguments"])


def test_a_bad_ask_is_caught_by_the_check() -> None:
    # The check above is the server's own: an ask without a prompt does not pass it.
    with pytest.raises(Exception, match="prompt must be a non-empty string"):
        _check_command("codex.ask", [{"uri": "file:///a.py"}])
    with pytest.raises(AssertionError):
        _check_command("codex.explain", [{}])
