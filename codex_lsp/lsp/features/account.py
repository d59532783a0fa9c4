"""``codex.account``, ``codex.login``, ``codex.logout``: the user's sign-in, from the editor.

- ``codex.account`` ``{}``: who the model requests are signed in as — ``{signedIn, mode, email, plan,
  accountId, source, refreshDue, expiresAt, lastRefresh, problem, provider, usesAccount}`` (``mode`` is
  ``chatgpt``, ``apikey`` or ``null``; ``usesAccount`` says whether the configured provider takes the OpenAI
  sign-in at all). Never a token or a key.
- ``codex.login`` ``{method?: "device" | "browser" | "apiKey", apiKey?, openBrowser?}``: sign in and write
  ``$CODEX_HOME/auth.json`` exactly as ``codex login`` would, so Codex and codex-lsp share it. ``device``
  (the default: it needs no port on the server's machine, so it works for remote servers too) shows a
  code to enter at a URL; ``browser`` opens the sign-in page and waits for its callback on
  ``127.0.0.1:1455``; ``apiKey`` stores the given key. Answers when done:
  ``{status: "signedIn" | "cancelled" | "failed", account, error?}``.
- ``codex.logout`` ``{}``: revoke the sign-in and delete ``auth.json`` → ``{signedOut, account}``.

While a login waits for the user, every client sees the code and the URL in a ``window/showMessage``, the
page is opened with ``window/showDocument {external: true}`` where the client supports it (and
``openBrowser`` is not ``false``), and a cancellable work-done progress says what it is waiting for.
Cancelling that progress, ``$/cancelRequest`` on the command, or a new ``codex.login`` ends it with nothing
written. Clients that declared ``experimental.codex`` also get ``codex/login/started`` ``{loginId,
method, verificationUrl?, userCode?, authUrl?, expiresAt?}`` and, after every change of sign-in,
``codex/account/updated`` ``{account}``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from codex_lsp.lsp.features.commands import link_cancel_request
from codex_lsp.lsp.features.progress import begin_progress, end_progress
from codex_lsp.lsp.protocol import WORK_DONE_TOKEN
from codex_lsp.lsp.state import CodexServer  # at run time: pygls reads command annotations

if TYPE_CHECKING:
    from codex_lsp.auth import AuthFile
    from codex_lsp.lsp.host.runtime import Host

__all__ = ["ACCOUNT", "COMMANDS", "LOGIN", "LOGOUT", "setup"]

log = logging.getLogger(__name__)

ACCOUNT, LOGIN, LOGOUT = "codex.account", "codex.login", "codex.logout"
COMMANDS = (ACCOUNT, LOGIN, LOGOUT)
Method = Literal["device", "browser", "apiKey"]
_METHODS: tuple[Method, ...] = ("device", "browser", "apiKey")


def _arguments(command: str, args: tuple[Any, ...]) -> dict[str, Any]:
    if not args or (len(args) == 1 and args[0] is None):
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(message=f"{command}: expected one argument, an object")
    return args[0]


def _login_arguments(args: tuple[Any, ...]) -> tuple[Method, str | None, bool]:
    data = _arguments(LOGIN, args)
    method = data.get("method", "device")
    if method not in _METHODS:
        raise JsonRpcInvalidParams(message=f"{LOGIN}: method must be one of {', '.join(_METHODS)}")
    key = data.get("apiKey")
    if method == "apiKey" and (not isinstance(key, str) or not key.strip()):
        raise JsonRpcInvalidParams(message=f"{LOGIN}: method apiKey needs apiKey, a non-empty string")
    open_browser = data.get("openBrowser", True)
    if not isinstance(open_browser, bool):
        raise JsonRpcInvalidParams(message=f"{LOGIN}: openBrowser must be true or false")
    return method, key if method == "apiKey" else None, open_browser


class LoginSession:
    """One login the server is running: what it shows the user, and how it ends."""

    def __init__(self, server: CodexServer, method: Method, task: asyncio.Task[Any]) -> None:
        self.server = server
        self.method = method
        self.task = task
        self.login_id = str(uuid.uuid4())
        self.progress: types.ProgressToken | None = None

    async def announce(
        self, url: str, code: str | None, open_browser: bool, expires_at: float | None
    ) -> None:
        """Show the user where to go (and the code), open the page where the client can, start progress."""
        server = self.server
        if code is not None:
            text = f"Codex: sign in to ChatGPT — open {url} and enter the code {code} (valid 15 minutes)."
        else:
            text = f"Codex: sign in to ChatGPT in your browser — if no page opened, open {url}"
        server.show(text, types.MessageType.Info)
        if server.state.caps.codex_streaming:
            payload: dict[str, Any] = {"loginId": self.login_id, "method": self.method}
            if code is not None:
                payload.update(verificationUrl=url, userCode=code, expiresAt=expires_at)
            else:
                payload["authUrl"] = url
            server.notify("codex/login/started", payload)
        begin = types.WorkDoneProgressBegin(
            title="Codex sign-in",
            message=f"enter {code} at {url}" if code else "waiting for the browser",
            cancellable=True,
        )
        fallback = f"codex-login-{self.login_id}"
        self.progress = await begin_progress(server, WORK_DONE_TOKEN.get(), fallback, begin, self._cancel)
        if open_browser and server.state.caps.show_document:
            server.state.run_task(_open_external(server, url), "codex-login-open-page")

    def _cancel(self) -> None:
        self.task.cancel()

    def finish(self, message: str) -> None:
        end_progress(self.server, self.progress, message)
        self.progress = None


async def _open_external(server: CodexServer, url: str) -> None:
    """Ask the editor to open ``url`` in the user's browser; a refusal only costs the convenience."""
    try:
        result = await server.window_show_document_async(types.ShowDocumentParams(uri=url, external=True))
    except Exception as exc:
        log.info("the editor could not open the sign-in page: %s", exc)
        return
    if not result.success:
        log.info("the editor did not open the sign-in page")


