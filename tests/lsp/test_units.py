"""Settings parsing and capability resolution, without a server."""

from __future__ import annotations

from pytest_lsp import client_capabilities

from codex_lsp.lsp.capabilities import resolve_capabilities
from codex_lsp.lsp.settings import Settings, parse_settings


def test_settings_accept_the_section_or_its_wrapper_and_ignore_unknown_keys() -> None:
    plain, problems = parse_settings(
        {"model": "m", "trace": {"server": "verbose"}, "shell": {"allow": ["pytest"]}}
    )
    wrapped, _ = parse_settings({"codex": {"model": "m", "shell": {"allow": ["pytest"]}}})
    assert plain == wrapped == Settings(model="m", shell_allow=("pytest",))
    assert problems == []


def test_later_sources_win_key_by_key_and_bad_values_keep_the_previous_one() -> None:
    base, _ = parse_settings({"model": "from-init", "transport": "http"})
    layered, problems = parse_settings({"transport": "smoke-signals", "baseUrl": "ftp://x"}, base)
    assert (layered.model, layered.transport, layered.base_url) == ("from-init", "http", None)
    assert problems == [
        "codex.baseUrl = 'ftp://x' is not an http(s):// or ws(s):// URL; using the default",
        "codex.transport = 'smoke-signals' is not one of auto, websocket, http; using 'http'",
    ]
    empty, _ = parse_settings({"model": ""}, base)
    assert empty.model is None, "an empty string means: as in config.toml"
    _, not_an_object = parse_settings(["model"])
    assert not_an_object == ["codex settings = ['model'] is not an object; keeping the current settings"]


def test_capability_profiles_resolve_once() -> None:
    vscode = resolve_capabilities(client_capabilities("visual_studio_code"))
    neovim = resolve_capabilities(client_capabilities("neovim@v0.11"), "utf-8")
    flags = ("document_changes", "change_annotations", "work_done_progress", "create_files", "delete_files")
    assert all(getattr(vscode, flag) for flag in flags)
    assert vscode.position_encoding == "utf-16"
    assert neovim.document_changes, "resourceOperations without documentChanges count as support"
    assert not neovim.change_annotations
    assert neovim.position_encoding == "utf-8"
    assert neovim.show_message_request
    assert neovim.show_document


def test_every_setting_and_command_is_documented() -> None:
    from pathlib import Path

    from codex_lsp.lsp.features.account import COMMANDS as ACCOUNT_COMMANDS
    from codex_lsp.lsp.features.commands import COMMANDS
    from codex_lsp.lsp.features.review import REVIEW_COMMANDS
    from codex_lsp.lsp.settings import KEYS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for path in KEYS:
        assert f"`{'.'.join(path)}`" in readme, path
    for command in COMMANDS + REVIEW_COMMANDS + ACCOUNT_COMMANDS:
        assert f"`{command}`" in readme, command


def test_the_module_entry_point_arguments() -> None:
    import pytest

    from codex_lsp.lsp.__main__ import parse

    assert parse(["--stdio"]) == "WARNING"
    assert parse(["--stdio", "--log-level", "debug"]) == "DEBUG"
    with pytest.raises(SystemExit) as stopped:
        parse(["--tcp", "127.0.0.1:1"])
    assert stopped.value.code == 2
