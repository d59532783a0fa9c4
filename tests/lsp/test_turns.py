"""Turns through the server, end to end, under every capability profile: ask, fix (from a request's
diagnostic, from one only ``codex/didChangeDiagnostics`` reported, and "Fix all"), positions in the negotiated
encoding, file operations, refused and conflicting edits, parallel turns, turn state, streaming,
threads, status and errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import (
    EDIT_ERROR,
    KEY,
    Editor,
    call,
    capabilities,
    editor_session,
    load,
    outputs,
    patch,
    say,
    user_texts,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIXED = APP.replace("+ nam\n", "+ name\n")
FIX = (
    "*** Begin Patch\n*** Update File: {path}\n@@ def greet(name):\n-    return 'hello ' + nam\n"
    "+    return 'hello ' + name\n*** End Patch"
)
UNDEFINED = types.Diagnostic(
    range=types.Range(types.Position(1, 23), types.Position(1, 26)),
    message="Undefined name `nam`",
    severity=types.DiagnosticSeverity.Error,
    source="ruff",
    code="F821",
)


def fixed(path: str) -> str:
    return FIX.format(path=path)


def command_of(action: types.CodeAction | types.Command) -> types.Command:
    if isinstance(action, types.Command):
        return action
    assert action.command is not None
    return action.command


async def code_actions(
    ed: Editor, uri: str, rng: types.Range, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction | types.Command]:
    context = types.CodeActionContext(
        diagnostics=diagnostics, trigger_kind=types.CodeActionTriggerKind.Invoked
    )
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=rng, context=context
    )
    return list(await ed.client.text_document_code_action_async(params) or [])


async def run(ed: Editor, command: types.Command) -> Any:
    params = types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
    return await ed.client.workspace_execute_command_async(params)


async def test_ask_end_to_end(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("ask/app.py", APP)
    uri = ed.open("ask/app.py")
    load(fake, [patch(fixed("ask/app.py")), say("Fixed the typo.")])
    result = await ed.execute("codex.ask", {"prompt": "fix the typo", "uri": uri})
    assert result["status"] == "completed", result
    assert result["message"] == "Fixed the typo."
    assert result["changedFiles"] == ["ask/app.py"]
    assert result["usage"]["totalTokens"] == 240
    assert set(result) == {"threadId", "turnId", "status", "message", "changedFiles", "usage"}
    assert ed.text("ask/app.py") == FIXED
    assert ed.edits[-1].label == "Codex: ask/app.py"
    assert "fix the typo" in user_texts(fake)[-1]
    assert "ask/app.py" in user_texts(fake)[-1], "the active file is named in the editor context"


async def test_fix_from_a_diagnostic_in_the_request_context(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("ctx/app.py", APP)
    uri = ed.open("ctx/app.py")
    actions = await code_actions(ed, uri, UNDEFINED.range, [UNDEFINED])
    (fix,) = [a for a in actions if a.title == "Fix with Codex: Undefined name `nam`"]
    load(fake, [patch(fixed("ctx/app.py")), say("done")])
    notified = len(ed.notifications)
    result = await run(ed, command_of(fix))
    assert result["status"] == "completed", result
    if ed.profile == "vscode":
        (started,) = [p for m, p in ed.notifications[notified:] if m == "codex/turn/started"]
        assert started.title == "Fix: Undefined name `nam`"
    assert ed.text("ctx/app.py") == FIXED
    prompt = user_texts(fake)[-1]
    for needle in ("Undefined name `nam`", "F821", "ruff", "return 'hello ' + nam"):
        assert needle in prompt, needle


async def test_fix_from_a_diagnostic_only_the_plugin_reported(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("plugin/app.py", APP)
    uri = ed.open("plugin/app.py")
    diagnostic = get_converter().unstructure(UNDEFINED)
    ed.client.protocol.notify(
        "codex/didChangeDiagnostics", {"uri": uri, "version": 1, "diagnostics": [diagnostic]}
    )
    cursor = types.Range(types.Position(1, 24), types.Position(1, 24))
    actions = await code_actions(ed, uri, cursor, [])  # the context carries only our own: none
    titles = [a.title for a in actions]
    assert "Fix with Codex: Undefined name `nam`" in titles
    assert "Codex: fix the problems on this line" not in titles
    load(fake, [patch(fixed("plugin/app.py")), say("done")])
    result = await run(ed, command_of(actions[titles.index("Fix with Codex: Undefined name `nam`")]))
    assert result["status"] == "completed", result
    assert ed.text("plugin/app.py") == FIXED
    assert "Undefined name `nam`" in user_texts(fake)[-1]


MESSY = "import os\n\n\ndef greet(name):\n    return 'hello ' + nam\n\n\ncount: int = 'one'\n"
TIDY = "def greet(name):\n    return 'hello ' + name\n\n\ncount: int = 1\n"
TIDY_UP = (
    "*** Begin Patch\n*** Update File: all/app.py\n@@\n-import os\n-\n-\n def greet(name):\n"
    "-    return 'hello ' + nam\n+    return 'hello ' + name\n@@\n-count: int = 'one'\n+count: int = 1\n"
    "*** End Patch"
)
THREE_PROBLEMS = [
    types.Diagnostic(
        range=types.Range(types.Position(0, 7), types.Position(0, 9)),
        message="`os` imported but unused",
        severity=types.DiagnosticSeverity.Warning,
        source="ruff",
        code="F401",
    ),
    types.Diagnostic(
        range=types.Range(types.Position(4, 22), types.Position(4, 25)),
        message="Undefined name `nam`",
        severity=types.DiagnosticSeverity.Error,
        source="ruff",
        code="F821",
    ),
    types.Diagnostic(
        range=types.Range(types.Position(7, 13), types.Position(7, 18)),
        message='Type "Literal[\'one\']" is not assignable to declared type "int"',
        severity=types.DiagnosticSeverity.Error,
        source="Pyright",
        code="reportAssignmentType",
    ),
]


async def test_fix_all_end_to_end(ed: Editor, fake: FakeResponsesServer) -> None:
    """The "Fix all 3 problems in this file" action, from diagnostics only the plugin reported: the model is
    given every one of them (message, code, place, line), and its patch lands in the editor."""
    ed.write("all/app.py", MESSY)
    uri = ed.open("all/app.py")
    reported = [get_converter().unstructure(d) for d in THREE_PROBLEMS]
    ed.client.protocol.notify(
        "codex/didChangeDiagnostics", {"uri": uri, "version": 1, "diagnostics": reported}
    )
    cursor = types.Range(types.Position(4, 24), types.Position(4, 24))
    actions = await code_actions(ed, uri, cursor, [])
    (fix_all,) = [a for a in actions if a.title == "Fix all 3 problems in this file with Codex"]
    load(fake, [patch(TIDY_UP), say("Tidied up.")])
    result = await run(ed, command_of(fix_all))
    assert result["status"] == "completed", result
    assert result["changedFiles"] == ["all/app.py"]
    assert ed.text("all/app.py") == TIDY
    prompt = user_texts(fake)[-1]
    assert "Fix these 3 problems reported by the editor." in prompt
    for d, place, line in zip(
        THREE_PROBLEMS,
        ("all/app.py 1:8-1:10", "all/app.py 5:23-5:26", "all/app.py 8:14-8:19"),
        ("import os", "    return 'hello ' + nam", "count: int = 'one'"),
        strict=True,
    ):
        assert d.message in prompt, d.message
        assert str(d.code) in prompt, d.code
        assert place in prompt, place
        assert line in prompt, line


async def test_positions_in_the_negotiated_encoding(ed: Editor, fake: FakeResponsesServer) -> None:
    """Emoji (two UTF-16 units, four bytes), CJK (three bytes) and a combining accent precede the
    change on its line; the editor applies the edit with its own arithmetic in its encoding."""
    line = "s = '😀漢e\u0301' + nam\r\n"
    ed.write("utf/app.py", "x = 1\r\n" + line)
    uri = ed.open("utf/app.py")
    load(
        fake,
        [
            patch(
                "*** Begin Patch\n*** Update File: utf/app.py\n@@\n-"
                + line[:-2]
                + "\n+"
                + line[:-2]
                + "e\n*** End Patch"
            ),
            say("done"),
        ],
    )
    result = await ed.execute("codex.ask", {"prompt": "fix", "uri": uri})
    assert result["status"] == "completed", result
    assert ed.text("utf/app.py") == "x = 1\r\n" + line.replace("nam\r\n", "name\r\n")
    (edit,) = [e for e in _text_edits(ed.edits[-1].edit)]
    expected = {"utf-16": 17, "utf-8": 22, "utf-32": 16}[ed.encoding]
    assert edit.range.start == types.Position(1, expected), "a minimal edit right after `nam`"
    assert edit.new_text == "e"


WIDE = "# 注释 😀\ns = '😀漢e\u0301' + nam\nt = '字' * 2\n"
TYPED = "# 注释 😀👍\ns = '😀漢字😀e\u0301' + nam\nt = '字字' * 3\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
async def test_incremental_changes_in_the_negotiated_encoding(
    tmp_path: Path, fake: FakeResponsesServer, encoding: str
) -> None:
    """The user types after emoji and CJK characters, as editors report it: incremental changes
    whose ranges count in the negotiated encoding, several in one ``didChange``, one across a line
    break. The turn's patch quotes the lines as typed: it only matches if the server's copy of the
    buffer is the editor's."""
    caps = capabilities("vscode")
    caps.general = types.GeneralClientCapabilities(position_encodings=[encoding])
    async with editor_session(tmp_path, fake, "vscode", caps=caps) as ed:
        assert ed.encoding == encoding
        ed.write("wide.py", WIDE)
        uri = ed.open("wide.py")
        ed.type_at("wide.py", [("漢", "漢字😀"), ("'字' * 2", "'字字' * 3")])
        ed.type_at("wide.py", [("😀\ns", "😀👍\ns")])
        assert ed.text("wide.py") == TYPED
        quoted = TYPED.splitlines()
        load(
            fake,
            [
                patch(
                    f"*** Begin Patch\n*** Update File: wide.py\n@@\n {quoted[0]}\n-{quoted[1]}\n"
                    f"+{quoted[1]}e\n {quoted[2]}\n*** End Patch"
                ),
                say("done"),
            ],
        )
        result = await ed.execute("codex.ask", {"prompt": "fix", "uri": uri})
        assert result["status"] == "completed", result
        assert result["changedFiles"] == ["wide.py"], outputs(fake)[-1]
        assert ed.text("wide.py") == TYPED.replace("+ nam\n", "+ name\n")


