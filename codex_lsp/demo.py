"""``codex-lsp demo``: "Fix with Codex" through the language server, driven as an editor drives it.

It lays out a small project with a real bug in a temporary folder, starts ``codex-lsp --stdio`` as a
subprocess and talks to it as an editor does (the editor is :mod:`codex_lsp.lsp.demo_client`):
initialize, open the buggy file, ask for code actions with the diagnostic a linter (ruff) reports
for the bug, print the actions offered, run "Fix with Codex", print the turn as it streams, apply
the server's ``workspace/applyEdit`` to the editor's own copy of the document, then print the diff,
save the file and run the fixed code.

By default the model is scripted: our fake Responses server on 127.0.0.1 plays it
(``testing/scripts/demo_fix.json``), so no API key and no network are needed — everything else
(the server, the agent, the model client with its WebSocket and turn state, the patch engine, the
edits) is the product itself. ``--live`` uses the user's own Codex configuration and key instead.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from codex_lsp.agent import Diagnostic
from codex_lsp.lsp.demo_client import DemoEditor, DemoError, Timeouts
from codex_lsp.model import AuthError, ConfigError, load_settings
from codex_lsp.patch import render_unified_diff
from codex_lsp.testing import FakeResponsesServer, Script

__all__ = ["BUGGY", "DIAGNOSTIC", "run_demo"]

BUGGY = '''\
"""Small statistics helpers."""


def mean(values):
    if not values:
        raise ValueError("mean of an empty list")
    return sum(values) / len(value)


def spread(values):
    return max(values) - min(values)
'''

DIAGNOSTIC = Diagnostic(
    path="stats.py",
    start_line=6,
    start_character=29,
    end_line=6,
    end_character=34,
    message="Undefined name `value`",
    severity="error",
    source="ruff",
    code="F821",
)
"""What ``ruff check`` reports for :data:`BUGGY` (0-based line, code-point columns)."""

SERVER = (sys.executable, "-m", "codex_lsp", "--stdio", "--log-level", "warning")
"""``codex-lsp --stdio``, run with this very Python (so it is the same installation)."""
CHECK = "import stats; print('mean([1, 2, 3, 4]) =', stats.mean([1, 2, 3, 4]))"
DEMO_KEY_VARIABLE = "CODEX_LSP_DEMO_KEY"
RUN_TIMEOUT = 20.0
"""Seconds the fixed program may run."""
_SECRET_VARIABLES = ("OPENAI_API_KEY", "CODEX_API_KEY")


def _script() -> Script:
    text = resources.files("codex_lsp.testing").joinpath("scripts/demo_fix.json").read_text(encoding="utf-8")
    return Script.model_validate_json(text)


def _fake_environment(base: Path, fake: FakeResponsesServer) -> dict[str, str]:
    """The server's environment for the scripted model: a Codex home of its own naming the fake, and
    none of the user's keys (nothing of theirs is read or sent anywhere)."""
    home = base / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'''model = "gpt-5.5"
model_provider = "scripted"

[model_providers.scripted]
name = "the demo's scripted model"
base_url = "{fake.base_url}"
env_key = "{DEMO_KEY_VARIABLE}"
supports_websockets = true
''',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in _SECRET_VARIABLES}
    env.update(CODEX_HOME=str(home), CODEX_LSP_STATE_DIR=str(base / "state"))
    env[DEMO_KEY_VARIABLE] = "demo-key-not-secret"
    return env


def _live_environment(base: Path, err: TextIO) -> dict[str, str] | None:
    """The user's own environment (their ``$CODEX_HOME`` and key), or ``None`` after saying why not."""
    try:
        settings = load_settings()
        settings.require_credentials()
    except (ConfigError, AuthError) as exc:
        err.write(
            f"codex-lsp demo --live: {exc.message}\n"
            "  `codex-lsp doctor` checks the configuration; `codex-lsp demo` (without --live) runs "
            "with the scripted model and needs no key.\n"
        )
        return None
    return {**os.environ, "CODEX_LSP_STATE_DIR": str(base / "state")}  # threads stay out of the user's list


async def run_demo(
    out: TextIO | None = None,
    *,
    live: bool = False,
    server: Sequence[str] = SERVER,
    timeouts: Timeouts | None = None,
) -> int:
    """Run the demo; 0 when the bug was fixed and the fixed code runs, 1 when not, 2 when ``live``
    and no usable configuration or key was found."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="codex-lsp-demo-") as name:
        base, project = _lay_out(name)
        if live:
            env = _live_environment(base, sys.stderr if out is sys.stdout else out)
            if env is None:
                return 2
            _intro(out, live=True)
            return await _session(project, server, env, out, timeouts or Timeouts(turn=300.0))
        async with FakeResponsesServer(_script()) as fake:
            _intro(out, live=False, where=fake.base_url)
            return await _session(project, server, _fake_environment(base, fake), out, timeouts or Timeouts())


def _lay_out(folder: str) -> tuple[Path, Path]:
    """The demo's folder (resolved) and, inside it, the project with the buggy ``stats.py``."""
    base = Path(folder).resolve()
    project = base / "project"
    project.mkdir()
    (project / "stats.py").write_text(BUGGY, encoding="utf-8")
    return base, project


