"""Our VS Code extension (editors/vscode, packed by `make vscode-ext`) in a real VS Code: code-server in
headless Chromium, driven like a person would, with codex-lsp talking to the fake Responses server.

The settings are where a code-server user puts them: the model's in the user settings, the machine-scoped
server path in the remote machine's settings (user-data/Machine/settings.json). One code-server serves the
module; each test has its own window, hence its own extension host and codex-lsp.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import expect

from codex_lsp.testing import FakeIssuer, Script, access_token, write_chatgpt_auth, write_chatgpt_home
from tests.editors import vscode_selectors as sel
from tests.editors.background import BackgroundLoop, HostedFake
from tests.editors.deps import (
    REPO_ROOT,
    EditorDepsMissing,
    VSCodeDeps,
    editor_deps_unavailable,
    venv_bin,
)
from tests.editors.vscode_driver import WAIT, CodeServer, VSCodeTimeout, Workbench

T = TypeVar("T")

EXTENSION = REPO_ROOT / "editors" / "vscode"
VSIX = EXTENSION / "build" / "codex-lsp.vsix"
KEY = "sk-test-vscode-not-a-real-key"
STATUS_ITEM = f'{sel.STATUS_BAR_ITEM}[id="codex-lsp.codex-lsp.codex.status"]'
APP = "def add(a, b):\n    return a + b\n"
TYPED = "def add(a: int, b: int) -> int:\n    return a + b\n"

# The transcript's turns as the page shows them.
READ_TRANSCRIPT = """() => [...document.querySelectorAll('#transcript .turn')].map((turn) => ({
    title: turn.querySelector('.title').textContent,
    status: turn.dataset.status,
    messages: [...turn.querySelectorAll('.entry.message')].map((m) => m.innerText.trim()),
    files: [...turn.querySelectorAll('.entry.file-change')].map((f) => f.innerText.trim()),
    proposals: [...turn.querySelectorAll('.entry.proposal')].map((p) => p.innerText.trim()),
}))"""


def _sources() -> list[Path]:
    return [
        EXTENSION / "package.json",
        *(EXTENSION / "src").glob("*.ts"),
        *(EXTENSION / "media").iterdir(),
    ]


@pytest.fixture(scope="module")
def codex_vsix() -> Path:
    """The .vsix `make vscode-ext` built: a missing one skips (fails under CODEX_LSP_REQUIRE_EDITORS=1),
    a stale one fails, each with the command to run."""
    if not VSIX.is_file():
        editor_deps_unavailable(EditorDepsMissing(f"{VSIX} is missing: run `make vscode-ext`"))
    stale = [p.name for p in _sources() if p.stat().st_mtime > VSIX.stat().st_mtime]
    if stale:
        pytest.fail(f"{VSIX} is older than {', '.join(stale)}: run `make vscode-ext`", pytrace=False)
    return VSIX


@pytest.fixture(scope="module")
def vscode_extensions(probe_vsix: Path, codex_vsix: Path) -> list[Path]:
    return [probe_vsix, codex_vsix]


@pytest.fixture(scope="module")
def model() -> Iterator[HostedFake]:
    """The fake Responses server, shared by the module's tests (each loads its own script)."""
    loop = BackgroundLoop()
    fake = HostedFake.start(loop)
    yield fake
    fake.stop()
    loop.close()


@pytest.fixture(scope="module")
def code_server(
    vscode: VSCodeDeps,
    vscode_extensions: list[Path],
    model: HostedFake,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CodeServer]:
    root = tmp_path_factory.mktemp("code-server")
    machine = root / "user-data" / "Machine" / "settings.json"
    machine.parent.mkdir(parents=True)
    machine.write_text(json.dumps({"codex.server.path": str(venv_bin() / "codex-lsp")}), encoding="utf-8")
    # The model's URL is in the user's own config.toml: a key goes to an editor-supplied codex.baseUrl
    # only after a question (README, "Signing in").
    home = root / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(f'openai_base_url = "{model.base_url}"\n', encoding="utf-8")
    settings = {"codex.provider": "openai", "codex.model": "gpt-5.5"}
    env = {"OPENAI_API_KEY": KEY, "CODEX_HOME": str(home)}
    server = CodeServer.start(vscode, root, extensions=vscode_extensions, env=env, settings=settings)
    yield server
    server.close()