async def test_an_edit_never_ends_inside_a_crlf_pair(ed: Editor, fake: FakeResponsesServer) -> None:
    """A CRLF file whose first line ends in LF alone: the patch engine writes changed lines with the
    first line's ending, so ``b = 2\\r\\n`` becomes ``b = 20\\n`` — the characters that change are
    ``\\r`` → ``0``, an edit ending between ``\\r`` and ``\\n``. No LSP position lies there (it would
    mean the end of the line, before the ``\\r``), so the edit must take the whole pair."""
    ed.write("crlf/app.py", "x = 1\nb = 2\r\nc = 3\r\n")
    uri = ed.open("crlf/app.py")
    load(
        fake,
        [
            patch(
                "*** Begin Patch\n*** Update File: crlf/app.py\n@@\n x = 1\n-b = 2\n+b = 20\n*** End Patch"
            ),
            say("done"),
        ],
    )
    result = await ed.execute("codex.ask", {"prompt": "twenty", "uri": uri})
    assert result["status"] == "completed", result
    assert ed.text("crlf/app.py") == "x = 1\nb = 20\nc = 3\r\n"
    (edit,) = _text_edits(ed.edits[-1].edit)
    assert (edit.range, edit.new_text) == (types.Range(types.Position(1, 5), types.Position(2, 0)), "0\n")