def account_payload(host: Host) -> dict[str, Any]:
    """What ``codex.account`` answers (and ``codex/account/updated`` carries)."""
    from codex_lsp.model import ConfigError

    try:
        client = host.client()
    except ConfigError as exc:
        return {"signedIn": False, "mode": None, "usesAccount": None, "problem": exc.message}
    info = client.account()
    settings = client.settings
    return {
        **info.as_dict(),
        "signedIn": info.mode is not None and info.problem is None,
        "provider": settings.provider_id,
        "usesAccount": settings.account_home is not None,
    }


def _updated(server: CodexServer, host: Host) -> dict[str, Any]:
    account = account_payload(host)
    if server.state.caps.codex_streaming:
        server.notify("codex/account/updated", {"account": account})
    return account


async def _device(session: LoginSession, host: Host, open_browser: bool) -> AuthFile:
    from codex_lsp.auth import DeviceLogin

    login = DeviceLogin(host.home, os.environ, workspace_ids=host.allowed_workspaces())
    code = await login.start()
    expires = time.time() + (code.expires_at - time.monotonic())
    await session.announce(code.verification_url, code.user_code, open_browser, expires)
    return await login.wait(code)


async def _browser(session: LoginSession, host: Host, open_browser: bool) -> AuthFile:
    from codex_lsp.auth import BrowserLogin

    login = BrowserLogin(host.home, os.environ, workspace_ids=host.allowed_workspaces())
    url = await login.start()
    try:
        await session.announce(url, None, open_browser, None)
        return await login.wait()
    finally:
        await login.close()


async def run_login(server: CodexServer, args: tuple[Any, ...], task: asyncio.Task[Any]) -> dict[str, Any]:
    """Run one ``codex.login``; a failure or a cancellation is a result, not a JSON-RPC error."""
    from codex_lsp.auth import AuthProblem, LoginCancelled, save_api_key

    method, key, open_browser = _login_arguments(args)
    host = await server.state.host(server)
    refusal = host.login_refusal(method)
    if refusal is not None:
        raise JsonRpcInvalidParams(message=f"{LOGIN}: {refusal}")
    previous, server.state.login = server.state.login, task
    if previous is not None and not previous.done():
        previous.cancel()
    session = LoginSession(server, method, task)
    status, error = "failed", None
    try:
        if key is not None:
            await save_api_key(host.home, key)
        elif method == "device":
            await _device(session, host, open_browser)
        else:
            await _browser(session, host, open_browser)
        status = "signedIn"
    except LoginCancelled:
        status = "cancelled"
    except asyncio.CancelledError:
        task.uncancel()
        status = "cancelled"
    except AuthProblem as exc:
        error = exc.message
        server.show(f"Codex: sign-in failed: {exc.message}", types.MessageType.Error)
    except OSError as exc:
        error = f"cannot write the sign-in to {host.home}: {exc.strerror or exc}"
        server.show(f"Codex: sign-in failed: {error}", types.MessageType.Error)
    finally:
        if server.state.login is task:
            server.state.login = None
        session.finish("signed in" if status == "signedIn" else status)
    account = _updated(server, host)
    if status == "signedIn":
        who = account.get("email") or ("an API key" if account.get("mode") == "apikey" else "ChatGPT")
        server.show(f"Codex: signed in ({who}).", types.MessageType.Info)
    result: dict[str, Any] = {"status": status, "account": account}
    if error is not None:
        result["error"] = server.state.scrub(error)
    return result


def setup(server: CodexServer) -> None:
    """Register the sign-in commands."""

    @server.command(ACCOUNT)
    async def account(ls: CodexServer, *args: Any) -> dict[str, Any]:
        _arguments(ACCOUNT, args)
        return account_payload(await ls.state.host(ls))

    @server.command(LOGIN)
    async def login(ls: CodexServer, *args: Any) -> dict[str, Any]:
        task = asyncio.current_task()
        assert task is not None, "commands run as tasks"
        link_cancel_request(ls, task)
        return await run_login(ls, args, task)

    @server.command(LOGOUT)
    async def logout(ls: CodexServer, *args: Any) -> dict[str, Any]:
        from codex_lsp.auth import logout as sign_out

        _arguments(LOGOUT, args)
        host = await ls.state.host(ls)
        signed_out = await sign_out(host.home, os.environ)
        account = _updated(ls, host)
        ls.show("Codex: signed out." if signed_out else "Codex: not signed in.", types.MessageType.Info)
        return {"signedOut": signed_out, "account": account}
