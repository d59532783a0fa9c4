"""Codex in a browser editor: CodeMirror 6 with @marimo-team/codemirror-languageserver 2.0.0, in Chromium,
over ``codex-lsp --ws``, end to end.

The page is the README's own (section "A browser editor: CodeMirror 6 over --ws"): its HTML and script
are taken from the README, bundled with esbuild from tests/clients/node_modules into a temporary folder
and served on 127.0.0.1, and codex-lsp is started with the README's flags (``--ws``, ``--allow-origin``
the page's origin, ``--token-file``). A test-only entry imports the README's module and exposes its
``view`` and ``client``, and CodeMirror's ``setDiagnostics`` to play the page's linter.

What the client does, as found here: its ``initialize`` declares no ``workspace.applyEdit`` and no
``workspaceEdit`` (edits come as ``changes``), code-action literals with ``resolveSupport: {properties:
["edit"]}`` and no ``dataSupport`` (it sends the whole action back anyway), no ``triggerKind``; it runs
no command (it logs it), answers ``workspace/applyEdit`` with ``applied: false``, resolves an action
with neither edit nor command through ``codeAction/resolve`` and applies the edit to its document; it
shows no ``window/showMessage`` (the README's page lists them) and no progress; its requests time out
on the client's side (``timeout``), without ``$/cancelRequest``.

Each test starts its own codex-lsp (one page per server process: the server exits when the page goes)
and its own page; Chromium is shared by the module. The model is the fake Responses server.
"""

from __future__ import annotations

import http.server
import os
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from codex_lsp.testing import Script
from tests.editors.background import HostedFake
from tests.editors.deps import REPO_ROOT, EditorDepsMissing, editor_deps_unavailable, pins, venv_bin
from tests.lsp.harness import server_env, silent_before_completion, write_codex_home
from tests.readme import fenced_blocks, section

SECTION = "A browser editor: CodeMirror 6 over --ws"
CLIENTS = REPO_ROOT / "tests" / "clients" / "node_modules"
ESBUILD = CLIENTS / ".bin" / "esbuild"
APP = "def greet(name):\n    return '👋 hello ' + nam\n"
"""An emoji before the fix: two UTF-16 units, one code point (the client counts UTF-16, declaring nothing)."""
FIXED = "def greet(name):\n    return '👋 hello ' + name\n"
FIX = (
    "*** Begin Patch\n*** Update File: app.py\n@@\n-    return '👋 hello ' + nam\n"
    "+    return '👋 hello ' + name\n*** End Patch"
)
TEST_ENTRY = """import { forEachDiagnostic, setDiagnostics } from "@codemirror/lint";
import { getLanguageServerPlugin } from "@marimo-team/codemirror-languageserver";
import { client, view } from "./editor.js";
window.codexTest = { client, view, setDiagnostics, forEachDiagnostic, getLanguageServerPlugin };
"""
WAIT_MS = 20_000
TOOLTIP_RECORDER = """window.codexTooltips = [];
new MutationObserver((changes) => { for (const change of changes) for (const node of change.addedNodes)
  if (node.classList && node.classList.contains("cm-error-message")) window.codexTooltips.push(node.textContent);
}).observe(document, { childList: true, subtree: true });"""
"""Records the client's error tooltips (each disappears after 3 s)."""


# -- the page ----------------------------------------------------------------------------------------