def _text_edits(edit: types.WorkspaceEdit) -> list[Any]:
    found: list[Any] = []
    for op in edit.document_changes or []:
        if isinstance(op, types.TextDocumentEdit):
            found.extend(op.edits)
    for edits in (edit.changes or {}).values():
        found.extend(edits)
    return found


FILE_OPS = (
    "*** Begin Patch\n*** Add File: ops/new.py\n+hello\n*** Add File: ops/empty.py\n"
    "*** Delete File: ops/old.py\n"
    "*** Update File: ops/src.py\n*** Move to: ops/dst.py\n@@\n-one\n+uno\n*** End Patch"
)


def _file_operations(
    edit: types.WorkspaceEdit,
) -> list[types.CreateFile | types.RenameFile | types.DeleteFile]:
    return [
        op
        for op in edit.document_changes or []
        if isinstance(op, types.CreateFile | types.RenameFile | types.DeleteFile)
    ]


async def test_create_rename_delete(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("ops/old.py", "bye\n")
    ed.write("ops/src.py", "one\ntwo\n")
    ed.open("ops/src.py")
    sent_before = len(ed.edits)
    load(fake, [patch(FILE_OPS), say("done")])
    result = await ed.execute("codex.ask", {"prompt": "reorganise"})
    assert result["status"] == "completed", result
    assert sorted(result["changedFiles"]) == [
        "ops/dst.py",
        "ops/empty.py",
        "ops/new.py",
        "ops/old.py",
        "ops/src.py",
    ]
    assert ed.text("ops/new.py") == "hello\n"
    assert ed.text("ops/empty.py") == "", "an added file without lines is empty"
    assert ed.text("ops/dst.py") == "uno\ntwo\n"
    assert not (ed.root / "ops/old.py").exists()
    assert not (ed.root / "ops/src.py").exists()
    sent = ed.edits[sent_before:]
    if ed.profile == "minimal":  # no resource operations: the server wrote them itself
        assert sent == []
        assert (ed.root / "ops/new.py").read_text() == "hello\n"
        assert (ed.root / "ops/empty.py").read_text() == ""
    else:
        operations = _file_operations(sent[0].edit)
        assert {"CreateFile", "RenameFile", "DeleteFile"} == {type(op).__name__ for op in operations}
        (rename,) = [op for op in operations if isinstance(op, types.RenameFile)]
        assert rename.options is None, "nothing at the destination: nothing to overwrite"
        # An editor that groups changes by annotation (VS Code's refactor preview) gets every
        # operation under the turn's label; one without annotation support gets none.
        annotation = "codex" if ed.profile == "vscode" else None
        assert [op.annotation_id for op in operations] == [annotation] * len(operations)


async def test_a_move_onto_an_existing_file_replaces_it(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("over/src.py", "one\ntwo\n")
    ed.write("over/dst.py", "old\n")
    sent_before = len(ed.edits)
    move = (
        "*** Begin Patch\n*** Update File: over/src.py\n*** Move to: over/dst.py\n@@\n-one\n+uno\n"
        "*** End Patch"
    )
    load(fake, [patch(move), say("done")])
    result = await ed.execute("codex.ask", {"prompt": "replace dst.py with src.py"})
    assert result["status"] == "completed", result
    assert ed.text("over/dst.py") == "uno\ntwo\n"
    assert not (ed.root / "over/src.py").exists()
    if ed.profile != "minimal":  # the editor is told it may overwrite (else it must refuse the rename)
        (rename,) = _file_operations(ed.edits[sent_before].edit)
        assert isinstance(rename, types.RenameFile)
        assert rename.options == types.RenameFileOptions(overwrite=True)


async def test_an_edit_the_editor_refuses(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("refuse/app.py", APP)
    ed.write("refuse/old.py", "bye\n")
    ed.write("refuse/src.py", "one\ntwo\n")
    ed.write("refuse/two.py", "2\n")
    ed.write("refuse/taken.py", "taken\n")
    uri = ed.open("refuse/app.py")
    ed.apply_mode = "refuse"
    with_file_operations = fixed("refuse/app.py").replace(
        "*** End Patch",
        "*** Add File: refuse/new.py\n+x = 1\n*** Delete File: refuse/old.py\n"
        "*** Update File: refuse/src.py\n*** Move to: refuse/dst.py\n@@\n-one\n+uno\n"
        "*** Update File: refuse/two.py\n*** Move to: refuse/taken.py\n@@\n-2\n+two\n*** End Patch",
    )
    load(fake, [patch(with_file_operations), say("I could not change it.")])
    result = await ed.execute("codex.ask", {"prompt": "fix", "uri": uri})
    assert result["status"] == "completed"
    assert result["changedFiles"] == []
    # All or nothing: what the server wrote itself (a client without file operations) is undone.
    assert ed.text("refuse/app.py") == APP
    assert not (ed.root / "refuse/new.py").exists()
    assert ed.text("refuse/old.py") == "bye\n"
    assert ed.text("refuse/src.py") == "one\ntwo\n"
    assert not (ed.root / "refuse/dst.py").exists()
    assert (ed.text("refuse/two.py"), ed.text("refuse/taken.py")) == ("2\n", "taken\n"), (
        "a replaced file is back"
    )
    assert "the editor did not apply the edit (the user said no)" in outputs(fake)[-1]
    assert any("did not apply the edit" in m.message for m in ed.client.messages)


async def test_an_edit_the_editor_answers_with_an_error(ed: Editor, fake: FakeResponsesServer) -> None:
    """A JSON-RPC error in answer to ``workspace/applyEdit`` is an edit not applied: nothing is reported
    changed, and the model and the user are told the editor's error."""
    ed.write("error/app.py", APP)
    uri = ed.open("error/app.py")
    ed.apply_mode = "error"
    before = len(ed.client.messages)
    load(fake, [patch(fixed("error/app.py")), say("I could not change it.")])
    result = await ed.execute("codex.ask", {"prompt": "fix", "uri": uri})
    assert result["status"] == "completed"
    assert result["changedFiles"] == []
    assert ed.text("error/app.py") == APP
    told = f"the editor did not apply the edit (the editor answered with an error: {EDIT_ERROR})"
    assert told in outputs(fake)[-1]
    shown = [m.message for m in ed.client.messages[before:] if "did not apply the edit" in m.message]
    assert shown == [f"Codex: {told}; nothing was changed."]


async def test_a_file_operation_the_server_cannot_write_is_an_edit_not_applied(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    """For a client without file operations the server writes them on disk itself; when that write fails
    (a new file under a path that is a file), nothing is sent or changed and the model is told why."""
    if ed.profile != "minimal":
        pytest.skip("this client creates files itself")
    ed.write("unwritable/app.py", APP)
    ed.write("unwritable/blocker", "a file, not a folder\n")
    uri = ed.open("unwritable/app.py")
    sent = len(ed.edits)
    add = "*** Add File: unwritable/blocker/new.py\n+x = 1\n*** End Patch"
    load(fake, [patch(fixed("unwritable/app.py").replace("*** End Patch", add)), say("It failed.")])
    result = await ed.execute("codex.ask", {"prompt": "fix", "uri": uri})
    assert result["status"] == "completed"
    assert result["changedFiles"] == []
    assert len(ed.edits) == sent, "nothing was sent to the editor"
    assert ed.text("unwritable/app.py") == APP
    assert ed.text("unwritable/blocker") == "a file, not a folder\n"
    told = outputs(fake)[-1]
    why = "Could not prepare the patch (unwritable/blocker/new.py: "
    assert told.startswith(f"apply_patch failed: {why}"), told
    assert "); no file was changed." in told


@pytest.mark.parametrize(
    ("operation", "written", "there"),
    [
        ("*** Add File: {folder}/new.py\n+x = 1\n", "new.py", False),
        ("*** Update File: {folder}/src.py\n*** Move to: {folder}/dst.py\n@@\n-one\n+uno\n", "dst.py", False),
        (
            "*** Update File: {folder}/src.py\n*** Move to: {folder}/over.py\n@@\n-one\n+uno\n",
            "over.py",
            True,
        ),
    ],
    ids=["added-file", "move-destination", "move-over-a-file"],
)
async def test_undoing_a_refused_edit_keeps_what_the_user_wrote_meanwhile(
    ed: Editor, fake: FakeResponsesServer, operation: str, written: str, there: bool
) -> None:
    """While the editor holds the edit, the user writes a file the server created (or, for a move onto
    a file, replaced) for it: when the editor then refuses, undoing the server's writes leaves the
    user's file alone."""
    folder = f"undo-{written.removesuffix('.py')}"
    ed.write(f"{folder}/app.py", APP)
    ed.write(f"{folder}/src.py", "one\ntwo\n")
    if there:
        ed.write(f"{folder}/{written}", "replaced by the move\n")
    uri = ed.open(f"{folder}/app.py")
    edit = fixed(f"{folder}/app.py").replace(
        "*** End Patch", operation.format(folder=folder) + "*** End Patch"
    )
    load(fake, [patch(edit), say("I could not change it.")])
    ed.apply_mode = "hold"
    before = len(ed.client.messages)
    task = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "fix", "uri": uri}))
    await ed.until(ed.edit_arrived.is_set)
    ed.write(f"{folder}/{written}", "# mine\n")
    ed.apply_mode = "refuse"
    ed.release.set()
    result = await task
    assert result["changedFiles"] == []
    assert (ed.root / folder / written).read_text() == "# mine\n"
    assert ed.text(f"{folder}/app.py") == APP
    shown = [m.message for m in ed.client.messages[before:] if "did not apply the edit" in m.message]
    if ed.profile != "minimal":  # the editor refused its own file operations too: nothing was done
        [message] = shown
        assert "nothing was changed" in message
        return
    # The server did the file operations on disk, and their undo was refused as a whole (it would have
    # overwritten the user's file): the model and the user are told what stays, not "nothing changed".
    told = f"{written} stay as the patch left them; check them."
    assert "undoing the file operations already done on disk failed" in outputs(fake)[-1]
    assert told in outputs(fake)[-1]
    assert "No file was changed" not in outputs(fake)[-1]
    [message] = shown
    assert told in message
    assert "nothing was changed" not in message


async def test_typing_during_a_turn_is_never_clobbered(ed: Editor, fake: FakeResponsesServer) -> None:
    """While the editor holds the turn's first edit, the user types: above the lines the next patch
    edits (it still lands, the typing kept), and into the lines a held edit targets (the stale edit
    is refused by version where the client checks versions, and the model is told)."""
    ed.write("typing/other.py", "a = 1\n")
    ed.write("typing/app.py", APP)
    uri = ed.open("typing/app.py")
    ed.open("typing/other.py")
    other = "*** Begin Patch\n*** Update File: typing/other.py\n@@\n-a = 1\n+a = 2\n*** End Patch"
    load(fake, [patch(other), patch(fixed("typing/app.py")), say("done")])
    ed.apply_mode = "hold"
    task = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "fix", "uri": uri}))
    await ed.until(ed.edit_arrived.is_set)
    ed.type_text("typing/app.py", "# typed by the user\n" + APP)
    ed.apply_mode = "apply"
    ed.release.set()
    result = await task
    assert result["status"] == "completed", result
    assert ed.text("typing/app.py") == "# typed by the user\n" + FIXED
    assert ed.text("typing/other.py") == "a = 2\n"


