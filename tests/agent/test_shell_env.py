"""A command's environment, built from ``[shell_environment_policy]`` as Codex 0.169 builds it (each rule
here; the same cases against the pinned binary in tests/agent/test_permissions_codex.py), and never with the
configuration's secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.shell import ShellTool
from codex_lsp.agent.tools.shell_env import CORE_VARS, matches, shell_environment
from codex_lsp.model import SandboxWorkspaceWrite, ShellEnvironmentPolicy
from tests.agent.fakes import DiskWorkspace, call_tool, tool_context
from tests.agent.test_sandbox import needs_bwrap

HOST = {
    "HOME": "/home/me",
    "PATH": "/usr/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C",
    "LC_CTYPE": "C",
    "LC_MESSAGES": "m",
    "LOGNAME": "me",
    "USER": "me",
    "USERNAME": "me",
    "SHELL": "/bin/bash",
    "TMPDIR": "/tmp/me",
    "TEMP": "/tmp/t",
    "TMP": "/tmp/tt",
    "LANGUAGE": "en",
    "TERM": "xterm",
    "GITHUB_TOKEN": "ghp",
    "aws_secret_access_key": "aws",
    "KEYBOARD": "us",
    "PASSWORD": "hunter2",
    "FOO": "1",
    "foo_bar": "2",
    "FOX": "3",
    "ABC": "4",
}


def policy(**fields: Any) -> ShellEnvironmentPolicy:
    return ShellEnvironmentPolicy.model_validate(fields)


def test_by_default_everything_is_inherited() -> None:
    """0.169's default ``ignore_default_excludes = true``: even ``*TOKEN*`` names are passed on."""
    assert shell_environment(HOST, policy()) == HOST


def test_core_keeps_codexs_list_only() -> None:
    env = shell_environment(HOST, policy(inherit="core"))
    assert set(env) == {"HOME", "PATH", "LANG", "LC_ALL", "LC_CTYPE", "LOGNAME", "USER", "SHELL"} | {
        "TMPDIR",
        "TEMP",
        "TMP",
    }
    assert set(env) == CORE_VARS, "USERNAME, LANGUAGE and the other LC_* are not core in 0.169"


def test_none_keeps_nothing_but_what_is_set() -> None:
    assert shell_environment(HOST, policy(inherit="none", set={"ONLY": "this"})) == {"ONLY": "this"}


def test_the_default_excludes_drop_key_secret_and_token_names_in_any_case() -> None:
    env = shell_environment(HOST, policy(ignore_default_excludes=False))
    assert {"GITHUB_TOKEN", "aws_secret_access_key", "KEYBOARD"}.isdisjoint(env)
    assert env["PASSWORD"] == "hunter2", "only *KEY*, *SECRET*, *TOKEN*"
    assert set(HOST) - set(env) == {"GITHUB_TOKEN", "aws_secret_access_key", "KEYBOARD"}


def test_exclude_patterns_are_globs_without_classes() -> None:
    env = shell_environment(HOST, policy(exclude=["foo*", "F?X", "[A]BC"]))
    assert {"FOO", "foo_bar", "FOX"}.isdisjoint(env), "case-insensitive, * and ?"
    assert env["ABC"] == "4", "[ is a character like any other, as in Codex"


def test_set_comes_after_the_excludes_and_include_only_after_set() -> None:
    env = shell_environment(
        HOST,
        policy(
            ignore_default_excludes=False,
            exclude=["PATH"],
            set={"MY_KEY": "kept", "PATH": "/bin", "Z_SET": "dropped"},
            include_only=["f*", "path", "*key*"],
        ),
    )
    assert env == {"FOO": "1", "foo_bar": "2", "FOX": "3", "PATH": "/bin", "MY_KEY": "kept"}


def test_secrets_are_never_inherited_whatever_the_policy() -> None:
    secrets = {"GITHUB_TOKEN", "FOO"}
    assert secrets.isdisjoint(shell_environment(HOST, policy(), secrets=secrets))
    assert secrets.isdisjoint(shell_environment(HOST, policy(include_only=["*"]), secrets=secrets))
    assert shell_environment(HOST, policy(set={"FOO": "mine"}), secrets=secrets)["FOO"] == "mine", (
        "a value the user writes into the policy is theirs to give"
    )


@pytest.mark.parametrize(
    ("name", "patterns", "expected"),
    [
        ("PATH", ["PATH"], True),
        ("PATHS", ["PATH"], False),
        ("path", ["PATH"], True),
        ("MY_KEY_2", ["*KEY*"], True),
        ("A.B", ["A?B"], True),
        ("A.B", ["A.B"], True),
        ("AxB", ["A.B"], False),
        ("", ["*"], True),
    ],
)
def test_matches(name: str, patterns: list[str], expected: bool) -> None:
    assert matches(name, patterns) is expected


@needs_bwrap
async def test_a_command_sees_exactly_the_built_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the shell tool: ``printenv`` shows the policy's environment, without the secrets, with
    Codex's flag for a sandbox without network."""
    monkeypatch.setenv("CLSP_PLAIN", "plain")
    monkeypatch.setenv("CLSP_API_KEY", "key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never")
    environment = policy(include_only=["CLSP_*", "OPENAI_*", "PATH"], set={"CLSP_SET": "set"})
    settings = AgentSettings(
        shell_enabled=True, shell_allow=("printenv",), shell_environment_policy=environment
    )
    result = await call_tool(
        ShellTool(), tool_context(DiskWorkspace(tmp_path), settings), command=["printenv"]
    )
    printed = dict(line.split("=", 1) for line in result.output.split("Output:\n", 1)[1].splitlines())
    printed.pop("PWD", None)  # bubblewrap's --chdir sets it
    assert printed.pop("PATH")
    assert printed == {
        "CLSP_PLAIN": "plain",
        "CLSP_API_KEY": "key",
        "CLSP_SET": "set",
        "CODEX_SANDBOX_NETWORK_DISABLED": "1",
    }
    networked = settings.model_copy(
        update={"sandbox_workspace_write": SandboxWorkspaceWrite(network_access=True)}
    )
    again = await call_tool(
        ShellTool(), tool_context(DiskWorkspace(tmp_path), networked), command=["printenv"]
    )
    assert "CODEX_SANDBOX_NETWORK_DISABLED" not in again.output
