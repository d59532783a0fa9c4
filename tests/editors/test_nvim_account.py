""":Codex login, :Codex logout, :Codex account and the ChatGPT sign-in in :checkhealth, in a real Neovim.

codex-lsp's provider takes the OpenAI sign-in (``requires_openai_auth``) and talks to the fake model at its
ChatGPT-shaped URL, which lets in only the tokens a test names; the fake issuer plays ``auth.openai.com``
(device codes, refresh, revoke). The test reads the device code the way the user does, from what Neovim
shows, and approves it as if typed on the sign-in page. Neovim here has no browser (``vim.ui.open`` finds
no handler, as on a server) and a clipboard that records what is put in it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from codex_lsp.testing import access_token, write_chatgpt_auth
from tests.editors.accounts import HostedIssuer
from tests.editors.background import HostedFake
from tests.editors.conftest import NvimFactory
from tests.editors.nvim_codex import CodexNvim, script
from tests.editors.nvim_driver import Nvim
from tests.editors.test_nvim_health import checkhealth, report_lines

APP = "print('hi')\n"
NO_BROWSER = """
codex_test.opened, codex_test.clipboard, codex_test.events = {}, {}, {}
vim.ui.open = function(uri)  -- a machine without a browser: what vim.ui.open says there
  table.insert(codex_test.opened, uri)
  return nil, "vim.ui.open: no handler found (tried: wslview, explorer.exe, xdg-open, lemonade)"
