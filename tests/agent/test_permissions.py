"""What the model is told about its sandbox and approvals, and where the agent puts it.

Codex's own words for each sandbox mode and for the ``never`` policy are compared with the binary in
tests/model/test_request_differential.py; here: the rules that test does not reach (a single root, the
exclusions, a policy that asks), and the agent's choices: the sandbox of its own settings (where every
host lays the configuration), the developer message's order, the user's base prompt, the apply_patch form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_lsp.agent import TurnRequest
from codex_lsp.agent.permissions import permissions_text, writable_roots
from codex_lsp.model import ModelClient, PromptSettings
from tests.agent.harness import FAST, Harness, harness, say


def test_writable_roots_are_codexs_sorted_and_each_once() -> None:
    env = {"TMPDIR": "/var/tmp/me"}
    assert writable_roots("/w", ["/z", "/a", "/w"], env=env) == ["/a", "/tmp", "/var/tmp/me", "/w", "/z"]
    assert writable_roots("/w", exclude_slash_tmp=True, exclude_tmpdir_env_var=True, env=env) == ["/w"]
    assert writable_roots("/w", env={}) == ["/tmp", "/w"]


def test_one_root_is_named_in_the_singular_and_other_modes_list_none() -> None:
    text = permissions_text("workspace-write", network=False, policy="never", roots=["/w"])
    assert text.splitlines()[-2:] == [" The writable root is `/w`.", "</permissions instructions>"]
    for mode in ("read-only", "danger-full-access"):
        assert "writable root" not in permissions_text(mode, network=False, policy="never", roots=["/w"])


def test_a_policy_that_asks_is_worded_for_codex_lsps_own_tools() -> None:
    text = permissions_text("workspace-write", network=False, policy="untrusted")
    assert "Approval policy is currently untrusted." in text
    assert "sandbox_permissions" not in text, "a parameter of Codex's shell tool, not of ours"


def _messages(h: Harness) -> list[list[tuple[str, str]]]:
    """The first request's messages as (role, text) parts."""
    return [
        [(item["role"], part["text"]) for part in item["content"]]
        for item in h.generating[0].effective_input
        if item.get("type") == "message"
    ]


async def _first_request(h: Harness, prompt: PromptSettings, **settings: Any) -> list[list[tuple[str, str]]]:
    h.client = ModelClient(h.fake.model_settings().model_copy(update={"prompt": prompt}), retry_policy=FAST)
    try:
        h.load([{"output": [say("ok")]}])
        await h.agent(**settings).run_turn(TurnRequest(prompt="hi"))
    finally:
        await h.client.aclose()
    return _messages(h)


async def test_the_configured_sandbox_and_developer_instructions_follow_the_base_prompt(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        prompt = PromptSettings(developer_instructions="Be brief.")
        base, developer, *rest = await _first_request(h, prompt, sandbox_mode="read-only")
    assert base[0][0] == "developer"
    assert "codex-lsp" in base[0][1], "codex-lsp's own base prompt"
    assert developer[0] == ("developer", "Be brief.")
    assert developer[1][1].startswith(
        "<permissions instructions>\nFilesystem sandboxing defines which files can be read or written. "
        "`sandbox_mode` is `read-only`: The sandbox only permits reading files. Network access is restricted."
    )
    assert [part[0][1].split("\n")[0] for part in rest] == ["<environment_context>", "hi"]


async def test_full_access_is_told_as_full_access_with_the_network(tmp_path: Path) -> None:
    """Commands run unsandboxed only under ``danger-full-access`` (without a sandbox that works, the others
    refuse to run them), so that is the only mode the model is told commands have the network in."""
    async with harness(tmp_path) as h:
        _, developer, *_ = await _first_request(
            h, PromptSettings(), shell_enabled=True, sandbox_mode="danger-full-access"
        )
    (permissions,) = developer
    assert "`sandbox_mode` is `danger-full-access`" in permissions[1]
    assert "Network access is enabled." in permissions[1]
    assert "Approval policy is currently untrusted." in permissions[1]


async def test_the_users_base_prompt_replaces_ours_and_an_empty_one_sends_none(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        messages = await _first_request(h, PromptSettings(base_instructions="Mine."))
        assert messages[0] == [("developer", "Mine.")]
    (tmp_path / "empty").mkdir()
    async with harness(tmp_path / "empty") as h:
        messages = await _first_request(h, PromptSettings(base_instructions=""))
        assert messages[0][0][1].startswith("<permissions instructions>")


async def test_a_model_without_the_freeform_form_gets_apply_patch_as_a_function(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        for model, kind in (("gpt-5.5", "custom"), ("qwen3-coder:30b", "function")):
            h.client = ModelClient(h.fake.model_settings().model_copy(update={"model": model}))
            (spec,) = [t for t in h.agent().registry.specs() if t["name"] == "apply_patch"]
            assert spec["type"] == kind, model
            await h.client.aclose()