def script(*turns: list[dict[str, Any]]) -> Script:
    return Script.model_validate({"turns": [{"requests": list(turn)} for turn in turns]})


def say(text: str, **step: Any) -> dict[str, Any]:
    return {"output": [{"type": "message", "text": text, "phase": "final_answer"}], **step}


def patch(path: str, before: str, after: str) -> dict[str, Any]:
    body = "".join(f"-{line}\n" for line in before.splitlines()) + "".join(
        f"+{line}\n" for line in after.splitlines()
    )
    text = f"*** Begin Patch\n*** Update File: {path}\n@@\n{body}*** End Patch\n"
    return {"output": [{"type": "custom_tool_call", "name": "apply_patch", "input": text}]}


def transcript(workbench: Workbench) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = workbench.webview("#transcript").evaluate(READ_TRANSCRIPT)
    return turns


def wait_turn_ended(workbench: Workbench, count: int, *, timeout: float = WAIT) -> dict[str, Any]:
    """Wait for the transcript's turn number ``count`` (1-based) to end; return it."""
    deadline = time.monotonic() + timeout
    while True:
        turns = transcript(workbench)
        if len(turns) >= count and turns[count - 1]["status"] != "running":
            return turns[count - 1]
        if time.monotonic() > deadline:
            raise VSCodeTimeout(f"turn {count} did not end in the transcript: {turns}")
        time.sleep(0.05)


def wait_text(workbench: Workbench, text: str, *, timeout: float = WAIT) -> dict[str, Any]:
    """Wait until the active editor holds ``text``; return the probe's view of it."""
    deadline = time.monotonic() + timeout
    while (active := workbench.probe_state()["active"])["text"] != text:
        if time.monotonic() > deadline:
            raise VSCodeTimeout(f"the editor holds {active['text']!r}, not {text!r}")
    return dict(active)


def codex_log(workbench: Workbench) -> str:
    """The window's "Codex" output channel (the extension's lines and codex-lsp's stderr)."""
    logs = sorted(
        workbench.server.user_data.glob("logs/*/exthost*/codex-lsp.codex-lsp/Codex.log"),
        key=lambda p: int(p.parent.parent.name.removeprefix("exthost")),
    )
    return logs[-1].read_text(errors="replace") if logs else ""


def server_pid(workbench: Workbench, *, other_than: int | None = None, timeout: float = WAIT) -> int:
    """The pid of the window's codex-lsp: the child of its extension host (the newest) running it."""
    deadline = time.monotonic() + timeout
    while True:
        logs = sorted(
            workbench.server.user_data.glob("logs/*/exthost*/remoteexthost.log"),
            key=lambda p: int(p.parent.name.removeprefix("exthost")),
        )
        host = re.search(r"Extension host with pid (\d+) started", logs[-1].read_text()) if logs else None
        for entry in Path("/proc").iterdir():
            if host is None or not entry.name.isdigit() or int(entry.name) == other_than:
                continue
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if parent == int(host.group(1)) and any(part.endswith(b"codex-lsp") for part in command):
                return int(entry.name)
        if time.monotonic() > deadline:
            raise VSCodeTimeout("no codex-lsp process under the window's extension host")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def status_item(workbench: Workbench) -> str:
    return workbench.page.locator(STATUS_ITEM).inner_text().strip()


def user_input(model: HostedFake) -> str:
    """Everything the model was sent in the last request."""
    return model.read(lambda s: json.dumps(s.generating_requests()[-1].effective_input))