@pytest.mark.parametrize(
    ("typed", "conflict"),
    [
        (("return 'hello '", "return 'hi '"), True),
        (("    return", "  return"), True),
        (("def greet(name):", "def greet(name: str):"), False),
    ],
    ids=["in-the-line-before-the-edit", "indentation-of-the-line", "in-the-line-above"],
)
async def test_typing_while_the_change_awaits_approval(
    tmp_path: Path, fake: FakeResponsesServer, typed: tuple[str, str], conflict: bool
) -> None:
    """The patch is computed, then waits for the user's approval; meanwhile the user types. In the
    line the edit touches — even only before the characters it changes — nothing is sent and the
    model is told; in another line, the edit is carried over below it and the typing kept."""
    async with editor_session(tmp_path, fake, "vscode", init_options={"approvalPolicy": "untrusted"}) as ed:
        ed.write("app.py", APP)
        uri = ed.open("app.py")
        ed.answer = "!hold"
        load(fake, [patch(fixed("app.py")), say("done")])
        task = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "fix", "uri": uri}))
        await ed.until(lambda: ed.questions)
        ed.type_at("app.py", [typed])
        mine = APP.replace(*typed)
        ed.question_release.set()
        result = await task
        assert result["status"] == "completed", result
        if conflict:
            assert (ed.edits, result["changedFiles"]) == ([], [])
            assert ed.text("app.py") == mine
            assert "app.py was changed in the editor while the patch was prepared" in outputs(fake)[-1]
            assert "Nothing was sent to the editor" in outputs(fake)[-1]
        else:
            assert result["changedFiles"] == ["app.py"]
            assert ed.text("app.py") == mine.replace("+ nam\n", "+ name\n")


