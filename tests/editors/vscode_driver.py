"""Drive a real VS Code from a test: code-server (VS Code's workbench and Node extension host) in headless
Chromium, through Playwright.

`CodeServer` installs .vsix files into a fresh extensions folder and serves VS Code on 127.0.0.1 (port
chosen by the OS) in its own process group, with HOME and the XDG folders private. `Workbench` is one
browser page on one folder, i.e. one VS Code window with its own extension host: it runs palette commands
by title, reads notifications and the editor's text, and takes screenshots. DOM selectors live in
``vscode_selectors``.

Reading the editor's text, three ways, each with its trade-off:

- `Workbench.probe_state` (preferred): the test-only probe extension (``fixtures/probe-extension``) writes the
  active document's exact text, version and dirty flag, and every diagnostic, to a file. Unsaved text
  included, no DOM involved; costs one palette command (well under a second) and needs the probe installed.
- `Workbench.save_and_read`: save (Ctrl+S) and read the file from disk. Exact and simple, but it saves, which
  changes what the test observes (dirty flag, formatters on save).
- `Workbench.visible_text`: the rendered lines of the active editor. No extension needed and nothing changes,
  but Monaco renders only the lines in view, so it suits short files only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from playwright.sync_api import Browser, Frame, Page, Playwright, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.editors import vscode_selectors as sel
from tests.editors.deps import VSCodeDeps
from tests.editors.nvim_driver import isolated_env
from tests.editors.processes import end_all

__all__ = [
    "PROBE_EXTENSION",
    "WAIT",
    "CodeServer",
    "VSCodeTimeout",
    "Workbench",
    "build_vsix",
    "launch_chromium",
]

WAIT = 20.0
"""Default bound (seconds) on one wait for an editor event."""

PROBE_EXTENSION = Path(__file__).parent / "fixtures" / "probe-extension"
"""Source of the test-only probe extension (see `Workbench.probe_state`)."""

# Quiet, deterministic windows: no welcome page, tips, update or telemetry traffic, no git scanning.
DEFAULT_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "security.workspace.trust.enabled": False,
    "git.enabled": False,
    "chat.disableAIFeatures": True,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "window.restoreWindows": "none",
    "files.hotExit": "off",
    "files.autoSave": "off",
}

SERVE_FLAGS = [
    *("--auth", "none", "--bind-addr", "127.0.0.1:0"),  # port 0: the OS picks a free one, the log says which
    *("--disable-telemetry", "--disable-update-check", "--disable-workspace-trust"),
    "--disable-getting-started-override",
]

_LISTENING = re.compile(r"HTTP server listening on http://127\.0\.0\.1:(\d+)/")


class VSCodeTimeout(AssertionError):
    """What a test waited for did not show in the workbench in time."""


def build_vsix(deps: VSCodeDeps, source: Path, out: Path) -> Path:
    """Package the ready-to-run JS extension in ``source`` into ``out`` with vsce; return ``out``.

    vsce works offline; ``--no-dependencies`` keeps it from running npm, so ``source`` needs no node_modules.
    """
    env = dict(os.environ, PATH=f"{deps.node_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    command = [str(deps.vsce), "package", "--no-dependencies", "--allow-missing-repository", "--skip-license"]
    result = subprocess.run(
        [*command, "--out", str(out)],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"vsce package failed in {source}:\n{result.stdout}{result.stderr}")
    return out


def launch_chromium(deps: VSCodeDeps) -> tuple[Playwright, Browser]:
    """Start Playwright and Debian's Chromium, headless (root needs ``--no-sandbox``); stop both when done."""
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(deps.chromium),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
    except BaseException:
        playwright.stop()
        raise
    return playwright, browser