def test_ask_streams_the_answer_into_the_transcript_and_edits_the_file(
    workbench: Workbench, workspace: Path, model: HostedFake
) -> None:
    (workspace / "app.py").write_text(APP)
    answer = "Added type hints to `add`: both arguments and the result are `int`."
    model.load(script([patch("app.py", APP, TYPED), say(answer, delay_ms=50, chunk_size=2)]))
    workbench.open_file("app.py")
    # A webview takes seconds to load in a fresh browser: open the view first, to watch the whole stream.
    # (The other tests read the transcript the turn itself opened.)
    workbench.run_command("Codex: Show Transcript")
    workbench.webview("#transcript")
    workbench.focus_editor()
    workbench.page.keyboard.press("Control+Home")
    workbench.page.keyboard.press("Shift+End")  # select the first line: it goes along as context

    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "add type hints")
    seen: list[str] = []
    deadline = time.monotonic() + WAIT
    while not (turns := transcript(workbench)) or turns[0]["status"] == "running":
        seen += [m for m in (turns[0]["messages"] if turns else []) if m not in seen]
        assert time.monotonic() < deadline, f"the turn did not end: {turns}"
        time.sleep(0.03)
    workbench.screenshot("ask")

    (turn,) = turns
    shown = answer.replace("`", "")  # `code` spans are shown as code
    assert (turn["title"], turn["status"], turn["messages"]) == ("add type hints", "completed", [shown])
    assert turn["files"] == ["Edited app.py"]
    partial = [text.replace("`", "") for text in seen if text and text != shown]
    assert partial, f"the answer appeared in pieces while it streamed: {seen}"
    assert all(shown.startswith(text) for text in partial), partial
    state = workbench.probe_state()["active"]
    assert (state["text"], state["isDirty"]) == (TYPED, True), "the edit is in the editor, not yet saved"
    assert (workspace / "app.py").read_text() == APP
    sent = user_input(model)
    assert "add type hints" in sent
    assert "Selection in app.py from 1:1 to 1:15" in sent
    assert status_item(workbench) == "Codex"

    workbench.run_command("Codex: Show Status")
    status = workbench.wait_notification("gpt-5.5 via openai")
    assert "Signed in with an API key (env OPENAI_API_KEY)." in status
    assert KEY not in status


def test_fix_with_codex_on_a_diagnostic_from_another_extension(
    workbench: Workbench, workspace: Path, model: HostedFake
) -> None:
    source = "import os\n\n\ndef main():\n    print('hi')\n"
    fixed = "\n\ndef main():\n    print('hi')\n"
    (workspace / "app.py").write_text(source)
    model.load(script([patch("app.py", "import os", ""), say("Removed the unused import of `os`.")]))
    workbench.open_file("app.py")
    workbench.publish_diagnostics(
        [
            {
                "path": str(workspace / "app.py"),
                "message": "`os` imported but unused",
                "code": "F401",
                "source": "Ruff",
                "range": {"start": [0, 7], "end": [0, 9]},
            }
        ]
    )
    workbench.focus_editor()
    workbench.page.keyboard.press("Control+Home")
    workbench.quick_fix("Fix with Codex: `os` imported but unused")

    turn = wait_turn_ended(workbench, 1)
    workbench.screenshot("fix")
    assert turn["title"] == "Fix: `os` imported but unused"
    assert (turn["status"], turn["messages"]) == ("completed", ["Removed the unused import of os."])
    assert workbench.probe_state()["active"]["text"] == fixed
    sent = user_input(model)
    for needle in ("`os` imported but unused", "F401", "Ruff"):
        assert needle in sent, needle


def test_a_slow_turn_is_cancelled_from_the_status_bar_then_from_the_notification(
    workbench: Workbench, workspace: Path, model: HostedFake
) -> None:
    (workspace / "app.py").write_text(APP)
    # One slow request: a long message streaming, then the edit the cancel must keep from landing.
    thinking = say("Thinking it over, one small piece at a time. " * 8, delay_ms=100, chunk_size=2)
    slow = {**thinking, "output": thinking["output"] + patch("app.py", APP, TYPED)["output"]}
    model.load(script([slow], [slow]))
    workbench.open_file("app.py")

    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "take your time")
    workbench.wait_notification("Codex: take your time")
    item = workbench.page.locator(STATUS_ITEM)
    item.filter(has_text="Codex: Thinking").wait_for()
    workbench.screenshot("running")
    item.click()
    first = wait_turn_ended(workbench, 1)
    assert first["status"] == "interrupted"
    assert status_item(workbench) == "Codex"

    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "again, slowly")
    workbench.wait_notification("Codex: again, slowly: Thinking")
    workbench.click_notification_button("Codex: again, slowly", "Cancel")
    second = wait_turn_ended(workbench, 2)
    assert second["status"] == "interrupted"
    workbench.screenshot("cancelled")

    state = workbench.probe_state()["active"]
    assert (state["text"], state["isDirty"]) == (APP, False), "a cancelled turn leaves the file alone"


