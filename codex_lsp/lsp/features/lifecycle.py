"""The server's life: ``initialize`` … ``shutdown`` / ``exit``, settings, folders, and the editor's death.

- ``initialize`` resolves the client's capabilities once and reads ``initializationOptions``;
  ``initialized`` reads the ``codex`` section of ``workspace/configuration`` (again on every
  ``workspace/didChangeConfiguration``) and starts loading the agent in the background, so a broken
  ``config.toml`` is reported at once. Each bad setting is one ``window/showMessage`` naming the key
  and the value; the server keeps running with the previous value.
- ``shutdown`` interrupts running turns and waits for them (:data:`SHUTDOWN_GRACE` at most) before
  answering;
  ``exit`` ends the process, leaving no child behind.
- The server also ends itself when the editor's process (``initialize``'s ``processId``) is gone,
  checked every :data:`PARENT_POLL_SECONDS`, or when stdin closes (pygls' read loop ends), so no
  orphaned server keeps a model connection open.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codex_lsp.lsp.capabilities import resolve_capabilities
from codex_lsp.lsp.settings import parse_settings

if TYPE_CHECKING:
    from codex_lsp.lsp.state import CodexServer

__all__ = ["PARENT_POLL_SECONDS", "setup"]

log = logging.getLogger(__name__)

PARENT_POLL_SECONDS = 1.0
SHUTDOWN_GRACE = 1.5
"""How long ``shutdown`` waits for interrupted turns to finish (editors wait about 2 s for its answer)."""


def parent_alive(pid: int) -> bool:
    """Whether process ``pid`` still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


async def watch_parent(server: CodexServer, pid: int) -> None:
    """End the server when the editor process is gone."""
    while parent_alive(pid):  # noqa: ASYNC110 - a process's end has no event to wait for
        await asyncio.sleep(PARENT_POLL_SECONDS)
    log.warning("the editor (process %s) is gone; stopping", pid)
    await server.state.stop(grace=2.0)
    _leave(0)


def _leave(code: int) -> None:
    """End the process now (pygls' stdin reader thread would otherwise hold it open)."""
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


def _report(server: CodexServer, problems: list[str]) -> None:
    for problem in problems:
        server.show(problem, types.MessageType.Warning)


async def read_configuration(server: CodexServer) -> None:
    """Lay the client's ``codex`` configuration section over the initialization options."""
    state = server.state
    if not state.caps.configuration:
        return
    try:
        values = await server.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="codex")])
        )
    except Exception as exc:  # a client that advertises but fails: keep what we have
        log.info("workspace/configuration failed: %s", exc)
        return
    section = values[0] if values else None
    apply_settings(server, section if isinstance(section, dict) else None)


def apply_settings(server: CodexServer, section: Any) -> None:
    """Use ``section`` (the client's ``codex`` settings) over the initialization options."""
    state = server.state
    state.settings, problems = parse_settings(section, state.init_settings)
    _report(server, problems)


def setup(server: CodexServer) -> None:
    """Register the lifecycle, settings and workspace-folder handlers."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: CodexServer, params: types.InitializeParams) -> None:
        state = ls.state
        state.caps = resolve_capabilities(
            params.capabilities, ls.workspace.position_encoding, params.client_info
        )
        state.documents.encoding = state.caps.position_encoding
        state.init_settings, problems = parse_settings(params.initialization_options)
        state.settings = state.init_settings
        state.parent_pid = params.process_id
        _report(ls, problems)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CodexServer, params: types.InitializedParams) -> None:
        state = ls.state
        if state.parent_pid:
            state.run_task(watch_parent(ls, state.parent_pid), "codex-watch-parent")
        await read_configuration(ls)
        host = await state.host(ls)
        host.check_config()
        host.restore_proposals()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: CodexServer, params: types.DidChangeConfigurationParams) -> None:
        if ls.state.caps.configuration:
            await read_configuration(ls)
        else:
            apply_settings(ls, params.settings if isinstance(params.settings, dict) else None)
        host = ls.state.built_host()
        if host is not None:
            host.check_config()  # a provider that does not exist is reported now, not at the next turn

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: CodexServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        host = ls.state.built_host()
        if host is not None:
            removed = [folder.uri for folder in params.event.removed]
            host.forget_folders([p for p in (host.path_of(uri) for uri in removed) if p is not None])

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: CodexServer, params: Any) -> None:
        await ls.state.stop(SHUTDOWN_GRACE)

    @server.feature(types.EXIT)
    async def exit_(ls: CodexServer, params: Any) -> None:
        if not ls.state.stopping:
            await ls.state.stop(grace=1.0)
        _leave(0 if ls.protocol._shutdown else 1)