async def refused_after_approval(
    ed: Editor, fake: FakeResponsesServer, patch_text: str, meanwhile: Callable[[], object]
) -> None:
    """Run a turn whose patch waits for the user's approval, do ``meanwhile`` while it waits, approve:
    the turn completes with nothing sent to the editor and no file changed."""
    ed.answer = "!hold"
    load(fake, [patch(patch_text), say("done")])
    task = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "go"}))
    await ed.until(lambda: ed.questions)
    meanwhile()
    ed.question_release.set()
    result = await task
    assert result["status"] == "completed", result
    assert (ed.edits, result["changedFiles"]) == ([], [])


async def test_a_file_typed_into_while_its_deletion_awaits_approval_is_kept(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "vscode", init_options={"approvalPolicy": "untrusted"}) as ed:
        ed.write("old.py", "bye\n")
        ed.open("old.py")
        delete = "*** Begin Patch\n*** Delete File: old.py\n*** End Patch"
        await refused_after_approval(ed, fake, delete, lambda: ed.type_text("old.py", "bye, but keep me\n"))
        assert ed.text("old.py") == "bye, but keep me\n"
        assert (ed.root / "old.py").exists()
        told = "old.py was changed in the editor since it was read; not deleting it. Nothing was sent"
        assert told in outputs(fake)[-1]


