"""``codex-lsp exec``'s command line: every ``codex exec`` flag, the README's exec lines, where the flags land
in the configuration, the Git check's rule and the local provider's choice (no process, no model)."""

from __future__ import annotations

import argparse
import shlex
import subprocess
from pathlib import Path

import pytest

from codex_lsp.cli import build_parser, exec_flags
from codex_lsp.headless import git_repo_root
from codex_lsp.local_models import (
    NO_PROVIDER,
    LocalModelError,
    local_base_url,
    oss_provider,
)
from codex_lsp.model import ConfigRequest, load_config
from tests.readme import fenced_blocks, section


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["exec", *argv])


# -- every flag --------------------------------------------------------------------------------------------

FLAGS: list[tuple[tuple[str, ...], dict[str, object]]] = [
    ((), {"model": None, "sandbox": None, "skip_git_repo_check": False, "json": False}),
    ((), {"output_last_message": None, "ephemeral": False, "oss": False, "local_provider": None}),
    ((), {"profile": None, "config": [], "cd": "."}),
    (("-m", "o3"), {"model": "o3"}),
    (("--model", "o3"), {"model": "o3"}),
    (("-c", 'model="o3"', "--config", "x.y=1"), {"config": ['model="o3"', "x.y=1"]}),
    (("-p", "deep"), {"profile": "deep"}),
    (("--profile", "deep"), {"profile": "deep"}),
    (("-C", "src"), {"cd": "src"}),
    (("--cd", "src"), {"cd": "src"}),
    (("-s", "read-only"), {"sandbox": "read-only"}),
    (("--sandbox", "workspace-write"), {"sandbox": "workspace-write"}),
    (("-s", "danger-full-access"), {"sandbox": "danger-full-access"}),
    (("--skip-git-repo-check",), {"skip_git_repo_check": True}),
    (("--json",), {"json": True}),
    (("-o", "out.txt"), {"output_last_message": "out.txt"}),
    (("--output-last-message", "out.txt"), {"output_last_message": "out.txt"}),
    (("--ephemeral",), {"ephemeral": True}),
    (("--oss",), {"oss": True, "local_provider": None}),
    (("--oss", "--local-provider", "lmstudio"), {"oss": True, "local_provider": "lmstudio"}),
    (("--local-provider", "ollama"), {"oss": False, "local_provider": "ollama"}),
]


