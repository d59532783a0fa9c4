"""The ACP agent on stdio: lifecycle requests, sessions, and the process around them.

- ``initialize``: our name and version, ``loadSession``, embedded context in prompts (no images),
  ``session/list``; no authentication methods (the key comes from Codex's own configuration, as for
  ``exec``; ``codex-lsp doctor`` checks it).
- ``session/new`` / ``session/load``: a session per thread, rooted at the client's ``cwd``; MCP servers
  the client offers are declined (logged, and named in the response's ``_meta``): this agent's tools
  are its own.
- ``session/prompt``, ``session/cancel``, ``session/set_mode``: see :mod:`codex_lsp.acp.session`.

Every error a client can cause is a JSON-RPC error with a one-line message (an unknown session,
a prompt while one runs, a relative ``cwd``…). stdout carries nothing but ACP messages: logs go
to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from acp import PROTOCOL_VERSION, RequestError, run_agent
from acp.interfaces import Agent, Client
from acp.schema import (
    AcpMcpServer,
    AgentCapabilities,
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
    SetSessionModeResponse,
    SseMcpServer,
)

from codex_lsp import __version__
from codex_lsp.acp.prompt import PromptBlock
from codex_lsp.acp.session import AcpSession, EditMode, mode_state
from codex_lsp.agent import AgentSettings, ThreadNotFoundError, ThreadStore, default_state_dir
from codex_lsp.model import ModelClient, ModelError

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
    ) -> None:
        """``model`` is built from ``$CODEX_HOME`` on the first session when not given."""
        self.settings = settings or AgentSettings()
        self.store = store or ThreadStore(default_state_dir())
        self.model = model
        self.codex_home = codex_home
        self.sessions: dict[str, AcpSession] = {}
        self.client: Client | None = None
        self.capabilities: ClientCapabilities | None = None

    def on_connect(self, conn: Client) -> None:
        self.client = conn

    async def aclose(self) -> None:
        """End every session (interrupting running prompts) and close the model connection."""
        await asyncio.gather(*(session.aclose() for session in self.sessions.values()))
        if self.model is not None:
            await self.model.aclose()

    # -- lifecycle ------------------------------------------------------------------------------------

    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self.capabilities = client_capabilities
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
            auth_methods=[],
        )

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        raise RequestError(
            -32602, f"codex-lsp has no authentication method {method_id!r}; it uses Codex's own key"
        )

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
            session_id=session_id, modes=mode_state(session.mode), field_meta=_declined(mcp_servers)
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
        return LoadSessionResponse(modes=mode_state(session.mode), field_meta=_declined(mcp_servers))

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
        return await self._session(session_id).prompt(prompt)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            log.warning("session/cancel for unknown session %r ignored", session_id)
            return
        session.cancel()

    async def set_session_mode(self, session_id: str, mode_id: str, **kwargs: Any) -> SetSessionModeResponse:
        self._session(session_id).set_mode(mode_id)
        return SetSessionModeResponse()

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
        return AcpSession(
            self.client,
            self.capabilities,
            self._model(),
            root.resolve(),
            settings=self.settings,
            store=self.store,
            codex_home=self.codex_home,
            mode=EditMode.AUTO,
        )

    def _model(self) -> ModelClient:
        if self.model is None:
            try:
                model = ModelClient.from_codex_home(self.codex_home)
                model.settings.require_credentials()  # say it now, not on the first prompt
            except (ModelError, ValueError) as exc:
                raise RequestError(-32603, f"{exc} (`codex-lsp doctor` checks the setup)") from None
            self.model = model
        return self.model


def _declined(servers: list[McpServer] | None) -> dict[str, Any] | None:
    """Log the MCP servers the client offered and we do not start; the note for the response."""
    if not servers:
        return None
    names = ", ".join(server.name for server in servers)
    note = MCP_DECLINED.format(names=names)
    log.warning("%s", note)
    return {"codex-lsp": {"mcpServersDeclined": [server.name for server in servers], "note": note}}


async def run_acp(settings: AgentSettings | None = None, *, log_level: str = "warning") -> int:
    """Serve ACP on stdin/stdout until the client closes stdin; the exit status."""
    configure_logging(log_level)
    agent = CodexAcpAgent(settings=settings)
    try:
        # The SDK routes each request by attribute; those we do not implement (fork, resume…) answer
        # "method not found", so the agent need not be the SDK's whole Agent protocol.
        await run_agent(cast("Agent", agent))
    finally:
        await agent.aclose()
    return 0


def configure_logging(level: str = "warning") -> None:
    """Logs to stderr only: stdout is the protocol stream."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.WARNING),
        format="codex-lsp acp: %(levelname)s %(name)s: %(message)s",
    )
