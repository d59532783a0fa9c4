"""Signing in from an ACP client: ``authMethods``, ``authenticate``, ``auth_required`` — against the fake
issuer and the fake model server (which checks bearer tokens), loopback only.

The browser is simulated the way a user's would behave: ``$BROWSER`` names a small program that fetches
the sign-in page it is given and follows the redirects (the fake issuer signs the user in at once and
sends them back to the agent's callback), or declines, as a user may; like Firefox, it talks on its
stdout, which must not reach the protocol stream.

Compared with the reference, Zed's codex-acp 0.16.0 (its ``initialize`` asked directly, same throwaway
home, no sign-in): it advertises ``chatgpt`` (kind ``agent``, "Login with ChatGPT"), ``codex-api-key`` and
``openai-api-key`` (kind ``env_var``, ``vars`` [{name}]), always, whatever the provider, and hides
``chatgpt`` when ``NO_BROWSER`` is set; ``agentCapabilities.auth.logout``; ``session/new`` signed out →
``-32000`` "Authentication required"; an unset key variable → ``-32603`` with the variable in ``data``; an
unknown id → ``-32602``; authenticating with a key variable writes it into ``auth.json``. We keep its
three ids, kinds and the ``NO_BROWSER`` rule, and differ on purpose:

- methods only when the configured provider takes the OpenAI sign-in (an ``env_key`` provider offers none:
  an editor that authenticates at every start must not open a browser for a provider that never uses it),
  and only those ``forced_login_method`` allows;
- ``chatgpt-device`` in addition, for clients that run terminal methods (``auth.terminal``: kind
  ``terminal``, ``args`` appended to the agent's command; Zed's ``_meta["terminal-auth"]``: the whole
  command), since ``authenticate`` has no way to show a code;
- ``CODEX_API_KEY`` is never copied into ``auth.json`` (codex-lsp reads it on every request, first);
- the env-var methods carry a ``label`` and a ``link`` to the API keys page;
- ``auth_required`` says why in its message (Zed shows a message other than the default);
- no ``logout`` capability: the SDK we build on (0.12.1) does not route ``logout``.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, text_block
from acp.schema import AuthCapabilities, ClientCapabilities, FileSystemCapabilities

from codex_lsp.acp.auth import SignInPolicy, offered_methods, read_policy
from codex_lsp.testing import FakeIssuer, access_token, write_chatgpt_auth, write_chatgpt_home
from tests.acp.harness import TIMEOUT, Run, Setup, say, setup, step

AUTH_REQUIRED = -32000
FAKE_BROWSER = """#!{python}
import os, sys
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

url = sys.argv[1]
print("Opening in existing browser session.", flush=True)  # as Firefox says, on its stdout
with open(os.environ["FAKE_BROWSER_LOG"], "a", encoding="utf-8") as log:
    log.write(url + "\\n")
if os.environ.get("FAKE_BROWSER_DECLINE"):
    query = parse_qs(urlsplit(url).query)
    back = {{"error": "access_denied", "error_description": "declined", "state": query["state"][0]}}
    url = query["redirect_uri"][0] + "?" + urlencode(back)
reply = httpx.get(url, follow_redirects=True, trust_env=False, timeout=30)
sys.exit(0 if reply.status_code == 200 else 1)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def account_config(home: Path, base_url: str, extra: str = "") -> None:
    """A config.toml whose provider takes the OpenAI sign-in (a ChatGPT-shaped loopback backend)."""
    write_chatgpt_home(home, base_url, top=extra)


@asynccontextmanager
async def signin_setup(tmp_path: Path, issuer: FakeIssuer, **env: str | None) -> AsyncIterator[Setup]:
    """The usual ACP setup, its provider taking the OpenAI sign-in from the fake issuer; a fake browser."""
    async with setup(tmp_path) as s:
        account_config(s.home, s.fake.chatgpt_base_url)
        browser = tmp_path / "fake-browser"
        browser.write_text(FAKE_BROWSER.format(python=sys.executable), encoding="utf-8")
        browser.chmod(0o755)
        s.env_overrides = {
            **issuer.env(),
            "CODEX_LSP_AUTH_CALLBACK_PORTS": str(free_port()),
            "BROWSER": str(browser),
            "FAKE_BROWSER_LOG": str(tmp_path / "opened.txt"),
            "FAKE_KEY": None,
            **env,
        }
        s.fake.accepted_tokens = issuer.minted()
        yield s


