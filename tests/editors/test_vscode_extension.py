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
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import Script
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
    assert "key found" in status
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
