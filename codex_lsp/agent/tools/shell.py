"""``shell``: run a command (an argv, Codex's ``shell`` shape) in the workspace, with consent.

A command runs without asking only when it matches a ``settings.shell_allow`` entry (see
:mod:`codex_lsp.agent.tools.allowlist`), or when the user approved that exact argv "for this turn";
everything else goes to the :class:`Approver` first — or, when the approval policy may not ask
(``never``, or granular with ``sandbox_approval = false``), is declined without asking. Interrupting
the turn while the question is open answers it as denied. Commands run in the sandbox ``sandbox_mode``
names (:mod:`codex_lsp.agent.sandbox`; refused when it cannot run), with the environment
``shell_environment_policy`` builds (:mod:`codex_lsp.agent.tools.shell_env`) minus every configured
secret (see :func:`child_env`), and are killed (with their children) on timeout or when the turn is
cancelled.

Events: ``ItemStarted`` (a ``commandExecution`` item, ``inProgress``) once the call is valid;
``CommandStarted`` when the process starts; ``CommandFinished`` and ``ItemCompleted`` at the end,
with status ``completed`` / ``failed`` / ``declined`` / ``timedOut`` (a declined command has no
``CommandStarted``). A cancelled call completes its item as ``failed`` before re-raising.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from codex_lsp.agent.approval import command_refusal
from codex_lsp.agent.events import (
    CommandExecutionItem,
    CommandFinished,
    CommandStarted,
    ItemCompleted,
    ItemStarted,
)
from codex_lsp.agent.interfaces import ApprovalDecision, ApprovalRequest
from codex_lsp.agent.sandbox import SandboxError, sandbox_status, sandboxed_argv
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.allowlist import is_allowed
from codex_lsp.agent.tools.args import ArgsTool, ToolArgs, failure, workspace_path
from codex_lsp.agent.tools.base import ToolContext, ToolInterrupted, ToolResult, function_spec
from codex_lsp.agent.tools.process import ProcessOutcome, run_process
from codex_lsp.agent.tools.shell_env import shell_environment

__all__ = ["ShellTool", "child_env", "format_exec_output"]

DESCRIPTION = (
    "Run a command in the workspace and return its exit code and output (stdout and stderr merged). "
    'command is an argv, e.g. ["pytest", "-q"] or ["bash", "-lc", "ls | wc -l"]. The user may be asked '
    "to approve it. It may run sandboxed: the workspace is writable, the rest read-only, no network. "
    "Do not use it to edit files: use apply_patch."
)
DECLINED = "The user declined to run this command."
INTERRUPTED_APPROVAL = (
    "Not run: the turn was interrupted while this command waited for the user's approval (denied)."
)

Status = Literal["completed", "failed", "declined", "timedOut"]


class ShellArgs(ToolArgs):
    command: tuple[str, ...] = Field(min_length=1)
    workdir: str | None = None
    timeout_ms: int | None = Field(default=None, ge=1)


def child_env(
    settings: AgentSettings, secret_names: frozenset[str], secret_values: Iterable[str] = ()
) -> dict[str, str]:
    """The environment of a command: built from this process's by ``shell_environment_policy``
    (:mod:`codex_lsp.agent.tools.shell_env`), without the configuration's secrets — by name (the key
    variables, the provider's ``env_key``, each ``env_http_headers`` variable) and by value (any variable
    whose value holds a secret, whatever it is called: a key copied under another name, a bearer token or a
    sign-in's token a wrapper exported); flags a sandbox without network as Codex does."""
    values = tuple(v for v in secret_values if v)
    built = shell_environment(os.environ, settings.shell_environment_policy, secrets=secret_names)
    env = {name: value for name, value in built.items() if not any(secret in value for secret in values)}
    network = settings.sandbox_mode == "danger-full-access" or (
        settings.sandbox_mode == "workspace-write" and settings.sandbox_workspace_write.network_access
    )
    if not network:
        env["CODEX_SANDBOX_NETWORK_DISABLED"] = "1"
    return env


def format_exec_output(outcome: ProcessOutcome, timeout_ms: int) -> str:
    """Codex's freeform exec output: exit code, wall time, line count when cut, then the output."""
    text = outcome.output.text()
    if outcome.timed_out:
        text = f"command timed out after {timeout_ms} milliseconds\n{text}"
    lines = [f"Exit code: {outcome.exit_code}", f"Wall time: {outcome.duration_seconds:.1f} seconds"]
    if outcome.output.cut_bytes:
        lines.append(f"Total output lines: {outcome.output.total_lines}")
    return "\n".join([*lines, "Output:", text])


class ShellTool(ArgsTool[ShellArgs]):
    """Runs commands with approval, sandbox, timeout and output cap."""

    name: ClassVar[str] = "shell"
    mutating: ClassVar[bool] = True
    args_type = ShellArgs

    def spec(self) -> dict[str, Any]:
        return function_spec(
            self.name,
            DESCRIPTION,
            {
                "command": {"type": "array", "items": {"type": "string"}, "description": "The argv to run."},
                "workdir": {"type": "string", "description": 'Workspace-relative directory (default ".").'},
                "timeout_ms": {"type": "integer", "description": "Timeout in milliseconds."},
            },
            ["command"],
        )

    async def run_with(self, args: ShellArgs, ctx: ToolContext) -> ToolResult:
        root = ctx.workspace.root
        workdir = workspace_path(ctx, args.workdir, refused="workdir refused: ")
        if not (root / workdir).is_dir():
            return failure(f"workdir {workdir} is not a directory of the workspace.")
        try:
            # The first call probes bwrap by running it: keep that off the event loop.
            argv, sandboxed = await asyncio.to_thread(
                sandboxed_argv, args.command, root, ctx.settings, root / workdir
            )
        except SandboxError as exc:
            return failure(f"Not run: {exc}")
        return await _Execution(ctx, args, workdir or ".", argv, sandboxed).run()


