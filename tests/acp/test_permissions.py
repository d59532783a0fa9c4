"""``codex-lsp acp`` under the session folder's configuration, as exec and the language server: the sandbox
``sandbox_mode`` names confines the commands for real, ``shell_environment_policy`` builds what they see,
a granular ``approval_policy`` runs prompts (each switch deciding its questions), and the session's mode
stays on top."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from acp import text_block

from tests.acp.harness import Run, Setup, call, patch_call, say, setup, step
from tests.agent.harness import outputs
from tests.agent.test_sandbox import needs_bwrap

pytestmark = needs_bwrap

ADD = "*** Begin Patch\n*** Add File: added.txt\n+added\n*** End Patch\n"


def configure(s: Setup, top: str) -> None:
    """Put ``top`` (top-level keys, inline tables) at the head of the session's config.toml."""
    config = s.home / "config.toml"
    config.write_text(top + "\n" + config.read_text(encoding="utf-8"), encoding="utf-8")


async def prompt(run: Run) -> list[str]:
    """One prompt in a new session; the tool outputs the model read back."""
    session = await run.new_session()
    response = await run.conn.prompt(session_id=session, prompt=[text_block("go")])
    assert response.stop_reason == "end_turn"
    return outputs(run.generating[-1])


async def test_read_only_refuses_a_commands_write_and_asks_before_a_patch(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        configure(s, 'sandbox_mode = "read-only"')
        async with s.agent("--shell", "--allow", "sh") as run:
            run.editor.permissions = ["allow-once"]
            run.load(
                [
                    step(call("shell", "c1", command=["sh", "-c", "echo x > made.txt"])),
                    step(patch_call(ADD)),
                    step(say("done")),
                ]
            )
            command_output, patch_output = await prompt(run)
    assert "Read-only file system" in command_output
    assert not (s.root / "made.txt").exists()
    [asked] = run.editor.asked
    assert asked["tool_call"]["title"] == "Apply changes to added.txt?"
    assert patch_output.startswith("Exit code: 0"), "the user let this one out of the sandbox"
    assert (s.root / "added.txt").read_text() == "added\n"


async def test_network_access_and_the_environment_policy_reach_the_command(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    probe = (
        "import os, socket; print(sorted(k for k in os.environ if k.startswith(('CLSP', 'CODEX_SANDBOX')))); "
        f"socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')"
    )
    try:
        async with setup(tmp_path) as s:
            s.env_overrides.update(CLSP_PLAIN="plain", CLSP_DROP="dropped")
            configure(
                s,
                "sandbox_workspace_write = { network_access = true }\n"
                'shell_environment_policy = { exclude = ["clsp_drop"], set = { CLSP_SET = "set" } }',
            )
            async with s.agent("--shell", "--allow", sys.executable) as run:
                run.load(
                    [step(call("shell", "c1", command=[sys.executable, "-c", probe])), step(say("done"))]
                )
                (output,) = await prompt(run)
    finally:
        server.close()
    assert "['CLSP_PLAIN', 'CLSP_SET']\nconnected\n" in output


async def test_a_granular_policy_runs_prompts_and_review_mode_stays_on_top(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        switches = "sandbox_approval = false, rules = true, mcp_elicitations = false"
        configure(s, f"approval_policy = {{ granular = {{ {switches} }} }}")
        async with s.agent("--shell") as run:
            run.editor.permissions = ["allow-once"]
            run.load(
                [
                    step(call("shell", "c1", command=["touch", "made"])),
                    step(patch_call(ADD)),
                    step(say("done")),
                ],
                [step(patch_call(ADD.replace("added", "reviewed"))), step(say("done"))],
            )
            session = await run.new_session()
            response = await run.conn.prompt(session_id=session, prompt=[text_block("go")])
            assert response.stop_reason == "end_turn"
            command_output, patch_output = outputs(run.generating[-1])
            assert not run.editor.asked, "sandbox_approval = false: refused without asking"
            await run.conn.set_session_mode(session_id=session, mode_id="review")
            response = await run.conn.prompt(session_id=session, prompt=[text_block("again")])
            assert response.stop_reason == "end_turn"
    assert "granular with sandbox_approval = false" in command_output
    assert not (s.root / "made").exists()
    assert patch_output.startswith("Exit code: 0")
    assert (s.root / "added.txt").exists()
    [asked] = run.editor.asked
    assert asked["tool_call"]["title"] == "Apply changes to reviewed.txt?", "review mode asks for every edit"
    assert (s.root / "reviewed.txt").exists()
