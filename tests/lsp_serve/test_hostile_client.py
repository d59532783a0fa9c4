"""What a client depends on, through raw frames on a real ``codex-lsp --stdio``: every request is answered
exactly once, the lifecycle is LSP's, nothing the client sees carries a traceback, and the way the process
ends says how the connection ended.

Each test ends the server (``shutdown`` + ``exit``, or however the test ends it) and reads stdout to its
end, so "exactly one answer" is counted over everything the server ever sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import FakeResponsesServer, Script, make_codex_home
from tests.lsp_serve.real import (
    ASYNCIO_NOISE,
    TRACEBACK,
    RawSession,
    command,
    initialize,
    notification,
    raw_server,
    request,
)

INVALID_REQUEST, INVALID_PARAMS, PARSE_ERROR, NOT_INITIALIZED = -32600, -32602, -32700, -32002
DOC = "file:///nowhere/app.py"
ZERO = {"line": 0, "character": 0}


def code_action(request_id: int | str, uri: str = DOC, **params: Any) -> dict[str, Any]:
    """``textDocument/codeAction`` at the start of ``uri``, as the user asks for it (``Invoked``)."""
    body = {
        "textDocument": {"uri": uri},
        "range": {"start": ZERO, "end": ZERO},
        "context": {"diagnostics": [], "triggerKind": 1},
        **params,
    }
    return request("textDocument/codeAction", request_id, body)


def error_of(answer: dict[str, Any], code: int) -> str:
    """The answer's error message, after checking it is an error with ``code`` and no ``data``."""
    assert "result" not in answer, answer
    assert answer["error"]["code"] == code, answer
    assert "data" not in answer["error"], answer
    message: str = answer["error"]["message"]
    return message


def assert_clean(server: RawSession, stderr: str) -> None:
    """Nothing the client received carries a traceback, and asyncio reported no unhandled failure."""
    assert not TRACEBACK.search(server.texts()), server.texts()
    assert not [noise for noise in ASYNCIO_NOISE if noise in stderr], stderr


async def started(server: RawSession, **init: Any) -> None:
    await server.send(initialize(**init), notification("initialized", {}))
    assert "result" in await server.answer(1)


# -- item 5: requests are answered, however they are malformed -----------------------------------------