class _Execution:
    """One shell call's life: item events, approval, the process and its report."""

    def __init__(
        self, ctx: ToolContext, args: ShellArgs, workdir: str, argv: list[str], sandboxed: bool
    ) -> None:
        self.ctx = ctx
        self.command = args.command
        self.workdir = workdir
        self.argv = argv
        self.sandboxed = sandboxed
        limit = ctx.settings.shell_timeout_ms
        self.timeout_ms = min(args.timeout_ms or limit, limit)
        self.item = CommandExecutionItem(
            id=ctx.new_item_id("cmd"), command=self.command, cwd=workdir, sandboxed=sandboxed
        )

    async def run(self) -> ToolResult:
        self.ctx.emit(ItemStarted(turn_id=self.ctx.turn_id, item=self.item))
        try:
            refusal = await self._approval()
            if refusal is not None:
                self._finish("declined", None, 0.0, refusal)
                return failure(refusal)
            return await self._execute()
        except ToolInterrupted:
            raise
        except asyncio.CancelledError:
            self._complete_item("failed", None, None, "Interrupted: the turn was cancelled.")
            raise

    async def _approval(self) -> str | None:
        """``None`` when the command may run, else why not (for the model)."""
        ctx = self.ctx
        root = ctx.workspace.root
        cwd = _root_path(root, self.workdir)
        search_path = child_env(ctx.settings, ctx.secret_env_names, ctx.secret_values()).get(
            "PATH", os.defpath
        )
        allowed = is_allowed(self.command, ctx.settings, root=root, cwd=cwd, search_path=search_path)
        if allowed or self.command in ctx.approved_for_turn:
            return None
        refusal = command_refusal(ctx.settings)
        if refusal is not None:
            return refusal
        try:
            decision = await ctx.approver.request(self._request())
        except asyncio.CancelledError:
            self._complete_item("declined", None, None, INTERRUPTED_APPROVAL)
            raise ToolInterrupted(failure(INTERRUPTED_APPROVAL)) from None
        if decision == ApprovalDecision.APPROVE_FOR_TURN:
            ctx.approved_for_turn.add(self.command)
        return DECLINED if decision == ApprovalDecision.DENY else None

    def _request(self) -> ApprovalRequest:
        where = "the workspace root" if self.workdir == "." else self.workdir
        reason = (
            f"Runs sandboxed ({sandbox_status(self.ctx.settings).detail})"
            if self.sandboxed
            else "Runs without a sandbox, with your permissions."
        )
        title = f"Run `{shlex.join(self.command)}` in {where}?"
        return ApprovalRequest(
            kind="command", title=title, command=self.command, cwd=self.workdir, reason=reason
        )

    async def _execute(self) -> ToolResult:
        ctx = self.ctx
        ctx.emit(
            CommandStarted(
                turn_id=ctx.turn_id,
                item_id=self.item.id,
                command=self.command,
                cwd=self.workdir,
                sandboxed=self.sandboxed,
            )
        )
        try:
            outcome = await run_process(
                self.argv,
                cwd=_root_path(ctx.workspace.root, self.workdir),
                env=child_env(ctx.settings, ctx.secret_env_names, ctx.secret_values()),
                timeout_s=self.timeout_ms / 1000,
                max_output_bytes=ctx.settings.shell_output_max_bytes,
            )
        except OSError as exc:
            message = f"Failed to start {self.command[0]}: {exc.strerror or exc}"
            self._finish("failed", 127, 0.0, message)
            return failure(message)
        status: Status = (
            "timedOut" if outcome.timed_out else "completed" if outcome.exit_code == 0 else "failed"
        )
        self._finish(status, outcome.exit_code, outcome.duration_seconds, outcome.output.text())
        return ToolResult(output=format_exec_output(outcome, self.timeout_ms), success=status == "completed")

    def _finish(self, status: Status, exit_code: int | None, duration: float, output: str) -> None:
        self.ctx.emit(
            CommandFinished(
                turn_id=self.ctx.turn_id,
                item_id=self.item.id,
                exit_code=exit_code,
                duration_seconds=duration,
                status=status,
            )
        )
        self._complete_item(status, exit_code, duration, output)

    def _complete_item(
        self, status: Status, exit_code: int | None, duration: float | None, output: str
    ) -> None:
        update = {"status": status, "exit_code": exit_code, "duration_seconds": duration, "output": output}
        item = self.item.model_copy(update=update)
        self.ctx.emit(ItemCompleted(turn_id=self.ctx.turn_id, item=item))


def _root_path(root: Path, workdir: str) -> Path:
    return root if workdir == "." else root / workdir