REVIEWED = (
    "def first():\n    return 1\n\n\ndef middle():\n    return 0\n\n\n"
    "def helper():\n    pass\n\n\ndef second():\n    return 2\n"
)


def test_review_mode_accepts_one_hunk_by_its_lens_and_rejects_the_other_from_the_palette(
    workbench: Workbench, workspace: Path, model: HostedFake
) -> None:
    (workspace / "app.py").write_text(REVIEWED)
    both = REVIEWED.replace("return 1", "return 10").replace("return 2", "return 20")
    model.load(script([patch("app.py", REVIEWED, both), say("Proposed two changes for your review.")]))
    workbench.open_file("app.py")
    # Set in the open window's folder settings: it reaches the server through workspace/configuration.
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(json.dumps({"codex.editMode": "review"}))
    deadline = time.monotonic() + WAIT
    while True:
        workbench.run_command("Codex: Show Status")
        try:
            workbench.wait_notification("edits: review", timeout=1)
            break
        except VSCodeTimeout:
            assert time.monotonic() < deadline, "codex-lsp never saw codex.editMode = review"
    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "bump the numbers")
    turn = wait_turn_ended(workbench, 1)
    assert turn["files"] == ["Proposed app.py"]
    assert workbench.probe_state()["active"]["text"] == REVIEWED, "nothing lands before the review"

    workbench.focus_editor()
    workbench.page.keyboard.press("Control+Home")
    workbench.page.keyboard.press("ArrowDown")  # onto `return 1`: the first of the two hunks
    workbench.run_command("Codex: Reject Hunk")
    workbench.click_code_lens("Codex: Accept h2")
    second = REVIEWED.replace("return 2", "return 20")
    assert wait_text(workbench, second)["isDirty"], "the accepted hunk is in the editor, not saved"
    deadline = time.monotonic() + WAIT
    while "1 rejected" not in (review := transcript(workbench)[0]["proposals"][0]):
        assert time.monotonic() < deadline, review
        time.sleep(0.05)
    assert "1 accepted" in review
    assert "pending" not in review
    lenses = workbench.page.locator(sel.CODE_LENS, has_text="Codex: Accept")
    lenses.first.wait_for(state="detached")  # refreshed by the server: nothing left to decide
    workbench.screenshot("reviewed")
    assert workbench.probe_state()["active"]["text"] == second


def test_a_crashed_server_is_started_again_and_a_restart_replaces_it(
    workbench: Workbench, workspace: Path, model: HostedFake
) -> None:
    (workspace / "app.py").write_text(APP)
    model.load(script([say("Still here after two restarts.")]))
    workbench.open_file("app.py")
    item = workbench.page.locator(STATUS_ITEM)
    item.locator(".codicon-sparkle").wait_for()  # idle: the server is up
    first = server_pid(workbench)
    os.kill(first, signal.SIGKILL)
    item.and_(workbench.page.locator(".error-kind")).wait_for()
    assert "codex-lsp stopped (the process exited); restarting in 1 s" in (
        item.get_attribute("aria-label") or ""
    )
    item.locator(".codicon-sparkle").wait_for()
    second = server_pid(workbench, other_than=first)

    workbench.run_command("Codex: Restart Server")
    third = server_pid(workbench, other_than=second)
    deadline = time.monotonic() + WAIT
    while alive(second):
        assert time.monotonic() < deadline, "the replaced server is still running"
        time.sleep(0.05)
    item.locator(".codicon-sparkle").wait_for()

    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "are you there?")
    turn = wait_turn_ended(workbench, 1)
    assert (turn["status"], turn["messages"]) == ("completed", ["Still here after two restarts."])
    assert alive(third)
    assert codex_log(workbench).count("starting " + str(venv_bin() / "codex-lsp")) == 3