end
vim.g.clipboard = {
  name = "test",
  copy = { ["+"] = function(lines) codex_test.clipboard = lines end, ["*"] = function() end },
  paste = { ["+"] = function() return codex_test.clipboard end, ["*"] = function() return {} end },
}
vim.api.nvim_create_autocmd("User", {
  pattern = { "CodexLoginStarted", "CodexAccountChanged" },
  callback = function(ev) table.insert(codex_test.events, { pattern = ev.match, data = ev.data }) end,
})
"""
TOKENS = ("id_token", "access_token", "refresh_token")
HOW = (
    "sign in with :Codex login (a code to enter in your browser), :Codex login browser or :Codex login apikey"
)
WHO = "dev@example.com (plan plus, workspace acct-fake-workspace)"
VALID = r"access token valid until [\d-]+ [\d:]+ \(refreshed when it nears its end\)"


def start(
    nvim_factory: NvimFactory, tmp_path: Path, fake: HostedFake, issuer: HostedIssuer
) -> tuple[CodexNvim, Path]:
    """Neovim with the plugin, its provider taking the OpenAI sign-in, app.py open; and the Codex home."""
    editor = CodexNvim.start(nvim_factory, tmp_path, fake, ruff=False, issuer=issuer, before_setup=NO_BROWSER)
    editor.open("app.py", APP)
    return editor, tmp_path / "codex-home"


def wait_message(nvim: Nvim, needle: str) -> str:
    """Wait until ``:messages`` shows ``needle`` (what the server's window/showMessage put there)."""
    nvim.wait_until(
        """function(s)
            return vim.api.nvim_exec2('messages', { output = true }).output:find(s, 1, true) ~= nil
        end""",
        needle,
        what=f"{needle!r} in :messages",
    )
    return nvim.messages()


def shown(nvim: Nvim, command: str, prefix: str) -> str:
    """Run ``command`` and wait for the notification it shows, which starts with ``prefix``."""
    before = len(nvim.notifications())
    nvim.command(command)
    nvim.wait_until(
        """function(n, p)
            for i = n + 1, #codex_test.notifications do
                if vim.startswith(codex_test.notifications[i].message, p) then return true end
            end
            return false
        end""",
        before,
        prefix,
        what=f"a notification starting with {prefix!r} after :{command}",
    )
    return next(m for _, m in nvim.notifications()[before:] if m.startswith(prefix))


def everything_shown(nvim: Nvim) -> str:
    """What the user could have seen, and Neovim's LSP log."""
    return nvim.messages() + json.dumps(nvim.notifications()) + nvim.lsp_log()


def events(nvim: Nvim) -> list[dict[str, Any]]:
    return list(nvim.lua("return codex_test.events"))


def test_login_by_device_code_shows_the_code_and_the_next_ask_carries_the_new_token(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake, fake_issuer: HostedIssuer
) -> None:
    editor, _ = start(nvim_factory, tmp_path, fake_responses, fake_issuer)
    nvim = editor.nvim
    before = shown(nvim, "Codex account", "Codex: Not signed in")
    assert before.splitlines()[-1] == HOW

    nvim.command("Codex login")
    messages = wait_message(nvim, "enter the code")
    (code,) = fake_issuer.pending_codes()
    page = f"{fake_issuer.url}/codex/device"
    assert f"LSP[codex][Info] Codex: sign in to ChatGPT — open {page} and enter the code {code}" in messages
    # The server asked Neovim to open the page; this machine has no browser, and the sign-in goes on.
    nvim.wait_until("function() return #codex_test.opened > 0 end", what="the page to be opened")
    assert nvim.lua("return codex_test.opened") == [page]
    # The plugin put the code in the clipboard, keeps it for :Codex account and told other plugins.
    assert nvim.lua("return codex_test.clipboard") == [code]
    assert (2, "Codex: the code is in the clipboard: paste it on the sign-in page") in nvim.notifications()
    waiting = shown(nvim, "Codex account", "Codex: Not signed in")
    line = rf"\nsigning in: open {re.escape(page)} and enter the code {code} \(until \d\d:\d\d\)$"
    assert re.search(line, waiting), waiting
    assert ":Codex login browser" not in waiting  # no advice to sign in while signing in
    (started,) = events(nvim)
    assert started["pattern"] == "CodexLoginStarted"
    assert (started["data"]["method"], started["data"]["userCode"]) == ("device", code)
    assert nvim.lua("return require('codex').statusline()") == f"Codex: enter {code} at {page}"

    fake_issuer.approve(code)
    wait_message(nvim, "LSP[codex][Info] Codex: signed in (dev@example.com).")
    changed = events(nvim)[-1]
    assert changed["pattern"] == "CodexAccountChanged"
    assert (changed["data"]["mode"], changed["data"]["email"]) == ("chatgpt", "dev@example.com")
    signed_in = shown(nvim, "Codex account", "Codex: signed in")
    assert signed_in.splitlines()[0] == f"Codex: signed in with ChatGPT as {WHO}"
    assert "signing in" not in signed_in

    new = fake_issuer.read(lambda issuer: dict(issuer.issued[-1]))
    fake_responses.accept_tokens({new["access_token"]})
    fake_responses.load(script({"output": [{"type": "message", "text": "Signed in now."}]}))
    nvim.command("Codex ask are you there?")
    editor.wait_idle()
    editor.wait_transcript("— completed")
    sent = fake_responses.read(lambda server: server.generating_requests()[-1].headers)
    assert sent["authorization"] == f"Bearer {new['access_token']}"
    assert sent["chatgpt-account-id"] == "acct-fake-workspace"
    seen = everything_shown(nvim)
    assert not [name for name in TOKENS if new[name] in seen]
    # What the server showed: the refused page was no error of the user's (the server only logs it).
    instructions = f"Codex: sign in to ChatGPT — open {page} and enter the code {code} (valid 15 minutes)."
    assert [line for line in nvim.messages().splitlines() if line.startswith("LSP[codex]")] == [
        f"LSP[codex][Info] {instructions}",
        "LSP[codex][Info] Codex: signed in (dev@example.com).",
    ]
    assert not [m for level, m in nvim.notifications() if level >= 3]


def test_cancel_ends_a_waiting_sign_in_and_nothing_is_written(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake, fake_issuer: HostedIssuer
) -> None:
    editor, codex_home = start(nvim_factory, tmp_path, fake_responses, fake_issuer)
    nvim = editor.nvim
    nvim.command("Codex login")
    nvim.wait_until("function() return #codex_test.events == 1 end", what="the sign-in to start")
    nvim.command("Codex cancel")
    assert nvim.notifications()[-1] == (2, "Codex: sign-in cancelled")
    nvim.wait_until("function() return #codex_test.events == 2 end", what="the server to end the sign-in")
    assert events(nvim)[-1]["pattern"] == "CodexAccountChanged"
    (code,) = fake_issuer.pending_codes()
    fake_issuer.approve(code)  # too late: nobody waits for it any more
    after = shown(nvim, "Codex account", "Codex: Not signed in")
    assert "signing in" not in after
    assert not (codex_home / "auth.json").exists()
    assert "no turn is running" not in json.dumps(nvim.notifications())


def test_login_with_an_api_key_asks_for_it_without_showing_it(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake, fake_issuer: HostedIssuer
) -> None:
    editor, codex_home = start(nvim_factory, tmp_path, fake_responses, fake_issuer)
    nvim = editor.nvim
    key = "sk-proj-nvim-editor-key-0123456789"
    # Typed as a person does: the command, then the key at the prompt (inputsecret echoes stars).
    nvim.lua("vim.api.nvim_feedkeys(vim.keycode(...), 'tx', false)", f":Codex login apikey<CR>{key}<CR>")
    wait_message(nvim, "LSP[codex][Info] Codex: signed in (an API key).")
    saved = json.loads((codex_home / "auth.json").read_text())
    assert saved == {"auth_mode": "apikey", "OPENAI_API_KEY": key}
    described = shown(nvim, "Codex account", "Codex: signed in")
    assert described == f"Codex: signed in with an API key ({codex_home / 'auth.json'})"

    fake_responses.accept_tokens({key})
    fake_responses.load(script({"output": [{"type": "message", "text": "Hello."}]}))
    nvim.command("Codex ask hello")
    editor.wait_idle()
    editor.wait_transcript("— completed")
    sent = fake_responses.read(lambda s: s.generating_requests()[-1].headers)
    assert sent["authorization"] == f"Bearer {key}"
    history = nvim.lua("return { vim.fn.histget(':', -1), vim.fn.histget('@', -1) }")
    assert history[0] == "Codex login apikey"
    assert key not in everything_shown(nvim) + json.dumps(history)


def test_a_language_server_left_running_past_the_expiry_refreshes_once(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake, fake_issuer: HostedIssuer
) -> None:
    """The access token is valid at the first ask and due at the second (5 minutes before ``exp``).

    It falls due 5-6 s after auth.json is written (``exp`` counts whole seconds): the first ask has that
    long, which a loaded machine needs more than the 2 s a smaller margin would leave.
    """
    editor, codex_home = start(nvim_factory, tmp_path, fake_responses, fake_issuer)
    nvim = editor.nvim
    margin = 306
    old = access_token(margin)
    written = write_chatgpt_auth(codex_home, access=old, issuer=fake_issuer.url)
    due_at = time.time() + margin - 300
    fake_responses.accept_tokens({old})
    fake_responses.load(script(*({"output": [{"type": "message", "text": t}]} for t in ("One.", "Two."))))
    nvim.command("Codex ask one")
    editor.wait_idle()
    editor.wait_transcript("One.")
    assert fake_issuer.read(lambda issuer: issuer.refreshes()) == [], "not due yet"

    time.sleep(max(0.0, due_at - time.time()) + 0.05)  # the clock itself is under test
    due = shown(nvim, "Codex account", "Codex: signed in")
    assert re.search(r"\naccess token expires [\d-]+ [\d:]+: the next request refreshes it first$", due), due
    fake_responses.accept_tokens(None)
    nvim.command("Codex ask two")
    editor.wait_idle()
    editor.wait_transcript("Two.")
    (refresh,) = fake_issuer.read(lambda issuer: issuer.refreshes())
    assert refresh["refresh_reason"] == "proactive_expiry"
    assert refresh["refresh_token"] == written["tokens"]["refresh_token"]
    new = fake_issuer.read(lambda issuer: dict(issuer.issued[-1]))
    headers = fake_responses.read(lambda s: [r.headers["authorization"] for r in s.generating_requests()])
    assert headers == [f"Bearer {old}", f"Bearer {new['access_token']}"]
    assert [n for _, n in nvim.notifications()].count("Codex: done") == 2
    refreshed = shown(nvim, "Codex account", "Codex: signed in")
    assert re.search(rf"\n{VALID}$", refreshed), refreshed


def test_checkhealth_shows_the_sign_in_without_a_token_and_logout_revokes_it(
    nvim_factory: NvimFactory, tmp_path: Path, fake_responses: HostedFake, fake_issuer: HostedIssuer
) -> None:
    written = write_chatgpt_auth(tmp_path / "codex-home", issuer=fake_issuer.url, refresh="rt-to-revoke")
    editor, codex_home = start(nvim_factory, tmp_path, fake_responses, fake_issuer)
    nvim = editor.nvim
    report = checkhealth(nvim)
    lines = report_lines(report)
    assert len(lines) == 8, report
    assert lines[4:] == [
        f"- OK configuration read: provider chatgpt-fake, model gpt-5.5, {fake_responses.chatgpt_base_url}",
        f"- OK signed in with ChatGPT as {WHO}",
        lines[6],
        lines[7],
    ], report
    assert re.fullmatch(f"- OK {VALID}", lines[6])
    assert re.fullmatch(r"- OK websocket endpoint reachable \(\d+ ms\)", lines[7])
    assert not [name for name in TOKENS if written["tokens"][name] in report]

    status = shown(nvim, "Codex status", "Codex: codex-lsp")
    assert status.splitlines()[2] == f"signed in with ChatGPT as {WHO}"

    nvim.command("Codex logout")
    wait_message(nvim, "LSP[codex][Info] Codex: signed out.")
    (revoke,) = fake_issuer.read(lambda issuer: issuer.on("/oauth/revoke"))
    assert revoke.json()["token"] == "rt-to-revoke"
    assert not (codex_home / "auth.json").exists()
    assert events(nvim)[-1]["data"]["signedIn"] is False
    after = shown(nvim, "Codex account", "Codex: Not signed in")
    assert f"no credentials in {codex_home / 'auth.json'}" in after
    lines = report_lines(checkhealth(nvim))
    assert any(line.startswith("- ERROR Not signed in: no credentials in ") for line in lines), lines
    assert not [name for name in TOKENS if written["tokens"][name] in everything_shown(nvim)]