@pytest.mark.parametrize(
    ("argv", "expected"), FLAGS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_each_codex_exec_flag_is_spelled_and_defaulted_as_codex_does(
    argv: tuple[str, ...], expected: dict[str, object]
) -> None:
    args = parse(*argv, "the prompt")
    assert {name: getattr(args, name) for name in expected} == expected
    assert args.prompt == ["the prompt"]


@pytest.mark.parametrize(
    "argv",
    [
        ("-s", "bogus"),  # Codex: "invalid value 'bogus' for '--sandbox <SANDBOX_MODE>'", exit 2
        ("--skip-git",),  # no abbreviations: a prefix of one flag could become a prefix of two
        ("--output-last", "x"),
        ("--ephem",),
        ("-o",),
    ],
)
def test_a_wrong_flag_is_a_usage_error(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse(*argv, "the prompt")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert argv[-1] in err


def test_ephemeral_cannot_continue_a_thread(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from codex_lsp.cli import main

    assert main(["exec", "--cd", str(tmp_path), "--ephemeral", "--thread", "t-1", "hi"]) == 2
    assert "--ephemeral saves nothing, so it cannot continue a saved thread" in capsys.readouterr().err


# -- the README --------------------------------------------------------------------------------------------


def readme_exec_lines() -> list[list[str]]:
    """Every ``codex-lsp exec`` command of the README's terminal section, as argv (comments dropped)."""
    lines = []
    for block in fenced_blocks(section("Using it from the terminal"), "sh"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words[:2] == ["codex-lsp", "exec"]:
                lines.append(words[1:])
    return lines


def test_the_readme_shows_exec_lines() -> None:
    assert len(readme_exec_lines()) >= 6


@pytest.mark.parametrize("argv", readme_exec_lines(), ids=" ".join)
def test_each_readme_exec_line_parses(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == "exec"
    assert args.prompt == [argv[-1]]


def test_the_readme_uses_and_names_every_codex_exec_flag() -> None:
    """Each Codex flag appears in a README exec line that parses, and the section names every one."""
    used = {word for argv in readme_exec_lines() for word in argv if word.startswith("-")}
    text = section("Using it from the terminal")
    for flag in ("-m", "-c", "-p", "-s", "-C", "--skip-git-repo-check", "--json", "-o", "--oss"):
        assert flag in used, f"no README exec line uses {flag}"
    for flag in ("--model", "--config", "--profile", "--sandbox", "--cd", "--output-last-message"):
        assert f"/{flag}" in text, f"the README does not name {flag}"
    for flag in ("--ephemeral", "--local-provider"):
        assert flag in used | set(text.split("`")), flag


def test_the_readme_json_line_means_what_it_says() -> None:
    (argv,) = [argv for argv in readme_exec_lines() if "--json" in argv]
    args = build_parser().parse_args(argv)
    assert (args.sandbox, args.json, args.output_last_message) == ("read-only", True, "answer.txt")


# -- where the flags land ----------------------------------------------------------------------------------


def test_sandbox_and_model_are_the_flag_layer_over_every_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('sandbox_mode = "danger-full-access"\nmodel = "a"\n')
    (home / "p.config.toml").write_text('sandbox_mode = "workspace-write"\n')
    args = parse("-p", "p", "-c", 'sandbox_mode="workspace-write"', "-s", "read-only", "-m", "b", "hi")
    assert exec_flags(args) == {"model": "b", "sandbox_mode": "read-only"}
    request = ConfigRequest(profile=args.profile, overrides=tuple(args.config), flags=exec_flags(args))
    _, layered = load_config(home, profile=request.profile, overrides=request.overrides, flags=request.flags)
    assert layered.merged["sandbox_mode"] == "read-only"
    assert layered.origin("sandbox_mode") == "flag (sandbox_mode)"
    assert (layered.merged["model"], layered.origin("model")) == ("b", "flag (model)")


def test_without_s_the_configuration_decides_the_sandbox(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('sandbox_mode = "workspace-write"\n')
    _, layered = load_config(home, flags=exec_flags(parse("hi")))
    assert layered.merged["sandbox_mode"] == "workspace-write"
    assert layered.origin("sandbox_mode").startswith("user (")


# -- the Git check's rule (as the pinned Codex applies it; tests/agent/test_exec_codex_flags.py runs both) -


def git_init(folder: Path) -> None:
    subprocess.run(["git", "init", "-q", str(folder)], check=True)


def test_a_plain_folder_is_not_in_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert git_repo_root(tmp_path / "plain") is None


def test_a_repository_and_its_subfolders_are(tmp_path: Path) -> None:
    git_init(tmp_path / "repo")
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    assert git_repo_root(tmp_path / "repo") == (tmp_path / "repo").resolve()
    assert git_repo_root(tmp_path / "repo" / "a" / "b") == (tmp_path / "repo").resolve()
    assert git_repo_root(tmp_path / "repo" / ".git") == (tmp_path / "repo").resolve()


def test_a_dot_git_file_counts_whatever_it_says(tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text("gitdir: /nowhere\n")
    assert git_repo_root(tmp_path / "wt") == (tmp_path / "wt").resolve()


def test_a_dot_git_directory_counts_only_with_head(tmp_path: Path) -> None:
    folder = tmp_path / "w"
    (folder / ".git" / "objects").mkdir(parents=True)
    assert git_repo_root(folder) is None
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert git_repo_root(folder) == folder.resolve()


def test_an_empty_dot_git_directory_is_passed_over_for_the_one_above(tmp_path: Path) -> None:
    git_init(tmp_path / "outer")
    (tmp_path / "outer" / "inner" / ".git").mkdir(parents=True)
    assert git_repo_root(tmp_path / "outer" / "inner") == (tmp_path / "outer").resolve()


def test_a_dangling_dot_git_link_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / ".git").symlink_to(tmp_path / "missing")
    assert git_repo_root(tmp_path / "w") is None


# -- the local provider ------------------------------------------------------------------------------------


def test_the_local_provider_is_the_flag_else_oss_provider_else_an_error() -> None:
    assert oss_provider("lmstudio", {"oss_provider": "ollama"}) == "lmstudio"
    assert oss_provider(None, {"oss_provider": "ollama"}) == "ollama"
    with pytest.raises(LocalModelError) as refused:
        oss_provider(None, {})
    assert str(refused.value) == NO_PROVIDER


def test_the_local_server_is_where_codexs_variables_say() -> None:
    assert local_base_url("ollama", {}) == "http://localhost:11434/v1"
    assert local_base_url("lmstudio", {}) == "http://localhost:1234/v1"
    assert local_base_url("ollama", {"CODEX_OSS_PORT": "9999"}) == "http://localhost:9999/v1"
    assert local_base_url("lmstudio", {"CODEX_OSS_PORT": "x"}) == "http://localhost:1234/v1"
    both = {"CODEX_OSS_PORT": "9999", "CODEX_OSS_BASE_URL": "http://box:1/v1"}
    assert local_base_url("ollama", both) == "http://box:1/v1"
    assert local_base_url("ollama", {"CODEX_OSS_BASE_URL": "  "}) == "http://localhost:11434/v1"