async def test_a_file_opened_unsaved_while_its_creation_awaits_approval_is_kept(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """The user starts new.py in an editor buffer (not saved) while the patch adding it awaits
    approval: nothing is sent, and the model is asked to patch what is there instead."""
    async with editor_session(tmp_path, fake, "vscode", init_options={"approvalPolicy": "untrusted"}) as ed:
        add = "*** Begin Patch\n*** Add File: new.py\n+x = 1\n*** End Patch"
        await refused_after_approval(ed, fake, add, lambda: ed.open("new.py", "draft\n"))
        assert ed.text("new.py") == "draft\n"
        assert not (ed.root / "new.py").exists()
        told = "new.py was created meanwhile; read it and patch it instead. Nothing was sent"
        assert told in outputs(fake)[-1]


async def test_a_stale_edit_is_rejected_by_version(ed: Editor, fake: FakeResponsesServer) -> None:
    if ed.profile == "minimal":
        pytest.skip(
            "a client without documentChanges applies unversioned edits; only the server-side check applies"
        )
    ed.write("stale/app.py", APP)
    uri = ed.open("stale/app.py")
    load(fake, [patch(fixed("stale/app.py")), say("I will re-read it.")])
    ed.apply_mode = "hold"
    task = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "fix", "uri": uri}))
    await ed.until(ed.edit_arrived.is_set)
    typed = APP.replace("nam\n", "nam  # mine\n")
    ed.type_text("stale/app.py", typed)
    ed.apply_mode = "apply"
    ed.release.set()
    result = await task
    assert result["status"] == "completed"
    assert result["changedFiles"] == []
    assert ed.text("stale/app.py") == typed
    assert "version mismatch" in outputs(fake)[-1]


