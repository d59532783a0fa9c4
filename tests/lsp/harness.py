"""An editor for end-to-end tests: pytest-lsp's client driving ``python -m codex_lsp.lsp --stdio``.

pytest-lsp 1.0 answers ``workspace/configuration`` and ``window/workDoneProgress/create`` but not
``workspace/applyEdit`` or ``window/showMessageRequest``; :class:`Editor` answers those the way an
editor does. It keeps its own copy of every document it opens and applies workspace edits to it
with its own position arithmetic (written here from the specification, independently of the
server's), checking versions, performing file operations on disk, and reporting the result back
with ``didChange`` / ``didOpen`` / ``didClose`` as VS Code would. It also records every
notification, progress report and message, and can hold or refuse an edit on request.

Three capability profiles: VS Code 1.65 (documentChanges, change annotations, progress, plus
``experimental.codex``), Neovim 0.11 (resourceOperations without documentChanges, UTF-8
positions) and a minimal hand-made client (no documentChanges, no progress, no showMessageRequest,
no code-action literals, no workspace/configuration).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.uris import from_fs_path, to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from codex_lsp.lsp.client import client_converter
from codex_lsp.testing import FakeResponsesServer, Script

Profile = Literal["vscode", "neovim", "minimal"]
PROFILES: tuple[Profile, ...] = ("vscode", "neovim", "minimal")
KEY = "sk-test-SECRET-do-not-leak-1234567890"
CODEX_NOTIFICATIONS = (
    "codex/turn/started",
    "codex/item/started",
    "codex/item/agentMessage/delta",
    "codex/item/reasoning/summaryDelta",
    "codex/item/completed",
    "codex/turn/completed",
    "codex/turn/plan/updated",
    "codex/turn/fileChange/proposed",
    "codex/turn/command/started",
    "codex/turn/command/finished",
    "codex/turn/transport",
    "codex/proposal/updated",
    "codex/login/started",
    "codex/account/updated",
)
WAIT = 10.0
EDIT_ERROR = "the workspace edit could not be applied: the document is read-only"
"""The message of the JSON-RPC error an :class:`Editor` in ``apply_mode = "error"`` answers an edit with."""


def capabilities(profile: Profile) -> types.ClientCapabilities:
    if profile == "vscode":
        caps = client_capabilities("visual_studio_code")
        caps.experimental = {"codex": {"streaming": True}}
        return caps
    if profile == "neovim":
        return client_capabilities("neovim@v0.11")
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(apply_edit=True),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True)
        ),
    )


# -- the editor's own position arithmetic (independent of the server's) ----------------------------


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(char.encode("utf-8"))
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    return 1


def offset_at(text: str, position: types.Position, encoding: str) -> int:
    """Walk ``text`` one character at a time to ``position`` (LSP line breaks: \\n, \\r\\n, \\r)."""
    line, index = 0, 0
    while line < position.line and index < len(text):
        char = text[index]
        index += 1
        if char == "\r" and index < len(text) and text[index] == "\n":
            index += 1
        if char in "\r\n":
            line += 1
    units = 0
    while index < len(text) and text[index] not in "\r\n" and units < position.character:
        units += _units(text[index], encoding)
        index += 1
    return index


def position_at(text: str, offset: int, encoding: str) -> types.Position:
    """The position of ``offset``: line breaks counted from the start, then units since the last."""
    line, start, index = 0, 0, 0
    while index < offset:
        char = text[index]
        index += 1
        if char == "\r" and index < len(text) and text[index] == "\n":
            index += 1
        if char in "\r\n":
            line, start = line + 1, index
    return types.Position(line, sum(_units(char, encoding) for char in text[start:offset]))


def apply_text_edits(text: str, edits: list[Any], encoding: str) -> str:
    spans = sorted(
        (
            (offset_at(text, e.range.start, encoding), offset_at(text, e.range.end, encoding), e.new_text)
            for e in edits
        ),
        key=lambda span: span[0],
    )
    for start, end, new in reversed(spans):
        text = text[:start] + new + text[end:]
    return text


@dataclass
class Doc:
    text: str
    version: int


@dataclass
class Editor:
    client: LanguageClient
    root: Path
    profile: Profile
    encoding: str = "utf-16"
    docs: dict[str, Doc] = field(default_factory=dict)
    edits: list[types.ApplyWorkspaceEditParams] = field(default_factory=list)
    apply_mode: Literal["apply", "refuse", "hold", "error"] = "apply"
    """How ``workspace/applyEdit`` is answered: applied, ``applied: false`` (``refuse``), a JSON-RPC
    error (``error``: :data:`EDIT_ERROR`), or not until ``release`` is set (``hold``; then as the mode
    says by that time)."""
    raw_answer: dict[str, Any] | None = None
    """JSON sent as the answer to ``workspace/applyEdit`` in place of the result, once the edit was applied
    or refused as ``apply_mode`` says: how a client writing its own JSON may answer."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    edit_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    answered: int = 0
    """``workspace/applyEdit`` requests answered (their handler has returned)."""
    questions: list[types.ShowMessageRequestParams] = field(default_factory=list)
    answer: str | None = "Approve"
    """The button the user clicks; ``None`` dismisses the prompt, ``"!error"`` fails it, ``"!hold"``
    leaves it open until ``question_release`` is set (answering ``Approve``) or it is withdrawn."""
    question_release: asyncio.Event = field(default_factory=asyncio.Event)
    withdrawn: int = 0
    """Questions the server withdrew (``$/cancelRequest``) while they were open."""
    lens_refreshes: int = 0
    drop_annotations: set[str] = field(default_factory=set)
    """Annotation ids of edits the user unticks in a refactor preview (left out when applying)."""
    drop_edits: set[tuple[str, int]] = field(default_factory=set)
    """Single edits the user unticks in a refactor preview (VS Code lists each edit with its own box):
    ``(annotation id, n)`` is the ``n``-th edit (from 0) carrying that annotation."""
    notifications: list[tuple[str, Any]] = field(default_factory=list)
    logs: list[types.LogMessageParams] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    init_result: types.InitializeResult | None = None
    quiet: bool = False
    """Keep edited files that were not open to itself, telling the server nothing (no didOpen)."""
    unsaved: dict[str, str] = field(default_factory=dict)

    # -- documents -----------------------------------------------------------------------------------

    def uri(self, path: str) -> str:
        return from_fs_path(str(self.root / path)) or ""

    def path(self, uri: str) -> Path:
        return Path(to_fs_path(uri) or uri)

    def write(self, path: str, text: str) -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        return self.uri(path)

    def open(self, path: str, text: str | None = None) -> str:
        uri = self.uri(path)
        if text is None:
            text = (self.root / path).read_bytes().decode("utf-8")
        self._open(uri, text)
        return uri

    def _open(self, uri: str, text: str) -> None:
        self.docs[uri] = Doc(text, 1)
        item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))

    def type_text(self, path: str, text: str) -> None:
        """Replace the document's text, as if the user typed it (a full-text change)."""
        uri = self.uri(path)
        doc = self.docs[uri]
        self._set(uri, Doc(text, doc.version + 1))

    def type_at(self, path: str, changes: list[tuple[str, str]]) -> None:
        """Type as an editor reports it, one incremental change per ``(old, new)``: the first ``old``
        in the document becomes ``new``, its range in the negotiated encoding (one ``didChange``,
        each change's range relative to the text the changes before it left)."""
        uri = self.uri(path)
        text = self.docs[uri].text
        partial = []
        for old, new in changes:
            start = text.index(old)
            rng = types.Range(
                position_at(text, start, self.encoding), position_at(text, start + len(old), self.encoding)
            )
            partial.append(types.TextDocumentContentChangePartial(range=rng, text=new))
            text = text[:start] + new + text[start + len(old) :]
        doc = Doc(text, self.docs[uri].version + 1)
        self.docs[uri] = doc
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=list(partial),
            )
        )

    def _set(self, uri: str, doc: Doc) -> None:
        self.docs[uri] = doc
        change = types.TextDocumentContentChangeWholeDocument(text=doc.text)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[change],
            )
        )

    def close(self, uri: str) -> None:
        self.docs.pop(uri, None)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def text(self, path: str) -> str | None:
        """What the user sees: the open document, else the file on disk, else ``None``."""
        uri = self.uri(path)
        if uri in self.docs:
            return self.docs[uri].text
        if uri in self.unsaved:
            return self.unsaved[uri]
        target = self.root / path
        return target.read_bytes().decode("utf-8") if target.is_file() else None

    # -- applying workspace edits --------------------------------------------------------------------

    def apply(self, edit: types.WorkspaceEdit) -> tuple[bool, str | None]:
        operations: list[Any] = [self._ticked(op) for op in edit.document_changes or []]
        for uri, text_edits in (edit.changes or {}).items():
            identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None)
            operations.append(types.TextDocumentEdit(text_document=identifier, edits=list(text_edits)))
        for op in operations:
            if isinstance(op, types.TextDocumentEdit) and op.text_document.version is not None:
                doc = self.docs.get(op.text_document.uri)
                if doc is None or doc.version != op.text_document.version:
                    return False, f"version mismatch for {op.text_document.uri}"
        for op in operations:
            self._apply_one(op)
        return True, None

    def _ticked(self, op: Any) -> Any:
        """``op`` without the edits the user unticked in a refactor preview."""
        if not isinstance(op, types.TextDocumentEdit) or not (self.drop_annotations or self.drop_edits):
            return op
        kept, seen = [], Counter[str]()
        for e in op.edits:
            annotation = getattr(e, "annotation_id", None)
            if annotation is not None:
                number = seen[annotation]
                seen[annotation] += 1
                if annotation in self.drop_annotations or (annotation, number) in self.drop_edits:
                    continue
            kept.append(e)
        return types.TextDocumentEdit(text_document=op.text_document, edits=kept)

    def _apply_one(self, op: Any) -> None:
        if isinstance(op, types.TextDocumentEdit):
            uri = op.text_document.uri
            if uri in self.docs:
                current = self.docs[uri].text
            else:
                current = self.unsaved.get(uri) or self.path(uri).read_bytes().decode("utf-8")
            new = apply_text_edits(current, list(op.edits), self.encoding)
            if uri in self.docs:
                self._set(uri, Doc(new, self.docs[uri].version + 1))
            elif self.quiet:
                self.unsaved[uri] = new
            else:
                self._open(uri, new)  # as VS Code: the edited file opens (unsaved)
        elif isinstance(op, types.CreateFile):
            target = self.path(op.uri)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        elif isinstance(op, types.RenameFile):
            os.replace(self.path(op.old_uri), self.path(op.new_uri))
            if op.old_uri in self.docs:
                text = self.docs[op.old_uri].text
                self.close(op.old_uri)
                self._open(op.new_uri, text)
        elif isinstance(op, types.DeleteFile):
            if op.uri in self.docs:
                self.close(op.uri)
            self.path(op.uri).unlink()

    # -- waiting -------------------------------------------------------------------------------------

    def poke(self) -> None:
        self.changed.set()

    async def until(self, predicate: Callable[[], Any], seconds: float = WAIT) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every message from the server)."""
        async with asyncio.timeout(seconds):
            while not (value := predicate()):
                self.changed.clear()
                await self.changed.wait()
            return value

    def of(self, method: str) -> list[Any]:
        return [params for name, params in self.notifications if name == method]

    # -- commands ------------------------------------------------------------------------------------

    async def lenses(self, path: str) -> list[types.CodeLens]:
        params = types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=self.uri(path)))
        return list(await self.client.text_document_code_lens_async(params) or [])

    async def execute(self, command: str, arguments: Mapping[str, Any] | None = None) -> Any:
        params = types.ExecuteCommandParams(command=command, arguments=[dict(arguments or {})])
        return await self.client.workspace_execute_command_async(params)

    def start(self, command: str, arguments: Mapping[str, Any], msg_id: str) -> asyncio.Future[Any]:
        """Send a command without waiting (to cancel it), under ``msg_id``."""
        params = types.ExecuteCommandParams(command=command, arguments=[dict(arguments)])
        future = self.client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)
        return asyncio.wrap_future(future)

    def configure(self, settings: dict[str, Any]) -> None:
        """Change the ``codex`` settings as the editor would: through ``workspace/configuration``
        when the client offers it, else in the ``didChangeConfiguration`` notification itself."""
        if self.profile == "minimal":
            params = types.DidChangeConfigurationParams(settings={"codex": settings})
        else:
            self.client.set_configuration(settings, section="codex")
            params = types.DidChangeConfigurationParams(settings=None)
        self.client.workspace_did_change_configuration(params)

    def progress_tokens(self) -> list[Any]:
        return [token for token, reports in self.client.progress_reports.items() if reports]

    def everything_received(self) -> str:
        """Every message, log line, notification and progress report received, as text."""
        parts = [repr(m) for m in self.client.messages]
        parts += [repr(m) for m in self.logs]
        parts += [repr(n) for n in self.notifications]
        parts += [repr(p) for p in self.client.progress_reports.values()]
        parts += [repr(q) for q in self.questions]
        return "\n".join(parts)


_PROGRESS_KINDS: dict[str, type] = {
    "begin": types.WorkDoneProgressBegin,
    "report": types.WorkDoneProgressReport,
}


def _handle(client: LanguageClient, method: str, handler: Callable[..., Any]) -> None:
    client.feature(method)(handler)


def _register(editor: Editor) -> None:
    client = editor.client

    async def on_apply_edit(params: types.ApplyWorkspaceEditParams) -> Any:
        editor.edits.append(params)
        editor.edit_arrived.set()
        editor.poke()
        if editor.apply_mode == "hold":
            await editor.release.wait()
        try:
            if editor.apply_mode == "error":
                raise JsonRpcInternalError(message=EDIT_ERROR)
            applied, reason = (
                (False, "the user said no") if editor.apply_mode == "refuse" else editor.apply(params.edit)
            )
            if editor.raw_answer is not None:
                return editor.raw_answer
            return types.ApplyWorkspaceEditResult(applied=applied, failure_reason=reason)
        finally:
            editor.answered += 1
            editor.poke()

    async def on_question(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        editor.questions.append(params)
        editor.poke()
        if editor.answer == "!error":
            raise ValueError("the prompt could not be shown")
        if editor.answer == "!hold":
            try:
                await editor.question_release.wait()
            except asyncio.CancelledError:
                editor.withdrawn += 1
                editor.poke()
                raise
            return types.MessageActionItem(title="Approve")
        return types.MessageActionItem(title=editor.answer) if editor.answer else None

    def on_lens_refresh(params: Any) -> None:
        editor.lens_refreshes += 1
        editor.poke()

    def on_log(params: types.LogMessageParams) -> None:  # pytest-lsp's own fails on the Debug level
        editor.logs.append(params)
        editor.poke()

    def on_message(params: types.ShowMessageParams) -> None:
        client.messages.append(params)
        editor.poke()

    def on_progress(params: types.ProgressParams) -> None:
        value: Any = params.value or {}
        kind = _PROGRESS_KINDS.get(value.get("kind"), types.WorkDoneProgressEnd)
        structured: Any = client.protocol._converter.structure(value, kind)
        client.progress_reports.setdefault(params.token, []).append(structured)
        editor.poke()

    _handle(client, types.WORKSPACE_APPLY_EDIT, on_apply_edit)
    _handle(client, types.WINDOW_SHOW_MESSAGE_REQUEST, on_question)
    _handle(client, types.WORKSPACE_CODE_LENS_REFRESH, on_lens_refresh)
    _handle(client, types.WINDOW_LOG_MESSAGE, on_log)
    _handle(client, types.WINDOW_SHOW_MESSAGE, on_message)
    _handle(client, types.PROGRESS, on_progress)
    for method in CODEX_NOTIFICATIONS:

        def record(params: Any, method: str = method) -> None:
            editor.notifications.append((method, params))
            editor.poke()

        _handle(client, method, record)


_OWN = {types.WINDOW_LOG_MESSAGE, types.WINDOW_SHOW_MESSAGE, types.PROGRESS}


def _make_client() -> LanguageClient:
    """pytest-lsp's test client without the handlers :class:`Editor` provides itself."""
    client = LanguageClient(converter_factory=client_converter)
    register_lsp_features(client, {m: f for m, f in DEFAULT_CLIENT_FEATURES.items() if m not in _OWN})
    return client


