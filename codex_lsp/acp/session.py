"""One ACP session: one thread of the agent, in one workspace folder, with its mode.

The modes are the agent's edit modes as an ACP editor offers them:

- ``auto``: edits are applied as the agent makes them;
- ``review``: every edit asks first (``session/request_permission`` with the edit's diffs). This is
  the agent's own approval machinery, not a second code path: the mode raises the approval policy
  to ``untrusted`` — Codex's name for "every file change asks" — and the approver asks the editor.
  An allowed edit is applied as in auto mode; a rejected one writes nothing and the model is told
  the user declined it. (The LSP server's review mode, which holds edits as proposals decided hunk
  by hunk, needs code lenses and commands that ACP has no room for: in ACP the review is the
  question.)
- ``read-only``: no edit, no command.

Commands ask in every mode but read-only (unless allow-listed). Below the modes lies the folder's
configuration, as in ``exec`` and the language server: ``approval_policy`` (a policy that may not ask —
``never``, a granular switch set to ``false`` — refuses instead of asking; review mode still asks for
every edit), ``sandbox_mode`` and ``[sandbox_workspace_write]`` (the sandbox commands run in) and
``[shell_environment_policy]``. ``session/set_mode`` applies from the next tool call on, in a running
turn too: a call already asking or writing finishes under the mode it started in.

A session owns an :class:`~codex_lsp.agent.agent.Agent` whose host objects talk to this session's
client: the workspace and applier (through the editor when the client offers ``fs``, else the disk
as in ``exec``), the approver (``session/request_permission``) and the event sink
(``session/update``). Its id is the thread's id, so ``session/load`` finds the saved thread.

A prompt is one turn. ``session/cancel`` interrupts it; the prompt then answers
``stopReason: cancelled`` once the turn has stopped (an edit being written is finished or rolled
back first, never left half done).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from enum import StrEnum
from pathlib import Path

from acp import RequestError
from acp.interfaces import Client
from acp.schema import (
    ClientCapabilities,
    ConfigOptionUpdate,
    CurrentModeUpdate,
    Implementation,
    PromptResponse,
    SessionMode,
    SessionModeState,
    StopReason,
    ToolCallStart,
    Usage,
)

from codex_lsp.acp.editor import AcpEditor, EditorApplier, EditorWorkspace, files_through_editor
from codex_lsp.acp.options import MODE, Choices, ConfigOption, chosen, config_options
from codex_lsp.acp.permission import PermissionApprover
from codex_lsp.acp.prompt import PromptBlock, prompt_text
from codex_lsp.acp.replay import replay
from codex_lsp.acp.report import Reporter, ReportingApplier, reported_tool
from codex_lsp.acp.updates import UpdateStream
from codex_lsp.agent import (
    Agent,
    AgentSettings,
    ChangeApplier,
    DiskApplier,
    LocalWorkspace,
    ThreadStore,
    TurnRequest,
    TurnResult,
    Workspace,
)
from codex_lsp.model import ModelClient

__all__ = ["MODES", "AcpSession", "EditMode", "ModelFactory", "mode_state"]

MAX_ROUNDS_ERROR = "model requests without finishing"
"""How the agent words the end of a turn that hit its request limit (``max_tool_rounds``)."""


class EditMode(StrEnum):
    """What a session's agent may change, and whether it asks first."""

    AUTO = "auto"
    REVIEW = "review"
    READ_ONLY = "read-only"


MODES = (
    SessionMode(
        id=EditMode.AUTO,
        name="Auto",
        description="Edits are applied as the agent makes them; commands ask for permission.",
    ),
    SessionMode(
        id=EditMode.REVIEW,
        name="Review",
        description="Every edit asks first, with its diff; commands ask for permission.",
    ),
    SessionMode(
        id=EditMode.READ_ONLY,
        name="Read only",
        description="The agent reads and searches; it may not edit files or run commands.",
    ),
)


def mode_state(mode: EditMode) -> SessionModeState:
    """The modes a session offers, and the current one."""
    return SessionModeState(current_mode_id=mode, available_modes=list(MODES))