async def test_a_file_edited_but_not_reported_open_is_read_as_edited(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    """Until the editor reports the file (didOpen) or writes it, reads see what the edit made of it."""
    ed.write("quiet/data.txt", "alpha\n")
    ed.quiet = True
    edit = "*** Begin Patch\n*** Update File: quiet/data.txt\n@@\n-alpha\n+beta\n*** End Patch"
    load(fake, [patch(edit), call("read_file", {"path": "quiet/data.txt"}), say("done")])
    try:
        result = await ed.execute("codex.ask", {"prompt": "edit then read"})
    finally:
        ed.quiet = False
    assert result["status"] == "completed", result
    assert "beta" in outputs(fake)[-1]
    assert (ed.root / "quiet/data.txt").read_text() == "alpha\n"


async def test_two_turns_on_two_threads_at_once(ed: Editor, fake: FakeResponsesServer) -> None:
    load(fake, [say("first", delay_ms=20)], [say("second", delay_ms=20)])
    before = len(fake.generating_requests())
    one = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "one"}))
    two = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "two"}))
    await asyncio.wait([one, two], return_when=asyncio.FIRST_COMPLETED)
    assert len(fake.generating_requests()) - before == 2, "the second turn waited for the first"
    results = [await one, await two]
    assert {r["status"] for r in results} == {"completed"}
    assert results[0]["threadId"] != results[1]["threadId"]
    assert sorted(r["message"] for r in results) == ["first", "second"]


async def test_turn_state_resets_between_turns_on_one_socket(ed: Editor, fake: FakeResponsesServer) -> None:
    ed.write("state/a.txt", "x\n")
    load(
        fake,
        [call("read_file", {"path": "state/a.txt"}, turn_state="ts-1"), say("read it")],
        [say("again", turn_state="ts-2")],
    )
    start = len(fake.requests)
    first = await ed.execute("codex.ask", {"prompt": "one"})
    second = await ed.execute("codex.ask", {"prompt": "two", "threadId": first["threadId"]})
    assert second["threadId"] == first["threadId"]
    requests = [r for r in fake.requests[start:] if not r.prewarm]
    assert [r.turn_state for r in requests] == [None, "ts-1", None]
    assert len({r.connection for r in fake.requests[start:]}) == 1, "one WebSocket for both turns"
    assert requests[2].body.get("previous_response_id"), "the next turn chains on the same socket"


async def test_streaming_and_progress(ed: Editor, fake: FakeResponsesServer) -> None:
    text = "Let me look.\n" + "All good here. " * 30
    load(fake, [say(text, chunk_size=1)])
    notified = len(ed.notifications)
    result = await ed.execute("codex.ask", {"prompt": "stream"})
    turn = result["turnId"]
    mine = [(m, p) for m, p in ed.notifications[notified:] if getattr(p, "turnId", None) == turn]
    if ed.profile != "vscode":
        assert mine == [], "only clients declaring experimental.codex get codex/* notifications"
    else:
        methods = [m for m, _ in mine]
        assert methods[0] == "codex/turn/started"
        assert mine[0][1].title == "stream", "a transcript heads the turn with its prompt"
        assert methods[-1] == "codex/turn/completed"
        deltas = [p.delta for m, p in mine if m == "codex/item/agentMessage/delta"]
        assert "".join(deltas) == text, "nothing lost"
        assert len(deltas) < len(text), "deltas are coalesced"
        (completed,) = [p for m, p in mine if m == "codex/item/completed"]
        assert completed.item.text == text
        assert mine[-1][1].status == "completed"
    reports = ed.client.progress_reports.get(f"codex-turn-{turn}", [])
    if ed.profile == "minimal":
        assert reports == []
    else:
        begin, *middle, end = reports
        assert isinstance(begin, types.WorkDoneProgressBegin)
        assert begin.cancellable
        assert isinstance(end, types.WorkDoneProgressEnd)
        assert end.message == "completed"
        assert any("All good here." in (r.message or "") for r in middle)
    logged = [log for log in ed.logs if f"codex turn {turn}: turn completed" in log.message]
    assert logged
    assert logged[0].type == types.MessageType.Debug


