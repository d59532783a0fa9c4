"""The agent side of the server, loaded on first use: one model client, one ``Agent`` per folder.

- **Model client**: one for the server's lifetime (one WebSocket serves every turn of every
  folder), built from ``$CODEX_HOME/config.toml`` with the editor's settings laid over it
  (:func:`model_settings`), rebuilt when those settings change.
- **Agents**: one per workspace folder (multi-root works). A request's ``uri`` picks the folder
  containing its real file; a file outside every open folder gets its git root (else its directory)
  only with the user's consent (:mod:`codex_lsp.lsp.host.boundary`); no ``uri`` means the first
  folder. Threads are stored where ``exec`` stores them, so either can continue the other's.
- **The credential**: an editor-supplied ``baseUrl`` that is not the provider's configured one gets
  no credential without the user's consent (:mod:`codex_lsp.lsp.host.base_url`).
- **Requests**: a turn command becomes the agent's ``TurnRequest`` here, positions converted from
  the client's encoding to code points against the current buffer text.
- **Proposals** (review mode): one :class:`~codex_lsp.agent.book.ProposalBook` per folder,
  kept across agents (a settings change builds a new agent, not a new book) with its own applier,
  so deciding on a hunk needs no model connection. Books are saved under the state directory and
  restored at start-up; what happens to them is shown by :mod:`codex_lsp.lsp.features.review`.
- **What commands and edits may do**, per folder, from the same configuration layers as the model
  client: ``sandbox_mode`` and ``[sandbox_workspace_write]`` (the sandbox commands run in),
  ``[shell_environment_policy]`` (their environment) and ``approval_policy`` (Codex's values, a granular
  table included; ``on-failure``, which Codex deprecated, means ``on-request``) — the editor's
  ``approvalPolicy``, when set, over it; neither set, ``on-request``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from lsprotocol import types

from codex_lsp import __version__
from codex_lsp.agent import (
    Agent,
    AgentSettings,
    EditorContext,
    ProposalBook,
    ProposalEvent,
    ProposalStore,
    Selection,
    ThreadNotFoundError,
    ThreadStore,
    TurnRequest,
    default_state_dir,
)
from codex_lsp.lsp.documents import Document
from codex_lsp.lsp.host.applier import LspApplier
from codex_lsp.lsp.host.approver import LspApprover, ask
from codex_lsp.lsp.host.base_url import DONT_SEND, SEND, Redirect, redirect_of
from codex_lsp.lsp.host.boundary import Boundary, trusted_projects
from codex_lsp.lsp.host.workspace import Expected, LspWorkspace, agent_diagnostics
from codex_lsp.lsp.positions import LineIndex
from codex_lsp.lsp.settings import Settings
from codex_lsp.lsp.uris import BadUri, file_path, real_path
from codex_lsp.model import (
    BUILTIN_PROVIDERS,
    ConfigError,
    ConfigRequest,
    ModelClient,
    ModelSettings,
    codex_home,
    load_permissions,
    load_settings,
    read_config,
)

if TYPE_CHECKING:
    from codex_lsp.lsp.features.commands import TurnCommand
    from codex_lsp.lsp.state import CodexServer

__all__ = ["CommandError", "Host", "model_settings"]

log = logging.getLogger(__name__)


class CommandError(Exception):
    """A command's arguments name something that does not exist; the message says what."""


def configured_settings(
    settings: Settings, home: Path, env: Mapping[str, str], folder: Path | None = None
) -> ModelSettings:
    """The model settings of the user's own configuration for the editor's provider — config.toml and, for
    ``folder``, its trusted project's ``.codex/config.toml`` — before any other editor setting is laid over
    them; raises ``ConfigError``."""
    provider_id = settings.provider or None
    if provider_id is not None and provider_id not in BUILTIN_PROVIDERS:
        known_ids = read_config(home / "config.toml").model_providers
        if provider_id not in known_ids:
            known = ", ".join(sorted({*known_ids, *BUILTIN_PROVIDERS}))
            raise ConfigError(f"codex.provider = {provider_id!r} names no provider; known: {known}")
    return load_settings(home, env, provider_id=provider_id, request=ConfigRequest(cwd=folder))


