"""shell: approval flows, allow-list, timeout, output cap, secrets, workdir, cancellation.

These run with the sandbox off so they hold on any machine; tests/agent/test_sandbox.py runs the
same tool under bubblewrap.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from codex_lsp.agent.events import (
    CommandExecutionItem,
    CommandFinished,
    CommandStarted,
    ItemCompleted,
    ItemStarted,
)
from codex_lsp.agent.interfaces import ApprovalDecision
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.base import ToolContext, ToolInterrupted
from codex_lsp.agent.tools.process import CappedOutput
from codex_lsp.agent.tools.shell import ShellTool
from tests.agent.fakes import DiskWorkspace, EventLog, ScriptedApprover, call_tool, tool_context
from tests.agent.procs import unique_sleep, wait_until_gone, wait_until_running

TOOL = ShellTool()
OFF = AgentSettings(shell_enabled=True, sandbox_mode="danger-full-access")
ALLOW_SH = AgentSettings(shell_enabled=True, sandbox_mode="danger-full-access", shell_allow=("sh -c",))
EXEC_OUTPUT = re.compile(
    r"Exit code: (-?\d+)\nWall time: (\d+\.\d) seconds\n(Total output lines: \d+\n)?Output:\n"
)


def context(
    root: Path, settings: AgentSettings = OFF, *decisions: ApprovalDecision
) -> tuple[ToolContext, EventLog, ScriptedApprover]:
    log = EventLog()
    approver = ScriptedApprover(*decisions)
    return tool_context(DiskWorkspace(root), settings, approver, log), log, approver


def completed_item(log: EventLog) -> CommandExecutionItem:
    item = log.of(ItemCompleted)[-1].item
    assert isinstance(item, CommandExecutionItem)
    return item


async def test_allow_listed_command_runs_without_asking(tmp_path: Path) -> None:
    ctx, log, approver = context(
        tmp_path, AgentSettings(shell_enabled=True, sandbox_mode="danger-full-access", shell_allow=("echo",))
    )
    result = await call_tool(TOOL, ctx, command=["echo", "hello"])
    assert result.success
    match = EXEC_OUTPUT.match(result.output)
    assert match is not None
    assert match.group(1) == "0"
    assert result.output[match.end() :] == "hello\n"
    assert approver.requests == []
    assert log.types() == ["item/started", "turn/command/started", "turn/command/finished", "item/completed"]
    item = completed_item(log)
    assert (item.status, item.exit_code, item.output, item.sandboxed) == ("completed", 0, "hello\n", False)
    assert item.id == log.of(ItemStarted)[0].item.id == log.of(CommandStarted)[0].item_id


async def test_denied_command_does_not_run(tmp_path: Path) -> None:
    ctx, log, approver = context(tmp_path, OFF, ApprovalDecision.DENY)
    result = await call_tool(TOOL, ctx, command=["touch", "ran"])
    assert not result.success
    assert result.output == "The user declined to run this command."
    assert not (tmp_path / "ran").exists()
    (request,) = approver.requests
    assert (request.kind, request.command, request.cwd) == ("command", ("touch", "ran"), ".")
    assert "touch ran" in request.title
    assert log.types() == ["item/started", "turn/command/finished", "item/completed"]
    assert completed_item(log).status == "declined"


async def test_approved_once_asks_again_next_time(tmp_path: Path) -> None:
    ctx, _, approver = context(tmp_path, OFF, ApprovalDecision.APPROVE_ONCE, ApprovalDecision.DENY)
    first = await call_tool(TOOL, ctx, command=["touch", "ran"])
    second = await call_tool(TOOL, ctx, command=["touch", "ran"])
    assert first.success
    assert (tmp_path / "ran").exists()
    assert not second.success
    assert len(approver.requests) == 2
    assert ctx.approved_for_turn == set()


async def test_approved_for_turn_skips_asking_for_the_same_argv(tmp_path: Path) -> None:
    ctx, _, approver = context(tmp_path, OFF, ApprovalDecision.APPROVE_FOR_TURN, ApprovalDecision.DENY)
    assert (await call_tool(TOOL, ctx, command=["touch", "one"])).success
    (tmp_path / "one").unlink()
    assert (await call_tool(TOOL, ctx, command=["touch", "one"])).success
    assert (tmp_path / "one").exists()
    assert len(approver.requests) == 1
    assert ctx.approved_for_turn == {("touch", "one")}
    assert not (await call_tool(TOOL, ctx, command=["touch", "two"])).success
    assert len(approver.requests) == 2


async def test_timeout_kills_and_reports(tmp_path: Path) -> None:
    ctx, log, _ = context(tmp_path, ALLOW_SH)
    marker = unique_sleep()
    result = await call_tool(TOOL, ctx, command=["sh", "-c", f"echo before; sleep {marker}"], timeout_ms=300)
    assert not result.success
    assert result.output.startswith("Exit code: 124\n")
    assert "command timed out after 300 milliseconds\nbefore\n" in result.output
    item = completed_item(log)
    assert (item.status, item.exit_code) == ("timedOut", 124)
    assert log.of(CommandFinished)[0].status == "timedOut"
    assert 0.3 <= (item.duration_seconds or 0) < 3
    assert wait_until_gone(marker) == []


async def test_settings_timeout_caps_the_call_timeout(tmp_path: Path) -> None:
    settings = AgentSettings(
        shell_enabled=True, sandbox_mode="danger-full-access", shell_allow=("sleep",), shell_timeout_ms=200
    )
    ctx, log, _ = context(tmp_path, settings)
    await call_tool(TOOL, ctx, command=["sleep", "5"], timeout_ms=60_000)
    assert completed_item(log).status == "timedOut"


async def test_failing_command_reports_exit_code_and_stderr(tmp_path: Path) -> None:
    ctx, log, _ = context(tmp_path, ALLOW_SH)
    result = await call_tool(TOOL, ctx, command=["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert not result.success
    assert result.output.startswith("Exit code: 3\n")
    assert result.output.endswith("Output:\nout\nerr\n")
    assert (completed_item(log).status, completed_item(log).exit_code) == ("failed", 3)


async def test_output_is_capped_keeping_head_and_tail(tmp_path: Path) -> None:
    settings = AgentSettings(
        shell_enabled=True,
        sandbox_mode="danger-full-access",
        shell_allow=("seq",),
        shell_output_max_bytes=1024,
    )
    ctx, _, _ = context(tmp_path, settings)
    result = await call_tool(TOOL, ctx, command=["seq", "1", "20000"])
    assert "Total output lines: 20000\n" in result.output
    body = result.output.split("Output:\n", 1)[1]
    assert body.startswith("1\n2\n3\n")
    assert body.endswith("19999\n20000\n")
    assert "bytes of output cut" in body
    assert len(body.encode()) < 1024 + 100


async def test_api_keys_never_reach_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("CODEX_LSP_VISIBLE", "visible")
    ctx, _, _ = context(tmp_path, ALLOW_SH)
    script = 'echo "key=${OPENAI_API_KEY-unset} other=$CODEX_LSP_VISIBLE"'
    result = await call_tool(TOOL, ctx, command=["sh", "-c", script])
    assert result.output.endswith("Output:\nkey=unset other=visible\n")


async def test_workdir_inside_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    ctx, log, _ = context(
        tmp_path, AgentSettings(shell_enabled=True, sandbox_mode="danger-full-access", shell_allow=("pwd",))
    )
    result = await call_tool(TOOL, ctx, command=["pwd"], workdir="sub")
    assert result.output.endswith(f"Output:\n{(tmp_path / 'sub').resolve()}\n")
    assert completed_item(log).cwd == "sub"


@pytest.mark.parametrize(
    ("workdir", "expected"), [("../", "outside the workspace"), ("missing", "not a directory")]
)
async def test_bad_workdir_is_refused_before_asking(tmp_path: Path, workdir: str, expected: str) -> None:
    ctx, log, approver = context(tmp_path)
    result = await call_tool(TOOL, ctx, command=["pwd"], workdir=workdir)
    assert not result.success
    assert expected in result.output
    assert approver.requests == []
    assert log.events == []


async def test_missing_program_is_a_failure(tmp_path: Path) -> None:
    settings = AgentSettings(
        shell_enabled=True, sandbox_mode="danger-full-access", shell_allow=("no-such-program-xyz",)
    )
    ctx, log, _ = context(tmp_path, settings)
    result = await call_tool(TOOL, ctx, command=["no-such-program-xyz"])
    assert not result.success
    assert "Failed to start no-such-program-xyz" in result.output
    assert (completed_item(log).status, completed_item(log).exit_code) == ("failed", 127)


async def test_command_must_be_an_argv(tmp_path: Path) -> None:
    ctx, _, _ = context(tmp_path)
    result = await call_tool(TOOL, ctx, command="ls -la")
    assert not result.success
    assert "command" in result.output


async def test_background_child_does_not_hold_the_call(tmp_path: Path) -> None:
    ctx, _, _ = context(tmp_path, ALLOW_SH)
    marker = unique_sleep()
    started = asyncio.get_running_loop().time()
    result = await call_tool(TOOL, ctx, command=["sh", "-c", f"sleep {marker} & echo done"])
    assert asyncio.get_running_loop().time() - started < 3
    assert result.output.endswith("Output:\ndone\n")
    assert wait_until_gone(marker) == []


async def test_cancellation_kills_the_process_group(tmp_path: Path) -> None:
    ctx, log, _ = context(tmp_path, ALLOW_SH)
    marker = unique_sleep()
    task = asyncio.create_task(
        call_tool(TOOL, ctx, command=["sh", "-c", f"sleep {marker} & sleep {marker}; wait"])
    )
    await asyncio.to_thread(wait_until_running, marker)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(wait_until_gone, marker) == []
    assert completed_item(log).status == "failed"


async def test_cancelling_while_waiting_for_approval(tmp_path: Path) -> None:
    asked = asyncio.Event()

    class Hanging(ScriptedApprover):
        async def request(self, request: object) -> ApprovalDecision:
            asked.set()
            await asyncio.Event().wait()  # the user never answers
            raise AssertionError("unreachable")

    log = EventLog()
    ctx = tool_context(DiskWorkspace(tmp_path), OFF, Hanging(), log)
    task = asyncio.create_task(call_tool(TOOL, ctx, command=["touch", "ran"]))
    async with asyncio.timeout(5):
        await asked.wait()
    task.cancel()
    with pytest.raises(ToolInterrupted) as interrupted:
        await task
    assert not (tmp_path / "ran").exists()
    assert log.types() == ["item/started", "item/completed"]
    assert completed_item(log).status == "declined", "an open question is answered as denied"
    assert "interrupted while this command waited" in interrupted.value.result.output


def test_capped_output_counts_lines_and_cuts_on_characters() -> None:
    output = CappedOutput(1024)
    for _ in range(100):
        output.feed("é".encode() * 50 + b"\n")
    assert output.total_lines == 100
    assert output.cut_bytes == 100 * 101 - 1024
    assert "\ufffd" not in output.text()
    assert sys.getsizeof(output.head) < 4096


async def test_a_bearer_token_and_header_secrets_never_reach_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15, item 13, with the client's own view of its secrets: a provider with a bearer token in
    config.toml, an ``env_http_headers`` key and a secret ``http_headers`` value. Variables named by the
    configuration are left out by name; copies of a secret under other names, by value."""
    from dataclasses import replace

    from pydantic import SecretStr

    from codex_lsp.model import ModelClient, ModelSettings, ProviderConfig

    provider = ProviderConfig(
        base_url="http://127.0.0.1:9/v1",
        experimental_bearer_token=SecretStr("bearer-SECRET-from-config-1234"),
        env_http_headers={"api-key": "AZURE_OPENAI_API_KEY"},
        http_headers={"x-api-key": "hdr-SECRET-value-5678"},
    )
    client = ModelClient(ModelSettings(provider=provider))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-SECRET-9999")
    monkeypatch.setenv("BEARER_COPY", "Bearer bearer-SECRET-from-config-1234")
    monkeypatch.setenv("HEADER_COPY", "hdr-SECRET-value-5678")
    monkeypatch.setenv("CODEX_LSP_VISIBLE", "visible")
    ctx, _, _ = context(tmp_path, ALLOW_SH)
    ctx = replace(ctx, secret_env_names=client.secret_env_names(), secret_values=client.secrets)
    try:
        result = await call_tool(TOOL, ctx, command=["sh", "-c", "env"])
    finally:
        await client.aclose()
    assert "CODEX_LSP_VISIBLE=visible" in result.output
    for name in ("AZURE_OPENAI_API_KEY", "BEARER_COPY", "HEADER_COPY"):
        assert f"{name}=" not in result.output
    assert "SECRET" not in result.output