def _intro(out: TextIO, *, live: bool, where: str = "") -> None:
    out.write('codex-lsp demo: "Fix with Codex" through the language server, as an editor drives it.\n')
    if live:
        out.write("The model is YOUR configured model (--live): this uses your key and may cost money.\n")
    else:
        out.write(
            f"The model is scripted: our fake Responses server on 127.0.0.1 ({where}) plays it, from "
            "testing/scripts/demo_fix.json.\nNo API key, no network. Everything else is the product "
            "itself. (`codex-lsp demo --live` uses your own model and key.)\n"
        )


async def _session(
    project: Path, server: Sequence[str], env: dict[str, str], out: TextIO, timeouts: Timeouts
) -> int:
    out.write(f"\nProject: {project}  (stats.py: mean() divides by an undefined name)\n")
    out.write(f"Editor: starting `codex-lsp --stdio` ({' '.join(server)})\n\n")
    try:
        async with DemoEditor.session(server, env, project, out, timeouts) as editor:
            fixed = await _fix(editor, out)
            if fixed is None:
                return 1
            out.write("\nThe diff (the editor's copy of stats.py, before and after):\n")
            out.write(render_unified_diff("stats.py", BUGGY, fixed) or "(no change)\n")
            out.write("\n")
            for path in editor.dirty():
                editor.save(path)
                editor.transcript.line("→", "didSave", f"{path} (the editor wrote its copy to disk)")
        editor.transcript.line("→", "shutdown, exit", f"the server exited with status {editor.returncode}")
    except DemoError as exc:
        out.write(f"\ncodex-lsp demo: {exc}\n")
        stderr = exc.stderr.strip()
        out.write("The server's stderr:\n" + (_indented(stderr) if stderr else "  (nothing)\n"))
        return 1
    return await _run_fixed(project, out) if fixed != BUGGY else 1


async def _fix(editor: DemoEditor, out: TextIO) -> str | None:
    """The editor's part: open, code actions, "Fix with Codex", the turn; the fixed text (or ``None``)."""
    transcript = editor.transcript
    server = f"{editor.server_name} (pid {editor.pid})"
    transcript.line("→", "initialize", f"{server}; positions in {editor.encoding} (negotiated)")
    version = editor.open("stats.py")
    transcript.line("→", "didOpen", f"stats.py, version {version}")
    d = DIAGNOSTIC
    at = f"stats.py:{d.start_line + 1}:{d.start_character + 1}"
    transcript.line("→", "codeAction", f"at {at}, with {d.source}'s diagnostic {d.code} {d.message!r}")
    actions = await editor.code_actions("stats.py", DIAGNOSTIC)
    transcript.line("←", "codeAction", f"{len(actions)} action(s) offered:")
    for action in actions:
        out.write(f"      [{action.kind or 'command'}] {action.title}   ({action.command})\n")
    fix = next((a for a in actions if a.title.startswith("Fix with Codex:")), None)
    if fix is None:
        raise DemoError('the server offered no "Fix with Codex" action')
    transcript.line("→", "executeCommand", f'{fix.command}: the user picked "{fix.title}"')
    result = await editor.execute(fix.command, fix.arguments, turn=True)
    _report_turn(editor, result, out)
    status = await editor.execute("codex.status", [{}])
    _report_status(status, out)
    if not isinstance(result, dict) or result.get("status") != "completed":
        return None
    return editor.text("stats.py")


def _report_turn(editor: DemoEditor, result: Any, out: TextIO) -> None:
    data: dict[str, Any] = result if isinstance(result, dict) else {}
    changed = ", ".join(data.get("changedFiles") or []) or "nothing"
    tokens = (data.get("usage") or {}).get("totalTokens", 0)
    error = f"; error: {data['error']}" if data.get("error") else ""
    editor.transcript.line(
        "←", "executeCommand", f"turn {data.get('status', '?')}; changed {changed}; {tokens} tokens{error}"
    )
    counts = editor.counts
    streamed = [
        f"{counts['codex/item/agentMessage/delta']} codex/item/agentMessage/delta",
        f"{counts['codex/item/reasoning/summaryDelta']} codex/item/reasoning/summaryDelta",
        f"{sum(n for k, n in counts.items() if k.startswith('codex/'))} codex/* in all",
        f"{counts['$/progress report']} $/progress reports",
    ]
    out.write(f"  (streamed: {', '.join(streamed)})\n")


def _report_status(status: Any, out: TextIO) -> None:
    data: dict[str, Any] = status if isinstance(status, dict) else {}
    model = f"model {data.get('model')} (provider {data.get('provider')}, {data.get('baseUrl')})"
    handshakes, requests = data.get("websocketHandshakes", 0), data.get("requests", 0)
    traffic = f"{handshakes} handshake(s), {requests} request(s)"
    out.write(f"  codex.status: {model}, {data.get('transport')}, {traffic}\n")


def _indented(text: str) -> str:
    return "".join(f"  {line}\n" for line in text.splitlines())


async def _run_fixed(project: Path, out: TextIO) -> int:
    """Run the fixed module the way a user would check it; 0 when it runs."""
    out.write(f'\n$ python -c "{CHECK}"\n')
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHECK, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        async with asyncio.timeout(RUN_TIMEOUT):
            output, _ = await check.communicate()
    except TimeoutError:
        check.kill()
        await check.wait()
        out.write(f"(still running after {RUN_TIMEOUT:g} s; stopped)\n")
        return 1
    out.write(output.decode("utf-8", "replace"))
    return 0 if check.returncode == 0 else 1