def readme_page() -> tuple[str, str, list[str]]:
    """The README's page: its HTML, its script and the codex-lsp command line."""
    text = section(SECTION)
    (html,) = fenced_blocks(text, "html")
    (script,) = fenced_blocks(text, "js")
    (command,) = fenced_blocks(text, "sh")
    return html, script, command.split()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's page bundled with esbuild into a temporary folder (never into the repository)."""
    if not ESBUILD.exists():
        editor_deps_unavailable(
            EditorDepsMissing(f"{ESBUILD} is missing; run `make test` (npm ci in tests/clients)")
        )
    folder = tmp_path_factory.mktemp("codemirror-site")
    html, script, _ = readme_page()
    (folder / "index.html").write_text(html, encoding="utf-8")
    (folder / "editor.js").write_text(script, encoding="utf-8")
    (folder / "test-entry.js").write_text(TEST_ENTRY, encoding="utf-8")
    built = subprocess.run(
        [
            str(ESBUILD),
            "test-entry.js",
            "--bundle",
            "--format=esm",
            "--outfile=editor.bundle.js",
            "--log-level=warning",
        ],
        cwd=folder,
        env={**os.environ, "NODE_PATH": str(CLIENTS)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return folder


class _Site(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Path, files: Path) -> None:
        self.site, self.files = site, files
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/files/"):
            target = self.server.files / path.removeprefix("/files/")
        else:
            target = self.server.site / (path.lstrip("/") or "index.html")
        if not target.is_file():
            self.send_error(404)
            return
        body = target.read_bytes()
        kind = {".html": "text/html", ".js": "text/javascript"}.get(target.suffix, "text/plain")
        self.send_response(200)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# -- codex-lsp --ws ----------------------------------------------------------------------------------


@dataclass
class WsServer:
    process: subprocess.Popen[str]
    token: str
    port: int = 0
    stderr: list[str] = field(default_factory=list)

    def wait_for(self, text: str, seconds: float = 10.0) -> str:
        """The first stderr line containing ``text`` (polled: the reader thread fills ``stderr``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.stderr):
                if text in line:
                    return line
            if self.process.poll() is not None and not any(text in line for line in self.stderr):
                break
            time.sleep(0.02)
        raise AssertionError(f"codex-lsp never said {text!r}; its stderr:\n{''.join(self.stderr)}")

    def alive(self) -> bool:
        return self.process.poll() is None


def start_ws(tmp: Path, fake: HostedFake, origin: str) -> WsServer:
    """codex-lsp with the README's flags: --ws (port 0: a free one), --allow-origin the page's, a token file."""
    _, _, command = readme_page()
    assert command[:2] == ["codex-lsp", "--ws"]
    home, state = tmp / "codex-home", tmp / "state"
    write_codex_home(home, fake)  # type: ignore[arg-type]
    token = secrets.token_urlsafe(24) + "&+/="  # characters a URL must encode (a token file may hold them)
    token_file = tmp / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    args = command[3:]
    args[args.index("--allow-origin") + 1] = origin
    args[args.index("--token-file") + 1] = str(token_file)
    process = subprocess.Popen(
        [str(venv_bin() / "codex-lsp"), "--ws", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(home, state),
        start_new_session=True,
    )
    server = WsServer(process, token)
    assert process.stderr is not None
    stream = process.stderr

    def read() -> None:
        for line in stream:
            server.stderr.append(line)

    threading.Thread(target=read, daemon=True).start()
    listening = server.wait_for("listening on ws://127.0.0.1:")
    server.port = int(re.search(r"listening on ws://127\.0\.0\.1:(\d+)", listening).group(1))  # type: ignore[union-attr]
    return server


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = Path(pins()["CHROMIUM"])
    if not os.access(path, os.X_OK):
        editor_deps_unavailable(
            EditorDepsMissing(f"{path} is missing (Debian package chromium); run `make test`")
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=str(path),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    )
    yield browser
    browser.close()
    playwright.stop()


@dataclass
class Setup:
    project: Path
    site: _Site
    server: WsServer
    fake: HostedFake

    def url(self, *, token: str | None = None, site: _Site | None = None) -> str:
        fragment = (
            f"port={self.server.port}&token={quote(token or self.server.token)}"
            f"&root={quote(str(self.project))}&file=app.py"
        )
        return f"{(site or self.site).origin}/#{fragment}"


@pytest.fixture
def setup(tmp_path: Path, site: Path, fake_responses: HostedFake) -> Iterator[Setup]:
    project = (tmp_path / "project").resolve()
    project.mkdir()
    (project / "app.py").write_text(APP)
    served = _Site(site, project)
    server = start_ws(tmp_path, fake_responses, served.origin)
    yield Setup(project, served, server, fake_responses)
    print(f"codex-lsp's stderr:\n{''.join(server.stderr)[-4000:]}")  # shown when the test failed
    if server.alive():
        os.killpg(server.process.pid, 15)
        server.process.wait(10)
    served.shutdown()
    served.server_close()


@pytest.fixture
def page(chromium: Any, setup: Setup) -> Iterator[Any]:
    context = chromium.new_context()
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    console: list[str] = []
    opened.on("console", lambda message: console.append(message.text))
    opened.add_init_script(TOOLTIP_RECORDER)
    opened.console_lines = console
    yield opened
    context.close()


def load(fake: HostedFake, *turns: list[dict[str, Any]]) -> None:
    fake.load(Script.model_validate({"turns": [{"requests": steps} for steps in turns]}))


def say(text: str) -> dict[str, Any]:
    return {"output": [{"type": "message", "text": text}]}


def patch_step(text: str) -> dict[str, Any]:
    return {"output": [{"type": "custom_tool_call", "name": "apply_patch", "input": text}]}


# -- driving the page ----------------------------------------------------------------------------------


def open_editor(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.codexTest && window.codexTest.client.ready")


def what_the_page_says(page: Any) -> str:
    """The page's console, its error tooltips and its message list (for failures)."""
    tips = page.evaluate("() => window.codexTooltips || []")
    return f"console: {getattr(page, 'console_lines', [])}; tooltips: {tips}; messages: {page_messages(page)}"


def wait_until(predicate: Any, what: str, seconds: float = WAIT_MS / 1000) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def document(page: Any) -> str:
    return str(page.evaluate("() => codexTest.view.state.doc.toString()"))


def cursor_to(page: Any, line: int, back: int = 0) -> None:
    """Click into the editor, then with the keyboard: Ctrl+Home, Down ``line`` times, End, Left ``back`` times."""
    page.click(".cm-content")
    page.keyboard.press("Control+Home")
    for _ in range(line):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    for _ in range(back):
        page.keyboard.press("ArrowLeft")


def code_action_menu(page: Any) -> list[str]:
    """Ctrl+. and the titles of the client's menu."""
    page.keyboard.press("Control+.")
    try:
        page.wait_for_selector(".cm-code-action-menu .cm-code-action-item")
    except Exception as error:
        raise AssertionError(f"no code-action menu: {what_the_page_says(page)}") from error
    return [str(t) for t in page.locator(".cm-code-action-item > span:first-child").all_text_contents()]


def pick(page: Any, title: str) -> None:
    page.locator(".cm-code-action-item", has_text=title).first.click()


def wait_document(page: Any, text: str) -> None:
    page.wait_for_function("(text) => codexTest.view.state.doc.toString() === text", arg=text)


def page_messages(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#codex-messages li").all_text_contents()]


def wait_message(page: Any, part: str) -> str:
    page.wait_for_function(
        "(part) => [...document.querySelectorAll('#codex-messages li')].some(li => li.textContent.includes(part))",
        arg=part,
    )
    return next(m for m in page_messages(page) if part in m)


# -- tests ---------------------------------------------------------------------------------------------


def test_a_problem_the_pages_linter_marks_is_fixed_in_the_editor(page: Any, setup: Setup) -> None:
    open_editor(page, setup.url())
    page.evaluate(
        """() => { const { view, setDiagnostics } = codexTest;
        const line = view.state.doc.line(2); const from = line.from + line.text.indexOf('nam');
        view.dispatch(setDiagnostics(view.state, [{ from, to: from + 3, severity: 'error',
          message: "F821 undefined name 'nam'", source: 'ruff' }])); }"""
    )
    cursor_to(page, 1, back=1)  # in 'nam'
    load(setup.fake, [patch_step(FIX), say("Fixed the typo: nam is name.")])
    titles = code_action_menu(page)
    assert titles[0] == "Fix with Codex: F821 undefined name 'nam'", titles
    assert setup.fake.read(lambda s: s.generating_requests()) == [], "offering an action costs no turn"
    pick(page, "Fix with Codex: F821 undefined name 'nam'")
    wait_document(page, FIXED)
    assert wait_message(page, "Fixed the typo")
    assert (setup.project / "app.py").read_text() == APP, "the edit went to the editor, not to the disk"
    sent = setup.fake.read(lambda s: str(s.generating_requests()[0].effective_input))
    assert "undefined name 'nam'" in sent
    page.keyboard.press("Control+z")
    wait_document(page, APP)  # one undo step
    assert setup.server.alive()


def test_the_line_fallback_fixes_a_line_without_a_diagnostic(page: Any, setup: Setup) -> None:
    open_editor(page, setup.url())
    cursor_to(page, 1)
    load(setup.fake, [patch_step(FIX), say("Done.")])
    titles = code_action_menu(page)
    assert "Codex: fix the problems on this line" in titles, titles
    pick(page, "Codex: fix the problems on this line")
    wait_document(page, FIXED)
    sent = setup.fake.read(lambda s: str(s.generating_requests()[0].effective_input))
    assert "line 2" in sent


def test_no_change_says_why_in_the_page(page: Any, setup: Setup) -> None:
    open_editor(page, setup.url())
    cursor_to(page, 1)
    load(setup.fake, [say("The line looks right to me.")])
    pick_title = "Codex: fix the problems on this line"
    assert pick_title in code_action_menu(page)
    pick(page, pick_title)
    message = wait_message(page, "nothing changed")
    assert "looks right to me" in message
    assert document(page) == APP


def test_explain_this_code_answers_in_the_page(page: Any, setup: Setup) -> None:
    open_editor(page, setup.url())
    cursor_to(page, 1)
    page.keyboard.press("Shift+Home")  # select the line's code
    load(setup.fake, [say("It greets a person by name.")])
    assert "Codex: explain this code" in code_action_menu(page)
    pick(page, "Codex: explain this code")
    assert "It greets a person by name." in wait_message(page, "It greets a person by name.")
    assert document(page) == APP
    sent = setup.fake.read(lambda s: str(s.generating_requests()[0].effective_input))
    assert "Explain what the selected code does." in sent
    assert "return '👋 hello ' + nam" in sent


def test_closing_the_page_ends_a_running_fix_and_the_server(page: Any, setup: Setup) -> None:
    """The client cannot cancel a request (no ``$/cancelRequest``); closing the page is what stops a
    turn: the socket closes, the server interrupts the turn and exits, and nothing is written."""
    open_editor(page, setup.url())
    cursor_to(page, 1)
    load(setup.fake, [silent_before_completion(say("Working on it."))])
    assert "Codex: fix the problems on this line" in code_action_menu(page)
    pick(page, "Codex: fix the problems on this line")
    wait_until(lambda: setup.fake.read(lambda s: len(s.generating_requests())) == 1, "the turn's request")
    page.close()
    setup.server.process.wait(10)
    assert (setup.project / "app.py").read_text() == APP
    logged = "".join(setup.server.stderr)
    assert "disconnected; stopping" in logged
    assert "Traceback" not in logged, logged  # the turn's last messages had nowhere to go: dropped


def refused_in_the_browser(chromium: Any, url: str) -> list[str]:
    """Open the page at ``url`` in a new tab and return its console once the client gave up."""
    tab = chromium.new_page()
    lines: list[str] = []
    tab.on("console", lambda message: lines.append(message.text))
    try:
        tab.goto(url)
        tab.wait_for_event("console", lambda m: "initialization failed" in m.text, timeout=WAIT_MS)
    finally:
        tab.close()
    return lines


def test_refused_pages_leave_the_server_up_for_the_good_one(chromium: Any, page: Any, setup: Setup) -> None:
    """A page from another origin (403) and one with a wrong token (401) are refused before the upgrade;
    the server stays up and serves the page with the allowed origin and the token."""
    other = _Site(setup.site.site, setup.project)  # the same page from another origin (another port)
    try:
        console = refused_in_the_browser(chromium, setup.url(site=other))
    finally:
        other.shutdown()
        other.server_close()
    assert any("Unexpected response code: 403" in line for line in console), console
    setup.server.wait_for(f"origin '{other.origin}' is not allowed")
    assert setup.server.alive()
    console = refused_in_the_browser(chromium, setup.url(token="not-the-token-" + secrets.token_hex(8)))
    assert any("HTTP Authentication failed" in line for line in console), console
    setup.server.wait_for("wrong token")
    assert setup.server.alive()
    open_editor(page, setup.url())
    cursor_to(page, 1)
    load(setup.fake, [patch_step(FIX), say("Done.")])
    assert "Codex: fix the problems on this line" in code_action_menu(page)
    pick(page, "Codex: fix the problems on this line")
    wait_document(page, FIXED)
