"""The server object and everything it keeps between requests.

:class:`CodexServer` is pygls' ``LanguageServer`` with a :class:`ServerState`: the resolved client
capabilities, the settings, open documents, the diagnostics store, the running turns, the server's
own background tasks (one tracked set, cancelled on shutdown) and — built lazily, since it loads
the agent, the model transport and pydantic — the :class:`~codex_lsp.lsp.host.runtime.Host`.
Nothing here imports those layers at module level, so start-up costs what pygls costs.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer

from codex_lsp import __version__
from codex_lsp.lsp.capabilities import ClientCaps
from codex_lsp.lsp.documents import DocumentStore
from codex_lsp.lsp.features.diagnostics import DiagnosticStore
from codex_lsp.lsp.heap import HeapTrimmer
from codex_lsp.lsp.protocol import CodexProtocol
from codex_lsp.lsp.settings import Settings
from codex_lsp.lsp.turns import TurnRegistry

if TYPE_CHECKING:
    from codex_lsp.lsp.host.runtime import Host

__all__ = ["CodexServer", "ServerState"]

log = logging.getLogger(__name__)


class ServerState:
    """What the server knows between requests."""

    def __init__(self) -> None:
        self.caps = ClientCaps()
        self.init_settings = Settings()
        """The settings ``initializationOptions`` gave; ``workspace/configuration`` is laid over them."""
        self.settings = Settings()
        self.documents = DocumentStore()
        self.heap = HeapTrimmer()
        """Gives the memory of closed and rewritten documents back to the system."""
        self.diagnostics = DiagnosticStore()
        self.turns = TurnRegistry()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.parent_pid: int | None = None
        self.login: asyncio.Task[Any] | None = None
        """The ``codex.login`` in progress (a new one cancels it)."""
        self.stopping = False
        self._host: asyncio.Task[Host] | None = None

    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, tracked (cancelled on shutdown), its failure logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def host(self, server: CodexServer) -> asyncio.Task[Host]:
        """The host (agents, model client), built once in the background on first use."""
        if self._host is None:
            self._host = asyncio.get_running_loop().create_task(_build_host(server), name="codex-host")
        return self._host

    def built_host(self) -> Host | None:
        """The host if it is already built (never builds it)."""
        if self._host is None or not self._host.done() or self._host.cancelled():
            return None
        return self._host.result() if self._host.exception() is None else None

    def scrub(self, text: str) -> str:
        """``text`` without any secret the host knows (the API key)."""
        host = self.built_host()
        return host.scrub(text) if host is not None else text

    async def stop(self, grace: float = 5.0) -> None:
        """Interrupt every turn, wait for them (at most ``grace`` seconds), close the model connection."""
        self.stopping = True
        await self.turns.stop_all(grace)
        for task in list(self.tasks):
            task.cancel()
        host = self.built_host()
        if host is not None:
            await host.aclose()


async def _build_host(server: CodexServer) -> Host:
    # The agent, model and patch layers load here, in a worker thread so the event loop keeps
    # answering meanwhile.
    module = await asyncio.to_thread(importlib.import_module, "codex_lsp.lsp.host.runtime")
    host: Host = module.Host(server)
    return host


class CodexServer(LanguageServer):
    """The codex-lsp language server: pygls plus the state above."""

    def __init__(self) -> None:
        super().__init__(
            "codex-lsp",
            __version__,
            protocol_cls=CodexProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.state = ServerState()

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Tell the user (``window/showMessage``), with secrets removed."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=self.state.scrub(message)))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Debug) -> None:
        """Write to the editor's log for this server (``window/logMessage``), with secrets removed."""
        self.window_log_message(types.LogMessageParams(type=kind, message=self.state.scrub(message)))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A failure no request answer reports (a notification's handler failed): logged with its
        traceback here, one line in the editor's log (``window/logMessage``). pygls would show every
        such failure as an "Error in server: …" popup."""
        if source is FeatureRequestError:
            return  # the request was answered with the error
        data = getattr(error, "data", None)
        trace = data.get("traceback") if isinstance(data, dict) else None
        log.error("internal error: %s%s", error, "\n" + "".join(trace) if isinstance(trace, list) else "")
        self.log(f"codex-lsp: internal error: {error}", types.MessageType.Error)

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self.protocol.notify(method, params)
