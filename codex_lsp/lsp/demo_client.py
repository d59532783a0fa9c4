"""The editor in ``codex-lsp demo``: a small LSP client driving ``codex-lsp --stdio`` as an editor does.

:mod:`codex_lsp.demo` tells the story; this module is the editor in it, built on pygls' own
``LanguageClient`` (it lives here because only this package speaks LSP). It starts the server as a
subprocess and initializes it declaring what a capable editor declares — versioned
``documentChanges``, work-done progress, ``experimental.codex`` streaming, UTF-8 or UTF-16
positions — then opens documents, asks for code actions with a linter's diagnostic and runs the
command the user picks. Meanwhile it answers the server as an editor must:

- ``workspace/applyEdit``: the edits are applied to the editor's own copy of each document — ranges
  resolved in the negotiated position encoding, versions checked, all or nothing — and reported back
  with ``didChange``. Nothing touches the disk until the document is saved (:meth:`DemoEditor.save`).
- ``window/workDoneProgress/create`` is accepted; ``$/progress``, the ``codex/*`` notifications and
  ``window/showMessage`` are printed as they arrive (the agent's text as it streams).

Robust by construction: every awaited reply has a timeout, a failure is a :class:`DemoError` that
carries the server's stderr, and the server process is always reaped (``shutdown`` and ``exit``,
else killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

import attrs
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from codex_lsp import __version__
from codex_lsp.agent import Diagnostic
from codex_lsp.lsp.client import client_converter
from codex_lsp.lsp.positions import DEFAULT_ENCODING, Encoding, LineIndex, as_encoding

__all__ = ["DemoEditor", "DemoError", "Offered", "Timeouts", "apply_text_edits"]

T = TypeVar("T")
_TextEdits = Sequence[types.TextEdit | types.AnnotatedTextEdit]

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
CODEX_NOTIFICATIONS = (
    "codex/turn/started",
    "codex/item/started",
    "codex/item/agentMessage/delta",
    "codex/item/reasoning/summaryDelta",
    "codex/item/completed",
    "codex/turn/plan/updated",
    "codex/turn/fileChange/proposed",
    "codex/turn/command/started",
    "codex/turn/command/finished",
    "codex/turn/transport",
    "codex/turn/completed",
)
_STREAMED = {"codex/item/agentMessage/delta": "agent", "codex/item/reasoning/summaryDelta": "thinking"}
_LABEL = 14
_INDENT = " " * (_LABEL + 5)


class DemoError(Exception):
    """The demo could not go on; ``stderr`` is what the server wrote to its stderr meanwhile."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.stderr = ""


@dataclass(frozen=True)
class Timeouts:
    """How long each awaited reply may take, in seconds."""

    start: float = 20.0
    """From spawning the server to its ``initialize`` answer."""
    request: float = 10.0
    """Any other request (code actions, status, shutdown), and the server's exit after ``exit``."""
    turn: float = 60.0
    """A turn command, from sending it to its result."""


@dataclass(frozen=True)
class Offered:
    """One code action the server offered, as a menu shows it."""

    title: str
    kind: str | None
    command: str
    arguments: Sequence[Any] | None


@dataclass
class _Doc:
    text: str
    version: int
    dirty: bool = False


class EditRefused(Exception):
    """An edit this editor cannot apply; the message is the ``failureReason`` it answers with."""


def apply_text_edits(text: str, edits: _TextEdits, encoding: Encoding) -> str:
    """``text`` with LSP ``edits`` applied: ranges in ``encoding`` units, all relative to ``text``,
    edits at one position applied in their order; overlapping edits are refused."""
    index = LineIndex(text, encoding)
    spans = sorted(
        (
            (
                index.offset(e.range.start.line, e.range.start.character),
                index.offset(e.range.end.line, e.range.end.character),
                e.new_text,
            )
            for e in edits
        ),
        key=lambda span: span[0],
    )
    pieces, cursor = [], 0
    for start, end, new in spans:
        if start < cursor or end < start:
            raise EditRefused("the edits overlap")
        pieces += [text[cursor:start], new]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


