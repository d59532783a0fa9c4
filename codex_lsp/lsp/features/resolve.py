"""``codeAction/resolve``: "Fix with Codex" for editors that run no commands and take no server edits.

Some clients never run a code action's command and answer ``workspace/applyEdit`` with ``applied:
false`` (CodeMirror's ``@marimo-team/codemirror-languageserver``: its ``initialize`` declares no
``workspace.applyEdit`` and no ``workspaceEdit``, and it logs a command instead of sending
``workspace/executeCommand``). What such a client does do is take an ``edit`` a code action
carries, and fetch it lazily through ``codeAction/resolve`` when the action has neither edit nor
command. So for a client that

- did not declare ``workspace.applyEdit``, and
- declared ``textDocument.codeAction.resolveSupport.properties`` with ``"edit"`` (and code-action
  literals),

(:attr:`~codex_lsp.lsp.capabilities.ClientCaps.edits_by_resolve`) every Codex code action is sent
without its command: :func:`lazy` moves the command and its arguments into the action's ``data``
(the server advertises ``resolveProvider``). ``codeActionKind.dataSupport`` is not required: the
clients that resolve send the whole action back, ``data`` included, whether or not they declare it
(CodeMirror's client does not declare it and does send it).

When the user picks such an action the client sends ``codeAction/resolve``, and :func:`resolve_action`
runs the command's turn in review mode whatever ``editMode`` says: each patch is held as a proposal
(:mod:`codex_lsp.agent.review`), nothing is written or sent. At the end the proposal's changes —
re-anchored in the text the editor has now — become the action's ``edit``, a ``WorkspaceEdit``
shaped for the client (:func:`~codex_lsp.lsp.host.edits.plan_edit`: versioned ``documentChanges``
for clients that take them, else ``changes``), and the proposal is forgotten. The client applies
the edit itself (CodeMirror: to its document, one undo step).

The action comes back without an ``edit`` when there is nothing to apply, and a
``window/showMessage`` says why: the turn failed or was interrupted, made no change, the text moved
where the change goes, or the change needs file operations (create, delete, rename) the client
cannot do. The turn's final answer is shown as every command's is (:mod:`codex_lsp.lsp.features.answers`,
``showAnswers``): this client displays nothing else of a turn.

The turn is a running turn like a command's: ``$/cancelRequest`` of the resolve (pygls cancels the
handler's task), ``codex.interrupt`` and a progress cancel all interrupt it. An action that carries
no Codex ``data`` (any other client resolving a command action) is answered unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcInvalidRequest

from codex_lsp.lsp.features.answers import show_answer, wants_answers
from codex_lsp.lsp.features.commands import ASK, FIX, TurnCommand, parse_ask, parse_fix
from codex_lsp.lsp.features.progress import TurnReporter
from codex_lsp.lsp.state import CodexServer  # at run time: pygls reads handler annotations
from codex_lsp.lsp.turns import RunningTurn

if TYPE_CHECKING:
    from codex_lsp.agent import Agent, TurnResult
    from codex_lsp.lsp.host.runtime import Host

__all__ = ["DATA_KEY", "lazy", "resolve_action", "setup"]

NO_CHANGE = "nothing changed"
DATA_KEY = "codexResolve"
"""The key of a lazy action's ``data``: ``{"command": ..., "arguments": [...]}``."""
_PARSERS = {ASK: parse_ask, FIX: parse_fix}


def lazy(action: types.CodeAction) -> types.CodeAction:
    """``action`` for a client that resolves edits: no command; its ``data`` names the turn to run."""
    command = action.command
    if command is None or command.command not in _PARSERS:
        return action
    data = {DATA_KEY: {"command": command.command, "arguments": list(command.arguments or [])}}
    return attrs.evolve(action, command=None, data=data)


def _command(action: types.CodeAction) -> TurnCommand | None:
    """The turn a lazy action stands for; ``None`` for an action that is not one of ours."""
    data = action.data
    if not isinstance(data, dict) or DATA_KEY not in data:
        return None
    request = data[DATA_KEY]
    name = request.get("command") if isinstance(request, dict) else None
    arguments = request.get("arguments") if isinstance(request, dict) else None
    if name not in _PARSERS or not isinstance(arguments, list):
        raise JsonRpcInvalidParams(message=f"codeAction/resolve: the action's data is not Codex's: {data!r}")
    return _PARSERS[name](tuple(arguments))