def model_settings(
    settings: Settings,
    home: Path,
    env: Mapping[str, str],
    allowed: Collection[tuple[str, str]] = (),
    folder: Path | None = None,
) -> ModelSettings:
    """config.toml's model settings with the editor's settings laid over them; raises ``ConfigError``.

    A provider chosen in the editor gets the credential that provider is configured with (its ``env_key``,
    its bearer token or the OpenAI sign-in) — never another provider's key. An editor's ``baseUrl`` other
    than the provider's configured one gets no credential unless its :attr:`Redirect.key` is ``allowed``."""
    base = configured_settings(settings, home, env, folder)
    redirect = redirect_of(base, settings.base_url, env)
    if redirect is not None and redirect.key not in allowed:
        base = base.without_credential(redirect.refusal())
    update: dict[str, Any] = {}
    provider = base.provider
    if settings.base_url:
        provider = provider.model_copy(update={"base_url": settings.base_url})
    if settings.transport != "auto":
        provider = provider.model_copy(update={"supports_websockets": settings.transport == "websocket"})
    update["provider"] = provider
    if settings.model:
        update["model"] = settings.model
    if settings.reasoning_effort:
        update["reasoning_effort"] = settings.reasoning_effort
    return base.model_copy(update=update)


class Host:
    """Agents and the model clients of one server."""

    def __init__(self, server: CodexServer) -> None:
        self.server = server
        self.state = server.state
        self.home = codex_home()
        self.expected = Expected()
        self.state.documents.listeners.append(self.expected.forget)
        self.state.documents.listeners.append(self._document_event)
        self.store = ThreadStore(default_state_dir())
        self.proposal_store = ProposalStore(default_state_dir() / "proposals")
        self.books: dict[Path, tuple[ProposalBook, LspApplier]] = {}
        self.agents: dict[Path, Agent] = {}
        self._agent_keys: dict[Path, tuple[Any, ...]] = {}
        self._clients: dict[str, ModelClient] = {}
        """Model clients by the settings they were built for: folders whose configuration resolves alike
        share one (and so one WebSocket)."""
        self._latest: dict[Path | None, str] = {}
        """Which client each folder's current settings are served by."""
        self._retired: list[ModelClient] = []
        self._warned: set[str] = set()
        self.config_error: str | None = None
        self.boundary = Boundary(server, self.trusted_folders)
        self.allowed_urls: set[tuple[str, str]] = set()
        """Editor base URLs the user let the credential go to in this session (:attr:`Redirect.key`)."""

    # -- model client -----------------------------------------------------------------------------

    def client(self, folder: Path | None = None) -> ModelClient:
        """The model client for ``folder``'s current settings (the configuration layers as Codex reads them
        for that folder, the editor's settings over them); raises ``ConfigError``. Settings are re-read
        each time, so an edit of config.toml applies to the next turn."""
        try:
            settings = model_settings(self.state.settings, self.home, os.environ, self.allowed_urls, folder)
        except ConfigError as exc:
            self.config_error = exc.message
            raise
        self.config_error = None
        self._warn(settings.config_warnings)
        key = settings.cache_key()
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = ModelClient(settings)
        self._latest[folder] = key
        self._close_retired()
        return client

    def _warn(self, warnings: tuple[str, ...]) -> None:
        """Tell the user each configuration warning once (unknown keys, an untrusted project's file)."""
        for warning in warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self.server.show(f"Codex: {warning}", types.MessageType.Warning)

    def _close_retired(self) -> None:
        """Close clients no folder's current settings use any more, once no turn can still be using them."""
        current = set(self._latest.values())
        for key in [key for key in self._clients if key not in current]:
            self._retired.append(self._clients.pop(key))
        if self.state.turns.running or not self._retired:
            return
        retired, self._retired = self._retired, []
        for client in retired:
            self.state.run_task(client.aclose(), "codex-close-model-client")

    def pending_redirect(self, folder: Path | None = None) -> Redirect | None:
        """The editor's base URL, when it is not the provider's configured one and the user has not let
        the credential go there (:mod:`codex_lsp.lsp.host.base_url`)."""
        settings = self.state.settings
        if not settings.base_url:
            return None
        try:
            base = configured_settings(settings, self.home, os.environ, folder)
        except ConfigError:
            return None
        redirect = redirect_of(base, settings.base_url, os.environ)
        return redirect if redirect is not None and redirect.key not in self.allowed_urls else None

    async def consent_to_base_url(self, folder: Path | None = None) -> None:
        """Before a turn: ask the user whether the credential may go to the editor's base URL, when it
        needs to; raises ``ConfigError`` with the refusal (nothing is sent) when they do not agree."""
        redirect = self.pending_redirect(folder)
        if redirect is None:
            return
        if await ask(self.server, redirect.question(), (SEND, DONT_SEND)) == SEND:
            self.allowed_urls.add(redirect.key)
            return
        raise ConfigError(redirect.refusal())

    def trusted_folders(self) -> tuple[Path, ...]:
        """The folders config.toml's ``[projects."<path>"]`` trust (Codex's own record of trust)."""
        try:
            return trusted_projects(read_config(self.home / "config.toml").projects)
        except ConfigError:
            return ()

    def allowed_workspaces(self) -> tuple[str, ...]:
        """config.toml's ``forced_chatgpt_workspace_id`` (the browser sign-in offers only those)."""
        try:
            return read_config(self.home / "config.toml").forced_chatgpt_workspace_id
        except ConfigError:
            return ()

    def login_refusal(self, method: str) -> str | None:
        """Why config.toml's ``forced_login_method`` forbids a login by ``method``, if it does."""
        try:
            forced = read_config(self.home / "config.toml").forced_login_method
        except ConfigError as exc:
            return exc.message
        if forced == "api" and method != "apiKey":
            return 'forced_login_method = "api" in config.toml: sign in with an API key'
        if forced == "chatgpt" and method == "apiKey":
            return 'forced_login_method = "chatgpt" in config.toml: sign in with ChatGPT'
        return None

    def check_config(self) -> None:
        """Build the client now so a configuration problem is reported before the first turn."""
        try:
            self.client()
        except ConfigError as exc:
            self.server.show(f"Codex: {exc.message}", types.MessageType.Error)

    def scrub(self, text: str) -> str:
        return ModelClient.scrub_all((*self._clients.values(), *self._retired), text)

    async def aclose(self) -> None:
        for client in (*self._clients.values(), *self._retired):
            await client.aclose()
        self._clients.clear()
        self._retired.clear()

    # -- folders and agents -----------------------------------------------------------------------

    def folders(self) -> list[Path]:
        """The workspace folders (real paths), in the order the editor gave them; for a client without
        folders, its root. A folder URI that names no usable path is left out (and logged)."""
        workspace = self.server.workspace
        uris = [folder.uri for folder in workspace.folders.values()]
        if not uris and workspace.root_uri:
            uris = [workspace.root_uri]
        paths = (self.path_of(uri) for uri in uris)
        return [path for path in paths if path is not None]

    def first_folder(self) -> Path:
        """The folder of a request without a document: the first open one."""
        folders = self.folders()
        if not folders:
            raise CommandError("no workspace folder is open; open a folder or pass a document uri")
        return folders[0]

    @staticmethod
    def path_of(uri: str) -> Path | None:
        """The real path a ``file:`` URI names; ``None`` for other schemes and malformed URIs (logged)."""
        try:
            path = real_path(uri)
        except BadUri as exc:
            log.warning("ignoring a workspace folder: %s", exc)
            return None
        return Path(path) if path else None

    def forget_folders(self, removed: list[Path]) -> None:
        for folder in removed:
            agent = self.agents.get(folder)
            if agent is not None and not agent.running:
                del self.agents[folder]

    def workspace(self, folder: Path) -> LspWorkspace:
        return LspWorkspace(
            folder,
            self.state.documents,
            self.state.diagnostics,
            self.expected,
            self.state.caps.position_encoding,
        )

    def agent_settings(self, folder: Path | None = None) -> AgentSettings:
        """The agent's settings: the editor's, over ``folder``'s configuration (its sandbox, shell
        environment and approval policies; the editor's ``approvalPolicy`` wins). Raises ``ConfigError``."""
        settings = self.state.settings
        base = AgentSettings(
            shell_enabled=settings.shell_enabled,
            shell_allow=settings.shell_allow,
            edit_mode="review" if settings.edit_mode == "review" or self._shows_diffs() else "auto",
            ask_for_deletions=settings.ask_for_deletions,
            ask_outside_open_buffers=settings.ask_outside_open_buffers,
            ask_for_paths=settings.ask_for_paths,
        )
        configured = base.configured(
            load_permissions(self.home, os.environ, request=ConfigRequest(cwd=folder))
        )
        if settings.approval_policy:
            editor = cast(Literal["untrusted", "on-request", "never"], settings.approval_policy)
            configured = configured.model_copy(update={"approval_policy": editor})
        return configured

    def _shows_diffs(self) -> bool:
        """An editor without ``workspace/applyEdit`` whose user chose ``editFallback: "diff"``: the
        turn's changes are held (review mode) and shown as a diff, never written."""
        state = self.state
        return not state.caps.apply_edit and state.settings.edit_fallback == "diff"

    def book(self, folder: Path) -> tuple[ProposalBook, LspApplier]:
        """The folder's proposals and the applier its decisions go through (made on first use)."""
        if folder not in self.books:
            workspace = self.workspace(folder)
            book = ProposalBook(workspace, self.proposal_store)
            book.listeners.append(lambda event: self._proposal_event(folder, event))
            self.books[folder] = (book, LspApplier(self.server, workspace))
        return self.books[folder]

    def restore_proposals(self) -> None:
        """Bring back the proposals a previous server left pending in the open folders."""
        for folder in self.folders():
            self.book(folder)[0].restore()

    def proposal(self, proposal_id: str) -> tuple[ProposalBook, LspApplier]:
        """The book holding ``proposal_id``; raises ``CommandError``."""
        for book, applier in self.books.values():
            if book.get(proposal_id) is not None:
                return book, applier
        raise CommandError(f"no proposal {proposal_id!r}; codex.proposals lists the pending ones")

    def _proposal_event(self, folder: Path, event: ProposalEvent) -> None:
        from codex_lsp.lsp.features.review import present

        present(self.server, self, folder, event)

    def _document_event(self, document: Document) -> None:
        """A document closed: re-anchor pending hunks against what is on disk, and say so when the
        disk holds something else than the buffer did."""
        if document.path is None or self.state.documents.get(document.uri) is not None:
            return
        for book, _ in list(self.books.values()):
            relative = (
                book.workspace.relative(document.path) if isinstance(book.workspace, LspWorkspace) else None
            )
            if relative is not None:
                why = f"{relative} was closed and differs on disk; its pending hunks now follow the disk"
                book.file_changed(relative, why, document.text)

    def agent(self, folder: Path) -> Agent:
        """The folder's agent for the current settings; raises ``ConfigError``."""
        client = self.client(folder)
        settings = self.agent_settings(folder)
        key = (id(client), settings)
        agent = self.agents.get(folder)
        if agent is not None and self._agent_keys.get(folder) == key:
            return agent
        workspace = self.workspace(folder)
        fresh = Agent(
            client=client,
            workspace=workspace,
            approver=LspApprover(self.server),
            applier=LspApplier(self.server, workspace),
            emit=self.state.turns.dispatch,
            settings=settings,
            store=self.store,
            codex_home=self.home,
            proposals=self.book(folder)[0],
        )
        if agent is not None:  # same threads, and still one turn per thread across the two
            fresh.threads, fresh.running = agent.threads, agent.running
        self.agents[folder], self._agent_keys[folder] = fresh, key
        return fresh

    # -- requests ---------------------------------------------------------------------------------

    async def locate(self, uri: str | None) -> tuple[Path, Document | None, str | None]:
        """The folder, open document and folder-relative path a request's ``uri`` names. The file is
        resolved once, to its real path, and the folder decided on that (asking the user when it is
        outside the open folders); raises ``CommandError`` or ``OutsideFolders``."""
        if uri is None:
            return self.first_folder(), None, None
        document, named, path = self._resolve(uri)
        folder = await self.boundary.folder_for(path, self.folders(), named)
        return folder, document, path.relative_to(folder).as_posix()

    def _resolve(self, uri: str) -> tuple[Document | None, str, Path]:
        """The open document, the path as the URI names it and the real path; raises ``CommandError``."""
        document = self.state.documents.get(uri)
        try:
            named = file_path(uri)
        except BadUri as exc:
            raise CommandError(str(exc)) from None
        if named is None:
            raise CommandError(f"{uri} is not a file on disk; save it in a folder first")
        path = os.path.realpath(named)
        if document is None and not os.path.isfile(path):
            raise CommandError(
                f"unknown document {uri}: it is not open in the editor and no such file exists"
            )
        return document, named, Path(path)

    async def prepare(self, command: TurnCommand, turn_id: str) -> tuple[Agent, TurnRequest]:
        """The agent and the request for a turn command; raises ``CommandError``, ``OutsideFolders`` or
        ``ConfigError`` (also when the credential is withheld from the editor's base URL)."""
        folder, document, relative = await self.locate(command.uri)
        await self.consent_to_base_url(folder)
        agent = self.agent(folder)
        if command.thread_id:
            try:
                agent.thread(command.thread_id)
            except ThreadNotFoundError as exc:
                raise CommandError(str(exc)) from None
            if command.thread_id in agent.running:
                raise CommandError(
                    f"a turn is already running on thread {command.thread_id}; interrupt it or wait"
                )
        text = self._text(agent, document, relative)
        encoding = self.state.caps.position_encoding
        lsp_diagnostics = list(command.diagnostics)
        if command.all_diagnostics and command.uri and document is not None:
            lsp_diagnostics = self.state.diagnostics.for_document(command.uri, document.version)
        diagnostics = tuple(agent_diagnostics(relative or "", text, lsp_diagnostics, encoding))
        fixing = command.kind == "fix"
        if fixing and not diagnostics:
            raise CommandError(
                f"no diagnostics are known for {command.uri} (the document changed since they were "
                "reported); ask for code actions again"
            )
        editor = EditorContext(
            active_file=relative,
            selection=self._selection(text, command.range) if relative else None,
            diagnostics=() if fixing else diagnostics,
            open_buffers=tuple(agent.workspace.open_buffers()),
        )
        request = TurnRequest(
            prompt=command.prompt,
            editor=editor,
            fix=diagnostics if fixing else (),
            thread_id=command.thread_id,
            turn_id=turn_id,
        )
        return agent, request

    @staticmethod
    def _text(agent: Agent, document: Document | None, relative: str | None) -> str:
        if document is not None:
            return document.text
        if relative is None:
            return ""
        try:
            return agent.workspace.read_text(relative)
        except (OSError, ValueError):
            return ""

    def _selection(self, text: str, rng: types.Range | None) -> Selection | None:
        if rng is None:
            return None
        index = LineIndex(text, self.state.caps.position_encoding)
        start = index.offset(rng.start.line, rng.start.character)
        end = index.offset(rng.end.line, rng.end.character)
        (sl, sc), (el, ec) = index.point(start), index.point(end)
        return Selection(
            start_line=sl, start_character=sc, end_line=el, end_character=ec, text=text[start:end]
        )

    # -- threads and status -----------------------------------------------------------------------

    def threads(self) -> list[dict[str, Any]]:
        listed = {summary.id: summary for summary in self.store.list()}
        for agent in self.agents.values():
            for thread in agent.threads.values():
                listed.setdefault(thread.id, thread.summary())
        ordered = sorted(listed.values(), key=lambda s: s.updated_at, reverse=True)
        return [
            {
                "threadId": s.id,
                "cwd": s.cwd,
                "title": s.title,
                "turns": s.turns,
                "createdAt": s.created_at,
                "updatedAt": s.updated_at,
            }
            for s in ordered
        ]

    async def new_thread(self, uri: str | None) -> dict[str, Any]:
        folder, _, _ = await self.locate(uri)
        thread = self.agent(folder).new_thread()
        return {"threadId": thread.id, "cwd": thread.cwd}

    def status(self) -> dict[str, Any]:
        state = self.state
        status: dict[str, Any] = {
            "version": __version__,
            "positionEncoding": state.caps.position_encoding,
            "editMode": state.settings.edit_mode,
            "pendingProposals": sum(len(book.listed()) for book, _ in self.books.values()),
            "shellEnabled": state.settings.shell_enabled,
            "runningTurns": list(state.turns.running),
            "folders": [str(f) for f in self.folders()],
            "allowedFolders": [str(f) for f in self.boundary.allowed],
        }
        folder = next(iter(self.folders()), None)
        try:
            client = self.client(folder)
            agent_settings = self.agent_settings(folder)
        except ConfigError as exc:
            status["approvalPolicy"] = state.settings.approval_policy
            return {**status, "configError": exc.message, "keyFound": False, "connection": "not configured"}
        policy = agent_settings.approval_policy
        status["approvalPolicy"] = policy if isinstance(policy, str) else policy.model_dump()
        status["sandboxMode"] = agent_settings.sandbox_mode
        settings = client.settings
        redirect = self.pending_redirect(folder)
        if redirect is not None:
            status["credentialWithheld"] = redirect.refusal()
        requests = sum(client.requests_sent.values())
        connection = "not connected yet" if not requests and not client.handshake_count else "used"
        account = client.account()
        return {
            **status,
            "provider": settings.provider_id,
            "model": settings.model,
            "baseUrl": client.connections.base_url,
            "keyFound": account.mode is not None,
            "keySource": account.source if account.mode is not None else None,
            "account": account.as_dict(),
            "transport": client.transport,
            "connection": connection,
            "websocketHandshakes": client.handshake_count,
            "requests": requests,
            "fallbackReason": client.fallback_reason,
        }
