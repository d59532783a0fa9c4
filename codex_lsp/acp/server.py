"""The ACP agent on stdio: lifecycle requests, sessions, and the process around them.

- ``initialize``: our name and version, ``loadSession``, embedded context in prompts (no images),
  ``session/list``, and the sign-in methods when the configured provider takes the user's OpenAI
  sign-in (see :mod:`codex_lsp.acp.auth`; a provider with its own key offers none).
- ``authenticate``: signs in with one of those methods, writing ``auth.json`` as Codex does.
- ``session/new`` / ``session/load``: a session per thread, rooted at the client's ``cwd``; MCP servers
  the client offers are declined (logged, and named in the response's ``_meta``): this agent's tools
  are its own. Without the sign-in the provider needs, they (and ``session/prompt``) answer
  ``auth_required``; the model client is built once, the sign-in is checked afresh each time.
- ``session/prompt``, ``session/cancel``, ``session/set_mode``, ``session/set_config_option``: see
  :mod:`codex_lsp.acp.session` and :mod:`codex_lsp.acp.options` (the modes are offered as ``modes`` and
  as the ``mode`` configuration option, beside the model and the reasoning effort).

Every error a client can cause is a JSON-RPC error with a one-line message (an unknown session,
a prompt while one runs, a relative ``cwd``…). stdout carries nothing but ACP messages: logs go
to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from acp import PROTOCOL_VERSION, RequestError, run_agent
from acp.core import DEFAULT_STDIO_BUFFER_LIMIT_BYTES
from acp.interfaces import Agent, Client
from acp.schema import (
    AcpMcpServer,
    AgentCapabilities,
    AuthenticateResponse,
    ClientCapabilities,
    HttpMcpServer,
    Implementation,
    InitializeResponse,
    ListSessionsResponse,
    LoadSessionResponse,
    McpServerStdio,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionInfo,
    SessionListCapabilities,
    SetSessionConfigOptionResponse,
    SetSessionModeResponse,
    SseMcpServer,
)
from acp.stdio import stdio_streams

from codex_lsp import __version__
from codex_lsp.acp.auth import SignIn, auth_required
from codex_lsp.acp.lines import LineTransport
from codex_lsp.acp.prompt import PromptBlock
from codex_lsp.acp.session import AcpSession, EditMode, mode_state
from codex_lsp.agent import AgentSettings, ThreadNotFoundError, ThreadStore, default_state_dir
from codex_lsp.model import (
    AuthError,
    ConfigRequest,
    ModelClient,
    ModelError,
    ModelSettings,
    load_permissions,
    load_settings,
)
from codex_lsp.model import codex_home as default_codex_home

__all__ = ["CodexAcpAgent", "configure_logging", "run_acp"]

log = logging.getLogger(__name__)

McpServer = HttpMcpServer | SseMcpServer | AcpMcpServer | McpServerStdio
MCP_DECLINED = (
    "codex-lsp does not start MCP servers from the editor; its tools are its own. Not started: {names}"
)


class CodexAcpAgent:
    """The ACP ``Agent`` side: one per connection, any number of sessions."""

    def __init__(
        self,
        *,
        settings: AgentSettings | None = None,
        store: ThreadStore | None = None,
        model: ModelClient | None = None,
        codex_home: Path | None = None,
        config: ConfigRequest | None = None,
    ) -> None:
        """Without ``model``, each session's folder gets the client its configuration resolves to
        (``$CODEX_HOME``, ``config``'s profile and overrides, the folder's trusted project layers); folders
        alike share one."""
        self.settings = settings or AgentSettings()
        self.store = store or ThreadStore(default_state_dir())
        self.model = model
        self.models: dict[str, ModelClient] = {}
        self.config = config or ConfigRequest()
        self.codex_home = codex_home
        self._warned: set[str] = set()
        self.sessions: dict[str, AcpSession] = {}
        self.client: Client | None = None
        self.capabilities: ClientCapabilities | None = None
        self.client_info: Implementation | None = None
        self.signin = SignIn(codex_home or default_codex_home())

    def on_connect(self, conn: Client) -> None:
        self.client = conn

    async def aclose(self) -> None:
        """End every session (interrupting running prompts) and close the model connection."""
        await asyncio.gather(*(session.aclose() for session in self.sessions.values()))
        await self.signin.aclose()
        for model in (*([self.model] if self.model is not None else []), *self.models.values()):
            await model.aclose()

    # -- lifecycle ------------------------------------------------------------------------------------

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self.capabilities = client_capabilities
        self.client_info = client_info
        if client_info is not None:
            log.info("client: %s %s", client_info.name, client_info.version)
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(image=False, audio=False, embedded_context=True),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            agent_info=Implementation(name="codex-lsp", title="Codex (codex-lsp)", version=__version__),
            auth_methods=self.signin.methods(client_capabilities),
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> AuthenticateResponse:
        await self.signin.authenticate(method_id)
        return AuthenticateResponse()

    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[McpServer] | None = None,
        **kwargs: Any,
    ) -> NewSessionResponse:
        session = self._open(cwd)
        session_id = session.start()
        self.sessions[session_id] = session
        return NewSessionResponse(
            session_id=session_id,
            modes=mode_state(session.mode),
            config_options=session.config_options(),
            field_meta=_declined(mcp_servers),
        )

    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[McpServer] | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> LoadSessionResponse:
        if session_id in self.sessions:
            raise RequestError(-32602, f"session {session_id} is already open")
        session = self._open(cwd)
        try:
            session.start(session_id)
        except ThreadNotFoundError:
            raise RequestError(-32602, f"no saved session {session_id!r}; start a new one") from None
        self.sessions[session_id] = session
        await session.replay()
        return LoadSessionResponse(
            modes=mode_state(session.mode),
            config_options=session.config_options(),
            field_meta=_declined(mcp_servers),
        )

    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **kwargs: Any
    ) -> ListSessionsResponse:
        return await asyncio.to_thread(self._list, cwd)

    def _list(self, cwd: str | None) -> ListSessionsResponse:
        """The saved threads with at least one turn, newest first (of ``cwd`` only, when given)."""
        where = str(Path(cwd).resolve()) if cwd else None
        infos = [
            SessionInfo(
                session_id=summary.id,
                cwd=summary.cwd,
                title=summary.title or None,
                updated_at=datetime.fromtimestamp(summary.updated_at, UTC).isoformat(),
            )
            for summary in self.store.list()
            if summary.turns and (where is None or summary.cwd == where)
        ]
        return ListSessionsResponse(sessions=infos)

    # -- sessions -------------------------------------------------------------------------------------

    async def prompt(self, session_id: str, prompt: list[PromptBlock], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        self._require_credentials(self._model(session.root))
        return await session.prompt(prompt)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            log.warning("session/cancel for unknown session %r ignored", session_id)
            return
        session.cancel()

    async def set_session_mode(self, session_id: str, mode_id: str, **kwargs: Any) -> SetSessionModeResponse:
        session = self._session(session_id)
        session.set_mode(mode_id)
        await session.stream.flush()  # the client hears of the change before the answer
        return SetSessionModeResponse()

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse:
        session = self._session(session_id)
        options = session.set_config_option(config_id, value)
        await session.stream.flush()
        return SetSessionConfigOptionResponse(config_options=options)

    def _session(self, session_id: str) -> AcpSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise RequestError(-32602, f"unknown session {session_id!r}; create one with session/new")
        return session

    def _open(self, cwd: str) -> AcpSession:
        root = Path(cwd)
        if not root.is_absolute():
            raise RequestError(-32602, f"cwd must be an absolute path, not {cwd!r}")
        if not root.is_dir():
            raise RequestError(-32602, f"cwd {cwd} is not a directory")
        if self.client is None:
            raise RequestError(-32603, "the connection is not set up")
        folder = root.resolve()
        return AcpSession(
            self.client,
            self.capabilities,
            self._model(folder),
            folder,
            settings=self._settings(folder),
            store=self.store,
            codex_home=self.codex_home,
            mode=EditMode.AUTO,
            models=lambda model, effort: self._model(folder, model=model, effort=effort),
            client_info=self.client_info,
        )

    def _settings(self, root: Path) -> AgentSettings:
        """The agent's settings for a session in ``root``: the command line's, with the sandbox, shell
        environment and approval policies of ``root``'s configuration (the session's mode goes on top)."""
        try:
            permissions = load_permissions(self.codex_home, request=replace(self.config, cwd=root))
        except (ModelError, ValueError) as exc:
            raise RequestError(-32603, f"{exc} (`codex-lsp doctor` checks the setup)") from None
        return self.settings.configured(permissions)

    def _model(self, root: Path, *, model: str | None = None, effort: str | None = None) -> ModelClient:
        """The model client for a session in ``root`` (its credential re-reads auth.json as it changes),
        once the sign-in it needs is there; for ``model``, the configured model with ``effort`` (``None``:
        the model's default) instead of the configured ones."""
        if self.model is not None and model is None:
            client = self.model
        else:
            settings = self.model.settings if self.model is not None else self._configured(root)
            if model is not None:
                settings = settings.model_copy(update={"model": model, "reasoning_effort": effort})
            key = settings.cache_key()
            client = self.models.get(key) or self.models.setdefault(key, ModelClient(settings))
        self._require_credentials(client)
        return client

    def _configured(self, root: Path) -> ModelSettings:
        """The model settings of ``root``'s configuration (its warnings logged once)."""
        try:
            settings = load_settings(self.codex_home, request=replace(self.config, cwd=root))
        except (ModelError, ValueError) as exc:
            raise RequestError(-32603, f"{exc} (`codex-lsp doctor` checks the setup)") from None
        for warning in settings.config_warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                log.warning("%s", warning)
        return settings

    @staticmethod
    def _require_credentials(model: ModelClient) -> None:
        """Raise now (reading the sign-in as it is now) what the first request would: ``auth_required``
        when the OpenAI sign-in is missing, else the configuration's own error."""
        try:
            model.settings.require_credentials()
        except AuthError as exc:
            raise auth_required(exc.message) from None
        except ModelError as exc:
            raise RequestError(-32603, f"{exc} (`codex-lsp doctor` checks the setup)") from None


def _declined(servers: list[McpServer] | None) -> dict[str, Any] | None:
    """Log the MCP servers the client offered and we do not start; the note for the response."""
    if not servers:
        return None
    names = ", ".join(server.name for server in servers)
    note = MCP_DECLINED.format(names=names)
    log.warning("%s", note)
    return {"codex-lsp": {"mcpServersDeclined": [server.name for server in servers], "note": note}}


async def run_acp(
    settings: AgentSettings | None = None, *, log_level: str = "warning", config: ConfigRequest | None = None
) -> int:
    """Serve ACP on stdin/stdout until the client closes stdin; the exit status. ``config`` carries the
    command line's ``--profile`` and ``-c`` (each session adds its folder's project layers)."""
    configure_logging(log_level)
    agent = CodexAcpAgent(settings=settings, config=config)
    reader, writer = await stdio_streams(limit=DEFAULT_STDIO_BUFFER_LIMIT_BYTES)
    try:
        # The SDK routes each request by attribute; those we do not implement (fork, resume…) answer
        # "method not found", so the agent need not be the SDK's whole Agent protocol. Lines are read
        # by our transport, which answers the ones that break JSON-RPC's rules (acp/lines.py).
        await run_agent(cast("Agent", agent), LineTransport(reader, writer))
    finally:
        await agent.aclose()
        report_unfinished_work()
    return 0


#: Logged at exit when work of the agent's was still running (the tests read it: a write a cancelled
#: turn would still send, however late, is still pending here).
UNFINISHED_WORK = "exiting with work still running"


def report_unfinished_work() -> None:
    """Warn about any task still running once every session has ended: work the agent abandons at exit
    (a write, a model request) that nothing stopped when its prompt ended. None is expected."""
    current = asyncio.current_task()
    unfinished = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    if unfinished:
        names = ", ".join(sorted(repr(task.get_coro()) for task in unfinished))
        log.warning("%s: %s", UNFINISHED_WORK, names)


def configure_logging(level: str = "warning") -> None:
    """Logs to stderr only: stdout is the protocol stream."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.WARNING),
        format="codex-lsp acp: %(levelname)s %(name)s: %(message)s",
    )
