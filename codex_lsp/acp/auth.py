"""Signing in from an ACP client: ``authMethods`` in ``initialize``, ``authenticate``, ``auth_required``.

The sign-in is the user's OpenAI sign-in as Codex keeps it (``$CODEX_HOME/auth.json``, shared with the
Codex CLI and ``codex-lsp login``); the flows are :mod:`codex_lsp.auth`'s. Methods are offered only when
the configured provider takes that sign-in (an ``env_key`` provider or a local server needs none: the list
is empty) and only those that can work here:

- ``chatgpt`` (kind ``agent``): ``authenticate`` runs the browser sign-in. The callback listens on
  ``127.0.0.1:1455``, the system browser is opened (its output kept off stdout, the protocol stream) and
  the URL is always logged to stderr; the request answers when the sign-in is saved, refused or cancelled,
  at most 15 minutes later. A browser that cannot be opened fails it at once, and so does a
  ``CODEX_API_KEY`` in the environment (it would come first). Not offered when ``NO_BROWSER`` is set
  (as codex-acp) or ``forced_login_method = "api"``.
- ``chatgpt-device``: the device-code sign-in, which must show the user a code, something ``authenticate``
  has no channel for. So it runs in a terminal the client opens, and only for clients that can: with
  ``clientCapabilities.auth.terminal`` it is a ``terminal`` method whose ``args`` (``login --device-auth``)
  the client appends to the agent's command (``codex-lsp acp … login --device-auth`` is ``codex-lsp login
  --device-auth``); with Zed's ``_meta["terminal-auth"]`` it carries the full command in its own
  ``_meta["terminal-auth"]``. ``authenticate`` refuses it with that advice.
- ``codex-api-key`` / ``openai-api-key`` (kind ``env_var``): a key the client passes in the agent's
  environment. ``CODEX_API_KEY`` comes before any other sign-in on every request, so authenticating with
  it writes nothing; ``OPENAI_API_KEY`` is stored as ``codex login --with-api-key`` stores it when the
  requests would not use an API key otherwise. Not offered with ``forced_login_method = "chatgpt"``.

``authenticate`` with a method whose kind of sign-in is already in use and working answers at once (an
editor may authenticate at every start). Failures are JSON-RPC errors: ``-32602`` for a method not
offered, ``-32603`` with the reason for a sign-in that failed (nothing is written then) or that was saved
but cannot be used here (config.toml's ``forced_*`` settings).

``session/new``, ``session/load`` and ``session/prompt`` need the sign-in when the provider does:
without one they answer ACP's ``auth_required`` (``-32000``), whose message says what is missing, and the
client shows its sign-in choices. The sign-in is read afresh for each of them, so signing in (here or in
a terminal, with codex-lsp or Codex) takes effect without restarting the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acp import RequestError
from acp.schema import (
    AuthEnvVar,
    AuthMethodAgent,
    ClientCapabilities,
    EnvVarAuthMethod,
    TerminalAuthMethod,
)

from codex_lsp.auth import (
    AUTH_FILE,
    CODEX_API_KEY_ENV,
    AuthProblem,
    BrowserLogin,
    ForcedLogin,
    LoginCancelled,
    LoginError,
    OpenAIAccount,
    save_api_key,
)
from codex_lsp.model import BUILTIN_PROVIDERS, ConfigError, read_config

__all__ = [
    "AUTH_REQUIRED",
    "CHATGPT",
    "CHATGPT_DEVICE",
    "CODEX_API_KEY",
    "OPENAI_API_KEY",
    "TERMINAL_LOGIN_ARGS",
    "AuthMethod",
    "SignIn",
    "SignInPolicy",
    "auth_required",
    "offered_methods",
    "open_browser",
    "read_policy",
]

log = logging.getLogger(__name__)

CHATGPT, CHATGPT_DEVICE = "chatgpt", "chatgpt-device"
CODEX_API_KEY, OPENAI_API_KEY = "codex-api-key", "openai-api-key"
"""The method ids; ``chatgpt`` and the two key methods are codex-acp's, so clients that know it match."""
AUTH_REQUIRED = -32000
"""ACP's error code for "sign in first"; clients answer it with their sign-in choices."""
TERMINAL_LOGIN_ARGS = ("login", "--device-auth")
"""Appended by the client to the agent's own command (``codex-lsp acp``) for the terminal method."""
BROWSER_TIMEOUT_SECONDS = 15 * 60
"""How long ``authenticate`` waits for the browser sign-in (the callback port is held meanwhile)."""
OPENAI_API_KEY_ENV = "OPENAI_API_KEY"
API_KEYS_PAGE = "https://platform.openai.com/api-keys"
NO_BROWSER_ENV = "NO_BROWSER"
NO_BROWSER = (
    "no browser could be opened on the machine codex-lsp runs on. Sign in with a code instead: run "
    "`codex-lsp login --device-auth` in a terminal there, then start a new session"
)
_OPEN_BROWSER = "import sys, webbrowser; sys.exit(0 if webbrowser.open(sys.argv[1]) else 1)"

