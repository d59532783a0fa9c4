"""Code actions resolved into edits for clients without ``workspace/applyEdit`` that resolve ``edit``
(CodeMirror's client): actions come without a command, ``codeAction/resolve`` runs the turn with its
changes held and answers with them as the action's edit — shaped ``changes`` or versioned
``documentChanges`` as the client takes — and nothing is written; failures, no change and a moved
text answer without an edit and say why; ``$/cancelRequest`` of the resolve interrupts the turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from codex_lsp.testing import FakeResponsesServer
from tests.lsp import harness
from tests.lsp.harness import Editor, apply_text_edits, editor_session, load, patch, say, served
from tests.lsp.test_cancel import interrupted_in_log, running_turn, stuck_turn

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

APP = "def greet(name):\n    return 'hello ' + nam\n"
FIXED = "def greet(name):\n    return 'hello ' + name\n"
NAME_ERROR = types.Diagnostic(
    range=types.Range(types.Position(1, 22), types.Position(1, 25)),
    message="undefined name 'nam'",
    source="page-lint",
)

CURSOR = types.Range(types.Position(1, 23), types.Position(1, 23))
"""Where the user presses Ctrl+. (CodeMirror sends the selection: empty at the cursor)."""


def codemirror_caps(document_changes: bool) -> types.ClientCapabilities:
    """What @marimo-team/codemirror-languageserver 2.0.0 declares (no ``workspace.applyEdit``, no
    ``workspaceEdit``, code-action literals with ``resolveSupport: {properties: ["edit"]}``) — and,
    for the shaping, the same with versioned ``documentChanges``."""
    kinds = ["", "quickfix", "refactor", "refactor.extract", "refactor.inline", "refactor.rewrite", "source"]
    workspace = types.WorkspaceClientCapabilities(
        did_change_configuration=types.DidChangeConfigurationClientCapabilities(dynamic_registration=False)
    )
    if document_changes:
        workspace.workspace_edit = types.WorkspaceEditClientCapabilities(document_changes=True)
    return types.ClientCapabilities(
        workspace=workspace,
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
            code_action=types.CodeActionClientCapabilities(
                dynamic_registration=True,
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(value_set=kinds)
                ),
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
            ),
        ),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["changes", "documentChanges"])
async def resolver(
    request: pytest.FixtureRequest, fake: FakeResponsesServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Editor]:
    shape = request.param
    caps = codemirror_caps(shape == "documentChanges")
    with pytest.MonkeyPatch.context() as patcher:  # the harness builds capabilities per profile
        patcher.setattr(harness, "capabilities", lambda profile: caps)
        session = editor_session(tmp_path_factory.mktemp(shape), fake, "minimal")
        editor = await session.__aenter__()
    try:
        yield editor
    finally:
        await session.__aexit__(None, None, None)


@pytest.fixture
def ed(resolver: Editor) -> Editor:
    return resolver


async def code_actions(
    ed: Editor, uri: str, rng: types.Range, diagnostics: list[types.Diagnostic]
) -> list[types.CodeAction]:
    """As CodeMirror's client asks: no ``triggerKind``, the diagnostics its page shows in the range."""
    context = types.CodeActionContext(diagnostics=diagnostics)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=rng, context=context
    )
    found = list(await ed.client.text_document_code_action_async(params) or [])
    assert all(isinstance(a, types.CodeAction) for a in found)
    return found  # type: ignore[return-value]


def fix_patch(path: str) -> str:
    return (
        f"*** Begin Patch\n*** Update File: {path}\n@@\n-    return 'hello ' + nam\n"
        "+    return 'hello ' + name\n*** End Patch"
    )


def messages(ed: Editor) -> list[str]:
    return [m.message for m in ed.client.messages]


def apply_resolved(ed: Editor, uri: str, edit: types.WorkspaceEdit) -> str:
    """The document's text with the resolved edit applied (as the client would), checking its shape."""
    if ed.init_result is None:
        raise AssertionError("not initialized")
    if ed.root.parent.name.startswith("documentChanges"):  # the client declared them
        assert edit.changes is None
        assert edit.document_changes is not None
        (change,) = edit.document_changes
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.uri == uri
        assert change.text_document.version == ed.docs[uri].version
        edits: list[Any] = list(change.edits)
    else:
        assert edit.document_changes is None
        assert edit.changes is not None
        assert list(edit.changes) == [uri]
        edits = list(edit.changes[uri])
    return apply_text_edits(ed.docs[uri].text, edits, ed.encoding)


async def test_capabilities_and_lazy_actions(ed: Editor) -> None:
    assert ed.init_result is not None
    provider = ed.init_result.capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions)
    assert provider.resolve_provider
    uri = ed.write("lazy/app.py", APP)
    ed.open("lazy/app.py")
    found = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    assert [a.title for a in found] == ["Fix with Codex: undefined name 'nam'"]
    (action,) = found
    assert action.command is None
    assert action.edit is None
    assert isinstance(action.data, dict)
    assert action.data["codexResolve"]["command"] == "codex.fixDiagnostics"
    line = await code_actions(ed, uri, types.Range(types.Position(0, 3), types.Position(0, 3)), [])
    assert [(a.title, a.command, a.edit) for a in line] == [
        ("Codex: fix the problems on this line", None, None)
    ]


