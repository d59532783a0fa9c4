"""What commands and edits may do, read from the configuration layers as Codex 0.169 reads it:
``sandbox_mode``, ``[sandbox_workspace_write]``, ``[shell_environment_policy]``, ``approval_policy``.

The refusals are checked against the pinned binary where it can say them (``untrusted``, the names of
the granular switches, the variants of each enum)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.model import (
    ConfigError,
    ConfigRequest,
    Granular,
    GranularApproval,
    ShellEnvironmentPolicy,
    load_permissions,
)
from codex_lsp.testing import codex_binary
from tests.model.codex_peer import clean_env, needs_codex


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def permissions(home: Path, text: str = "", **request: Any) -> Any:
    write(home / "config.toml", text)
    return load_permissions(home, {}, request=ConfigRequest(**request))


def test_nothing_configured(tmp_path: Path) -> None:
    found = permissions(tmp_path / "home")
    assert found.sandbox_mode == "workspace-write", "codex-lsp's default (Codex: read-only unless trusted)"
    assert found.approval_policy is None, "each host has its default"
    assert found.shell_environment_policy == ShellEnvironmentPolicy()
    defaults = found.shell_environment_policy
    assert (defaults.inherit, defaults.ignore_default_excludes) == ("all", True), "0.169 drops nothing"
    assert found.sandbox_workspace_write.model_dump() == {
        "writable_roots": (),
        "network_access": False,
        "exclude_tmpdir_env_var": False,
        "exclude_slash_tmp": False,
    }


def test_every_key_is_read(tmp_path: Path) -> None:
    found = permissions(
        tmp_path / "home",
        'sandbox_mode = "read-only"\n'
        "[sandbox_workspace_write]\n"
        'writable_roots = ["/opt/x"]\nnetwork_access = true\nexclude_tmpdir_env_var = true\n'
        "exclude_slash_tmp = true\n"
        "[shell_environment_policy]\n"
        'inherit = "core"\nignore_default_excludes = false\nexclude = ["AWS_*"]\ninclude_only = ["PATH"]\n'
        'experimental_use_profile = true\nset = { B = "2", A = "1" }\n',
    )
    assert found.sandbox_mode == "read-only"
    options = found.sandbox_workspace_write
    assert options.writable_roots == ("/opt/x",)
    assert (options.network_access, options.exclude_tmpdir_env_var, options.exclude_slash_tmp) == (
        True,
        True,
        True,
    )
    policy = found.shell_environment_policy
    assert (policy.inherit, policy.ignore_default_excludes) == ("core", False)
    assert (policy.exclude, policy.include_only) == (("AWS_*",), ("PATH",))
    assert policy.set == (("A", "1"), ("B", "2"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"never"', "never"),
        ('"on-request"', "on-request"),
        ('"on-failure"', "on-request"),  # deprecated by Codex: run sandboxed, ask on failure
        (
            "{ granular = { sandbox_approval = true, rules = false, mcp_elicitations = true, future = 1 } }",
            Granular(granular=GranularApproval(sandbox_approval=True, rules=False, mcp_elicitations=True)),
        ),
    ],
)
def test_approval_policy_in_each_of_codexs_forms(tmp_path: Path, text: str, expected: Any) -> None:
    assert permissions(tmp_path / "home", f"approval_policy = {text}\n").approval_policy == expected


def test_the_granular_switches_keep_their_names(tmp_path: Path) -> None:
    table = (
        "{ granular = { sandbox_approval = false, rules = true, skill_approval = true, "
        "request_permissions = true, mcp_elicitations = false } }"
    )
    policy = permissions(tmp_path / "home", f"approval_policy = {table}\n").approval_policy
    assert policy.granular.model_dump() == {
        "sandbox_approval": False,
        "rules": True,
        "skill_approval": True,
        "request_permissions": True,
        "mcp_elicitations": False,
    }


def test_an_override_or_a_flag_wins(tmp_path: Path) -> None:
    """``-s`` reaches the runtime as the flag layer's ``sandbox_mode``."""
    home = tmp_path / "home"
    found = permissions(
        home,
        'sandbox_mode = "read-only"\napproval_policy = "never"\n',
        overrides=('approval_policy="on-request"',),
        flags={"sandbox_mode": "danger-full-access"},
    )
    assert (found.sandbox_mode, found.approval_policy) == ("danger-full-access", "on-request")