AuthMethod = EnvVarAuthMethod | TerminalAuthMethod | AuthMethodAgent


def auth_required(reason: str) -> RequestError:
    """ACP's ``auth_required`` error; ``reason`` (no secret in it) is the message clients show."""
    return RequestError(AUTH_REQUIRED, reason)


@dataclass(frozen=True)
class SignInPolicy:
    """What config.toml says about the sign-in: whether the provider takes it, and its limits."""

    uses_account: bool
    forced_login: ForcedLogin | None = None
    workspaces: tuple[str, ...] = ()
    credentials_store: str = "file"


def read_policy(home: Path) -> SignInPolicy | None:
    """The policy of ``home/config.toml``; ``None`` when the file is unusable (``session/new`` says why)."""
    try:
        config = read_config(home / "config.toml")
    except ConfigError as exc:
        log.warning("no sign-in methods offered: %s", exc.message)
        return None
    provider = config.model_providers.get(config.model_provider) or BUILTIN_PROVIDERS.get(
        config.model_provider
    )
    return SignInPolicy(
        uses_account=provider is not None and provider.uses_openai_account,
        forced_login=config.forced_login_method,
        workspaces=config.forced_chatgpt_workspace_id,
        credentials_store=config.cli_auth_credentials_store,
    )


def _terminal_support(capabilities: ClientCapabilities | None) -> tuple[bool, bool]:
    """Whether the client runs terminal methods: ACP's ``auth.terminal``, and Zed's ``_meta`` flag."""
    if capabilities is None:
        return False, False
    typed = bool(capabilities.auth is not None and capabilities.auth.terminal)
    legacy = bool(capabilities.field_meta and capabilities.field_meta.get("terminal-auth") is True)
    return typed, legacy


def _device_method(typed: bool, legacy: bool) -> AuthMethod:
    name = "Sign in with ChatGPT (device code)"
    description = (
        "Runs `codex-lsp login --device-auth` in a terminal: open the page it shows on any device and "
        "enter the code. For remote machines, or when no browser opens."
    )
    meta: dict[str, Any] | None = None
    if legacy:
        command = {
            "label": "codex-lsp login --device-auth",
            "command": sys.executable,
            "args": ["-m", "codex_lsp", *TERMINAL_LOGIN_ARGS],
            "env": {},
        }
        meta = {"terminal-auth": command}
    if typed:
        return TerminalAuthMethod(
            type="terminal",
            id=CHATGPT_DEVICE,
            name=name,
            description=description,
            args=list(TERMINAL_LOGIN_ARGS),
            field_meta=meta,
        )
    return AuthMethodAgent(id=CHATGPT_DEVICE, name=name, description=description, field_meta=meta)


def _key_method(method_id: str, variable: str, description: str) -> EnvVarAuthMethod:
    return EnvVarAuthMethod(
        type="env_var",
        id=method_id,
        name=f"Use {variable}",
        description=description,
        vars=[AuthEnvVar(name=variable, label="OpenAI API key")],
        link=API_KEYS_PAGE,
    )


def offered_methods(
    policy: SignInPolicy | None, capabilities: ClientCapabilities | None, env: Mapping[str, str]
) -> list[AuthMethod]:
    """The methods to advertise, in the order a client shows them."""
    if policy is None or not policy.uses_account:
        return []
    methods: list[AuthMethod] = []
    if policy.forced_login != "api":
        if not env.get(NO_BROWSER_ENV):
            methods.append(
                AuthMethodAgent(
                    id=CHATGPT,
                    name="Sign in with ChatGPT",
                    description=(
                        "Opens your browser to sign in with your ChatGPT account (a paid plan includes "
                        "Codex). Saved in $CODEX_HOME/auth.json, shared with the Codex CLI."
                    ),
                )
            )
        typed, legacy = _terminal_support(capabilities)
        if typed or legacy:
            methods.append(_device_method(typed, legacy))
    if policy.forced_login != "chatgpt":
        methods.append(
            _key_method(
                CODEX_API_KEY,
                CODEX_API_KEY_ENV,
                "An OpenAI API key in the agent's environment; it comes before any other sign-in and is "
                "never written to disk.",
            )
        )
        methods.append(
            _key_method(
                OPENAI_API_KEY,
                OPENAI_API_KEY_ENV,
                "An OpenAI API key in the agent's environment; saved in $CODEX_HOME/auth.json as "
                "`codex login --with-api-key` saves it, unless an API key is already in use.",
            )
        )
    return methods