async def test_resolve_answers_the_turns_change_as_the_edit(ed: Editor, fake: FakeResponsesServer) -> None:
    path = "fix/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    load(fake, [patch(fix_patch(path)), say("Fixed the typo: nam -> name.")])
    resolved = await ed.client.code_action_resolve_async(action)
    assert resolved.title == action.title
    assert resolved.command is None
    assert resolved.edit is not None
    assert apply_resolved(ed, uri, resolved.edit) == FIXED
    assert (ed.root / path).read_text() == APP, "nothing is written: the client applies the edit"
    assert ed.edits == [], "no workspace/applyEdit to a client without it"
    proposals = await ed.execute("codex.proposals")
    assert proposals["proposals"] == [], "the held proposal is forgotten once handed over"
    assert not list((ed.root.parent / "state" / "proposals").glob("p-*")), "nor kept on disk"
    await ed.until(lambda: any("Fixed the typo" in m for m in messages(ed)))
    request = fake.generating_requests()[-2]
    assert "undefined name 'nam'" in str(request.effective_input)


async def test_the_line_fallback_resolves_too(ed: Editor, fake: FakeResponsesServer) -> None:
    path = "line/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, types.Range(types.Position(1, 4), types.Position(1, 4)), [])
    load(fake, [patch(fix_patch(path)), say("Done.")])
    resolved = await ed.client.code_action_resolve_async(action)
    assert resolved.edit is not None
    assert apply_resolved(ed, uri, resolved.edit) == FIXED


async def test_no_change_answers_without_an_edit_and_says_why(ed: Editor, fake: FakeResponsesServer) -> None:
    path = "nochange/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    load(fake, [say("I could not find the problem.")])
    resolved = await ed.client.code_action_resolve_async(action)
    assert resolved.edit is None
    await ed.until(lambda: any("nothing changed" in m and "could not find" in m for m in messages(ed)))


async def test_a_failed_turn_answers_without_an_edit(ed: Editor, fake: FakeResponsesServer) -> None:
    path = "failed/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    fault = {"kind": "failed", "code": "context_length_exceeded", "message": "the input is too long"}
    load(fake, [{"fault": fault}])
    resolved = await ed.client.code_action_resolve_async(action)
    assert resolved.edit is None
    await ed.until(lambda: any("failed" in m and "nothing was changed" in m for m in messages(ed)))
    assert any(m.type == types.MessageType.Error for m in ed.client.messages)


async def test_typing_where_the_change_goes_answers_without_an_edit(
    ed: Editor, fake: FakeResponsesServer
) -> None:
    path = "moved/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    load(fake, [patch(fix_patch(path)), say("Fixed.", delay_ms=200)])  # the answer takes a second
    before = len(fake.generating_requests())
    future = asyncio.ensure_future(ed.client.code_action_resolve_async(action))
    await served(fake, lambda: len(fake.generating_requests()) == before + 2)  # the patch is held
    ed.type_text(path, "def greet(name):\n    return 'bye ' + nam\n")
    resolved = await future
    assert resolved.edit is None
    await ed.until(lambda: any("nothing was changed" in m for m in messages(ed)))


async def test_cancel_request_interrupts_the_resolve(ed: Editor, fake: FakeResponsesServer) -> None:
    path = "cancel/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    load(fake, [stuck_turn(path)])
    msg_id = f"resolve-cancel-{ed.root.parent.name}"
    sent = ed.client.protocol.send_request(types.CODE_ACTION_RESOLVE, action, msg_id=msg_id)
    turn_id = await running_turn(ed)
    ed.client.cancel_request(types.CancelParams(id=msg_id))
    await ed.until(lambda: interrupted_in_log(ed, turn_id), seconds=2.0)
    assert (await ed.execute("codex.status"))["runningTurns"] == []
    try:
        resolved = await asyncio.wait_for(asyncio.wrap_future(sent), 2.0)
    except Exception:  # answered as cancelled: as good
        resolved = None
    assert resolved is None or resolved.edit is None
    assert (ed.root / path).read_text() == APP
    assert ed.edits == []


async def test_other_actions_resolve_unchanged(ed: Editor) -> None:
    action = types.CodeAction(
        title="Something else", command=types.Command(title="x", command="other.command", arguments=[1])
    )
    resolved = await ed.client.code_action_resolve_async(action)
    assert resolved.title == "Something else"
    assert resolved.command is not None
    assert resolved.command.command == "other.command"
    assert resolved.edit is None


async def test_codex_interrupt_ends_a_resolve_without_an_edit(ed: Editor, fake: FakeResponsesServer) -> None:
    path = "interrupt/app.py"
    uri = ed.write(path, APP)
    ed.open(path)
    (action,) = await code_actions(ed, uri, CURSOR, [NAME_ERROR])
    load(fake, [stuck_turn(path)])
    future = asyncio.ensure_future(ed.client.code_action_resolve_async(action))
    turn_id = await running_turn(ed)
    assert (await ed.execute("codex.interrupt", {"turnId": turn_id}))["interrupted"] == [turn_id]
    resolved = await asyncio.wait_for(future, 2.0)
    assert resolved.edit is None
    await ed.until(lambda: any("interrupted; nothing was changed" in m for m in messages(ed)))
    assert (ed.root / path).read_text() == APP