# --- the OpenAI sign-in ---------------------------------------------------------------------------------


@dataclass
class SignInWindow:
    """What a sign-in test's window talks to: its own CODEX_HOME and fake issuer (on the module's loop)."""

    home: Path
    issuer: FakeIssuer
    loop: BackgroundLoop

    def read(self, function: Callable[[FakeIssuer], T]) -> T:
        """Read or act on the issuer on its loop's thread, e.g. ``window.read(lambda i: i.refreshes())``."""
        return self.loop.call(lambda: function(self.issuer))


def accept_only(model: HostedFake, tokens: set[str] | None) -> None:
    """The fake model accepts only these bearer tokens from now on (``None``: any)."""
    model.loop.call(lambda: setattr(model.server, "accepted_tokens", tokens))


@pytest.fixture
def sign_in_window(workspace: Path, tmp_path: Path, model: HostedFake) -> Iterator[SignInWindow]:
    """Make the test's window (request this before `workbench`) sign in with the OpenAI account.

    Every window shares the module's code-server environment (an API key, the default CODEX_HOME), so the
    folder's settings point ``codex.server.path`` at a script that gives this window's codex-lsp a
    CODEX_HOME and a sign-in issuer of its own and no key from the environment, and choose that
    CODEX_HOME's provider, one that takes the OpenAI sign-in (a ChatGPT-shaped backend on the fake model).
    """
    issuer = FakeIssuer()
    model.loop.run(issuer.start())
    home = write_chatgpt_home(tmp_path / "codex-home", model.server.chatgpt_base_url, retries=4)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in {"CODEX_HOME": str(home), **issuer.env()}.items())
    server = tmp_path / "codex-lsp-signing-in"
    server.write_text(
        "#!/bin/sh\n"
        "unset OPENAI_API_KEY CODEX_API_KEY\n"
        f"export {exports}\n"
        f'exec {shlex.quote(str(venv_bin() / "codex-lsp"))} "$@"\n',
        encoding="utf-8",
    )
    server.chmod(0o755)
    settings = {"codex.server.path": str(server), "codex.provider": "chatgpt-fake", "codex.baseUrl": model.server.chatgpt_base_url}
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    yield SignInWindow(home, issuer, model.loop)
    accept_only(model, None)
    model.loop.run(issuer.stop())


def wait_tooltip(workbench: Workbench, contains: str, *, timeout: float = WAIT) -> str:
    """Wait until the Codex status bar item's tooltip (its accessible label) contains ``contains``."""
    item = workbench.page.locator(STATUS_ITEM)
    expect(item).to_have_attribute("aria-label", re.compile(re.escape(contains)), timeout=timeout * 1000)
    return item.get_attribute("aria-label") or ""


WAITING_FOR_SIGN_IN = "Codex: waiting for the ChatGPT sign-in"


def shown_code(workbench: Workbench, *, other_than: str | None = None) -> str:
    """The code of a device login, read from the server's message in the workbench (a message showing
    ``other_than``, an earlier login's code, does not count)."""
    toasts = workbench.page.locator(
        f"{sel.NOTIFICATION_TOAST} {sel.NOTIFICATION_MESSAGE}", has_text="enter the code"
    )
    if other_than is not None:
        toasts = toasts.filter(has_not_text=other_than)
    toasts.first.wait_for(timeout=WAIT * 1000)
    shown = toasts.first.inner_text()
    found = re.search(r"enter the code (\S+) ", shown)
    assert found, shown
    return found.group(1)