def opened(s: Setup) -> list[str]:
    """The URLs the fake browser was asked to open."""
    path = s.tmp / "opened.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def auth_json(s: Setup) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((s.home / "auth.json").read_text(encoding="utf-8"))
    return data


async def new_session_error(run: Run) -> RequestError:
    with pytest.raises(RequestError) as caught:
        async with asyncio.timeout(TIMEOUT):
            await run.conn.new_session(cwd=str(run.root), mcp_servers=[])
    return caught.value


async def authenticate(run: Run, method_id: str) -> None:
    async with asyncio.timeout(TIMEOUT):
        await run.conn.authenticate(method_id=method_id)


async def ask(run: Run, session: str, text: str) -> str:
    run.load([step(say(text))])
    async with asyncio.timeout(TIMEOUT):
        response = await run.conn.prompt(session_id=session, prompt=[text_block("go")])
    return str(response.stop_reason)


def assert_clean_output(run: Run, secrets: list[str]) -> None:
    """The agent's stdout holds JSON-RPC messages only, and neither it nor stderr any of ``secrets``."""
    assert run.received, "the protocol stream was recorded"
    for line in run.received:
        assert json.loads(line)["jsonrpc"] == "2.0", f"not a protocol message on stdout: {line!r}"
    written = run.stdout.decode() + "".join(run.stderr)
    for secret in secrets:
        assert secret
        assert secret not in written


def methods_json(run: Run) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", by_alias=True, exclude_none=True) for m in run.init.auth_methods or []]


CHATGPT = {
    "id": "chatgpt",
    "name": "Sign in with ChatGPT",
    "description": "Opens your browser to sign in with your ChatGPT account (a paid plan includes Codex). "
    "Saved in $CODEX_HOME/auth.json, shared with the Codex CLI.",
}
DEVICE_DESCRIPTION = (
    "Runs `codex-lsp login --device-auth` in a terminal: open the page it shows on any device and enter the "
    "code. For remote machines, or when no browser opens."
)


def key_method(method_id: str, variable: str) -> dict[str, Any]:
    return {
        "type": "env_var",
        "id": method_id,
        "name": f"Use {variable}",
        "vars": [{"name": variable, "label": "OpenAI API key", "secret": True, "optional": False}],
        "link": "https://platform.openai.com/api-keys",
    }