async def test_a_request_without_jsonrpc_is_answered_invalid_request_with_its_id(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await started(server)
        await server.send(
            {"id": 2, "method": "workspace/executeCommand", "params": {"command": "codex.status"}},
            {"jsonrpc": "1.0", "id": "three", "method": "textDocument/codeLens"},
            {"method": "initialized", "params": {}},  # a notification: nothing to answer
            command(4, "codex.status"),
        )
        assert '"jsonrpc": "2.0" is missing' in error_of(await server.answer(2), INVALID_REQUEST)
        assert '"jsonrpc": "2.0" is missing' in error_of(await server.answer("three"), INVALID_REQUEST)
        assert "result" in await server.answer(4)
        status, stderr = await server.stop()
    assert [len(server.responses(i)) for i in (2, "three", 4)] == [1, 1, 1]
    assert status == 0
    assert_clean(server, stderr)


INVALID_CODE_ACTIONS = {
    "line -1": code_action(2, range={"start": {"line": -1, "character": 0}, "end": ZERO}),
    "a string range": code_action(3, range="1:0-2:0"),
    "{}": request("textDocument/codeAction", 4, {}),
    "no params": request("textDocument/codeAction", 5),
    "codeLens {}": request("textDocument/codeLens", 6, {}),
    "codeLens, a number for a document": request("textDocument/codeLens", 7, {"textDocument": 7}),
    "codeLens, a huge line": code_action(8, range={"start": {"line": 2**64, "character": 0}, "end": ZERO}),
}


async def test_code_action_and_code_lens_with_invalid_params_are_answered_invalid_params(
    tmp_path: Path,
) -> None:
    async with raw_server(tmp_path) as server:
        await started(server)
        await server.send(*INVALID_CODE_ACTIONS.values(), code_action(9))
        messages = {}
        for name, sent in INVALID_CODE_ACTIONS.items():
            messages[name] = error_of(await server.answer(sent["id"]), INVALID_PARAMS)
        assert "result" in await server.answer(9), "a valid request after them is answered as ever"
        status, stderr = await server.stop()
    assert messages["{}"].startswith("textDocument/codeAction: ")
    assert "required field missing @ $.params.textDocument" in messages["{}"]
    assert "$.params.range.start" in messages["line -1"]
    for sent in [*INVALID_CODE_ACTIONS.values(), code_action(9)]:
        assert len(server.responses(sent["id"])) == 1, sent
    assert not server.notifications("window/showMessage"), "the answer says it; no popup as well"
    assert status == 0
    assert_clean(server, stderr)


async def test_what_is_not_a_json_rpc_object_is_answered_with_id_null(tmp_path: Path) -> None:
    garbage = [b"[1,2]", b"42", b'"text"', b"{not json", b"\xff\xfe", b"[" * 100_000, b"{}", b"NaN"]
    bad_ids = [{"jsonrpc": "2.0", "id": bad, "method": "shutdown"} for bad in (True, 1.5, None)]
    cancels = [notification("$/cancelRequest", {"id": bad}) for bad in ([1], {"id": 1}, None, True)]
    async with raw_server(tmp_path) as server:
        await started(server)
        await server.send(*garbage, *bad_ids, *cancels, request("textDocument/didOpen", 2, {}))
        await server.send(command(3, "codex.status"))
        assert "result" in await server.answer(3)
        assert "notification" in error_of(await server.answer(2), INVALID_REQUEST)
        status, stderr = await server.stop()
    nulls = server.responses(None)
    assert len(nulls) == len(garbage) + len(bad_ids)
    assert sorted(answer["error"]["code"] for answer in nulls) == sorted(
        [INVALID_REQUEST] * (4 + 3) + [PARSE_ERROR] * 4
    )
    assert not server.notifications("window/logMessage"), "a $/cancelRequest with a bad id is dropped"
    assert status == 0
    assert_clean(server, stderr)


# -- item 6: the lifecycle ---------------------------------------------------------------------------


async def test_requests_before_initialize_answer_server_not_initialized(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await server.send(
            command(1, "codex.status"),
            command(2, "codex.ask", {"prompt": "hi"}),
            code_action(3),
            request("shutdown", 4),
            notification("textDocument/didOpen", {"textDocument": _item(DOC, 7, "x = 1\n")}),
        )
        for request_id in (1, 2, 3, 4):
            assert "not initialized" in error_of(await server.answer(request_id), NOT_INITIALIZED)
        await server.send(initialize(request_id=5), notification("initialized", {}), code_action(6))
        assert "result" in await server.answer(5)
        (fallback,) = (await server.answer(6))["result"]
        status, stderr = await server.stop()
    assert fallback["arguments"][0]["version"] is None, "the didOpen before initialize was dropped"
    assert not server.notifications("window/logMessage"), "dropped, not failed"
    assert [len(server.responses(i)) for i in range(1, 7)] == [1] * 6
    assert status == 0
    assert_clean(server, stderr)


async def test_a_second_initialize_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    async with raw_server(tmp_path) as server:
        await started(server, folder=first, shell={"enabled": False}, approvalPolicy="untrusted")
        await server.send(
            initialize(
                request_id=2,
                folder=second,
                capabilities={"general": {"positionEncodings": ["utf-8"]}},
                shell={"enabled": True},
                approvalPolicy="never",
            ),
            command(3, "codex.status"),
        )
        assert "already" in error_of(await server.answer(2), INVALID_REQUEST)
        state = (await server.answer(3))["result"]
        status, stderr = await server.stop()
    assert state["folders"] == [str(first.resolve())]
    assert (state["shellEnabled"], state["approvalPolicy"], state["positionEncoding"]) == (
        False,
        "untrusted",
        "utf-16",
    )
    assert len(server.responses(2)) == 1
    assert status == 0
    assert_clean(server, stderr)


async def test_requests_after_shutdown_are_invalid_requests_and_exit_still_ends_it(tmp_path: Path) -> None:
    async with raw_server(tmp_path) as server:
        await started(server)
        await server.send(request("shutdown", 2))
        assert (await server.answer(2))["result"] is None
        await server.send(
            code_action(3),
            command(4, "codex.status"),
            request("shutdown", 5),
            initialize(request_id=6),
            notification("textDocument/didOpen", {"textDocument": _item(DOC, 1, "")}),
            notification("exit"),
        )
        status, stderr = await server.finish()
    for request_id in (3, 4, 5, 6):
        (answer,) = server.responses(request_id)
        assert "shutting down" in error_of(answer, INVALID_REQUEST)
    assert len(server.received) == 1 + 1 + 4, "initialize, shutdown and the four refusals; nothing else"
    assert status == 0, "exit after shutdown is a clean stop"
    assert_clean(server, stderr)


# -- item 7: a change to a document never opened ------------------------------------------------------


async def test_did_change_for_a_document_never_opened_is_ignored_without_a_popup(tmp_path: Path) -> None:
    whole = {"textDocument": {"uri": DOC, "version": 5}, "contentChanges": [{"text": "y = 2\n"}]}
    part = {
        "textDocument": {"uri": DOC, "version": 6},
        "contentChanges": [{"range": {"start": ZERO, "end": ZERO}, "text": "#"}],
    }
    async with raw_server(tmp_path) as server:
        await started(server)
        notebook = {"notebookDocument": {"uri": "file:///nowhere/n.ipynb", "version": 1}, "change": {}}
        await server.send(
            notification("textDocument/didChange", whole),
            notification("textDocument/didChange", part),
            notification("notebookDocument/didChange", notebook),
            code_action(2),
            notification("textDocument/didOpen", {"textDocument": _item(DOC, 1, "x = 1\n")}),
            notification("textDocument/didChange", {**part, "textDocument": {"uri": DOC, "version": 2}}),
            code_action(3),
        )
        (before,) = (await server.answer(2))["result"]
        (after,) = (await server.answer(3))["result"]
        status, stderr = await server.stop()
    assert before["arguments"][0]["version"] is None, "the change did not open the document"
    assert after["arguments"][0]["version"] == 2, "a change to an open document still applies"
    assert not server.notifications("window/showMessage")
    assert not server.notifications("window/logMessage"), "nothing failed"
    assert "KeyError" not in server.texts()
    assert "which is not open" in stderr, "the server's log says what it ignored"
    assert status == 0
    assert_clean(server, stderr)


def _item(uri: str, version: int, text: str) -> dict[str, Any]:
    return {"uri": uri, "languageId": "python", "version": version, "text": text}


# -- item 17: how the process ends -------------------------------------------------------------------

BROKEN_FRAMING = {
    "a garbage header": b"GET / HTTP/1.1\r\n\r\n",
    "a bad Content-Length": b"Content-Length: twelve\r\n\r\n{}",
    "a body cut short by the end of the stream": b'Content-Length: 100\r\n\r\n{"jsonrpc": "2.0"',
}


@pytest.mark.parametrize("data", BROKEN_FRAMING.values(), ids=BROKEN_FRAMING.keys())
async def test_broken_framing_ends_the_server_with_status_76_and_one_line_on_stderr(
    tmp_path: Path, data: bytes
) -> None:
    async with raw_server(tmp_path) as server:
        await started(server)
        await server.write_raw(data)
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        status, stderr = await server.finish()
    assert status == 76, "not 0: a clean stop; not 1: exit without shutdown"
    reasons = [line for line in stderr.splitlines() if "broke the LSP framing" in line]
    assert len(reasons) == 1, stderr
    assert "Traceback" not in stderr
    assert_clean(server, stderr)


async def test_the_same_with_the_log_in_a_file_says_it_on_stderr(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    async with raw_server(tmp_path, "--log-file", str(log)) as server:
        await started(server)
        await server.write_raw(b"Content-Length: 2\r\nnot a header\r\n\r\n{}")
        status, stderr = await server.finish()
    assert status == 76
    assert stderr.splitlines() == [
        "codex-lsp: error: the client broke the LSP framing on stdin "
        "(not an LSP header line: b'not a header\\r\\n'); stopping"
    ]
    assert "broke the LSP framing" in log.read_text(encoding="utf-8")


ENDINGS = ("stdin closes", "exit", "broken framing")


@pytest.mark.parametrize("ending", ENDINGS)
async def test_ending_while_the_server_waits_for_the_client_prints_no_traceback(
    tmp_path: Path, ending: str
) -> None:
    """``initialized`` asks the client for its configuration, and this client never answers."""
    async with raw_server(tmp_path) as server:
        server.answers_server = False
        await started(server, capabilities={"workspace": {"configuration": True}})
        await server.until("workspace/configuration")
        status, stderr = await _end(server, ending)
    assert status == {"stdin closes": 0, "exit": 1, "broken framing": 76}[ending]
    assert "Traceback" not in stderr
    assert_clean(server, stderr)


async def test_ending_while_a_turn_waits_for_the_model_prints_no_traceback(tmp_path: Path) -> None:
    """A ``codex.ask`` is pending: the model's WebSocket handshake is never answered."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    async with FakeResponsesServer() as fake:
        fake.load(Script.model_validate({"turns": [], "handshake_faults": [{"hang": True}]}))
        home = make_codex_home(tmp_path, fake.base_url, websockets=True)
        async with raw_server(tmp_path, home=home) as server:
            streaming = {"experimental": {"codex": {"streaming": True}}, "workspace": {"applyEdit": True}}
            await started(server, folder=workspace, capabilities=streaming)
            await server.send(command(2, "codex.ask", {"prompt": "hello"}))
            await server.until("codex/turn/started")
            assert server.responses(2) == []
            status, stderr = await _end(server, "stdin closes")
    assert status == 0
    assert len(server.responses(2)) <= 1
    assert "Traceback" not in stderr
    assert_clean(server, stderr)


async def _end(server: RawSession, ending: str) -> tuple[int, str]:
    assert server.proc.stdin is not None
    if ending == "exit":
        await server.send(notification("exit"))
    elif ending == "broken framing":
        await server.write_raw(b"garbage\r\n\r\n")
    server.proc.stdin.close()
    return await server.finish()


# -- found by the fuzz: a client answer that does not parse -------------------------------------------


async def test_an_answer_that_does_not_parse_fails_the_servers_request_instead_of_hanging(
    tmp_path: Path,
) -> None:
    """This client answers ``workspace/applyEdit`` with ``null``, not an ``ApplyWorkspaceEditResult``: the
    turn is told the edit failed and the command is answered (the server's request used to wait forever)."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "app.py").write_text("x = 1\n", encoding="utf-8")
    edit = "*** Begin Patch\n*** Update File: app.py\n@@\n-x = 1\n+x = 2\n*** End Patch\n"
    steps = [{"output": [{"type": "custom_tool_call", "name": "apply_patch", "input": edit}]}]
    steps.append({"output": [{"type": "message", "text": "done"}]})
    async with FakeResponsesServer() as fake:
        fake.load(Script.model_validate({"turns": [{"requests": steps}]}))
        home = make_codex_home(tmp_path, fake.base_url, websockets=True)
        async with raw_server(tmp_path, home=home) as server:
            await started(server, folder=workspace, capabilities={"workspace": {"applyEdit": True}})
            await server.send(command(2, "codex.ask", {"prompt": "set x to 2"}))
            answer = await server.answer(2)
            status, stderr = await server.stop()
    assert server.answered_server >= 1, "the server asked for the edit"
    assert answer["result"]["status"] == "completed"
    assert answer["result"]["changedFiles"] == []
    assert (workspace / "app.py").read_text(encoding="utf-8") == "x = 1\n"
    assert status == 0
    assert_clean(server, stderr)
