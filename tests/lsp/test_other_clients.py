"""Editors that are not ours (ALE, coc.nvim, lsp-mode, a browser editor), as the server sees them: no
``workspace/applyEdit`` (refused up front, or the disk / diff fallbacks), answers shown where they can
see them, commands that answer at once for clients that time out, friendly arguments, and cancel.

Each test starts its own server with the capabilities of such a client (the real clients are driven
in ``tests/editors``)."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import WAIT, Editor, editor_session, load, outputs, patch, say, user_texts
from tests.lsp.test_cancel import running_turn, stuck_turn

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIXED = APP.replace("+ nam\n", "+ name\n")
FIX = (
    "*** Begin Patch\n*** Update File: app.py\n@@ def greet(name):\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)
DOCSTRING = (
    '*** Begin Patch\n*** Update File: app.py\n@@\n def greet(name):\n+    """Greet."""\n'
    "     return 'hello ' + name\n*** End Patch"
)
UNDEFINED = types.Diagnostic(
    range=types.Range(types.Position(1, 26), types.Position(1, 23)),  # as ALE sends it: end first
    message="F821 undefined name 'nam'",
    source="flake8",
)
NO_EDITS = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(did_save=True)
    ),
)
"""ALE 3.3: no ``workspace/applyEdit``, no progress, no ``window/showDocument``."""


def generic(*, show_document: bool = False, progress: bool = False) -> types.ClientCapabilities:
    """A client that applies edits but is not ours (no ``experimental.codex``)."""
    window = types.WindowClientCapabilities(
        work_done_progress=progress,
        show_document=types.ShowDocumentClientCapabilities(support=True) if show_document else None,
    )
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(apply_edit=True),
        window=window,
    )


LSP_MODE = types.ClientInfo(name="emacs", version="28.2")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeResponsesServer]:
    async with FakeResponsesServer() as server:
        yield server


@asynccontextmanager
async def client(
    tmp_path: Path,
    fake: FakeResponsesServer,
    caps: types.ClientCapabilities,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> AsyncIterator[Editor]:
    init = {"codex": settings} if settings else None
    async with editor_session(tmp_path, fake, "minimal", caps=caps, init_options=init, **options) as ed:
        ed.write("app.py", APP)
        yield ed


def shown(ed: Editor, kind: types.MessageType | None = None) -> list[str]:
    return [m.message for m in ed.client.messages if kind is None or m.type == kind]


async def execute(ed: Editor, command: str, arguments: list[Any]) -> Any:
    params = types.ExecuteCommandParams(command=command, arguments=arguments)
    return await ed.client.workspace_execute_command_async(params)


def read(path: Path) -> str:
    return path.read_text()


def on_disk(ed: Editor) -> str:
    return read(ed.root / "app.py")


# -- 1. an editor that cannot apply edits ------------------------------------------------------------


async def test_no_apply_edit_is_refused_before_any_model_request(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with client(tmp_path, fake, NO_EDITS) as ed:
        uri = ed.open("app.py")
        load(fake, [patch(FIX), say("Fixed.")])
        before = len(fake.requests)
        diagnostic = {
            "range": {"start": {"line": 1, "character": 26}, "end": {"line": 1, "character": 23}},
            "message": UNDEFINED.message,
        }
        for command, arguments in (
            ("codex.ask", {"prompt": "fix the typo", "uri": uri}),
            ("codex.fixDiagnostics", {"uri": uri, "diagnostics": [diagnostic]}),
            ("codex.ask", {"prompt": "no file at all"}),
        ):
            with pytest.raises(JsonRpcException) as caught:
                await ed.execute(command, arguments)
            assert caught.value.code == types.LSPErrorCodes.RequestFailed, command
            assert "this editor cannot apply edits" in caught.value.message
            assert "codex.editFallback" in caught.value.message
        assert len(fake.requests) == before, "nothing was asked of the model"
        errors = await ed.until(lambda: shown(ed, types.MessageType.Error))
        assert "cannot apply edits" in errors[0]
        assert on_disk(ed) == APP
        with pytest.raises(JsonRpcException) as bad:  # a bad argument is still that, first
            await ed.execute("codex.ask", {"prompt": "x", "uri": "file:///nowhere/x.py"})
        assert bad.value.code == types.ErrorCodes.InvalidParams
        ed.configure({"asyncCommands": True})  # answering at once changes nothing to this
        with pytest.raises(JsonRpcException) as at_once:
            await ed.execute("codex.ask", {"prompt": "fix the typo", "uri": uri})
        assert at_once.value.code == types.LSPErrorCodes.RequestFailed
        assert len(fake.requests) == before


async def test_the_disk_fallback_writes_and_the_next_patch_builds_on_it(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with client(tmp_path, fake, NO_EDITS, {"editFallback": "disk"}) as ed:
        uri = ed.open("app.py")
        load(fake, [patch(FIX), patch(DOCSTRING), say("Fixed and documented.")])
        result = await ed.execute("codex.ask", {"prompt": "fix it", "uri": uri})
        assert result["status"] == "completed", result
        assert result["changedFiles"] == ["app.py"]
        assert on_disk(ed) == FIXED.replace("):\n", '):\n    """Greet."""\n', 1)
        assert ed.edits == [], "no workspace/applyEdit to a client without it"
        assert any("Codex changed app.py on disk" in m for m in shown(ed, types.MessageType.Info))


async def test_the_disk_fallback_never_writes_over_unsaved_text(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with client(tmp_path, fake, NO_EDITS, {"editFallback": "disk"}) as ed:
        uri = ed.open("app.py")
        ed.type_text("app.py", "# not saved yet\n" + APP)
        load(fake, [patch(FIX), say("Tried.")])
        result = await ed.execute("codex.ask", {"prompt": "fix it", "uri": uri})
        assert result["changedFiles"] == []
        assert on_disk(ed) == APP
        told = "app.py has changes the editor has not saved; save or revert it and try again."
        assert any(told in o for o in outputs(fake))


async def test_a_disk_write_that_fails_part_way_changes_nothing(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """The fix of app.py is staged, then the new file cannot be (its temporary name is too long for
    the file system): nothing is written, the model reads why, and the editor is told nothing."""
    long_name = "n" * 240 + ".py"
    async with client(tmp_path, fake, NO_EDITS, {"editFallback": "disk"}) as ed:
        uri = ed.open("app.py")
        fix_and_add = FIX.replace("*** End Patch", f"*** Add File: {long_name}\n+x = 1\n*** End Patch")
        load(fake, [patch(fix_and_add), say("Could not write it.")])
        result = await ed.execute("codex.ask", {"prompt": "fix it", "uri": uri})
        assert result["status"] == "completed", result
        assert result["changedFiles"] == []
        assert sorted(os.listdir(ed.root)) == ["app.py"], "no file, no temporary file left"
        assert on_disk(ed) == APP
        told = outputs(fake)[-1]
        assert "Could not write the patch to disk (" in told
        assert "File name too long); no file was changed" in told
        assert not [m for m in shown(ed) if "Codex changed" in m]


async def test_the_disk_fallback_moves_onto_an_open_file_and_builds_on_it(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """A move onto a file open in the editor: the server reads that file as what it wrote (the
    editor has not reloaded it yet), so the next patch applies to the moved text."""
    async with client(tmp_path, fake, NO_EDITS, {"editFallback": "disk"}) as ed:
        ed.write("src.py", "one\ntwo\n")
        ed.write("dst.py", "old\n")
        uri = ed.open("app.py")
        ed.open("dst.py")
        fix_and_move = FIX.replace(
            "*** End Patch", "*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"
        )
        then = "*** Begin Patch\n*** Update File: dst.py\n@@\n uno\n-two\n+dos\n*** End Patch"
        load(fake, [patch(fix_and_move), patch(then), say("Moved and translated.")])
        result = await ed.execute("codex.ask", {"prompt": "move src.py over dst.py", "uri": uri})
        assert result["status"] == "completed", result
        assert sorted(result["changedFiles"]) == ["app.py", "dst.py", "src.py"], outputs(fake)
        assert (on_disk(ed), read(ed.root / "dst.py")) == (FIXED, "uno\ndos\n")
        assert not (ed.root / "src.py").exists()
        info = shown(ed, types.MessageType.Info)
        assert "Codex changed dst.py, app.py on disk; reload them in the editor." in info, info


async def test_files_with_unsaved_changes_are_not_deleted_or_moved_on_disk(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """A client that applies text edits but no file operations: the server deletes and moves files
    itself, on disk, so only while the disk holds what the editor shows."""
    async with client(tmp_path, fake, generic()) as ed:
        ed.write("old.py", "bye\n")
        ed.write("src.py", "one\n")
        for path in ("old.py", "src.py"):
            ed.open(path)
            ed.type_text(path, f"# unsaved\n{read(ed.root / path)}")
        delete = "*** Begin Patch\n*** Delete File: old.py\n*** End Patch"
        move = "*** Begin Patch\n*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"
        load(fake, [patch(delete), patch(move), say("Left them.")])
        result = await ed.execute("codex.ask", {"prompt": "tidy up"})
        assert result["status"] == "completed", result
        assert result["changedFiles"] == []
        assert (read(ed.root / "old.py"), read(ed.root / "src.py")) == ("bye\n", "one\n")
        assert not (ed.root / "dst.py").exists()
        assert ed.edits == []
        # The buffer is what stops them: the model is told to have it saved, not to read it again.
        told = outputs(fake)[-2:]
        assert [t.split(":", 1)[-1].strip() for t in told] == [
            "old.py has changes the editor has not saved; save or revert it and try again. No file was "
            "changed; read the files again and send a new patch.",
            "src.py has changes the editor has not saved; save or revert it and try again. No file was "
            "changed; read the files again and send a new patch.",
        ], told


async def test_the_diff_fallback_shows_the_diff_and_writes_nothing(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with client(tmp_path, fake, NO_EDITS, {"editFallback": "diff"}) as ed:
        uri = ed.open("app.py")
        load(fake, [patch(FIX), say("Here is the fix.")])
        result = await ed.execute("codex.ask", {"prompt": "fix it", "uri": uri})
        assert result["status"] == "completed", result
        assert result["proposalId"]
        assert on_disk(ed) == APP
        (answer,) = [m for m in shown(ed, types.MessageType.Info) if m.startswith("Codex: Here is")]
        assert "Proposed changes (nothing was written)" in answer
        assert "+    return 'hello ' + name" in answer


async def test_an_answer_to_an_edit_is_read_as_lsp_defines_it(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """A client writing its own JSON answer to ``workspace/applyEdit``: ``applied`` and the optional
    ``failureReason`` are read, other fields ignored; an answer without ``applied`` fails the edit."""
    cases: list[tuple[dict[str, Any], Literal["apply", "refuse"], str]] = [
        ({"applied": True, "vendorNote": "saved"}, "apply", "Exit code: 0"),
        (
            {"applied": False, "failureReason": "the buffer is locked", "failedChange": 0},
            "refuse",
            "apply_patch failed: the editor did not apply the edit (the buffer is locked).",
        ),
        (
            {"failureReason": "no applied field"},
            "refuse",
            "apply_patch failed: the editor did not apply the edit (the editor answered with an error: the "
            "client's answer does not parse).",
        ),
    ]
    async with client(tmp_path, fake, generic()) as ed:
        for n, (answer, mode, told) in enumerate(cases):
            path = f"app{n}.py"
            ed.write(path, APP)
            uri = ed.open(path)
            ed.apply_mode, ed.raw_answer = mode, answer
            load(fake, [patch(FIX.replace("app.py", path)), say("done")])
            result = await ed.execute("codex.ask", {"prompt": "fix", "uri": uri})
            assert result["changedFiles"] == ([path] if mode == "apply" else []), (answer, result)
            assert outputs(fake)[-1].startswith(told), (answer, outputs(fake)[-1])


# -- 4. answers where the editor shows them ----------------------------------------------------------


async def test_a_short_answer_is_a_message(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with client(tmp_path, fake, generic(show_document=True)) as ed:
        load(fake, [say("It greets someone.")])
        result = await ed.execute("codex.ask", {"prompt": "explain", "uri": ed.open("app.py")})
        assert result["message"] == "It greets someone."
        assert "Codex: It greets someone." in shown(ed, types.MessageType.Info)
        assert ed.client.shown_documents == []


async def test_a_long_answer_is_a_read_only_document(tmp_path: Path, fake: FakeResponsesServer) -> None:
    long = "\n".join(f"Line {n} of the explanation." for n in range(6))  # six lines: too many
    async with client(tmp_path, fake, generic(show_document=True)) as ed:
        load(fake, [say(long)])
        result = await ed.execute("codex.ask", {"prompt": "explain", "uri": ed.open("app.py")})
        (document,) = ed.client.shown_documents
        assert document.take_focus is True
        path = Path(to_fs_path(document.uri) or "")
        assert path == tmp_path / "state" / "answers" / f"{result['turnId']}.md"
        assert read(path) == long + "\n"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
        assert not [m for m in shown(ed) if "explanation" in m]


async def test_a_long_answer_is_a_whole_message_without_documents(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    long = "x" * 501
    async with client(tmp_path, fake, generic()) as ed:
        load(fake, [say(long)])
        await ed.execute("codex.ask", {"prompt": "explain", "uri": ed.open("app.py")})
        assert f"Codex: {long}" in shown(ed, types.MessageType.Info)


async def test_our_plugins_and_never_get_no_answer_message(tmp_path: Path, fake: FakeResponsesServer) -> None:
    ours = generic(show_document=True)
    ours.experimental = {"codex": {"streaming": True}}
    async with client(tmp_path / "ours", fake, ours) as ed:
        load(fake, [say("Streamed instead.")])
        await ed.execute("codex.ask", {"prompt": "explain", "uri": ed.open("app.py")})
        assert not [m for m in shown(ed) if "Streamed instead" in m]
    async with client(tmp_path / "never", fake, generic(), {"showAnswers": "never"}) as ed:
        load(fake, [say("Not shown.")])
        await ed.execute("codex.ask", {"prompt": "explain", "uri": ed.open("app.py")})
        assert not [m for m in shown(ed) if "Not shown" in m]
    async with client(tmp_path / "always", fake, ours, {"showAnswers": "always"}) as ed:
        load(fake, [patch(FIX), say("Shown anyway.")])
        await ed.execute("codex.ask", {"prompt": "fix", "uri": ed.open("app.py")})
        assert "Codex: Shown anyway.\n\nChanged: app.py" in shown(ed, types.MessageType.Info)


# -- 5. friendly arguments ---------------------------------------------------------------------------


async def test_string_arguments_and_null(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with client(tmp_path, fake, generic()) as ed:
        load(fake, [say("Added.")])
        result = await execute(ed, "codex.ask", ["add", "type", "hints"])
        assert result["status"] == "completed", result
        assert "add type hints" in user_texts(fake)[-1]
        assert "threads" in await execute(ed, "codex.threads", [None])
        assert await execute(ed, "codex.interrupt", [None]) == {"interrupted": []}
        assert await execute(ed, "codex.interrupt", ["no-such-turn"]) == {"interrupted": []}
        ed.open("app.py")
        load(fake, [stuck_turn("app.py")])
        running = asyncio.ensure_future(execute(ed, "codex.ask", ["fix", "it"]))
        turn_id = await running_turn(ed)
        assert await execute(ed, "codex.interrupt", [turn_id]) == {"interrupted": [turn_id]}
        assert (await running)["status"] == "interrupted"
        said = [
            m for m in shown(ed, types.MessageType.Info) if m.startswith("Codex: The turn was interrupted.")
        ]
        assert said == ["Codex: The turn was interrupted."], said


# -- 6. commands that answer at once ------------------------------------------------------------------


async def test_lsp_mode_gets_an_answer_at_once_and_cancels_by_progress(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with client(tmp_path, fake, generic(progress=True), client_info=LSP_MODE) as ed:
        uri = ed.open("app.py")
        load(fake, [stuck_turn("app.py")])
        async with asyncio.timeout(WAIT):  # the answer comes at once, while the turn is stuck
            started = await ed.execute("codex.ask", {"prompt": "fix it", "uri": uri})
        assert started["status"] == "started"
        token = f"codex-turn-{started['turnId']}"
        await ed.until(lambda: ed.client.progress_reports.get(token))
        assert (await ed.execute("codex.status"))["runningTurns"] == [started["turnId"]]
        ed.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        end = await ed.until(
            lambda: (
                isinstance(ed.client.progress_reports[token][-1], types.WorkDoneProgressEnd)
                and ed.client.progress_reports[token][-1]
            )
        )
        assert end.message == "interrupted"
        await ed.until(lambda: [m for m in shown(ed) if m.startswith("Codex: The turn was interrupted.")])
        assert ed.edits == []
        assert on_disk(ed) == APP

        load(fake, [patch(FIX), say("Fixed in the background.")])
        started = await ed.execute("codex.ask", {"prompt": "fix it", "uri": uri})
        assert started["status"] == "started"
        answer = "Codex: Fixed in the background.\n\nChanged: app.py"
        await ed.until(lambda: answer in shown(ed, types.MessageType.Info))
        assert ed.text("app.py") == FIXED

        with pytest.raises(JsonRpcException):  # a bad argument is still this request's error
            await ed.execute("codex.ask", {"prompt": ""})
        await ed.execute("codex.ask", {"prompt": "x", "uri": "file:///nowhere/x.py"})
        await ed.until(lambda: any("unknown document" in m for m in shown(ed, types.MessageType.Error)))


async def test_async_commands_can_be_chosen_either_way(tmp_path: Path, fake: FakeResponsesServer) -> None:
    async with client(
        tmp_path / "off", fake, generic(), {"asyncCommands": False}, client_info=LSP_MODE
    ) as ed:
        load(fake, [say("Waited for.")])
        result = await ed.execute("codex.ask", {"prompt": "hello"})
        assert result["status"] == "completed"
    async with client(tmp_path / "on", fake, generic(), {"asyncCommands": True}) as ed:
        load(fake, [say("Not waited for.")])
        result = await ed.execute("codex.ask", {"prompt": "hello"})
        assert result["status"] == "started"
        await ed.until(lambda: "Codex: Not waited for." in shown(ed))


async def test_a_fix_for_an_inverted_diagnostic_reads_it_in_order(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """ALE's flake8 diagnostics without an end column end at 0:0, before they start; the fix names
    where the problem starts and marks that line only, not every line before it."""
    async with client(tmp_path, fake, generic()) as ed:
        uri = ed.open("app.py")
        load(fake, [patch(FIX), say("Fixed.")])
        diagnostic = {
            "range": {"start": {"line": 1, "character": 23}, "end": {"line": 0, "character": 0}},
            "message": UNDEFINED.message,
            "source": "flake8",
        }
        result = await execute(ed, "codex.fixDiagnostics", [{"uri": uri, "diagnostics": [diagnostic]}])
        assert result["status"] == "completed", result
        prompt = user_texts(fake)[-1]
        assert "app.py 2:24-2:24: problem: F821 undefined name 'nam'" in prompt, prompt
        assert "> 2 |     return 'hello ' + nam" in prompt
        assert "> 1 |" not in prompt


COC = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        apply_edit=True,
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[
                types.ResourceOperationKind.Create,
                types.ResourceOperationKind.Rename,
                types.ResourceOperationKind.Delete,
            ],
        ),
    ),
    window=types.WindowClientCapabilities(
        work_done_progress=True, show_document=types.ShowDocumentClientCapabilities(support=True)
    ),
)
"""What coc.nvim 0.0.82 declares that matters here (its language client's ``computeClientCapabilities``):
coc.nvim itself cannot be installed from a registry this project reaches, so it is not driven for real."""


async def test_coc_nvim_as_it_declares_itself(tmp_path: Path, fake: FakeResponsesServer) -> None:
    """``:CocCommand codex.ask explain greet`` sends the words as string arguments; coc shows neither
    the command's result nor our notifications, but opens documents and echoes messages."""
    coc = types.ClientInfo(name="coc.nvim", version="0.0.82")
    long = "\n".join(f"Step {n}: what greet does." for n in range(8))
    async with client(tmp_path, fake, COC, client_info=coc) as ed:
        load(fake, [say(long)])
        result = await execute(ed, "codex.ask", ["explain", "greet"])
        assert result["status"] == "completed", result  # coc waits: no answer at once
        assert "explain greet" in user_texts(fake)[-1]
        (document,) = ed.client.shown_documents
        assert document.uri.endswith(f"/answers/{result['turnId']}.md")