def _reviewing(agent: Agent) -> Agent:
    """``agent`` with its changes held for review (the same threads, running turns and proposals)."""
    if agent.settings.edit_mode == "review":
        return agent
    from codex_lsp.agent import Agent

    twin = Agent(
        client=agent.client,
        workspace=agent.workspace,
        approver=agent.approver,
        applier=agent.applier,
        emit=agent.emit,
        settings=agent.settings.model_copy(update={"edit_mode": "review"}),
        store=agent.store,
        codex_home=agent.codex_home,
        proposals=agent.proposals,
    )
    twin.threads, twin.running = agent.threads, agent.running
    return twin


def _answer(result: TurnResult) -> str:
    return result.message.strip()


def _edit(server: CodexServer, host: Host, result: TurnResult, label: str) -> tuple[Any, str | None]:
    """The turn's held changes as one edit for this client, or ``None`` and why not; the proposal is
    forgotten either way."""
    from codex_lsp.lsp.host.edits import EditConflict, plan_edit

    if result.proposal_id is None:
        return None, NO_CHANGE
    book, _ = host.proposal(result.proposal_id)
    try:
        prepared = book.prepare(result.proposal_id, None)
        if prepared.conflicted:
            return None, (
                f"the file changed where the change goes ({prepared.message}); nothing was changed, ask again"
            )
        plan = plan_edit(prepared.changes, book.workspace, server.state.caps, label)  # type: ignore[arg-type]
    except EditConflict as exc:
        return None, f"{exc} Nothing was changed; ask again."
    finally:
        book.drop(result.proposal_id)
    if plan.disk:
        paths = ", ".join(change.path for change in plan.disk)
        return None, (
            f"the change creates, deletes or renames files ({paths}), which this editor cannot do; "
            "nothing was changed"
        )
    if plan.edit is None:
        return None, NO_CHANGE
    return plan.edit, None


async def resolve_action(
    server: CodexServer, action: types.CodeAction, command: TurnCommand
) -> types.CodeAction:
    """Run ``command``'s turn with its changes held, and answer ``action`` with them as its ``edit``."""
    from codex_lsp.agent import TurnError
    from codex_lsp.lsp.host.boundary import OutsideFolders
    from codex_lsp.lsp.host.runtime import CommandError
    from codex_lsp.model import ConfigError

    state = server.state
    if state.stopping:
        raise JsonRpcInvalidRequest(message="the server is shutting down; no new turns")
    task = asyncio.current_task()
    assert task is not None, "request handlers run as tasks"
    turn_id = str(uuid.uuid4())
    reporter = TurnReporter(server, turn_id, command.title)
    state.turns.add(RunningTurn(turn_id, task, reporter))
    status, error, edit = "interrupted", None, None
    why: str | None = "the turn was interrupted; nothing was changed"
    kind = types.MessageType.Info
    answer = ""
    try:
        host = await state.host(server)
        agent, request = await host.prepare(command, turn_id)
        await reporter.begin(None, lambda: _cancel(task))
        result = await _reviewing(agent).run_turn(request)
        status, error = result.status, result.error
        if result.status == "completed":
            answer = _answer(result)
            edit, why = _edit(server, host, result, f"Codex: {action.title}")
            kind = types.MessageType.Warning if why and result.proposal_id else types.MessageType.Info
        else:
            if result.proposal_id is not None:
                host.proposal(result.proposal_id)[0].drop(result.proposal_id)
            if result.status == "failed":
                why, kind = f"the turn failed: {result.error}; nothing was changed", types.MessageType.Error
    except (CommandError, TurnError, OutsideFolders, ConfigError) as exc:
        status = "failed"
        error = getattr(exc, "message", None) or str(exc)
        why, kind = f"{error}; nothing was changed", types.MessageType.Error
    except asyncio.CancelledError:
        task.uncancel()
    finally:
        reporter.end(status, error)
        state.turns.remove(turn_id)
    if why == NO_CHANGE and answer and wants_answers(server):  # the answer says why ("explain": is it)
        await show_answer(server, turn_id, f"{NO_CHANGE}. {answer}")
    elif why is not None:
        server.show(f"Codex: {action.title}: {why}", kind)
    elif answer and wants_answers(server):
        await show_answer(server, turn_id, answer)
    return attrs.evolve(action, edit=edit)


def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()


def setup(server: CodexServer) -> None:
    """Register ``codeAction/resolve``."""

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: CodexServer, action: types.CodeAction) -> types.CodeAction:
        command = _command(action)
        if command is None:
            return action
        return await resolve_action(ls, action, command)
