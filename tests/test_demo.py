"""The README's main job: ``codex-lsp demo`` drives ``codex-lsp --stdio`` as an editor and fixes a real bug.

End to end through ``make demo``'s own command (the installed ``codex-lsp`` script): the offered
actions, the streamed turn, the edit applied to the editor's copy, the diff and the fixed program's
output. Then the demo's editor alone: how it applies edits (its own copy, the negotiated encoding,
versions, all or nothing) and how it fails (timeouts, the server's stderr, no process left behind).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from codex_lsp import testing
from codex_lsp.demo import BUGGY, DIAGNOSTIC, run_demo
from codex_lsp.lsp.demo_client import DemoEditor, Timeouts, apply_text_edits
from codex_lsp.testing import FakeResponsesServer, Script

BIN = Path(sys.executable).parent
USER_KEY = "sk-user-key-the-demo-must-not-touch"
AGENT_TEXT = (
    "Fixed `mean` in stats.py: it divided by `len(value)`, an undefined name, instead of "
    "`len(values)`. Nothing else changed."
)
REASONING = "The diagnostic points at `len(values)` misspelled as `len(value)`; read the file first."


def demo_command(*args: str) -> list[str]:
    """``make demo`` runs ``.venv/bin/codex-lsp demo``; the same script of this environment."""
    script = BIN / "codex-lsp"
    return (
        [str(script), "demo", *args]
        if script.exists()
        else [sys.executable, "-m", "codex_lsp", "demo", *args]
    )


def user_environment(tmp_path: Path) -> dict[str, str]:
    """A user with a key of their own, an empty Codex home and a state directory of their own."""
    env = {k: v for k, v in os.environ.items() if k not in ("CODEX_HOME", "CODEX_API_KEY")}
    env.update(
        OPENAI_API_KEY=USER_KEY,
        CODEX_HOME=str(tmp_path / "home"),
        CODEX_LSP_STATE_DIR=str(tmp_path / "user-state"),
    )
    (tmp_path / "home").mkdir()
    return env


def test_demo_fixes_the_bug_through_the_language_server(tmp_path: Path) -> None:
    done = subprocess.run(
        demo_command(),
        capture_output=True,
        text=True,
        timeout=120,
        env=user_environment(tmp_path),
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "The model is scripted: our fake Responses server on 127.0.0.1" in out
    steps = [
        "→ initialize     codex-lsp ",
        "→ didOpen        stats.py, version 1",
        "→ codeAction     at stats.py:7:30, with ruff's diagnostic F821 'Undefined name `value`'",
        "[quickfix] Fix with Codex: Undefined name `value`   (codex.fixDiagnostics)",
        '→ executeCommand codex.fixDiagnostics: the user picked "Fix with Codex: Undefined name `value`"',
        "← progress       Codex: Fix: Undefined name `value`",
        f"← thinking       {REASONING}\n",
        '← applyEdit      "Codex: stats.py": 1 edit to stats.py v1 → v2, in the editor\'s copy',
        f"← agent          {AGENT_TEXT}\n",
        "← progress end   completed",
        "← executeCommand turn completed; changed stats.py",
        "websocket, 1 handshake(s)",
        "-    return sum(values) / len(value)\n+    return sum(values) / len(values)\n",
        "→ didSave        stats.py (the editor wrote its copy to disk)",
        "→ shutdown, exit the server exited with status 0",
        "mean([1, 2, 3, 4]) = 2.5",
    ]
    where = [out.find(step) for step in steps]
    missing = [step for step, at in zip(steps, where, strict=True) if at < 0]
    assert not missing, f"missing {missing} in:\n{out}"
    assert where == sorted(where), f"out of order:\n{out}"
    streamed = re.search(r"(\d+) codex/item/agentMessage/delta, (\d+) codex/item/reasoning/summaryDelta", out)
    assert streamed is not None, out
    assert int(streamed[1]) > 1, "the agent's text arrives in pieces, as it streams"
    assert int(streamed[2]) > 1, "so does the reasoning summary"
    assert "Traceback" not in out + done.stderr
    assert USER_KEY not in out + done.stderr
    assert not (tmp_path / "user-state").exists(), "the demo's thread stays out of the user's thread list"


def test_live_without_a_key_says_so_and_exits_2(tmp_path: Path) -> None:
    env = user_environment(tmp_path)
    del env["OPENAI_API_KEY"]
    done = subprocess.run(
        demo_command("--live"), capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("codex-lsp demo --live: Not signed in"), done.stderr
    assert "codex-lsp login" in done.stderr
    assert "Traceback" not in done.stderr
    assert "Editor: starting" not in done.stdout, "no server is started without a key"


def test_the_diagnostic_is_what_ruff_reports() -> None:
    """The demo's "linter diagnostic" is ruff's real one for the buggy file, not an invention."""
    ruff = BIN / "ruff"
    if not ruff.exists():
        pytest.skip("ruff (a dev tool) is not installed next to this Python")
    command = [str(ruff), "check", "--isolated", "--select", "F821", "--output-format", "json"]
    command += ["--stdin-filename", "stats.py", "-"]
    done = subprocess.run(command, input=BUGGY, capture_output=True, text=True, timeout=60, check=False)
    (found,) = json.loads(done.stdout)
    assert found["code"] == DIAGNOSTIC.code
    assert found["message"] == DIAGNOSTIC.message
    assert (found["location"]["row"] - 1, found["location"]["column"] - 1) == (
        DIAGNOSTIC.start_line,
        DIAGNOSTIC.start_character,
    )
    assert (found["end_location"]["row"] - 1, found["end_location"]["column"] - 1) == (
        DIAGNOSTIC.end_line,
        DIAGNOSTIC.end_character,
    )


# -- the demo's editor on its own -----------------------------------------------------------------------

LINE = "s = '😀漢e\u0301' + nam  # to be named\r\nnext\n"


def edit(line: int, start: int, end: int, new: str) -> types.TextEdit:
    return types.TextEdit(types.Range(types.Position(line, start), types.Position(line, end)), new)


@pytest.mark.parametrize(("encoding", "column"), [("utf-16", 17), ("utf-8", 22), ("utf-32", 16)])
def test_edits_are_applied_in_the_negotiated_encoding(encoding: Any, column: int) -> None:
    """Emoji, CJK and a combining accent come before ``nam`` on its line: each encoding counts them
    differently, and only the right count puts the ``e`` at the end of ``nam``."""
    named = LINE.replace("+ nam ", "+ name ")
    assert apply_text_edits(LINE, [edit(0, column, column, "e")], encoding) == named
    assert apply_text_edits(LINE, [edit(1, 0, 4, "last"), edit(0, 0, 1, "t")], encoding) == (
        "t" + LINE[1:].replace("next", "last")
    )


class Wire:
    """Collects what the editor sends (each message one JSON body)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data))

    def close(self) -> None:
        pass