def write_codex_home(home: Path, fake: FakeResponsesServer) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"""model = "gpt-5.5"
model_provider = "fake"

[model_providers.fake]
name = "fake"
base_url = "{fake.base_url}"
env_key = "CODEX_LSP_TEST_KEY"
supports_websockets = true
request_max_retries = 1
stream_max_retries = 1
""",
        encoding="utf-8",
    )


def server_env(home: Path, state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "CODEX_API_KEY")}
    env.update(CODEX_HOME=str(home), CODEX_LSP_STATE_DIR=str(state), CODEX_LSP_TEST_KEY=KEY)
    return env


@asynccontextmanager
async def editor_session(
    base: Path,
    fake: FakeResponsesServer,
    profile: Profile,
    *,
    init_options: Any = None,
    configuration: dict[str, Any] | None = None,
    command: list[str] | None = None,
    process_id: int | None = None,
    folders: tuple[Path, ...] = (),
    env: Mapping[str, str | None] | None = None,
    caps: types.ClientCapabilities | None = None,
    client_info: types.ClientInfo | None = None,
) -> AsyncIterator[Editor]:
    """Start a server, initialize it as ``profile`` with one workspace folder, shut it down after;
    ``env`` adds to (or, with ``None`` values, removes from) the server's environment; ``caps`` and
    ``client_info`` replace the profile's capabilities and name another client."""
    root, home, state = base / "ws", base / "codex-home", base / "state"
    root.mkdir(parents=True, exist_ok=True)
    if not (home / "config.toml").exists():
        write_codex_home(home, fake)
    config = ClientServerConfig(
        server_command=command
        or [
            sys.executable,
            "-m",
            "codex_lsp.lsp",
            "--stdio",
            "--log-level",
            os.environ.get("CODEX_LSP_TEST_LOG", "WARNING"),
        ],
        server_env={k: v for k, v in {**server_env(home, state), **(env or {})}.items() if v is not None},
        client_factory=_make_client,
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    editor = Editor(client, root.resolve(), profile)
    _register(editor)
    if configuration is not None:
        client.set_configuration(configuration, section="codex")
    caps = caps or capabilities(profile)
    folder = types.WorkspaceFolder(uri=from_fs_path(str(editor.root)) or "", name="ws")
    more = [types.WorkspaceFolder(uri=from_fs_path(str(f)) or "", name=f.name) for f in folders]
    params = types.InitializeParams(
        capabilities=caps,
        root_uri=folder.uri,
        workspace_folders=None if profile == "minimal" else [folder, *more],
        initialization_options=init_options,
        process_id=process_id,
        client_info=client_info,
    )
    editor.init_result = await client.initialize_session(params)
    encoding = editor.init_result.capabilities.position_encoding
    editor.encoding = str(getattr(encoding, "value", encoding) or "utf-16")
    try:
        yield editor
    finally:
        if client._server is not None and client._server.returncode is None:
            await client.shutdown_session()
        await client.stop()  # type: ignore[no-untyped-call]


def load(fake: FakeResponsesServer, *turns: list[dict[str, Any]]) -> None:
    """Give the fake model one scripted turn per argument (each a list of requests)."""
    fake.load(Script.model_validate({"turns": [{"requests": steps} for steps in turns]}))


def say(text: str, **step: Any) -> dict[str, Any]:
    return {"output": [{"type": "message", "text": text}], **step}


def patch(text: str, **step: Any) -> dict[str, Any]:
    return {"output": [{"type": "custom_tool_call", "name": "apply_patch", "input": text}], **step}


def call(name: str, arguments: dict[str, Any], **step: Any) -> dict[str, Any]:
    import json

    return {"output": [{"type": "function_call", "name": name, "arguments": json.dumps(arguments)}], **step}


def outputs(fake: FakeResponsesServer) -> list[str]:
    """Every tool output the fake model received, in order."""
    found = []
    for request in fake.requests:
        for item in request.body.get("input") or []:
            if isinstance(item, dict) and str(item.get("type", "")).endswith("_output"):
                found.append(str(item.get("output")))
    return found


def user_texts(fake: FakeResponsesServer) -> list[str]:
    return [
        part.get("text", "")
        for request in fake.generating_requests()
        for item in request.effective_input
        if item.get("role") == "user"
        for part in item.get("content", [])
    ]


async def settled(ed: Editor, key: str, value: Any, seconds: float = WAIT) -> dict[str, Any]:
    """``codex.status`` once it shows ``key`` as ``value``. Settings apply asynchronously and the server
    tells nothing when they have, so this asks again until they show, one request at a time: each ask
    waits for the server's answer, never for a set time."""
    async with asyncio.timeout(seconds):
        while (current := await ed.execute("codex.status")).get(key) != value:
            pass
        result: dict[str, Any] = current
        return result


async def served(fake: FakeResponsesServer, predicate: Callable[[], Any], seconds: float = WAIT) -> Any:
    """Wait until ``predicate`` (about what the fake model server recorded) is truthy."""
    async with asyncio.timeout(seconds):
        return await fake.until(predicate)


async def eventually(predicate: Callable[[], Any], seconds: float = WAIT) -> Any:
    """Poll ``predicate`` until truthy: only for the operating system's state (processes alive), which
    nothing announces; wait on :meth:`Editor.until` or :func:`served` for anything else."""
    async with asyncio.timeout(seconds):
        while not (value := predicate()):  # noqa: ASYNC110 - nothing to wait on but the state itself
            await asyncio.sleep(0.005)
        return value


def silent_before_completion(step: dict[str, Any]) -> dict[str, Any]:
    """``step`` streamed up to (not including) ``response.completed``, then silence."""
    from codex_lsp.testing import ResponseIds, Step, render_response

    events, _ = render_response(Step.model_validate(step), "resp", "gpt-5.5", ResponseIds())
    return {**step, "fault": {"kind": "silence", "after_events": len(events) - 1}}