async def test_the_request_work_done_token_is_used(ed: Editor, fake: FakeResponsesServer) -> None:
    if ed.profile == "minimal":
        pytest.skip("the minimal client has no work-done progress")
    load(fake, [say("with the editor's own token")])
    token = f"editor-token-{ed.profile}"
    ed.client.progress_reports[token] = []  # the editor made the token itself
    params = types.ExecuteCommandParams(
        command="codex.ask", arguments=[{"prompt": "hi"}], work_done_token=token
    )
    result: Any = await ed.client.workspace_execute_command_async(params)
    assert result["status"] == "completed"
    kinds = [type(report).__name__ for report in ed.client.progress_reports[token]]
    assert kinds[0] == "WorkDoneProgressBegin"
    assert kinds[-1] == "WorkDoneProgressEnd"
    assert f"codex-turn-{result['turnId']}" not in ed.client.progress_reports


async def test_a_failed_turn_is_a_result(ed: Editor, fake: FakeResponsesServer) -> None:
    fault = {"kind": "failed", "code": "context_length_exceeded", "message": "the input is too long"}
    load(fake, [{"output": [], "fault": fault}])
    result = await ed.execute("codex.ask", {"prompt": "fail"})
    assert result["status"] == "failed"
    assert "too long" in result["error"]
    assert any("the turn failed" in m.message for m in ed.client.messages)


async def test_threads(ed: Editor, fake: FakeResponsesServer) -> None:
    created = await ed.execute("codex.newThread", {})
    load(fake, [say("hi")])
    result = await ed.execute("codex.ask", {"prompt": "hello thread", "threadId": created["threadId"]})
    assert result["threadId"] == created["threadId"]
    listed = (await ed.execute("codex.threads"))["threads"]
    (mine,) = [t for t in listed if t["threadId"] == created["threadId"]]
    assert mine["title"] == "hello thread"
    assert mine["turns"] == 1


async def test_status_names_the_setup_but_never_the_key(ed: Editor) -> None:
    status = await ed.execute("codex.status")
    assert status["provider"] == "fake"
    assert status["model"] == "gpt-5.5"
    assert status["keyFound"] is True
    assert status["transport"] == "websocket"
    assert status["positionEncoding"] == ed.encoding
    assert KEY not in repr(status)


@pytest.mark.parametrize(
    ("command", "arguments", "message"),
    [
        ("codex.teleport", {}, "unknown command 'codex.teleport'; this server offers codex.acceptHunk"),
        ("codex.acceptHunk", {"proposalId": "p-nope", "hunkId": "h1"}, "no proposal 'p-nope'"),
        ("codex.rejectHunk", {"hunkId": "h1"}, "codex.rejectHunk: proposalId must be a non-empty string"),
        ("codex.ask", {"uri": "file:///x"}, "codex.ask: prompt must be a non-empty string"),
        ("codex.ask", {"prompt": "x", "range": {"start": 1}}, "codex.ask: range is not an LSP range"),
        ("codex.fixDiagnostics", {"uri": "file:///nowhere/x.py"}, "diagnostics must name at least one"),
        (
            "codex.ask",
            {"prompt": "x", "uri": "file:///nowhere/x.py"},
            "unknown document file:///nowhere/x.py",
        ),
        ("codex.ask", {"prompt": "x", "threadId": "no-such-thread"}, "no thread 'no-such-thread'"),
    ],
)
async def test_bad_requests_are_errors_a_person_understands(
    ed: Editor, command: str, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await ed.execute(command, arguments)
    assert message in str(caught.value)


async def test_the_key_reached_the_editor_nowhere(ed: Editor) -> None:
    """Run last in the module: everything the editor received from this server."""
    assert ed.notifications or ed.logs
    assert KEY not in ed.everything_received()
