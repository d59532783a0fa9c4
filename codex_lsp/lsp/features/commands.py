"""``workspace/executeCommand``: the ``codex.*`` commands.

- ``codex.ask`` ``{prompt, uri?, version?, range?, diagnostics?, threadId?}``: one turn on a thread
  (a new thread when absent); returns the turn's result (below).
- ``codex.fixDiagnostics`` ``{uri, version?, diagnostics[] | all: true, threadId?}``: one turn whose
  task is to fix those diagnostics (``all``: every diagnostic known for the document).
- ``codex.interrupt`` ``{turnId?}`` (or the turn id alone): interrupts that turn, or every turn;
  ``{interrupted: [turnId]}``, answered once those turns have ended (at most ``INTERRUPT_GRACE``).
- ``codex.threads`` ``{}``: ``{threads: [{threadId, cwd, title, turns, createdAt, updatedAt}]}``.
- ``codex.newThread`` ``{uri?}``: ``{threadId, cwd}``.
- ``codex.status`` ``{probe?}``: provider, model, base URL, whether a key was found (never the key),
  transport in use, connection state, version; with ``probe: true`` also whether the endpoint is
  reachable over that transport, checked without a model request (:mod:`codex_lsp.lsp.host.probe`).

A turn command answers when the turn ends — or, with ``asyncCommands`` (automatic for lsp-mode, whose
requests time out), at once with ``status: "started"`` and the turn id, the turn reporting through
its own progress and messages — with ``{threadId, turnId, status, message, changedFiles,
usage, error?}`` — ``status`` is ``completed``, ``interrupted`` or ``failed``; a failed turn is a
result, not a JSON-RPC error. In review mode a turn whose changes were held adds ``proposalId`` and
``diffs: [{path, diff}]`` (a unified diff per file; ``changedFiles`` is empty: nothing changed). The
review commands are in :mod:`codex_lsp.lsp.features.review`. Unknown commands, bad arguments, unknown
Arguments as generic clients send them are taken too: ``codex.ask`` reads string arguments as the
prompt (joined by spaces), and no argument or a single ``null`` (Elisp's ``nil``) means ``{}`` for
every command. Ranges that end before they start are put in order. Unknown commands, bad arguments, unknown
documents and malformed ``file:`` URIs are ``InvalidParams`` errors with a message a person understands;
a document outside every folder the user opened or allowed is refused with ``RequestFailed``
(:func:`refused`, its ``data`` naming the file and the folders; :mod:`codex_lsp.lsp.host.boundary`).

In an editor without ``workspace/applyEdit`` a turn command is refused before anything is asked of
the model (``RequestFailed`` and a message naming the ``editFallback`` setting): it could change
nothing. Editors that are not ours are shown the answer (:mod:`codex_lsp.lsp.features.answers`).

Turns are cancellable three ways, all ending the turn ``interrupted``: ``$/cancelRequest`` on the
command (pygls answers it but does not cancel a command's coroutine, so the request's future is
linked to the task here — this relies on pygls' private ``_request_futures``, and a test guards it),
``window/workDoneProgress/cancel`` on its progress, and ``codex.interrupt``.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cattrs import Converter
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest

from codex_lsp.lsp.features.answers import answer_text, show_answer, wants_answers
from codex_lsp.lsp.features.diagnostics import ordered, ordered_diagnostic
from codex_lsp.lsp.features.progress import TurnReporter, camel
from codex_lsp.lsp.protocol import WORK_DONE_TOKEN
from codex_lsp.lsp.state import CodexServer  # at run time: pygls reads command annotations
from codex_lsp.lsp.turns import RunningTurn

if TYPE_CHECKING:
    from codex_lsp.lsp.host.boundary import OutsideFolders

__all__ = ["COMMANDS", "TurnCommand", "setup"]

ASK, FIX, INTERRUPT = "codex.ask", "codex.fixDiagnostics", "codex.interrupt"
THREADS, NEW_THREAD, STATUS = "codex.threads", "codex.newThread", "codex.status"
COMMANDS = (ASK, FIX, INTERRUPT, THREADS, NEW_THREAD, STATUS)
INTERRUPT_GRACE = 1.0
"""How long ``codex.interrupt`` waits for the turns it stopped to end before it answers (their ends
come first; an edit already sent may keep a turn longer, and the answer does not wait for it)."""
INTERRUPTED = "The turn was interrupted."
"""What editors that are not ours are told of an interrupted turn (they see no progress end)."""
_ZERO_USAGE = {
    "inputTokens": 0,
    "cachedInputTokens": 0,
    "outputTokens": 0,
    "reasoningOutputTokens": 0,
    "totalTokens": 0,
}


@functools.cache
def _converter() -> Converter:
    """lsprotocol's converter, built on first use (building it is slow; start-up does not need it)."""
    return get_converter()


@dataclass(frozen=True)
class TurnCommand:
    """A turn command's arguments, checked."""

    kind: Literal["ask", "fix"]
    prompt: str = ""
    uri: str | None = None
    version: int | None = None
    range: types.Range | None = None
    diagnostics: tuple[types.Diagnostic, ...] = ()
    thread_id: str | None = None
    all_diagnostics: bool = False

    @property
    def title(self) -> str:
        if self.prompt:
            return self.prompt
        if self.diagnostics:
            return "Fix: " + self.diagnostics[0].message
        return "Fix the problems in this file"


# -- arguments --------------------------------------------------------------------------------------


def _bad(command: str, why: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=f"{command}: {why}")


def refused(command: str, exc: OutsideFolders) -> JsonRpcException:
    """The error for a document outside the user's folders: ``RequestFailed`` (the request was well
    formed; the server declines it), with the file, its folder and the open folders as ``data``."""
    return JsonRpcException(
        message=f"{command}: {exc}", code=types.LSPErrorCodes.RequestFailed, data=exc.data
    )


def _object(command: str, args: tuple[Any, ...], shape: str) -> dict[str, Any]:
    """The one object argument; none, or a single ``null`` (Elisp's ``nil``), is ``{}``."""
    if not args or args == (None,):
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise _bad(command, f"expected one argument, an object {shape}")
    return args[0]


def _optional(command: str, data: dict[str, Any], key: str, kind: type, what: str) -> Any:
    """``data[key]`` when it is a ``kind`` (a bool is not an int here), ``None`` when absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(command, f"{key} must be {what}")
    return value


def _structured(command: str, value: Any, kind: Any, what: str) -> Any:
    try:
        return _converter().structure(value, kind)
    except Exception:
        raise _bad(command, f"{what}") from None


def _diagnostics(command: str, data: dict[str, Any]) -> tuple[types.Diagnostic, ...]:
    raw = data.get("diagnostics")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _bad(command, "diagnostics must be a list of LSP diagnostics")
    return tuple(
        ordered_diagnostic(
            _structured(command, item, types.Diagnostic, f"diagnostics[{n}] is not an LSP diagnostic")
        )
        for n, item in enumerate(raw)
    )


def _common(command: str, data: dict[str, Any]) -> dict[str, Any]:
    rng = data.get("range")
    return {
        "uri": _optional(command, data, "uri", str, "a document URI"),
        "version": _optional(command, data, "version", int, "an integer"),
        "range": None
        if rng is None
        else ordered(_structured(command, rng, types.Range, "range is not an LSP range")),
        "diagnostics": _diagnostics(command, data),
        "thread_id": _optional(command, data, "threadId", str, "a thread id"),
    }


def parse_ask(args: tuple[Any, ...]) -> TurnCommand:
    """The object form, or the prompt as string arguments (``:CocCommand codex.ask add type hints``
    sends ``["add", "type", "hints"]``; a single string is the whole prompt)."""
    if args and all(isinstance(a, str) for a in args):
        args = ({"prompt": " ".join(args)},)
    data = _object(ASK, args, "{prompt, uri?, version?, range?, diagnostics?, threadId?}, or the prompt")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _bad(ASK, "prompt must be a non-empty string")
    return TurnCommand("ask", prompt=prompt, **_common(ASK, data))


def parse_fix(args: tuple[Any, ...]) -> TurnCommand:
    data = _object(FIX, args, "{uri, version?, diagnostics[], threadId?}")
    common = _common(FIX, data)
    if not common["uri"]:
        raise _bad(FIX, "uri is required")
    everything = _optional(FIX, data, "all", bool, "true or false") or False
    if not common["diagnostics"] and not everything:
        raise _bad(FIX, "diagnostics must name at least one diagnostic (or pass all: true)")
    return TurnCommand("fix", all_diagnostics=everything, **common)


# -- turns ------------------------------------------------------------------------------------------


def link_cancel_request(server: CodexServer, task: asyncio.Task[Any]) -> None:
    """Make ``$/cancelRequest`` of the running ``workspace/executeCommand`` cancel ``task``.

    pygls cancels only the request's outer future for a command (private ``_request_futures``).
    """
    outer = server.protocol._request_futures.get(server.protocol.msg_id)  # type: ignore[arg-type]
    if outer is not None:
        outer.add_done_callback(lambda future: future.cancelled() and task.cancel())


def result_payload(result: Any) -> dict[str, Any]:
    """A ``TurnResult`` as the command's JSON result."""
    payload: dict[str, Any] = {
        "threadId": result.thread_id,
        "turnId": result.turn_id,
        "status": result.status,
        "message": result.message,
        "changedFiles": list(result.changed_files),
        "usage": camel(result.usage.model_dump()),
    }
    if result.error:
        payload["error"] = result.error
    if result.proposal_id:
        payload["proposalId"] = result.proposal_id
        payload["diffs"] = [{"path": path, "diff": diff} for path, diff in result.diffs]
    return payload


def _ended(command: TurnCommand, turn_id: str, status: str, error: str | None = None) -> dict[str, Any]:
    """The result of a turn that never reached the agent (interrupted early, or not configured)."""
    payload: dict[str, Any] = {
        "threadId": command.thread_id,
        "turnId": turn_id,
        "status": status,
        "message": "",
        "changedFiles": [],
        "usage": dict(_ZERO_USAGE),
    }
    if error:
        payload["error"] = error
    return payload


def cannot_edit(server: CodexServer) -> str | None:
    """Why no turn may start in this editor, or ``None``: an editor without ``workspace/applyEdit``
    could take none of the turn's changes, so the turn (paid for) would end "completed" having
    changed nothing — unless the user chose a fallback (``editFallback``)."""
    state = server.state
    if state.caps.apply_edit or state.settings.edit_fallback != "none":
        return None
    return (
        "Codex: this editor cannot apply edits (it does not support workspace/applyEdit), so no turn "
        'was started. Set codex.editFallback to "disk" (Codex writes the files and the editor reloads '
        'them) or "diff" (Codex shows the changes as a diff) to use Codex here.'
    )


def refuse_without_edits(server: CodexServer) -> None:
    """Raise ``RequestFailed`` (and tell the user) when :func:`cannot_edit` says so."""
    why = cannot_edit(server)
    if why is not None:
        server.show(why, types.MessageType.Error)
        raise JsonRpcException(message=why, code=types.LSPErrorCodes.RequestFailed)


def answers_at_once(server: CodexServer) -> bool:
    """Whether turn commands answer when the turn starts (``asyncCommands``; ``auto``: for lsp-mode,
    whose command requests give up after ``lsp-response-timeout``, 10 s, while the turn runs on)."""
    chosen = server.state.settings.async_commands
    return chosen if chosen is not None else server.state.caps.client_name == "emacs"


async def run_turn(
    server: CodexServer,
    command: TurnCommand,
    task: asyncio.Task[Any],
    turn_id: str | None = None,
    *,
    token: types.ProgressToken | None = None,
) -> dict[str, Any]:
    """Run one turn for a command and return its result; never lets a cancellation escape.
    ``token`` is the client's work-done token, if any (else the server creates one)."""
    from codex_lsp.agent import TurnError
    from codex_lsp.lsp.host.boundary import OutsideFolders
    from codex_lsp.lsp.host.runtime import CommandError
    from codex_lsp.model import ConfigError

    state = server.state
    if state.stopping:
        raise JsonRpcInvalidRequest(message="the server is shutting down; no new turns")
    turn_id = turn_id or str(uuid.uuid4())
    reporter = TurnReporter(server, turn_id, command.title)
    state.turns.add(RunningTurn(turn_id, task, reporter))
    status, error = "interrupted", None
    try:
        host = await state.host(server)
        agent, request = await host.prepare(command, turn_id)
        refuse_without_edits(server)  # after the arguments and the document were checked
        await reporter.begin(token, lambda: _cancel(task))
        result = await agent.run_turn(request)
        status, error = result.status, result.error
        if result.status == "failed":
            server.show(f"Codex: the turn failed: {result.error}", types.MessageType.Error)
        elif wants_answers(server):
            text = answer_text(result.message, result.changed_files, result.diffs)
            if result.status == "interrupted":
                text = "\n\n".join(part for part in (INTERRUPTED, text) if part)
            await show_answer(server, turn_id, text)
        return {k: state.scrub(v) if isinstance(v, str) else v for k, v in result_payload(result).items()}
    except (CommandError, TurnError) as exc:
        status = "failed"
        raise JsonRpcInvalidParams(message=str(exc)) from None
    except JsonRpcException:
        status = "failed"
        raise
    except OutsideFolders as exc:
        status = "failed"
        raise refused(ASK if command.kind == "ask" else FIX, exc) from None
    except ConfigError as exc:
        status, error = "failed", exc.message
        server.show(f"Codex: {exc.message}", types.MessageType.Error)
        return _ended(command, turn_id, status, state.scrub(exc.message))
    except asyncio.CancelledError:
        task.uncancel()
        if wants_answers(server):
            server.show(f"Codex: {INTERRUPTED}", types.MessageType.Info)
        return _ended(command, turn_id, "interrupted")
    finally:
        reporter.end(status, error)
        state.turns.remove(turn_id)


def start_turn(server: CodexServer, command: TurnCommand) -> dict[str, Any]:
    """Start a turn in the background and answer at once with its id (``status: "started"``); the
    turn reports through its own progress and messages, and is cancelled through that progress or
    ``codex.interrupt``. A problem found before the turn starts is still this request's error."""
    if server.state.stopping:
        raise JsonRpcInvalidRequest(message="the server is shutting down; no new turns")
    refuse_without_edits(server)
    turn_id = str(uuid.uuid4())

    async def background() -> None:
        task = _current()
        try:
            await run_turn(server, command, task, turn_id)
        except JsonRpcException as exc:  # the request was answered already: say it instead
            server.show(f"Codex: {exc.message}", types.MessageType.Error)

    server.state.run_task(background(), f"codex-turn-{turn_id}")
    return _ended(command, turn_id, "started")


# -- registration -----------------------------------------------------------------------------------


def _turn_id_argument(args: tuple[Any, ...]) -> str | None:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    data = _object(INTERRUPT, args, "{turnId?}, or the turn id")
    return _optional(INTERRUPT, data, "turnId", str, "a turn id")  # type: ignore[no-any-return]


def setup(server: CodexServer) -> None:
    """Register the ``codex.*`` commands."""

    async def turn(ls: CodexServer, command: TurnCommand) -> dict[str, Any]:
        if answers_at_once(ls):
            return start_turn(ls, command)
        task = _current()
        link_cancel_request(ls, task)
        return await run_turn(ls, command, task, token=WORK_DONE_TOKEN.get())

    @server.command(ASK)
    async def ask(ls: CodexServer, *args: Any) -> dict[str, Any]:
        return await turn(ls, parse_ask(args))

    @server.command(FIX)
    async def fix(ls: CodexServer, *args: Any) -> dict[str, Any]:
        return await turn(ls, parse_fix(args))

    @server.command(INTERRUPT)
    async def interrupt(ls: CodexServer, *args: Any) -> dict[str, Any]:
        turns = ls.state.turns
        return {"interrupted": await turns.interrupt_and_wait(_turn_id_argument(args), INTERRUPT_GRACE)}

    @server.command(THREADS)
    async def threads(ls: CodexServer, *args: Any) -> dict[str, Any]:
        _object(THREADS, args, "{}")
        host = await ls.state.host(ls)
        return {"threads": host.threads()}

    @server.command(NEW_THREAD)
    async def new_thread(ls: CodexServer, *args: Any) -> dict[str, Any]:
        from codex_lsp.lsp.host.boundary import OutsideFolders
        from codex_lsp.lsp.host.runtime import CommandError
        from codex_lsp.model import ConfigError

        uri = _optional(NEW_THREAD, _object(NEW_THREAD, args, "{uri?}"), "uri", str, "a document URI")
        host = await ls.state.host(ls)
        try:
            return await host.new_thread(uri)
        except (CommandError, ConfigError) as exc:
            raise JsonRpcInvalidParams(message=f"{NEW_THREAD}: {exc}") from None
        except OutsideFolders as exc:
            raise refused(NEW_THREAD, exc) from None

    @server.command(STATUS)
    async def status(ls: CodexServer, *args: Any) -> dict[str, Any]:
        from codex_lsp.lsp.host.probe import probe

        wanted = _optional(STATUS, _object(STATUS, args, "{probe?}"), "probe", bool, "true or false")
        host = await ls.state.host(ls)
        result = host.status()
        if wanted and "configError" not in result:
            result.update(await probe(host.client()))
        return result


def _current() -> asyncio.Task[Any]:
    task = asyncio.current_task()
    assert task is not None, "commands run as tasks"
    return task


def _cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
