"""The agent: threads, the running turns, and how a request becomes a turn's input.

It owns the thread store and a registry of running turns (one per thread at most, any number of
threads at once), so every way of interrupting — an LSP ``$/cancelRequest``, a progress cancel,
``codex.interrupt`` or Ctrl-C — comes down to cancelling one task here.

In review mode (``settings.edit_mode``) a turn's tools work on a
:class:`~codex_lsp.agent.review.PendingWorkspace` and hold their changes in the workspace's
:class:`~codex_lsp.agent.book.ProposalBook` instead of applying them. A new turn on a thread
first discards what is still pending of the thread's earlier proposals, and starts with a note on
what became of them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from codex_lsp.agent import context
from codex_lsp.agent.approval import model_policy
from codex_lsp.agent.book import ProposalBook
from codex_lsp.agent.errors import ThreadNotFoundError, TurnBusyError
from codex_lsp.agent.events import TurnEvent, TurnResult
from codex_lsp.agent.instructions import base_instructions, developer_message
from codex_lsp.agent.interfaces import Approver, ChangeApplier, Diagnostic, EditorContext, Workspace
from codex_lsp.agent.permissions import permissions_text, writable_roots
from codex_lsp.agent.review import PendingWorkspace, ReviewApplier
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.threads import Thread, ThreadStore, ThreadSummary
from codex_lsp.agent.tools.apply_patch import ApplyPatchTool
from codex_lsp.agent.tools.base import Tool, ToolContext, ToolRegistry
from codex_lsp.agent.tools.registry import build_registry
from codex_lsp.agent.turn import TurnRunner
from codex_lsp.model import ModelClient, model_info

__all__ = ["Agent", "TurnRequest"]


class TurnRequest(BaseModel):
    """What the user asked for: a prompt, or diagnostics to fix, plus where they are in the editor."""

    model_config = ConfigDict(frozen=True)

    prompt: str = ""
    editor: EditorContext = EditorContext()
    fix: tuple[Diagnostic, ...] = ()
    """Diagnostics this turn must fix (a "Fix with Codex" turn)."""
    thread_id: str | None = None
    model: str | None = None
    turn_id: str | None = None
    """The id the turn will have; a host picks it so its request, progress token and interrupt
    command name the turn from the start (default: a fresh uuid)."""


class Agent:
    """One workspace's agent: its threads and their turns."""

    def __init__(
        self,
        *,
        client: ModelClient,
        workspace: Workspace,
        approver: Approver,
        applier: ChangeApplier,
        emit: Callable[[TurnEvent], None],
        settings: AgentSettings | None = None,
        store: ThreadStore | None = None,
        codex_home: Path | None = None,
        tool_wrapper: Callable[[Tool], Tool] | None = None,
        proposals: ProposalBook | None = None,
    ) -> None:
        """``tool_wrapper`` lets a host wrap every tool the model may call (see
        :func:`~codex_lsp.agent.tools.registry.build_registry`); ``proposals`` is the workspace's
        book of changes held for review (a host keeps one per folder, across agents)."""
        self.client = client
        self.workspace = workspace
        self.approver = approver
        self.applier = applier
        self.emit = emit
        self.settings = settings or AgentSettings()
        self.store = store or ThreadStore(None)
        self.codex_home = codex_home or context.default_codex_home()
        self.proposals = proposals or ProposalBook(workspace)
        self.registry: ToolRegistry = build_registry(
            self.settings, extra=[ApplyPatchTool(self._apply_patch_form())], wrap=tool_wrapper
        )
        self.threads: dict[str, Thread] = {}
        self.running: dict[str, tuple[str, asyncio.Task[TurnResult]]] = {}
        """thread id → (turn id, task) of the turn running on it."""
        base = client.settings.prompt.base_instructions
        if base is None:
            base = base_instructions(shell_enabled=self.settings.shell_enabled)
        self.runner = TurnRunner(
            client,
            self.registry,
            self._tool_context,
            emit,
            instructions=developer_message(base) if base else None,
            max_rounds=self.settings.max_tool_rounds,
        )

    def _apply_patch_form(self) -> Literal["freeform", "function"]:
        """The apply_patch tool's form: as set, else as Codex's catalog says of the client's model (a
        model without the freeform form, or one Codex does not know, gets the JSON function)."""
        if self.settings.apply_patch_tool != "auto":
            return self.settings.apply_patch_tool
        return "freeform" if model_info(self.client.settings.model).apply_patch == "freeform" else "function"

    # -- threads ----------------------------------------------------------------------------------

    def new_thread(self) -> Thread:
        thread = self.store.create(str(self.workspace.root), model=None)
        thread.scrub = self.client.scrub
        self.threads[thread.id] = thread
        return thread

    def thread(self, thread_id: str) -> Thread:
        """The thread with that id, loaded from disk if this process has not seen it yet."""
        thread = self.threads.get(thread_id) or self.store.load(thread_id)
        if thread is None:
            raise ThreadNotFoundError(f"no thread {thread_id!r}; start a new one or pick one from the list")
        thread.scrub = self.client.scrub
        self.threads[thread.id] = thread
        return thread

    def list_threads(self) -> list[ThreadSummary]:
        """Saved threads of every workspace, newest first (plus unsaved ones of this process)."""
        listed = {summary.id: summary for summary in self.store.list()}
        for thread in self.threads.values():
            listed.setdefault(thread.id, thread.summary())
        return sorted(listed.values(), key=lambda s: s.updated_at, reverse=True)

    # -- turns ------------------------------------------------------------------------------------

    async def run_turn(self, request: TurnRequest) -> TurnResult:
        """Run one turn to its end; cancelling the caller interrupts it (the result says so)."""
        thread = self.thread(request.thread_id) if request.thread_id else self.new_thread()
        if thread.id in self.running:
            raise TurnBusyError(f"a turn is already running on thread {thread.id}; interrupt it or wait")
        turn_id = request.turn_id or str(uuid.uuid4())
        if any(running == turn_id for running, _ in self.running.values()):
            raise TurnBusyError(f"a turn with id {turn_id} is already running; pick another id")
        items = self._thread_start_items() if not thread.history else []
        self.proposals.start_turn(thread.id, turn_id)
        items.append(context.user_message(self._user_text(request, self.proposals.note_for(thread.id))))
        title = request.prompt or (request.fix[0].message if request.fix else "")
        task = asyncio.create_task(
            self.runner.run(thread, items, title=title, model=request.model, turn_id=turn_id)
        )
        self.running[thread.id] = (turn_id, task)
        try:
            return self._with_diffs(await asyncio.shield(task))
        except asyncio.CancelledError:
            task.cancel()
            result = await task
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            return self._with_diffs(result)
        finally:
            self.running.pop(thread.id, None)

    def _with_diffs(self, result: TurnResult) -> TurnResult:
        if result.proposal_id is None:
            return result
        return result.model_copy(update={"diffs": tuple(self.proposals.diffs(result.proposal_id))})

    def interrupt(self, turn_id: str | None = None) -> list[str]:
        """Interrupt one running turn, or all of them; return the ids interrupted."""
        hit = [(tid, task) for tid, task in self.running.values() if turn_id in (None, tid)]
        for _, task in hit:
            task.cancel()
        return [tid for tid, _ in hit]

    # -- input ------------------------------------------------------------------------------------

    def _thread_start_items(self) -> list[dict[str, Any]]:
        """What a thread's first turn says before the user's words, in Codex's order: the developer
        message (``developer_instructions``, the permissions), AGENTS.md, the environment."""
        root = self.workspace.root
        prompt = self.client.settings.prompt
        parts = [prompt.developer_instructions] if prompt.developer_instructions else []
        items = [context.developer_context_message([*parts, self._permissions()])]
        docs = context.agents_md_message(root, self.codex_home, prompt)
        if docs is not None:
            items.append(docs)
        items.append(context.environment_context_message(root, shell_enabled=self.settings.shell_enabled))
        return items

    def _permissions(self) -> str:
        """What the model is told of the sandbox commands run in: the agent's own (the configuration's, as
        every host lays it over its settings), in Codex's words."""
        mode = self.settings.sandbox_mode
        write = self.settings.sandbox_workspace_write
        network = mode == "danger-full-access" or (mode == "workspace-write" and write.network_access)
        roots = writable_roots(
            self.workspace.root,
            write.writable_roots,
            exclude_slash_tmp=write.exclude_slash_tmp,
            exclude_tmpdir_env_var=write.exclude_tmpdir_env_var,
        )
        return permissions_text(mode, network=network, policy=model_policy(self.settings), roots=roots)

    def _user_text(self, request: TurnRequest, note: str | None = None) -> str:
        parts = [note] if note else []
        if request.fix:
            parts.append(context.render_fix_request(list(request.fix), self.workspace))
        if request.prompt:
            parts.append(request.prompt)
        editor = context.render_editor_context(request.editor, self.workspace)
        if editor:
            parts.append(editor)
        return "\n\n".join(parts)

    def _tool_context(self, turn_id: str) -> ToolContext:
        review = self.settings.edit_mode == "review"
        return ToolContext(
            workspace=PendingWorkspace(self.workspace, self.proposals, turn_id) if review else self.workspace,
            approver=self.approver,
            applier=ReviewApplier(self.proposals) if review else self.applier,
            settings=self.settings,
            turn_id=turn_id,
            emit=self.emit,
            secret_env_names=self.client.secret_env_names(),
            secret_values=self.client.secrets,
        )