def offline_editor(root: Path) -> tuple[DemoEditor, Wire]:
    editor = DemoEditor(root, io.StringIO())
    wire = Wire()
    editor.client.protocol.set_writer(wire, include_headers=False)
    return editor, wire


def versioned(
    uri: str, version: int | None, *edits: types.TextEdit | types.AnnotatedTextEdit
) -> types.TextDocumentEdit:
    identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.TextDocumentEdit(text_document=identifier, edits=list(edits))


def apply(editor: DemoEditor, *changes: types.TextDocumentEdit) -> types.ApplyWorkspaceEditResult:
    params = types.ApplyWorkspaceEditParams(
        edit=types.WorkspaceEdit(document_changes=list(changes)), label="x"
    )
    return editor._on_apply_edit(params)


def test_an_edit_applies_to_the_editors_copy_not_the_disk(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("on disk\n", encoding="utf-8")
    editor, wire = offline_editor(tmp_path)
    editor.open("a.py")
    uri = editor.uri_of(tmp_path / "a.py")
    editor.docs[uri].text = "in the buffer\n"  # the user typed; the disk is older
    buffer_word = edit(0, 7, 13, "").range
    annotated = types.AnnotatedTextEdit(annotation_id="codex", range=buffer_word, new_text="copy")
    assert apply(editor, versioned(uri, 1, edit(0, 3, 6, "THE"), annotated)).applied
    assert editor.text("a.py") == "in THE copy\n"
    assert editor.version("a.py") == 2
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "on disk\n", "nothing is saved yet"
    change = wire.sent[-1]
    assert change["method"] == "textDocument/didChange"
    assert change["params"]["textDocument"] == {"uri": uri, "version": 2}
    assert change["params"]["contentChanges"] == [{"text": "in THE copy\n"}]
    assert editor.dirty() == ["a.py"]
    editor.save("a.py")
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "in THE copy\n"
    assert wire.sent[-1]["method"] == "textDocument/didSave"


def test_a_stale_version_refuses_the_whole_edit(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("b\n", encoding="utf-8")
    editor, wire = offline_editor(tmp_path)
    editor.open("a.py")
    editor.open("b.py")
    a, b = editor.uri_of(tmp_path / "a.py"), editor.uri_of(tmp_path / "b.py")
    sent = len(wire.sent)
    answer = apply(editor, versioned(a, 1, edit(0, 0, 1, "A")), versioned(b, 7, edit(0, 0, 1, "B")))
    assert not answer.applied
    assert answer.failure_reason is not None
    assert "version 7" in answer.failure_reason
    assert (editor.text("a.py"), editor.text("b.py")) == ("a\n", "b\n"), "all or nothing"
    assert len(wire.sent) == sent, "no didChange for a refused edit"
    overlapping = apply(editor, versioned(a, 1, edit(0, 0, 1, "A"), edit(0, 0, 1, "Z")))
    assert not overlapping.applied


async def test_a_server_that_dies_is_reported_with_its_stderr(tmp_path: Path) -> None:
    out = io.StringIO()
    server = [sys.executable, "-c", "import sys; sys.stderr.write('no config for you\\n'); sys.exit(3)"]
    async with asyncio.timeout(30):
        code = await run_demo(out, server=server, timeouts=Timeouts(start=20, request=5))
    assert code == 1
    text = out.getvalue()
    assert "codex-lsp demo: initialize: the server exited (status 3) without answering" in text, text
    assert "The server's stderr:\n  no config for you\n" in text


async def test_a_server_that_hangs_times_out_and_is_reaped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hang = (
        "import os, sys, time, pathlib; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); "
        "sys.stderr.write('stuck before initialize\\n'); sys.stderr.flush(); time.sleep(60)"
    )
    out = io.StringIO()
    async with asyncio.timeout(30):
        code = await run_demo(
            out, server=[sys.executable, "-c", hang, str(pid_file)], timeouts=Timeouts(start=1)
        )
    assert code == 1
    assert "codex-lsp demo: initialize: no answer from the server within 1 s" in out.getvalue()
    assert "  stuck before initialize\n" in out.getvalue()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_streamed_text_is_printed_as_it_arrives(tmp_path: Path) -> None:
    out = io.StringIO()
    editor = DemoEditor(tmp_path, out)
    started = {"turnId": "t", "item": {"type": "agentMessage", "id": "m1", "text": ""}}
    editor._on_codex("codex/item/started", started)
    seen = []
    for delta in ("Fixed ", "`mean`", " in stats.py."):
        editor._on_codex("codex/item/agentMessage/delta", {"turnId": "t", "itemId": "m1", "delta": delta})
        seen.append(out.getvalue())
    assert seen[0].endswith("← agent          Fixed ")
    assert seen[1].endswith("Fixed `mean`")
    assert seen[2].endswith("Fixed `mean` in stats.py.")
    editor._on_progress(types.ProgressParams(token="p", value={"kind": "report", "message": "Fixed `mean`…"}))
    assert out.getvalue() == seen[2], "a progress report echoing the streamed line is not printed again"
    editor._on_progress(
        types.ProgressParams(token="p", value={"kind": "report", "message": "editing stats.py"})
    )
    assert out.getvalue().endswith("Fixed `mean` in stats.py.\n  ← progress       editing stats.py\n")


async def test_live_uses_the_users_configuration_and_key(tmp_path: Path) -> None:
    """``--live`` talks to whatever the user's config.toml names, with the user's key — here a
    provider that happens to be a scripted server on 127.0.0.1, so the live path runs offline."""
    env = user_environment(tmp_path)
    script = Script.model_validate_json((Path(testing.__file__).parent / "scripts/demo_fix.json").read_text())
    async with FakeResponsesServer(script) as users_model:
        (tmp_path / "home" / "config.toml").write_text(
            f'model = "users-model"\nmodel_provider = "mine"\n\n[model_providers.mine]\nname = "mine"\n'
            f'base_url = "{users_model.base_url}"\nenv_key = "MY_KEY"\nsupports_websockets = true\n',
            encoding="utf-8",
        )
        env["MY_KEY"] = USER_KEY
        demo = await asyncio.create_subprocess_exec(
            *demo_command("--live"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        async with asyncio.timeout(120):
            stdout, stderr = await demo.communicate()
    out = stdout.decode()
    assert demo.returncode == 0, out + stderr.decode()
    assert "The model is YOUR configured model (--live)" in out
    assert "scripted" not in out
    assert f"model users-model (provider mine, {users_model.base_url})" in out
    assert "mean([1, 2, 3, 4]) = 2.5" in out
    assert users_model.handshakes, "the user's provider was used"
    assert all(h.headers.get("authorization") == f"Bearer {USER_KEY}" for h in users_model.handshakes)
    assert USER_KEY not in out


async def test_ctrl_c_mid_turn_ends_the_demo_and_its_server(tmp_path: Path) -> None:
    demo = await asyncio.create_subprocess_exec(
        *demo_command(),
        env=user_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal starts it
    )
    assert demo.stdout is not None
    seen = ""
    async with asyncio.timeout(60):
        while "→ executeCommand" not in seen:
            line = await demo.stdout.readline()
            assert line, seen
            seen += line.decode()
        server = re.search(r"\(pid (\d+)\)", seen)
        assert server is not None, seen
        demo.send_signal(signal.SIGINT)
        _, stderr = await demo.communicate()
    assert demo.returncode == 130, stderr.decode()
    assert stderr.decode().strip() == "codex-lsp demo: interrupted"
    with pytest.raises(ProcessLookupError):
        os.kill(int(server[1]), 0)