async def test_auth_methods_for_a_provider_that_takes_the_openai_sign_in(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    """What ``initialize`` advertises to a plain client, to one that runs terminal methods, and to Zed
    (its ``_meta`` flag); see the module docstring for the comparison with codex-acp."""
    plain = ClientCapabilities(fs=FileSystemCapabilities(read_text_file=True, write_text_file=True))
    terminal = plain.model_copy(update={"auth": AuthCapabilities(terminal=True)})
    zed = plain.model_copy(update={"field_meta": {"terminal-auth": True}})
    async with signin_setup(tmp_path, issuer) as s:
        async with s.agent(capabilities=plain) as run:
            found = methods_json(run)
        async with s.agent(capabilities=terminal) as terminal_run:
            typed = methods_json(terminal_run)
        async with s.agent(capabilities=zed) as zed_run:
            legacy = methods_json(zed_run)
    keys = [key_method("codex-api-key", "CODEX_API_KEY"), key_method("openai-api-key", "OPENAI_API_KEY")]
    assert [{k: v for k, v in m.items() if k != "description"} for m in found] == [
        {k: v for k, v in CHATGPT.items() if k != "description"},
        *keys,
    ]
    assert found[0] == CHATGPT
    assert "never written to disk" in found[1]["description"]
    assert "codex login --with-api-key" in found[2]["description"]
    device = {"id": "chatgpt-device", "name": "Sign in with ChatGPT (device code)"}
    assert typed[1] == {
        "type": "terminal",
        **device,
        "description": DEVICE_DESCRIPTION,
        "args": ["login", "--device-auth"],
    }
    assert [m["id"] for m in typed] == ["chatgpt", "chatgpt-device", "codex-api-key", "openai-api-key"]
    assert legacy[1] == {
        **device,
        "description": DEVICE_DESCRIPTION,
        "_meta": {
            "terminal-auth": {
                "label": "codex-lsp login --device-auth",
                "command": sys.executable,
                "args": ["-m", "codex_lsp", "login", "--device-auth"],
                "env": {},
            }
        },
    }
    assert run.init.agent_capabilities is not None
    assert run.init.agent_capabilities.auth is not None
    assert run.init.agent_capabilities.auth.logout is None, "the SDK routes no logout: not advertised"


def test_only_methods_that_can_work_are_offered(tmp_path: Path) -> None:
    terminal = ClientCapabilities(auth=AuthCapabilities(terminal=True))

    def ids(policy: SignInPolicy | None, env: dict[str, str] | None = None) -> list[str]:
        return [m.id for m in offered_methods(policy, terminal, env or {})]

    account = SignInPolicy(uses_account=True)
    assert ids(account) == ["chatgpt", "chatgpt-device", "codex-api-key", "openai-api-key"]
    assert ids(account, {"NO_BROWSER": "1"}) == ["chatgpt-device", "codex-api-key", "openai-api-key"]
    assert ids(SignInPolicy(uses_account=True, forced_login="api")) == ["codex-api-key", "openai-api-key"]
    assert ids(SignInPolicy(uses_account=True, forced_login="chatgpt")) == ["chatgpt", "chatgpt-device"]
    assert ids(SignInPolicy(uses_account=False)) == []
    assert ids(None) == []
    home = tmp_path / "home"
    home.mkdir()
    assert read_policy(home) == SignInPolicy(uses_account=True), "no config.toml: the openai provider"
    (home / "config.toml").write_text('model_provider = "ollama"\n', encoding="utf-8")
    assert read_policy(home) == SignInPolicy(uses_account=False)
    account_config(home, "http://127.0.0.1:9", 'forced_login_method = "api"\n')
    assert read_policy(home) == SignInPolicy(uses_account=True, forced_login="api")
    (home / "config.toml").write_text(
        '[model_providers.openai]\nname = "mine"\nenv_key = "MY_KEY"\nrequires_openai_auth = true\n',
        encoding="utf-8",
    )
    assert read_policy(home) == SignInPolicy(uses_account=False), "a key of its own comes first"
    (home / "config.toml").write_text("model = [", encoding="utf-8")
    assert read_policy(home) is None


async def test_browser_sign_in_after_auth_required_then_prompts_carry_the_chatgpt_headers(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    async with (
        signin_setup(tmp_path, issuer) as s,
        s.agent("--log-level", "debug") as run,
    ):
        refused = await new_session_error(run)
        assert refused.code == AUTH_REQUIRED
        assert "Not signed in" in str(refused)
        assert "codex-lsp login" in str(refused)
        assert not (s.home / "auth.json").exists()

        await authenticate(run, "chatgpt")
        (url,) = opened(s)
        assert url.startswith(f"{issuer.url}/oauth/authorize?")
        saved = auth_json(s)
        tokens = issuer.issued[-1]
        assert saved["auth_mode"] == "chatgpt"
        assert saved["tokens"]["access_token"] == tokens["access_token"]
        assert saved["tokens"]["refresh_token"] == tokens["refresh_token"]
        assert saved["tokens"]["account_id"] == "acct-fake-workspace"
        assert saved["OPENAI_API_KEY"].startswith("sk-exchanged-")
        assert stat.S_IMODE((s.home / "auth.json").stat().st_mode) == 0o600

        session = await run.new_session()
        assert await ask(run, session, "Signed in.") == "end_turn"
        request = run.generating[-1]
        assert request.headers["authorization"] == f"Bearer {tokens['access_token']}"
        assert request.headers["chatgpt-account-id"] == "acct-fake-workspace"

        await authenticate(run, "chatgpt")  # an editor authenticating at every start
        assert len(opened(s)) == 1, "already signed in: no second browser sign-in"
    assert any(url in line for line in run.stderr), "the sign-in URL is logged to stderr"
    assert_clean_output(run, [*tokens.values(), saved["OPENAI_API_KEY"]])


async def test_a_declined_browser_sign_in_fails_clearly_and_writes_nothing(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    async with signin_setup(tmp_path, issuer, FAKE_BROWSER_DECLINE="1") as s, s.agent() as run:
        with pytest.raises(RequestError) as caught:
            await authenticate(run, "chatgpt")
        assert caught.value.code == -32603
        assert "sign-in failed: sign-in refused: declined" in str(caught.value)
        assert len(opened(s)) == 1
        assert not (s.home / "auth.json").exists()
        assert (await new_session_error(run)).code == AUTH_REQUIRED
    assert_clean_output(run, [])


async def test_without_a_browser_the_sign_in_fails_at_once(tmp_path: Path, issuer: FakeIssuer) -> None:
    """No browser to open (none on the PATH, no display, no ``$BROWSER``): an error saying what to do
    instead, rather than a request waiting for a page nobody sees."""
    empty = tmp_path / "no-programs"
    empty.mkdir()
    unset = {"BROWSER": None, "DISPLAY": None, "WAYLAND_DISPLAY": None}
    async with signin_setup(tmp_path, issuer, PATH=str(empty), **unset) as s, s.agent() as run:
        with pytest.raises(RequestError, match="no browser could be opened") as caught:
            await authenticate(run, "chatgpt")
        assert caught.value.code == -32603
        assert "codex-lsp login --device-auth" in str(caught.value)
        assert not (s.home / "auth.json").exists()


async def test_unknown_and_terminal_only_methods_are_refused(tmp_path: Path, issuer: FakeIssuer) -> None:
    terminal = ClientCapabilities(auth=AuthCapabilities(terminal=True))
    async with signin_setup(tmp_path, issuer) as s, s.agent(capabilities=terminal) as run:
        with pytest.raises(
            RequestError, match="no sign-in method 'chatgpt-browser' here; offered: chatgpt, chatgpt-device"
        ) as bad:
            await authenticate(run, "chatgpt-browser")
        assert bad.value.code == -32602
        with pytest.raises(RequestError, match="runs in a terminal, not through authenticate") as device:
            await authenticate(run, "chatgpt-device")
        assert device.value.code == -32602
    assert opened(s) == []
    assert not (s.home / "auth.json").exists()


async def test_api_keys_from_the_environment(tmp_path: Path, issuer: FakeIssuer) -> None:
    """An unset variable is an error naming it; ``OPENAI_API_KEY`` replaces a ChatGPT sign-in in auth.json
    as ``codex login --with-api-key`` would; ``CODEX_API_KEY`` is used as it is and never written."""
    openai_key, codex_key = "sk-proj-openai-0123456789", "sk-proj-codex-9876543210"
    async with signin_setup(tmp_path, issuer) as s:
        async with s.agent() as unset:
            for method_id, variable in (
                ("codex-api-key", "CODEX_API_KEY"),
                ("openai-api-key", "OPENAI_API_KEY"),
            ):
                with pytest.raises(RequestError, match=f"{variable} is not set in codex-lsp's environment"):
                    await authenticate(unset, method_id)
            assert not (s.home / "auth.json").exists()

        write_chatgpt_auth(s.home, issuer=issuer.url)
        s.env_overrides["OPENAI_API_KEY"] = openai_key
        s.fake.accepted_tokens = {openai_key, codex_key}
        async with s.agent("--log-level", "debug") as run:
            await authenticate(run, "openai-api-key")
            assert auth_json(s) == {"auth_mode": "apikey", "OPENAI_API_KEY": openai_key}
            session = await run.new_session()
            assert await ask(run, session, "With the key.") == "end_turn"
            assert run.generating[-1].headers["authorization"] == f"Bearer {openai_key}"
            assert "chatgpt-account-id" not in run.generating[-1].headers
        assert_clean_output(run, [openai_key])

        (s.home / "auth.json").unlink()
        s.env_overrides.update(OPENAI_API_KEY=None, CODEX_API_KEY=codex_key)
        async with s.agent("--log-level", "debug") as codex_run:
            session = await codex_run.new_session()  # the variable alone signs the requests in
            await authenticate(codex_run, "codex-api-key")
            assert not (s.home / "auth.json").exists(), "CODEX_API_KEY is never copied to disk"
            assert await ask(codex_run, session, "With the other key.") == "end_turn"
            assert codex_run.generating[-1].headers["authorization"] == f"Bearer {codex_key}"
        assert_clean_output(codex_run, [codex_key])


async def test_signing_in_and_out_elsewhere_takes_effect_without_a_restart(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    """``codex logout`` / ``codex login`` in a terminal while the agent runs: the next session (and the
    next prompt) sees it, though the model client was built once."""
    async with signin_setup(tmp_path, issuer) as s:
        first = write_chatgpt_auth(s.home, issuer=issuer.url)
        s.fake.accepted_tokens = {first["tokens"]["access_token"]}
        async with s.agent() as run:
            session = await run.new_session()
            assert await ask(run, session, "One.") == "end_turn"

            (s.home / "auth.json").unlink()
            assert (await new_session_error(run)).code == AUTH_REQUIRED
            with pytest.raises(RequestError) as load_refused:
                await run.conn.load_session(cwd=str(s.root), session_id="saved-elsewhere", mcp_servers=[])
            assert load_refused.value.code == AUTH_REQUIRED
            with pytest.raises(RequestError) as prompt_refused:
                await run.conn.prompt(session_id=session, prompt=[text_block("two")])
            assert prompt_refused.value.code == AUTH_REQUIRED

            second = write_chatgpt_auth(s.home, issuer=issuer.url, access=access_token(serial="again"))
            s.fake.accepted_tokens = {second["tokens"]["access_token"]}
            other = await run.new_session()
            assert await ask(run, other, "Three.") == "end_turn"
            assert run.generating[-1].headers["authorization"] == f"Bearer {second['tokens']['access_token']}"
            assert await ask(run, session, "Four.") == "end_turn"


@pytest.mark.parametrize("client", ["acp-terminal", "zed-meta"])
async def test_device_code_sign_in_runs_in_the_clients_terminal(
    tmp_path: Path, issuer: FakeIssuer, client: str
) -> None:
    """The client runs the method's command (the agent's own plus ``args``, or Zed's ``_meta`` command)
    in a terminal; the user enters the code shown; exit status 0; the running agent then opens sessions."""
    if client == "acp-terminal":
        capabilities = ClientCapabilities(auth=AuthCapabilities(terminal=True))
    else:
        capabilities = ClientCapabilities(field_meta={"terminal-auth": True})
    options = ("--shell", "--allow", "pytest")  # the agent's own, before the method's arguments
    async with signin_setup(tmp_path, issuer) as s, s.agent(*options, capabilities=capabilities) as run:
        assert (await new_session_error(run)).code == AUTH_REQUIRED
        (method,) = [m for m in methods_json(run) if m["id"] == "chatgpt-device"]
        if client == "acp-terminal":
            argv = [*run.argv, *method["args"]]
        else:
            launch = method["_meta"]["terminal-auth"]
            argv = [launch["command"], *launch["args"]]
        terminal = await asyncio.create_subprocess_exec(
            *argv,
            env={**s.env(), **method.get("env", {})},
            cwd=s.root,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )
        assert terminal.stdout is not None
        shown = ""
        async with asyncio.timeout(TIMEOUT):
            while not (codes := [d.user_code for d in issuer.devices.values() if d.user_code in shown]):
                line = await terminal.stdout.readline()
                assert line, f"the terminal ended before showing a code: {shown!r}"
                shown += line.decode()
        assert f"{issuer.url}/codex/device" in shown
        issuer.approve(codes[0])
        async with asyncio.timeout(TIMEOUT):
            rest = (await terminal.stdout.read()).decode()
            assert await terminal.wait() == 0
        assert re.search(r"Successfully logged in", rest)
        assert auth_json(s)["tokens"]["access_token"] == issuer.issued[-1]["access_token"]
        session = await run.new_session()
        assert await ask(run, session, "Signed in from the terminal.") == "end_turn"


async def test_a_refused_access_token_is_refreshed_once_through_acp(
    tmp_path: Path, issuer: FakeIssuer
) -> None:
    async with signin_setup(tmp_path, issuer) as s:
        stale = write_chatgpt_auth(s.home, issuer=issuer.url, refresh="rt-before")
        async with s.agent("--log-level", "debug") as run:
            session = await run.new_session()
            assert await ask(run, session, "Recovered.") == "end_turn"
        (refresh,) = issuer.refreshes()
        assert refresh["refresh_reason"] == "unauthorized_recovery"
        assert refresh["refresh_token"] == "rt-before"
        new = issuer.issued[-1]
        assert s.fake.authorizations[-1] == f"Bearer {new['access_token']}"
        assert f"Bearer {stale['tokens']['access_token']}" in s.fake.authorizations
        assert auth_json(s)["tokens"]["refresh_token"] == new["refresh_token"]
        assert_clean_output(run, [stale["tokens"]["access_token"], *new.values()])
