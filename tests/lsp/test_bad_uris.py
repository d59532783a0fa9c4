"""A ``file:`` URI that names no usable path (``%00``, bytes that are not UTF-8, another host, a relative
path) is ``InvalidParams`` with the reason for every request that takes one, never an internal error
with a traceback; the notifications that carry one (``didOpen`` … ``didClose``, the diagnostics
notification) never fail, and the server goes on serving. The same over raw frames on a real process:
``tests/lsp_serve/test_bad_uris.py``."""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codex_lsp.lsp.protocol import DID_CHANGE_DIAGNOSTICS
from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import Doc, Editor, editor_session, load, say

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

INVALID_PARAMS = -32602
BAD = {
    "a NUL": ("/a%00b.py", "contains a NUL character (%00)"),
    "bytes that are not UTF-8": ("/caf%E9.py", "is not UTF-8 once percent-decoded"),
}
ELSEWHERE = {
    "another host": ("file://fileserver/etc/hosts", "names a file on another host (fileserver)"),
    "a relative path": ("file:relative/app.py", "does not name an absolute path"),
}
DIAGNOSTIC = types.Diagnostic(
    range=types.Range(types.Position(0, 0), types.Position(0, 1)), message="F401 unused import"
)


def cases(ed: Editor) -> list[tuple[str, str]]:
    root = ed.uri("")
    return [(root.rstrip("/") + tail, why) for tail, why in BAD.values()] + list(ELSEWHERE.values())


def commands(uri: str) -> list[tuple[str, dict[str, Any]]]:
    diagnostic = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}}
    return [
        ("codex.ask", {"prompt": "explain", "uri": uri}),
        ("codex.fixDiagnostics", {"uri": uri, "diagnostics": [{**diagnostic, "message": "F401"}]}),
        ("codex.newThread", {"uri": uri}),
    ]


def no_error_shown(ed: Editor) -> None:
    errors = [m.message for m in ed.client.messages if m.type == types.MessageType.Error]
    assert errors == [], errors
    assert "Traceback" not in ed.everything_received()


@pytest.mark.parametrize("profile", ["vscode", "minimal"])
async def test_every_command_answers_a_malformed_file_uri_with_invalid_params(
    tmp_path: Any, fake: FakeResponsesServer, profile: Any
) -> None:
    async with editor_session(tmp_path, fake, profile) as ed:
        before = len(fake.requests)
        for uri, why in cases(ed):
            for command, arguments in commands(uri):
                with pytest.raises(JsonRpcException) as caught:
                    await ed.execute(command, arguments)
                error = caught.value
                assert error.code == INVALID_PARAMS, (command, uri, error)
                assert why in error.message, (command, error.message)
                assert error.data is None, f"{command} put {error.data!r} in error.data"
        assert len(fake.requests) == before
        no_error_shown(ed)


async def test_documents_with_malformed_uris_are_kept_and_never_fail_a_notification(
    tmp_path: Any, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "neovim") as ed:
        for uri, why in cases(ed):
            ed._open(uri, "import os\n")
            ed.client.protocol.notify(
                DID_CHANGE_DIAGNOSTICS, {"uri": uri, "version": 1, "diagnostics": [{**_lsp(DIAGNOSTIC)}]}
            )
            ed._set(uri, Doc("import os\nimport sys\n", 2))
            ed.client.text_document_did_save(
                types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            context = types.CodeActionContext(
                diagnostics=[DIAGNOSTIC], trigger_kind=types.CodeActionTriggerKind.Invoked
            )
            params = types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), range=DIAGNOSTIC.range, context=context
            )
            actions = await ed.client.text_document_code_action_async(params)
            assert actions is not None, "code actions are built from what the server knows, file or not"
            lenses = await ed.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
            )
            assert not lenses
            with pytest.raises(JsonRpcException, match=why.replace("(", r"\(").replace(")", r"\)")):
                await ed.execute("codex.ask", {"prompt": "explain", "uri": uri})
            ed.close(uri)
        ed.write("ok.py", "x = 1\n")
        load(fake, [say("still serving")])
        assert (await ed.execute("codex.ask", {"prompt": "hi", "uri": ed.open("ok.py")}))[
            "status"
        ] == "completed"
        no_error_shown(ed)


async def test_a_malformed_workspace_folder_is_left_out_not_fatal(
    tmp_path: Any, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "vscode") as ed:
        broken = types.WorkspaceFolder(uri=ed.uri("").rstrip("/") + "/sub%00dir", name="broken")
        event = types.WorkspaceFoldersChangeEvent(added=[broken], removed=[])
        ed.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(event=event))
        status = await ed.execute("codex.status")
        assert status["folders"] == [str(ed.root)]
        ed.write("ok.py", "x = 1\n")
        assert (await ed.execute("codex.newThread", {"uri": ed.uri("ok.py")}))["cwd"] == str(ed.root)
        event = types.WorkspaceFoldersChangeEvent(added=[], removed=[broken])
        ed.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(event=event))
        assert (await ed.execute("codex.status"))["folders"] == [str(ed.root)]
        no_error_shown(ed)


def _lsp(diagnostic: types.Diagnostic) -> dict[str, Any]:
    from lsprotocol.converters import get_converter

    value: dict[str, Any] = get_converter().unstructure(diagnostic)
    return value