async def open_browser(url: str) -> bool:
    """Open ``url`` in the system browser, as :mod:`webbrowser` finds it (``$BROWSER`` first), from a
    child process whose output goes to stderr: a browser printing to our stdout would corrupt the
    protocol. Whether a browser was found (a browser that stays open keeps this waiting)."""
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN_BROWSER,
            url,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sys.stderr,
            stderr=sys.stderr,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:  # ValueError: stderr has no file descriptor
        log.warning("cannot start the browser: %s", exc)
        return False
    return await process.wait() == 0


class SignIn:
    """The sign-in side of one ACP connection: the methods it offered, and the flows behind them."""

    def __init__(self, home: Path, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.offered: dict[str, AuthMethod] = {}
        self._openers: set[asyncio.Task[bool]] = set()

    def methods(self, capabilities: ClientCapabilities | None) -> list[AuthMethod]:
        """What ``initialize`` advertises (remembered: ``authenticate`` accepts only these)."""
        methods = offered_methods(read_policy(self.home), capabilities, self.env)
        self.offered = {method.id: method for method in methods}
        return methods

    async def aclose(self) -> None:
        """Stop waiting for browsers still open (the browsers themselves stay)."""
        for task in self._openers:
            task.cancel()
        await asyncio.gather(*self._openers, return_exceptions=True)

    # -- authenticate ---------------------------------------------------------------------------------

    async def authenticate(self, method_id: str) -> None:
        """Sign in with ``method_id``; raises ``RequestError`` saying why not (nothing is written then)."""
        if method_id not in self.offered:
            offered = ", ".join(self.offered) or "none: the configured provider needs no sign-in"
            raise RequestError(-32602, f"no sign-in method {method_id!r} here; offered: {offered}")
        if method_id == CHATGPT_DEVICE:
            raise RequestError(
                -32602,
                f"{CHATGPT_DEVICE} runs in a terminal, not through authenticate: run "
                "`codex-lsp login --device-auth` there, then start a new session",
            )
        policy = read_policy(self.home) or SignInPolicy(uses_account=True)
        account = OpenAIAccount(
            self.home,
            self.env,
            forced_login=policy.forced_login,
            allowed_workspaces=policy.workspaces,
            credentials_store=policy.credentials_store,
        )
        try:
            if method_id == CHATGPT:
                await self._chatgpt(account, policy)
            else:
                await self._api_key(method_id, account)
            account.check()  # what the next session finds: a workspace refused, a forced kind of sign-in
        except LoginCancelled as exc:
            raise RequestError(-32603, f"sign-in cancelled: {exc.message}; nothing was written") from None
        except AuthProblem as exc:
            raise RequestError(-32603, f"sign-in failed: {exc.message}") from None
        except OSError as exc:
            reason = exc.strerror or exc
            raise RequestError(
                -32603, f"cannot write the sign-in to {self.home / AUTH_FILE}: {reason}"
            ) from None

    async def _chatgpt(self, account: OpenAIAccount, policy: SignInPolicy) -> None:
        if self.env.get(CODEX_API_KEY_ENV):
            raise LoginError(
                f"{CODEX_API_KEY_ENV} is set in codex-lsp's environment and comes before a ChatGPT sign-in; "
                "remove it from the agent's environment to use ChatGPT"
            )
        info = account.account()
        if info.mode == "chatgpt" and info.problem is None:
            log.info("already signed in with ChatGPT (%s)", info.email or "no email")
            return
        login = BrowserLogin(self.home, self.env, workspace_ids=policy.workspaces)
        url = await login.start()
        log.warning("sign in with ChatGPT in your browser; if no page opened, open %s", url)
        opener = asyncio.ensure_future(open_browser(url))
        self._openers.add(opener)
        opener.add_done_callback(self._openers.discard)
        waiting = asyncio.ensure_future(login.wait())
        try:
            async with asyncio.timeout(BROWSER_TIMEOUT_SECONDS):
                done, _ = await asyncio.wait({waiting, opener}, return_when=asyncio.FIRST_COMPLETED)
                if waiting not in done and not opener.result():
                    raise LoginError(NO_BROWSER)
                await waiting
        except TimeoutError:
            raise LoginError("the browser sign-in was not completed within 15 minutes") from None
        finally:
            if not waiting.done():
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError, AuthProblem):
                    await waiting
            await login.close()
        log.info("signed in with ChatGPT")

    async def _api_key(self, method_id: str, account: OpenAIAccount) -> None:
        variable = CODEX_API_KEY_ENV if method_id == CODEX_API_KEY else OPENAI_API_KEY_ENV
        key = self.env.get(variable)
        if not key:
            raise LoginError(
                f"{variable} is not set in codex-lsp's environment; set it where the editor starts the agent"
            )
        if method_id == CODEX_API_KEY:
            return  # read from the environment for every request, before auth.json: nothing to save
        info = account.account()
        if info.mode == "apikey" and info.problem is None:
            log.info("requests already use an API key (%s)", info.source)
            return
        await save_api_key(self.home, key)
        log.info("saved the API key from %s in %s", variable, self.home / AUTH_FILE)