def test_sign_in_with_a_device_code_then_the_next_ask_carries_the_new_token(
    sign_in_window: SignInWindow, workbench: Workbench, model: HostedFake
) -> None:
    model.load(script([say("Signed in now.")]))
    item = workbench.page.locator(STATUS_ITEM)
    wait_tooltip(workbench, "Not signed in: no credentials")
    assert "Run “Codex: Sign In”." in wait_tooltip(workbench, "Not signed in")

    # A first login, cancelled from the notification the extension shows while it waits.
    workbench.run_command("Codex: Sign In", opens_input=True)
    workbench.pick("ChatGPT account (device code)")
    first = shown_code(workbench)
    item.filter(has_text=f"Codex: {first}").wait_for()  # the status bar shows the code while the login waits
    workbench.wait_notification(WAITING_FOR_SIGN_IN)
    workbench.screenshot("device-code")
    # The server's message shows the code; the extension's notification and the status bar add no copy.
    assert len([n for n in workbench.notifications() if first in n]) == 1, workbench.notifications()
    workbench.click_notification_button(WAITING_FOR_SIGN_IN, "Cancel")
    workbench.wait_notification("Codex: sign-in cancelled.")
    item.locator(".codicon-sparkle").wait_for()

    workbench.run_command("Codex: Sign In", opens_input=True)
    workbench.pick("ChatGPT account (device code)")
    code = shown_code(workbench, other_than=first)
    assert sign_in_window.read(lambda i: [d.user_code for d in i.devices.values()]) == [first, code]
    item.filter(has_text=f"Codex: {code}").wait_for()

    sign_in_window.read(lambda i: i.approve(code))
    workbench.wait_notification("Codex: signed in (dev@example.com).")
    signed_in = "Signed in with ChatGPT as dev@example.com (plus plan, workspace acct-fake-workspace)."
    tooltip = wait_tooltip(workbench, signed_in)
    item.locator(".codicon-sparkle").wait_for()
    new = sign_in_window.read(lambda i: dict(i.issued[-1]))
    accept_only(model, {new["access_token"]})

    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "are you there?")
    turn = wait_turn_ended(workbench, 1)
    assert (turn["status"], turn["messages"]) == ("completed", ["Signed in now."])
    sent = model.read(lambda s: s.generating_requests()[-1].headers["authorization"])
    assert sent == f"Bearer {new['access_token']}"

    workbench.run_command("Codex: Show Status")
    status = workbench.wait_notification(signed_in)
    workbench.screenshot("signed-in")
    seen = "\n".join([tooltip, status, *workbench.notifications(), codex_log(workbench)])
    for name, secret in new.items():
        assert secret not in seen, f"the {name} is shown"

    workbench.run_command("Codex: Sign Out")
    workbench.wait_notification("Codex: signed out.")
    wait_tooltip(workbench, "Not signed in")
    assert not (sign_in_window.home / "auth.json").exists()


def test_a_language_server_left_running_past_the_expiry_refreshes_once(
    sign_in_window: SignInWindow, workbench: Workbench, model: HostedFake
) -> None:
    """The access token is valid at the first Ask and due at the second (5 minutes before its ``exp``)."""
    model.load(script([say("one")], [say("two")]))
    workbench.page.locator(STATUS_ITEM).locator(".codicon-sparkle").wait_for()
    workbench.run_command("Codex: Ask…", opens_input=True)
    # Signed in (as by `codex login` in a terminal) just before the Ask is sent, so that the seconds the
    # token has left before it is due are not spent opening the window.
    margin = 305
    old = access_token(margin)
    written = write_chatgpt_auth(sign_in_window.home, access=old, issuer=sign_in_window.issuer.url)
    due_at = time.time() + margin - 300
    accept_only(model, {old})
    workbench.answer_input("Ask Codex", "one")
    assert wait_turn_ended(workbench, 1)["status"] == "completed"
    assert sign_in_window.read(lambda i: i.refreshes()) == [], "not due yet"
    wait_tooltip(workbench, "Signed in with ChatGPT as dev@example.com")  # read again after the turn

    time.sleep(max(0.0, due_at - time.time()) + 0.05)  # the clock itself is under test
    accept_only(model, None)
    workbench.run_command("Codex: Ask…", opens_input=True)
    workbench.answer_input("Ask Codex", "two")
    assert wait_turn_ended(workbench, 2)["status"] == "completed"
    (refresh,) = sign_in_window.read(lambda i: i.refreshes())
    assert refresh["refresh_reason"] == "proactive_expiry"
    assert refresh["refresh_token"] == written["tokens"]["refresh_token"]
    new = sign_in_window.read(lambda i: dict(i.issued[-1]))
    sent = model.read(lambda s: s.generating_requests()[-1].headers["authorization"])
    assert sent == f"Bearer {new['access_token']}"