class CodeServer:
    """A code-server process serving one user-data folder, in its own process group."""

    def __init__(self, root: Path, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.root = root
        self.process = process
        self.port = port
        self.log_path = log
        self.user_data = root / "user-data"
        self.probe_dir = root / "probe"
        """Where the probe extension writes (``$CODEX_TEST_PROBE_DIR`` of the extension host)."""

    @classmethod
    def start(
        cls,
        deps: VSCodeDeps,
        root: Path,
        *,
        extensions: Sequence[Path] = (),
        env: Mapping[str, str] | None = None,
        settings: Mapping[str, Any] | None = None,
        timeout: float = WAIT,
    ) -> Self:
        """Install ``extensions`` (.vsix files) and start serving; return once ``/healthz`` answers.

        ``env`` reaches the extension host (and so the language servers extensions start); ``settings`` are
        user settings on top of `DEFAULT_SETTINGS`.
        """
        root.mkdir(parents=True, exist_ok=True)
        (root / "probe").mkdir(exist_ok=True)
        command = [str(deps.node), str(deps.code_server)]
        command += ["--extensions-dir", str(root / "extensions"), "--user-data-dir", str(root / "user-data")]
        full_env = _environment(deps, root, env)
        if extensions:
            _install(command, extensions, full_env)
        _write_settings(
            root / "user-data" / "User" / "settings.json", {**DEFAULT_SETTINGS, **(settings or {})}
        )
        log = root / "code-server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*command, *SERVE_FLAGS],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            port = _wait_for_port(process, log, timeout)
            _wait_for_health(port, timeout)
        except BaseException:
            _end_group(process)
            raise
        return cls(root, process, port, log)

    def url(self, folder: Path) -> str:
        """The address of a window on ``folder``."""
        return f"http://127.0.0.1:{self.port}/?folder={folder}"

    def update_settings(self, settings: Mapping[str, Any]) -> None:
        """Merge ``settings`` into the user settings; open windows pick the change up."""
        path = self.user_data / "User" / "settings.json"
        _write_settings(path, {**json.loads(path.read_text(encoding="utf-8")), **settings})

    def exthost_log(self) -> str:
        """Every extension host's log (extension activation, errors thrown by extensions)."""
        logs = sorted(self.user_data.glob("logs/*/exthost*/remoteexthost.log"))
        return "\n".join(f"--- {p} ---\n{p.read_text(errors='replace')}" for p in logs)

    def output_channels(self) -> dict[str, str]:
        """Extensions' output channels by name (e.g. a language client's server log), latest window last."""
        channels: dict[str, str] = {}
        for path in sorted(self.user_data.glob("logs/*/exthost*/output_logging_*/*.log")):
            channels[path.stem.split("-", 1)[-1]] = path.read_text(errors="replace")
        return channels

    def output(self) -> str:
        """code-server's own log."""
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        """End code-server and everything it started (extension hosts, language servers)."""
        _end_group(self.process)


class Workbench:
    """One VS Code window (a browser page) on one folder."""

    def __init__(self, page: Page, server: CodeServer, folder: Path, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.folder = folder
        self.artifacts = artifacts

    @classmethod
    def open(
        cls, browser: Browser, server: CodeServer, folder: Path, artifacts: Path, timeout: float = WAIT
    ) -> Self:
        """Open a window on ``folder`` and wait for the workbench to render."""
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(timeout * 1000)
        page.goto(server.url(folder))
        page.wait_for_selector(sel.WORKBENCH, timeout=timeout * 1000)
        return cls(page, server, folder, artifacts)

    # --- acting -------------------------------------------------------------------------------------------

    def dismiss_dialogs(self) -> None:
        """Close modal dialogs, which swallow every click."""
        while self.page.locator(sel.DIALOG).count() > 0:
            self.page.keyboard.press("Escape")
            self.page.locator(sel.DIALOG).first.wait_for(state="detached", timeout=5000)

    def run_command(self, title: str, *, timeout: float = WAIT, opens_input: bool = False) -> None:
        """Run the command whose palette title is exactly ``title`` (e.g. ``"Codex: Ask…"``).

        The palette lists the commands known when it opens, and an extension's contributions register a
        moment after the window renders, so a missing row reopens the palette until ``timeout``. A command
        that asks for input (``opens_input``) leaves the quick input open: answer with `answer_input`.
        """
        deadline = time.monotonic() + timeout
        self.dismiss_dialogs()
        while True:
            row = self._palette_row(title, min(3.0, max(0.1, deadline - time.monotonic())))
            if row is not None:
                row.click()
                if not opens_input:
                    self.page.locator(sel.QUICK_INPUT).wait_for(state="hidden")
                return
            self.page.keyboard.press("Escape")
            if time.monotonic() > deadline:
                raise VSCodeTimeout(f"no command titled {title!r} in the palette after {timeout}s")

    def _palette_row(self, title: str, wait: float) -> Any:
        self.page.keyboard.press("F1")
        box = self.page.locator(sel.QUICK_INPUT_BOX)
        box.wait_for(state="visible")
        box.fill(">" + title)
        exact = re.compile("^" + re.escape(title) + "$")
        row = self.page.locator(sel.QUICK_INPUT_ROW).filter(
            has=self.page.locator(sel.QUICK_INPUT_ROW_LABEL, has_text=exact)
        )
        try:
            row.first.wait_for(state="visible", timeout=wait * 1000)
        except PlaywrightTimeout:
            return None
        return row.first

    def answer_input(self, title: str, text: str, *, timeout: float = WAIT) -> None:
        """Type ``text`` into the input box titled ``title`` (``showInputBox``) and press Enter."""
        box = self.page.locator(sel.QUICK_INPUT, has=self.page.locator(sel.QUICK_INPUT_TITLE, has_text=title))
        box.wait_for(state="visible", timeout=timeout * 1000)
        box.locator(sel.QUICK_INPUT_BOX_INPUT).fill(text)
        self.page.keyboard.press("Enter")
        self.page.locator(sel.QUICK_INPUT).wait_for(state="hidden", timeout=timeout * 1000)

    def pick(self, label: str, *, timeout: float = WAIT, opens_input: bool = False) -> None:
        """Choose the item labelled exactly ``label`` in the open quick pick (``showQuickPick``).

        A choice that opens another input (``opens_input``) leaves the quick input open: answer it with
        `answer_input`.
        """
        exact = re.compile("^" + re.escape(label) + "$")
        row = self.page.locator(sel.QUICK_INPUT_ROW).filter(
            has=self.page.locator(sel.QUICK_INPUT_ROW_LABEL, has_text=exact)
        )
        row.first.click(timeout=timeout * 1000)
        if not opens_input:
            self.page.locator(sel.QUICK_INPUT).wait_for(state="hidden", timeout=timeout * 1000)

    def open_file(self, relative: str, *, timeout: float = WAIT) -> None:
        """Open a file of the folder through Quick Open (Ctrl+P) and wait until its tab is active."""
        self.dismiss_dialogs()
        self.page.keyboard.press("Control+P")
        box = self.page.locator(sel.QUICK_INPUT_BOX)
        box.wait_for(state="visible")
        box.fill(relative)
        name = Path(relative).name
        row = self.page.locator(sel.QUICK_INPUT_ROW).filter(
            has=self.page.locator(sel.QUICK_INPUT_ROW_LABEL, has_text=re.compile("^" + re.escape(name) + "$"))
        )
        row.first.wait_for(state="visible", timeout=timeout * 1000)
        row.first.click()
        self.page.locator(f"{sel.ACTIVE_TAB}[{sel.TAB_NAME_ATTRIBUTE}={json.dumps(name)}]").wait_for(
            state="visible", timeout=timeout * 1000
        )

    def quick_fix(self, title: str, *, timeout: float = WAIT) -> None:
        """Open the code action menu (Ctrl+.) at the active editor's cursor and take the action ``title``.

        Language servers start a moment after the window, and the menu lists what is known when it opens, so
        a menu without the action is closed and opened again until ``timeout``.
        """
        deadline = time.monotonic() + timeout
        exact = re.compile("^" + re.escape(title) + "$")
        row = self.page.locator(sel.ACTION_WIDGET_ROW).filter(
            has=self.page.locator(sel.ACTION_WIDGET_ROW_TITLE, has_text=exact)
        )
        while True:
            self.focus_editor()
            self.page.keyboard.press("Control+.")
            try:
                row.first.wait_for(
                    state="visible", timeout=min(3.0, max(0.1, deadline - time.monotonic())) * 1000
                )
            except PlaywrightTimeout:
                self.page.keyboard.press("Escape")
                if time.monotonic() > deadline:
                    raise VSCodeTimeout(f"no code action titled {title!r} after {timeout}s") from None
                continue
            row.first.click()
            return

    def click_code_lens(self, title: str, *, timeout: float = WAIT) -> None:
        """Click the code lens titled exactly ``title`` in the active editor, once it shows."""
        exact = re.compile("^" + re.escape(title) + "$")
        self.page.locator(sel.CODE_LENS, has_text=exact).first.click(timeout=timeout * 1000)

    def click_notification_button(self, contains: str, button: str, *, timeout: float = WAIT) -> None:
        """Press ``button`` (e.g. ``"Cancel"``) on the toast whose message contains ``contains``."""
        toast = self.page.locator(sel.NOTIFICATION_TOAST).filter(
            has=self.page.locator(sel.NOTIFICATION_MESSAGE, has_text=contains)
        )
        toast.first.locator(sel.NOTIFICATION_BUTTON, has_text=button).click(timeout=timeout * 1000)

    def webview(self, selector: str, *, timeout: float = WAIT) -> Frame:
        """The page of the webview that shows ``selector`` (an extension's view, once it is open).

        A webview's page is a frame nested in the workbench's; this finds the one whose document has
        ``selector``, waiting up to ``timeout`` for it to be shown.
        """
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.page.frames:
                with contextlib.suppress(Exception):  # a frame may go away while we look
                    if frame.locator(selector).count() > 0:
                        return frame
            if time.monotonic() > deadline:
                raise VSCodeTimeout(f"no webview shows {selector!r} after {timeout}s")
            time.sleep(0.05)

    def focus_editor(self) -> None:
        """Give the active editor the keyboard (click its tab: clicking the text would move the cursor)."""
        self.page.locator(sel.ACTIVE_TAB).click()

    def save(self) -> None:
        """Save the active editor (Ctrl+S)."""
        self.focus_editor()
        self.page.keyboard.press("Control+S")

    # --- reading ------------------------------------------------------------------------------------------

    def notifications(self) -> list[str]:
        """The messages of the notification toasts on screen."""
        toasts = self.page.locator(f"{sel.NOTIFICATION_TOAST} {sel.NOTIFICATION_MESSAGE}")
        return [text.strip() for text in toasts.all_inner_texts()]

    def wait_notification(self, contains: str, *, timeout: float = WAIT) -> str:
        """Wait for a notification toast containing ``contains``; return its message."""
        toast = self.page.locator(f"{sel.NOTIFICATION_TOAST} {sel.NOTIFICATION_MESSAGE}", has_text=contains)
        try:
            toast.first.wait_for(state="visible", timeout=timeout * 1000)
        except PlaywrightTimeout:
            raise VSCodeTimeout(
                f"no notification containing {contains!r}; on screen: {self.notifications()}"
            ) from None
        return toast.first.inner_text().strip()

    def status_bar(self) -> list[str]:
        """The texts of the status bar items."""
        return [
            text.strip() for text in self.page.locator(sel.STATUS_BAR_ITEM).all_inner_texts() if text.strip()
        ]

    def visible_text(self) -> str:
        """The active editor's rendered lines, top to bottom (only what is in view: see the module doc)."""
        lines: list[str] = self.page.locator(sel.ACTIVE_EDITOR).first.evaluate(
            """(editor, selector) => [...editor.querySelectorAll(selector)]
                .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
                .map((line) => line.textContent.replace(/\\u00a0/g, " "))""",
            sel.EDITOR_LINE,
        )
        return "\n".join(lines)

    def save_and_read(self, relative: str, *, timeout: float = WAIT) -> str:
        """Save the active editor and return the file's text once the save reached the disk."""
        path = self.folder / relative
        self.save()
        self.page.locator(sel.ACTIVE_TAB + ".dirty").wait_for(state="detached", timeout=timeout * 1000)
        return path.read_text(encoding="utf-8")

    def probe_state(
        self, *, until: Callable[[dict[str, Any]], bool] | None = None, timeout: float = WAIT
    ) -> dict[str, Any]:
        """Ask the probe extension for the editor's state: ``{active, documents, diagnostics}``.

        ``active`` is ``{uri, path, languageId, version, isDirty, text, selections}`` of the active editor (or
        None); ``documents`` the same for every open file; ``diagnostics`` ``[{path, diagnostics: [{message,
        source, code, severity, range: {start: [line, char], end: [line, char]}}]}]`` from every source.
        With ``until``, ask again until it accepts the state: the extension host learns what the window
        shows (a tab opened, a key typed) a moment later, later still on a loaded machine.
        """
        deadline = time.monotonic() + timeout
        state = self.server.probe_dir / "state.json"
        while True:
            state.unlink(missing_ok=True)
            self.run_command("Codex Test Probe: Dump State", timeout=timeout)
            got = dict(json.loads(_wait_for_file(state, timeout).read_text(encoding="utf-8")))
            if until is None or until(got):
                return got
            if time.monotonic() > deadline:
                raise VSCodeTimeout(f"the probe's state never became what was waited for: {got}")

    def publish_diagnostics(self, diagnostics: Sequence[Mapping[str, Any]], *, timeout: float = WAIT) -> None:
        """Show ``diagnostics`` in the editor as if a linter had published them (source ``codex-test-probe``).

        Each is ``{path, message, range: {start: [line, char], end: [line, char]}}`` with optional
        ``severity`` (error/warning/information/hint), ``source`` and ``code``. Replaces earlier ones.
        """
        published = self.server.probe_dir / "published.json"
        published.unlink(missing_ok=True)
        (self.server.probe_dir / "diagnostics.json").write_text(
            json.dumps(list(diagnostics)), encoding="utf-8"
        )
        self.run_command("Codex Test Probe: Publish Diagnostics", timeout=timeout)
        _wait_for_file(published, timeout)

    def screenshot(self, name: str) -> Path:
        """Save what a person would see now as ``<artifacts>/<name>.png``; return the path."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        """Close the window (its extension host ends a few seconds later)."""
        with contextlib.suppress(Exception):
            self.page.close()


def _environment(deps: VSCodeDeps, root: Path, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = isolated_env(root / "home")
    env["PATH"] = f"{deps.node_bin}{os.pathsep}{env['PATH']}"
    env["CODEX_TEST_PROBE_DIR"] = str(root / "probe")
    # A closed page's extension host otherwise waits 3 hours for the window to reconnect.
    env["VSCODE_RECONNECTION_GRACE_TIME"] = "5000"
    env.update(extra or {})
    return env


def _install(command: list[str], extensions: Sequence[Path], env: Mapping[str, str]) -> None:
    installs = [arg for vsix in extensions for arg in ("--install-extension", str(vsix))]
    result = subprocess.run(
        [*command, *installs], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0 or "Failed" in result.stdout:
        names = ", ".join(vsix.name for vsix in extensions)
        raise RuntimeError(f"installing {names} failed:\n{result.stdout}{result.stderr}")


def _write_settings(path: Path, settings: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2), encoding="utf-8")


def _wait_for_port(process: subprocess.Popen[bytes], log: Path, timeout: float) -> int:
    # code-server prints the port the OS chose; there is no other way to learn it.
    deadline = time.monotonic() + timeout
    while (found := _LISTENING.search(log.read_text(errors="replace"))) is None:
        if process.poll() is not None:
            raise RuntimeError(
                f"code-server exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        if time.monotonic() > deadline:
            raise VSCodeTimeout(
                f"code-server did not listen within {timeout}s:\n{log.read_text(errors='replace')}"
            )
        time.sleep(0.05)
    return int(found.group(1))


def _wait_for_health(port: int, timeout: float) -> None:
    # /healthz answers {"status": "expired"} until a window connects and "alive" after: any answer means up.
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
                if "status" in json.loads(response.read()):
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            raise VSCodeTimeout(f"code-server on port {port} did not answer /healthz within {timeout}s")
        time.sleep(0.05)


def _wait_for_file(path: Path, timeout: float) -> Path:
    # The extension host reports back only through files (written then renamed, so complete when seen).
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise VSCodeTimeout(f"{path} did not appear within {timeout}s")
        time.sleep(0.05)
    return path


def _end_group(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM to code-server alone leaves its extension hosts and their language servers running.
    end_all(process, lambda: os.killpg(process.pid, signal.SIGTERM))