ModelFactory = Callable[[str, str | None], ModelClient]
"""The model client for a model and a reasoning effort (``None``: the model's default) in the session's
folder, as its configuration resolves them otherwise."""


class AcpSession:
    """One session: its agent, its mode and the prompt running in it."""

    def __init__(
        self,
        client: Client,
        capabilities: ClientCapabilities | None,
        model: ModelClient,
        root: Path,
        *,
        settings: AgentSettings,
        store: ThreadStore,
        codex_home: Path | None = None,
        mode: EditMode = EditMode.AUTO,
        models: ModelFactory | None = None,
        client_info: Implementation | None = None,
    ) -> None:
        """``client_info`` is the client's ``initialize`` name (some clients' files are read on disk, see
        :func:`~codex_lsp.acp.editor.files_through_editor`); ``models`` builds the client for another model
        or effort chosen in the session's options (without it, a choice keeps ``model``'s settings)."""
        self.root = root
        self.mode = mode
        self.base_settings = settings
        self.review_settings = settings.model_copy(update={"approval_policy": "untrusted"})
        self.store = store
        self.codex_home = codex_home
        self.models = models
        self.model_id = model.settings.model
        """The model chosen for the next prompts (the configured one until the user picks another)."""
        self.effort = model.settings.reasoning_effort
        """The reasoning effort chosen for the next prompts (``None``: the model's default)."""
        self.stream = UpdateStream(client, masking=lambda: self.agent.client.masking()[0])
        self.reporter = Reporter(self.stream, root)
        self.editor: AcpEditor | None = None
        self.editor_workspace: EditorWorkspace | None = None
        self.workspace: Workspace
        self.applier: ChangeApplier
        if files_through_editor(capabilities, client_info):
            self.editor = AcpEditor(client, "")
            self.workspace = self.editor_workspace = EditorWorkspace(root, self.editor)
            self.applier = EditorApplier(self.editor_workspace)
        else:
            local = LocalWorkspace(root)
            self.workspace, self.applier = local, DiskApplier(local)
        self.approver = PermissionApprover(client, self.reporter, self.allow_all_edits)
        self.agent = self._agent(model)
        self.id = ""
        self._running: asyncio.Task[TurnResult] | None = None

    def _agent(self, model: ModelClient) -> Agent:
        return Agent(
            client=model,
            workspace=self.workspace,
            approver=self.approver,
            applier=ReportingApplier(self.applier, self.reporter),
            emit=self.reporter,
            settings=self.base_settings,
            store=self.store,
            codex_home=self.codex_home,
            tool_wrapper=lambda tool: reported_tool(tool, self),
        )

    def _follow_choices(self) -> None:
        """Before a prompt: move the session to the model and effort chosen in its options, keeping its
        threads (a new agent on the new model client; nothing runs on the old one)."""
        current = self.agent.client.settings
        if self.models is None or (current.model, current.reasoning_effort) == (self.model_id, self.effort):
            return
        agent = self._agent(self.models(self.model_id, self.effort))
        agent.threads.update(self.agent.threads)
        self.agent = agent

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self, thread_id: str | None = None) -> str:
        """Bind the session to a new thread, or to the saved thread ``thread_id``; return its id.

        Raises :class:`~codex_lsp.agent.errors.ThreadNotFoundError` for an unknown thread.
        """
        thread = self.agent.thread(thread_id) if thread_id else self.agent.new_thread()
        self.id = self.stream.session_id = thread.id
        if self.editor is not None:
            self.editor.session_id = thread.id
        return thread.id

    async def replay(self) -> None:
        """Send the saved thread's history as updates, and wait until they are sent."""
        for update in replay(self.agent.thread(self.id).history, self.root):
            if isinstance(update, ToolCallStart):
                self.reporter.reserve(update.tool_call_id)
            self.stream.post(update)
        await self.stream.flush()

    async def aclose(self) -> None:
        """Interrupt a running prompt and stop sending updates."""
        self.cancel()
        if self._running is not None:
            await asyncio.wait({self._running})
        await self.stream.aclose()

    # -- the host a reported tool needs (see codex_lsp.acp.report.ToolHost) -------------------------------

    @property
    def read_only(self) -> bool:
        return self.mode is EditMode.READ_ONLY

    @property
    def settings(self) -> AgentSettings:
        return self.review_settings if self.mode is EditMode.REVIEW else self.base_settings

    def editor_view(self, paths: Iterable[str]) -> AbstractAsyncContextManager[None]:
        if self.editor_workspace is None:
            return _nothing()
        return self.editor_workspace.editor_view(paths)

    # -- requests -------------------------------------------------------------------------------------

    @property
    def choices(self) -> Choices:
        return Choices(self.mode, self.model_id, self.effort)

    def config_options(self) -> list[ConfigOption]:
        """The session's configuration options with their current values (:mod:`~codex_lsp.acp.options`)."""
        return config_options(self.choices, MODES)

    def set_mode(self, mode_id: str) -> None:
        """Switch the mode (it applies from the next tool call on, in a running turn too), and say so to
        clients that read modes and to those that read configuration options."""
        try:
            mode = EditMode(mode_id)
        except ValueError:
            known = ", ".join(mode.id for mode in MODES)
            raise RequestError(-32602, f"unknown mode {mode_id!r}; the modes are {known}") from None
        self.mode = mode
        self.stream.post(CurrentModeUpdate(session_update="current_mode_update", current_mode_id=self.mode))
        self.stream.post(
            ConfigOptionUpdate(session_update="config_option_update", config_options=self.config_options())
        )

    def set_config_option(self, config_id: str, value: str | bool) -> list[ConfigOption]:
        """Set one option (``session/set_config_option``); every option with its value now. The mode
        option is :meth:`set_mode` under another name (its change is reported as a mode change too); a
        model or effort applies from the next prompt."""
        choices = chosen(self.choices, config_id, value, MODES)
        if config_id == MODE:
            self.set_mode(choices.mode)
        self.model_id, self.effort = choices.model, choices.effort
        return self.config_options()

    def allow_all_edits(self) -> None:
        """The user allowed every edit for the rest of the session: review mode becomes auto mode."""
        if self.mode is EditMode.REVIEW:
            self.set_mode(EditMode.AUTO)

    async def prompt(self, blocks: list[PromptBlock]) -> PromptResponse:
        """Run one turn for the prompt; answer how it ended once every update of it is sent."""
        if self._running is not None:
            raise RequestError(
                -32600, f"a prompt is already running in session {self.id}; cancel it or wait for its answer"
            )
        text = prompt_text(blocks)
        self._follow_choices()
        turn = asyncio.ensure_future(self.agent.run_turn(TurnRequest(prompt=text, thread_id=self.id)))
        self._running = turn
        try:
            await asyncio.wait({turn})
        except asyncio.CancelledError:  # the connection is closing: stop the turn with it
            self.cancel()
            await asyncio.wait({turn})
            raise
        finally:
            self._running = None
        await self.stream.flush()
        if turn.cancelled():  # interrupted before the turn had started
            return PromptResponse(stop_reason="cancelled")
        return _response(turn.result())

    def cancel(self) -> None:
        """Interrupt the running prompt, if any (``session/cancel``)."""
        turn = self._running
        if turn is not None and not self.agent.interrupt():
            turn.cancel()  # no turn registered yet: stop the request itself


def _response(result: TurnResult) -> PromptResponse:
    stop: StopReason
    if result.status == "completed":
        stop = "end_turn"
    elif result.status == "interrupted":
        stop = "cancelled"
    elif result.error and MAX_ROUNDS_ERROR in result.error:
        stop = "max_turn_requests"
    else:
        raise RequestError(-32603, f"the turn failed: {result.error or 'unknown error'}")
    usage = result.usage
    return PromptResponse(
        stop_reason=stop,
        usage=Usage(
            total_tokens=usage.total_tokens,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            thought_tokens=usage.reasoning_output_tokens or None,
            cached_read_tokens=usage.cached_input_tokens or None,
        ),
    )


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield
