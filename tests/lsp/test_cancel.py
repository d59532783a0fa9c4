"""The three ways to stop a turn — ``$/cancelRequest`` (of ``codex.ask`` and of ``codex.fixDiagnostics``),
a progress cancel, ``codex.interrupt`` — each ending it ``interrupted`` promptly with no edit after the
cancel; and an interrupt that races an edit the editor is applying."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from codex_lsp.agent import ApplyOutcome
from codex_lsp.lsp.host import applier
from codex_lsp.lsp.host.edits import EditPlan
from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import EDIT_ERROR, WAIT, Editor, load, patch, say, served, silent_before_completion

if TYPE_CHECKING:
    from codex_lsp.lsp.host.workspace import LspWorkspace
    from codex_lsp.lsp.state import CodexServer

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

APP = "def greet(name):\n    return 'hello ' + nam\n"
PROMPT = 1.0
"""An interrupted turn ends within about this long (a sanity bound, not a benchmark)."""


def stuck_turn(path: str) -> dict[str, Any]:
    """A response that says something and asks for a patch, then never completes."""
    fix = (
        f"*** Begin Patch\n*** Update File: {path}\n@@\n-    return 'hello ' + nam\n"
        "+    return 'hello ' + name\n*** End Patch"
    )
    output = [
        {"type": "message", "text": "Working on it."},
        {"type": "custom_tool_call", "name": "apply_patch", "input": fix},
    ]
    return silent_before_completion({"output": output})


_STARTED = re.compile(r"codex turn (\S+): turn/started")


def unfinished_turns(ed: Editor) -> list[str]:
    """The turns whose start the server logged (every client gets the log), and not yet their end."""
    started = [m.group(1) for log in ed.logs if (m := _STARTED.fullmatch(log.message))]
    return [
        t for t in started if not any(log.message.startswith(f"codex turn {t}: turn ") for log in ed.logs)
    ]


async def running_turn(ed: Editor) -> str:
    """The id of the one turn running: its start is in the log, and ``codex.status`` lists it."""
    unfinished = await ed.until(lambda: unfinished_turns(ed))
    assert len(unfinished) == 1, f"one turn started, not {unfinished}"
    assert unfinished == (await ed.execute("codex.status"))["runningTurns"]
    return str(unfinished[0])


def interrupted_in_log(ed: Editor, turn_id: str) -> bool:
    return any(f"codex turn {turn_id}: turn interrupted" in log.message for log in ed.logs)


UNDEFINED = {
    "range": {"start": {"line": 1, "character": 22}, "end": {"line": 1, "character": 25}},
    "message": "Undefined name `nam`",
    "source": "ruff",
    "code": "F821",
}


async def start_stuck_turn(
    ed: Editor, fake: FakeResponsesServer, name: str, msg_id: str, command: str = "codex.ask"
) -> tuple[asyncio.Future[Any], str]:
    """``command`` (``codex.ask``, or ``codex.fixDiagnostics`` on the undefined name) running a turn
    stuck after its patch call was streamed."""
    path = f"{name}/app.py"
    ed.write(path, APP)
    uri = ed.open(path)
    load(fake, [stuck_turn(path)])
    edits, mark = len(ed.edits), len(fake.emitted)
    if command == "codex.fixDiagnostics":
        arguments: dict[str, Any] = {"uri": uri, "diagnostics": [UNDEFINED]}
    else:
        arguments = {"prompt": "fix", "uri": uri}
    future = ed.start(command, arguments, msg_id=f"{msg_id}-{ed.profile}")
    turn_id = await running_turn(ed)
    # Both output items (the message and the patch call) have been streamed; then silence.
    await served(
        fake, lambda: [e["type"] for _, e in fake.emitted[mark:]].count("response.output_item.done") == 2
    )
    assert len(ed.edits) == edits
    return future, turn_id


def assert_no_edit(ed: Editor, name: str, edits_before: int) -> None:
    assert len(ed.edits) == edits_before, "no edit after the cancel"
    assert ed.text(f"{name}/app.py") == APP


async def test_cancel_request(ed: Editor, fake: FakeResponsesServer) -> None:
    edits = len(ed.edits)
    future, turn_id = await start_stuck_turn(ed, fake, "cancel-request", "cancel")
    ed.client.cancel_request(types.CancelParams(id=f"cancel-{ed.profile}"))
    with pytest.raises(JsonRpcRequestCancelled):
        await future
    await ed.until(lambda: interrupted_in_log(ed, turn_id), seconds=PROMPT)
    assert (await ed.execute("codex.status"))["runningTurns"] == []
    assert_no_edit(ed, "cancel-request", edits)


async def test_cancel_request_of_a_fix(ed: Editor, fake: FakeResponsesServer) -> None:
    """A "Fix with Codex" is cancelled as ``codex.ask`` is: its turn ends interrupted, nothing edited."""
    edits = len(ed.edits)
    future, turn_id = await start_stuck_turn(ed, fake, "cancel-fix", "cancel-fix", "codex.fixDiagnostics")
    ed.client.cancel_request(types.CancelParams(id=f"cancel-fix-{ed.profile}"))
    with pytest.raises(JsonRpcRequestCancelled):
        await future
    await ed.until(lambda: interrupted_in_log(ed, turn_id), seconds=PROMPT)
    assert (await ed.execute("codex.status"))["runningTurns"] == []
    assert_no_edit(ed, "cancel-fix", edits)


async def test_progress_cancel(ed: Editor, fake: FakeResponsesServer) -> None:
    if ed.profile == "minimal":
        pytest.skip("the minimal client has no work-done progress to cancel")
    edits = len(ed.edits)
    future, turn_id = await start_stuck_turn(ed, fake, "progress-cancel", "progress")
    token = f"codex-turn-{turn_id}"
    await ed.until(lambda: ed.client.progress_reports.get(token))
    ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    async with asyncio.timeout(PROMPT):
        result = await future
    assert result["status"] == "interrupted"
    assert result["turnId"] == turn_id
    end = ed.client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd)
    assert end.message == "interrupted"
    assert_no_edit(ed, "progress-cancel", edits)


async def test_interrupt_command(ed: Editor, fake: FakeResponsesServer) -> None:
    edits = len(ed.edits)
    future, turn_id = await start_stuck_turn(ed, fake, "interrupt", "interrupt")
    assert await ed.execute("codex.interrupt", {"turnId": turn_id}) == {"interrupted": [turn_id]}
    # The turn's end reached the editor before the interrupt's answer (lsp-mode drops messages read
    # together with an answer it waits for).
    assert future.done()
    async with asyncio.timeout(PROMPT):
        result = await future
    assert result["status"] == "interrupted"
    assert result["changedFiles"] == []
    assert_no_edit(ed, "interrupt", edits)
    assert await ed.execute("codex.interrupt", {}) == {"interrupted": []}


RACING_FIX = (
    "*** Begin Patch\n*** Update File: {folder}/app.py\n@@\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)


async def interrupted_while_held(ed: Editor, fake: FakeResponsesServer, folder: str) -> asyncio.Future[Any]:
    """A ``codex.ask`` whose turn is interrupted while the editor holds the edit it sent; the editor then
    answers as ``ed.apply_mode`` says once ``ed.release`` is set."""
    ed.write(f"{folder}/app.py", APP)
    uri = ed.open(f"{folder}/app.py")
    load(fake, [patch(RACING_FIX.format(folder=folder)), say("never requested")])
    ed.apply_mode = "hold"
    future = ed.start("codex.ask", {"prompt": "fix", "uri": uri}, msg_id=f"{folder}-{ed.profile}")
    await ed.until(ed.edit_arrived.is_set)
    turn_id = await running_turn(ed)
    assert await ed.execute("codex.interrupt", {"turnId": turn_id}) == {"interrupted": [turn_id]}
    # The interrupt answers once the turn has ended (its answer then came first, as in
    # test_interrupt_command) or after its grace: a turn that did not wait would be answered by now.
    assert not future.done(), "the turn must wait for the editor's answer"
    return future


async def test_an_interrupt_while_the_editor_applies_keeps_the_edit(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    """The edit was already sent: the turn waits for the editor's answer, reports the change as made,
    and makes no further model request."""
    future = await interrupted_while_held(ed, fake, "racing")
    ed.apply_mode = "apply"
    ed.release.set()
    async with asyncio.timeout(PROMPT):
        result = await future
    assert result["status"] == "interrupted"
    assert result["changedFiles"] == ["racing/app.py"]
    assert ed.text("racing/app.py") == APP.replace("+ nam\n", "+ name\n")
    assert fake.pending_steps == 1, "no model request after the interrupt"


async def test_an_error_answer_after_an_interrupt_is_an_edit_not_applied(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    """The editor answers the edit sent before the interrupt with a JSON-RPC error: nothing is reported
    changed, and the user is told the editor's error (the model is not asked again)."""
    future = await interrupted_while_held(ed, fake, "racing-error")
    before = len(ed.client.messages)
    ed.apply_mode = "error"
    ed.release.set()
    async with asyncio.timeout(PROMPT):
        result = await future
    assert result["status"] == "interrupted"
    assert result["changedFiles"] == []
    assert ed.text("racing-error/app.py") == APP
    told = f"the editor did not apply the edit (the editor answered with an error: {EDIT_ERROR})"
    shown = [m.message for m in ed.client.messages[before:] if "did not apply the edit" in m.message]
    assert shown == [f"Codex: {told}; nothing was changed."]
    assert fake.pending_steps == 1, "no model request after the interrupt"


async def test_an_editor_silent_after_an_interrupt_is_given_up_on_after_the_grace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In process, with a short ``ANSWER_GRACE`` (the server would wait the full ten seconds): the edit
    was sent, the turn interrupted, and the editor never answers; after the grace the edit counts as
    not applied, and the model and the user are told the editor did not answer."""
    monkeypatch.setattr(applier, "ANSWER_GRACE", 0.05)
    sent = asyncio.Event()
    unanswered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def send_request_async(method: str, params: Any) -> asyncio.Future[Any]:
        sent.set()
        return unanswered

    shown: list[str] = []
    server = SimpleNamespace(
        protocol=SimpleNamespace(send_request_async=send_request_async),
        show=lambda message, kind=None: shown.append(message),
    )
    lsp = applier.LspApplier(
        cast("CodexServer", server), cast("LspWorkspace", SimpleNamespace(root=tmp_path))
    )
    edit = EditPlan(types.WorkspaceEdit(changes={}), (), {})
    carrying = asyncio.ensure_future(lsp._carry_out(edit, "Codex: fix"))
    async with asyncio.timeout(WAIT):
        await sent.wait()
    carrying.cancel()  # the interrupt, while the edit is out
    async with asyncio.timeout(WAIT):
        outcome = await carrying
    told = "the editor did not apply the edit (the editor did not answer after the turn was interrupted)"
    assert outcome == ApplyOutcome(applied=False, message=f"{told}.")
    assert shown == [f"Codex: {told}; nothing was changed."]