def test_a_trusted_projects_file_sets_them(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    write(project / ".codex" / "config.toml", 'sandbox_mode = "read-only"\n')
    found = permissions(home, f'[projects."{project}"]\ntrust_level = "trusted"\n', cwd=project)
    assert found.sandbox_mode == "read-only"


def test_relative_writable_roots_start_where_codex_starts_them(tmp_path: Path) -> None:
    """Codex 0.169, checked: in a file, from the file's folder (``$CODEX_HOME`` for config.toml); ``~`` is
    the home folder; in ``-c``, from the working folder."""
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    text = '[sandbox_workspace_write]\nwritable_roots = ["../outside", "rel", "~/tilde", "/abs"]\n'
    found = permissions(home, text, cwd=cwd)
    assert found.sandbox_workspace_write.writable_roots == (
        str(tmp_path / "outside"),
        str(home / "rel"),
        os.path.expanduser("~/tilde"),
        "/abs",
    )
    override = permissions(home, "", cwd=cwd, overrides=('sandbox_workspace_write.writable_roots=["rel"]',))
    assert override.sandbox_workspace_write.writable_roots == (str(cwd / "rel"),)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('sandbox_mode = "sandboxed"', "sandbox_mode"),
        ('approval_policy = "always"', "unknown variant, expected one of `untrusted`, `on-failure`"),
        ("approval_policy = { granular = { rules = true } }", "granular.sandbox_approval: Field required"),
        ('sandbox_workspace_write = { network_access = "yes" }', "network_access"),
        ('shell_environment_policy = { inherit = "some" }', "shell_environment_policy.inherit"),
        ("shell_environment_policy = { set = { A = 1 } }", "set.A: expected a string"),
    ],
)
def test_a_value_codex_refuses_is_refused_naming_the_key_and_file(
    tmp_path: Path, text: str, complaint: str
) -> None:
    home = tmp_path / "home"
    with pytest.raises(ConfigError) as caught:
        permissions(home, text + "\n")
    assert complaint in caught.value.message
    assert str(home / "config.toml") in caught.value.message


def test_untrusted_is_refused_with_codexs_words(tmp_path: Path) -> None:
    """Codex 0.169 no longer starts with ``approval_policy = "untrusted"`` (the editor's own
    ``approvalPolicy`` keeps the value: codex-lsp still implements it)."""
    home = tmp_path / "home"
    with pytest.raises(ConfigError) as caught:
        permissions(home, 'approval_policy = "untrusted"\n')
    assert caught.value.message.startswith(
        'approval_policy = "untrusted" is no longer supported; remove this setting (user ('
    )
    with pytest.raises(ConfigError, match="no longer supported"):
        permissions(home, "", overrides=('approval_policy="untrusted"',))


def _codex_refusal(tmp_path: Path, *overrides: str) -> str:
    """What ``codex sandbox`` says about the overrides (it reads them before running anything)."""
    home = tmp_path / "codex-home"
    home.mkdir(exist_ok=True)
    args = [a for override in overrides for a in ("-c", override)]
    done = subprocess.run(
        [str(codex_binary()), "sandbox", *args, "--", "true"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(home),
        cwd=tmp_path,
        check=False,
    )
    return done.stderr.split("\n\n", 1)[0] if done.returncode else ""


@needs_codex
def test_codex_agrees_on_what_it_refuses(tmp_path: Path) -> None:
    """The binary's own words for the values above: the same variants, the same switch names."""
    assert _codex_refusal(tmp_path, 'approval_policy="untrusted"') == (
        'Error: approval_policy = "untrusted" is no longer supported; remove this setting'
    )
    assert "expected one of `untrusted`, `on-failure`, `on-request`, `granular`, `never`" in (
        _codex_refusal(tmp_path, 'approval_policy="always"')
    )
    assert "missing field `sandbox_approval`" in _codex_refusal(tmp_path, "approval_policy={granular={}}")
    required = "sandbox_approval=true, rules=true, mcp_elicitations=true"
    assert _codex_refusal(tmp_path, f"approval_policy={{granular={{{required}}}}}") == ""
    for optional in GranularApproval.model_fields.keys() - {"sandbox_approval", "rules", "mcp_elicitations"}:
        refusal = _codex_refusal(tmp_path, f'approval_policy={{granular={{{required}, {optional}="x"}}}}')
        assert "expected a boolean" in refusal, f"{optional} is a switch Codex knows"
    assert "expected one of `read-only`, `workspace-write`, `danger-full-access`" in (
        _codex_refusal(tmp_path, 'sandbox_mode="sandboxed"')
    )
    assert "expected one of `core`, `all`, `none`" in (
        _codex_refusal(tmp_path, 'shell_environment_policy.inherit="some"')
    )


def test_codex_lsp_config_says_what_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_lsp.config_report import report

    home = tmp_path / "home"
    write(home / "config.toml", 'sandbox_mode = "read-only"\n')
    monkeypatch.setenv("CODEX_HOME", str(home))
    resolved = report(ConfigRequest(overrides=('approval_policy="on-failure"',)))["resolved"]
    assert (resolved["sandboxMode"], resolved["approvalPolicy"]) == ("read-only", "on-request")