@attrs.define
class _CodexNotification:
    """A ``codex/*`` notification with its params as plain JSON (pygls would make named tuples)."""

    method: str
    params: dict[str, Any] = attrs.field(factory=dict)
    jsonrpc: str = "2.0"


class _Protocol(LanguageServerProtocol):
    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method.startswith("codex/"):
            return _CodexNotification
        return super().get_message_type(method)


class _Transcript:
    """Prints the session: one line per step, streamed text growing on its line as it arrives."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._streaming: str | None = None

    def line(self, arrow: str, label: str, text: str) -> None:
        self.close_line()
        self._write(f"  {arrow} {label:<{_LABEL}} {text}\n")

    def stream(self, key: str, label: str, delta: str) -> None:
        if self._streaming != key:
            self.close_line()
            self._write(f"  ← {label:<{_LABEL}} ")
            self._streaming = key
        self._write(delta.replace("\r\n", "\n").replace("\n", "\n" + _INDENT))

    def end(self, key: str) -> None:
        if self._streaming == key:
            self.close_line()

    def close_line(self) -> None:
        if self._streaming is not None:
            self._streaming = None
            self._write("\n")

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def _capabilities() -> types.ClientCapabilities:
    kinds = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]
    literals = types.ClientCodeActionLiteralOptions(
        code_action_kind=types.ClientCodeActionKindOptions(value_set=kinds)
    )
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
        ),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            workspace_folders=True,
        ),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
            code_action=types.CodeActionClientCapabilities(code_action_literal_support=literals),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        experimental={"codex": {"streaming": True}},
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


class DemoEditor:
    """An editor with one workspace folder (``root``), printing what happens on ``out``."""

    def __init__(self, root: Path, out: TextIO, timeouts: Timeouts | None = None) -> None:
        self.root = root.resolve()
        self.timeouts = timeouts or Timeouts()
        self.encoding: Encoding = DEFAULT_ENCODING
        """The position encoding negotiated at ``initialize``."""
        self.server_name = ""
        self.counts: Counter[str] = Counter()
        """Messages received from the server, by method (``$/progress`` by kind)."""
        self.docs: dict[str, _Doc] = {}
        self.transcript = _Transcript(out)
        self.client = LanguageClient(
            "codex-lsp demo", __version__, protocol_cls=_Protocol, converter_factory=client_converter
        )
        self._agent_text: dict[str, str] = {}
        self._stderr = bytearray()
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None
        self._register()

    # -- the session ---------------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def session(
        cls, command: Sequence[str], env: dict[str, str], root: Path, out: TextIO, timeouts: Timeouts
    ) -> AsyncIterator[DemoEditor]:
        """Start ``command`` (the server, on stdio) in ``root``, initialize it, yield the editor;
        shut the server down after, and reap it whatever happened."""
        editor = cls(root, out, timeouts)
        try:
            await editor._start(command, env)
            await editor._initialize()
            yield editor
            await editor._shutdown()
        except DemoError as exc:
            await editor._reap()
            exc.stderr = editor.stderr
            raise
        finally:
            await editor._reap()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    @property
    def stderr(self) -> str:
        """What the server wrote to its stderr so far."""
        return self._stderr.decode("utf-8", "replace")

    async def _start(self, command: Sequence[str], env: dict[str, str]) -> None:
        try:
            await self.client.start_io(command[0], *command[1:], env=env, cwd=self.root)
        except OSError as exc:
            raise DemoError(f"cannot start the server ({' '.join(command)}): {exc}") from None
        # pygls pipes the server's stderr and leaves it unread: read it, or a chatty server blocks.
        self._process = self.client._server
        if self._process is not None and self._process.stderr is not None:
            self._drain = asyncio.get_running_loop().create_task(self._read_stderr(self._process.stderr))

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self._stderr += chunk

    async def _initialize(self) -> None:
        uri = self.uri_of(self.root)
        params = types.InitializeParams(
            capabilities=_capabilities(),
            process_id=os.getpid(),  # the server ends itself if the demo dies
            client_info=types.ClientInfo(name="codex-lsp demo", version=__version__),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name=self.root.name)],
        )
        result = await self._wait(self.client.initialize_async(params), "initialize", self.timeouts.start)
        self.client.initialized(types.InitializedParams())
        self.encoding = as_encoding(result.capabilities.position_encoding)
        info = result.server_info
        self.server_name = f"{info.name} {info.version or ''}".strip() if info else "?"

    async def _shutdown(self) -> None:
        await self._wait(self.client.shutdown_async(None), "shutdown", self.timeouts.request)
        self.client.exit(None)
        process = self._process
        if process is not None:
            await self._wait(process.wait(), "the server's exit", self.timeouts.request)

    async def _reap(self) -> None:
        """Make sure the server process is gone and its output read (idempotent)."""
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeouts.request):
                    await process.wait()
        if self._drain is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeouts.request):
                    await self._drain
        if not self.client.stopped:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeouts.request):
                    await self.client.stop()  # type: ignore[no-untyped-call]

    async def _wait(self, reply: Awaitable[T], what: str, seconds: float) -> T:
        """``reply``, or a :class:`DemoError` saying what went wrong: no answer in time, an error
        answer, or the server's end (pygls fails the requests pending when the process exits)."""
        try:
            async with asyncio.timeout(seconds):
                return await reply
        except TimeoutError:
            raise DemoError(f"{what}: no answer from the server within {seconds:g} s") from None
        except Exception as exc:
            if await self._exited():
                raise DemoError(
                    f"{what}: the server exited (status {self.returncode}) without answering"
                ) from None
            raise DemoError(f"{what} failed: {exc}") from None

    async def _exited(self) -> bool:
        """Whether the server has ended (a request failing because it died fails as it ends)."""
        if self._process is None:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await self._process.wait()
        return self._process.returncode is not None

    # -- what the user does --------------------------------------------------------------------------

    def uri_of(self, path: Path) -> str:
        return from_fs_path(str(path)) or str(path)

    def open(self, path: str, language_id: str = "python") -> int:
        """Open ``path`` (relative to the folder) from disk; returns its version."""
        uri = self.uri_of(self.root / path)
        text = (self.root / path).read_bytes().decode("utf-8")
        self._opened(uri, text, language_id)
        return self.docs[uri].version

    def text(self, path: str) -> str:
        """The editor's text of ``path`` (open documents only)."""
        return self.docs[self.uri_of(self.root / path)].text

    def version(self, path: str) -> int:
        return self.docs[self.uri_of(self.root / path)].version

    def lsp_range(self, path: str, diagnostic: Diagnostic) -> types.Range:
        """``diagnostic``'s range (code points) in the negotiated encoding, against the editor's text."""
        text = self.text(path)
        points, units = LineIndex(text, "utf-32"), LineIndex(text, self.encoding)
        start = units.position(points.offset(diagnostic.start_line, diagnostic.start_character))
        end = units.position(points.offset(diagnostic.end_line, diagnostic.end_character))
        return types.Range(types.Position(*start), types.Position(*end))

    async def code_actions(self, path: str, diagnostic: Diagnostic) -> list[Offered]:
        """Ask for the code actions at ``diagnostic``, with it in the context (as a linter put it there)."""
        rng = self.lsp_range(path, diagnostic)
        lsp = types.Diagnostic(
            range=rng,
            message=diagnostic.message,
            severity=_SEVERITY.get(diagnostic.severity or ""),
            source=diagnostic.source,
            code=diagnostic.code,
        )
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri_of(self.root / path)),
            range=rng,
            context=types.CodeActionContext(
                diagnostics=[lsp], trigger_kind=types.CodeActionTriggerKind.Invoked
            ),
        )
        reply = self.client.text_document_code_action_async(params)
        actions = await self._wait(reply, "textDocument/codeAction", self.timeouts.request) or []
        return [_offered(action) for action in actions]

    async def execute(self, command: str, arguments: Sequence[Any] | None, *, turn: bool = False) -> Any:
        """Run a ``workspace/executeCommand``; ``turn``: a model turn (its own, longer timeout)."""
        params = types.ExecuteCommandParams(command=command, arguments=list(arguments or []))
        seconds = self.timeouts.turn if turn else self.timeouts.request
        try:
            return await self._wait(self.client.workspace_execute_command_async(params), command, seconds)
        finally:
            self.transcript.close_line()

    def save(self, path: str) -> Path:
        """Write the editor's text of ``path`` to disk and tell the server (``didSave``)."""
        target = self.root / path
        uri = self.uri_of(target)
        doc = self.docs[uri]
        target.write_bytes(doc.text.encode("utf-8"))
        doc.dirty = False
        document = types.TextDocumentIdentifier(uri=uri)
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=document))
        return target

    def dirty(self) -> list[str]:
        """Open documents with unsaved edits, as paths relative to the folder."""
        found = []
        for uri, doc in self.docs.items():
            path = Path(to_fs_path(uri) or uri)
            if doc.dirty and path.is_relative_to(self.root):
                found.append(path.relative_to(self.root).as_posix())
        return found

    # -- documents -----------------------------------------------------------------------------------

    def _opened(self, uri: str, text: str, language_id: str) -> None:
        self.docs[uri] = _Doc(text, 1)
        item = types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))

    def _changed(self, uri: str, text: str) -> None:
        doc = self.docs[uri]
        doc.text, doc.version, doc.dirty = text, doc.version + 1, True
        identifier = types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version)
        change = types.TextDocumentContentChangeWholeDocument(text=text)
        params = types.DidChangeTextDocumentParams(text_document=identifier, content_changes=[change])
        self.client.text_document_did_change(params)

    def _current(self, uri: str) -> str:
        if uri in self.docs:
            return self.docs[uri].text
        path = to_fs_path(uri)
        if not path or not os.path.isfile(path):
            raise EditRefused(f"{uri} is neither open nor a file")
        return Path(path).read_bytes().decode("utf-8")

    def _planned(self, edit: types.WorkspaceEdit) -> dict[str, tuple[str, int]]:
        """uri → (its text once ``edit`` is applied, how many text edits); nothing is changed yet."""
        planned: dict[str, tuple[str, int]] = {}
        for uri, version, edits in _text_edits(edit):
            doc = self.docs.get(uri)
            if version is not None and (doc is None or doc.version != version):
                now = "not open" if doc is None else f"at version {doc.version}"
                raise EditRefused(f"the edit is for version {version} of {uri}, which is {now}")
            text, count = planned.get(uri, (self._current(uri), 0))
            planned[uri] = (apply_text_edits(text, edits, self.encoding), count + len(edits))
        return planned

    def _on_apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.counts[types.WORKSPACE_APPLY_EDIT] += 1
        label = f'"{params.label}"' if params.label else "(no label)"
        try:
            planned = self._planned(params.edit)
        except EditRefused as exc:
            self.transcript.line("←", "applyEdit", f"{label}: refused, {exc}")
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason=str(exc))
        for uri, (text, count) in planned.items():
            name = self._name(uri)
            if uri in self.docs:
                before = self.docs[uri].version
                self._changed(uri, text)
                where = f"{name} v{before} → v{before + 1}"
            else:
                self._opened(uri, text, "")
                self.docs[uri].dirty = True
                where = f"{name} (opened, unsaved)"
            edits = "1 edit" if count == 1 else f"{count} edits"
            self.transcript.line("←", "applyEdit", f"{label}: {edits} to {where}, in the editor's copy")
        return types.ApplyWorkspaceEditResult(applied=True)

    def _name(self, uri: str) -> str:
        path = Path(to_fs_path(uri) or uri)
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)

    # -- what the server sends -----------------------------------------------------------------------

    def _register(self) -> None:
        def on(method: str, handler: Callable[[Any], Any]) -> None:
            # pygls marks the handler it registers, which a bound method cannot take: wrap it.
            def handle(params: Any) -> Any:
                return handler(params)

            self.client.feature(method)(handle)

        on(types.WORKSPACE_APPLY_EDIT, self._on_apply_edit)
        on(types.WINDOW_WORK_DONE_PROGRESS_CREATE, self._on_progress_create)
        on(types.PROGRESS, self._on_progress)
        on(types.WINDOW_SHOW_MESSAGE, self._on_show_message)
        on(types.WINDOW_LOG_MESSAGE, self._on_log_message)
        for method in CODEX_NOTIFICATIONS:
            on(method, functools.partial(self._on_codex, method))

    def _on_progress_create(self, params: types.WorkDoneProgressCreateParams) -> None:
        self.counts[types.WINDOW_WORK_DONE_PROGRESS_CREATE] += 1

    def _on_show_message(self, params: types.ShowMessageParams) -> None:
        self.counts[types.WINDOW_SHOW_MESSAGE] += 1
        self.transcript.line("←", "message", params.message)

    def _on_log_message(self, params: types.LogMessageParams) -> None:
        self.counts[types.WINDOW_LOG_MESSAGE] += 1

    def _on_progress(self, params: types.ProgressParams) -> None:
        value: Any = params.value if isinstance(params.value, dict) else {}
        kind = value.get("kind", "")
        self.counts[f"$/progress {kind}"] += 1
        message = value.get("message") or ""
        if kind == "begin":
            self.transcript.line("←", "progress", f"{value.get('title', '')}: {message}")
        elif kind == "end":
            self.transcript.line("←", "progress end", message)
        elif message and not self._echoes_agent_text(message):
            self.transcript.line("←", "progress", message)

    def _echoes_agent_text(self, message: str) -> bool:
        """Progress reports carry the agent's latest line, which is already on screen as it streams."""
        shown = message.removesuffix("…")
        return any(shown in _one_line(text) for text in self._agent_text.values())

    def _on_codex(self, method: str, params: Any) -> None:
        self.counts[method] += 1
        data: dict[str, Any] = params if isinstance(params, dict) else {}
        if method in _STREAMED:
            item_id, delta = str(data.get("itemId")), str(data.get("delta", ""))
            if method == "codex/item/agentMessage/delta":
                self._agent_text[item_id] = self._agent_text.get(item_id, "") + delta
            self.transcript.stream(item_id, _STREAMED[method], delta)
        elif method == "codex/item/completed":
            self._completed(data.get("item") or {})
        elif method == "codex/turn/fileChange/proposed":
            changes = data.get("changes") or []
            paths = ", ".join(f"{c.get('kind')} {c.get('path')}" for c in changes)
            self.transcript.line("←", "patch", f"proposed: {paths}")
        elif method == "codex/turn/transport":
            self.transcript.line("←", "transport", str(data.get("message", "")))
        elif method == "codex/turn/command/started":
            self.transcript.line("←", "command", "$ " + " ".join(data.get("command") or []))

    def _completed(self, item: dict[str, Any]) -> None:
        self.transcript.end(str(item.get("id")))
        if item.get("type") == "fileChange":
            paths = ", ".join(str(c.get("path")) for c in item.get("changes") or [])
            message = f" ({item['message']})" if item.get("message") else ""
            self.transcript.line("←", "patch", f"{item.get('status')}: {paths}{message}")


def _text_edits(edit: types.WorkspaceEdit) -> list[tuple[str, int | None, _TextEdits]]:
    """``edit``'s text edits as (uri, version or ``None``, edits), in order; :class:`EditRefused` for
    what this editor did not declare it takes (file operations, snippets)."""
    steps: list[tuple[str, int | None, _TextEdits]] = []
    for op in edit.document_changes or ():
        if not isinstance(op, types.TextDocumentEdit):
            raise EditRefused(f"this editor does not do {type(op).__name__} (not declared)")
        plain = [e for e in op.edits if not isinstance(e, types.SnippetTextEdit)]
        if len(plain) != len(op.edits):
            raise EditRefused("this editor does not take snippet edits (not declared)")
        steps.append((op.text_document.uri, op.text_document.version, plain))
    for uri, edits in (edit.changes or {}).items():
        steps.append((uri, None, list(edits)))
    return steps


def _offered(action: types.CodeAction | types.Command) -> Offered:
    if isinstance(action, types.Command):
        return Offered(action.title, None, action.command, action.arguments)
    command = action.command
    kind = str(getattr(action.kind, "value", action.kind)) if action.kind else None
    return Offered(
        action.title, kind, command.command if command else "", command.arguments if command else None
    )
