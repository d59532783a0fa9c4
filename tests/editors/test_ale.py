"""Codex in a real Vim 9 with ALE 3.3 (Debian's vim and vim-ale), beside flake8, end to end.

Vim runs in a tmux terminal and is configured with the README's own snippet (section "Vim + ALE"), so what
the README tells people to write is what runs here; the test types what a person types (``:ALENext``,
``:ALECodeAction``, a number and Enter at ALE's menu, ``:CodexAsk ...``) and reads the screen and Vim's
state back (tests/editors/ale_driver.py). codex-lsp talks to the fake Responses server through a
throwaway CODEX_HOME.

ALE 3.3 as a client, as met here: its ``initialize`` has no ``clientInfo`` and declares
``workspace.applyEdit: false``, no ``workspace/configuration``, no ``window`` capabilities (no work-done
progress, no ``showDocument``) and no ``experimental.codex``. Its code-action request has no
``triggerKind``, always a range at least one character wide, and carries the diagnostic ALE knows at the
cursor only when the cursor is on the start of a word — with ``end`` at line 0 when the linter gave no end
(flake8), so its range is inverted. It shows ``window/showMessage`` of at most the severity
``g:ale_lsp_show_message_severity`` (``error`` by default): ``echo`` for a short one-line message (not kept
in ``:messages``), its preview window for a longer one. It never shows a command's result or error, and
cannot send ``$/cancelRequest``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import Script
from tests.editors.ale_driver import Vim, ale_version
from tests.editors.background import HostedFake
from tests.editors.deps import EditorDepsMissing, editor_deps_unavailable, vim_ale_deps
from tests.editors.emacs_driver import kill_leftovers, processes_with_env
from tests.editors.model_turns import patch, say, script
from tests.lsp.harness import KEY, write_codex_home
from tests.readme import fenced_blocks, section

SOURCE = '"""Greeting."""\n\nimport os\n\nprint("hi")\n'
FIXED = '"""Greeting."""\n\nprint("hi")\n'
FLAKE8 = "'os' imported but unused"
FIX_TITLE = f"Fix with Codex: {FLAKE8}"
LINE_TITLE = "Codex: fix the problems on this line"
SELECTION_ACTIONS = ["Codex: explain this code", "Codex: add docstrings", "Codex: write tests for this code"]
DISK = "'initialization_options': {'codex': {'editFallback': 'disk'}},"
REFUSAL = "Codex: this editor cannot apply edits"


@pytest.fixture(scope="module")
def ale() -> str:
    """The vim-ale version (the tests skip, or fail under make test, without Vim, ALE, flake8 and tmux)."""
    try:
        vim_ale_deps()
    except EditorDepsMissing as error:
        editor_deps_unavailable(error)
    return ale_version()


def readme_vimrc() -> str:
    """The README's Vim + ALE snippet, as a person pastes it into their vimrc."""
    (snippet,) = fenced_blocks(section("Vim + ALE"), "vim")
    return snippet


@dataclass
class Session:
    """One test's surroundings: the project (a git repository), the Codex home, the fake model, Vims."""

    root: Path
    tmp: Path
    codex_home: Path
    fake: HostedFake
    vims: list[Vim]

    def vim(self, file: str, *, vimrc: str | None = None) -> Vim:
        """Vim on ``file`` of the project, configured with ``vimrc`` (default: the README's snippet)."""
        env = {
            "CODEX_HOME": str(self.codex_home),
            "CODEX_LSP_STATE_DIR": str(self.tmp / "codex-state"),
            "CODEX_LSP_TEST_KEY": KEY,
            "OPENAI_API_KEY": "",
            "CODEX_API_KEY": "",
        }
        home = self.tmp / f"vim-home-{len(self.vims)}"
        vim = Vim.start(home, readme_vimrc() if vimrc is None else vimrc, cwd=self.root, file=file, env=env)
        self.vims.append(vim)
        return vim

    def requests(self, *, prewarm: bool = False) -> list[str]:
        """What the model was sent, one JSON text per generating request (and prewarm if ``prewarm``)."""
        return self.fake.read(
            lambda s: [
                json.dumps(r.effective_input) for r in (s.requests if prewarm else s.generating_requests())
            ]
        )


@pytest.fixture
def session(ale: str, fake_responses: HostedFake, tmp_path: Path) -> Iterator[Session]:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    codex_home = tmp_path / "codex-home"
    write_codex_home(codex_home, fake_responses.server)
    session = Session(root, tmp_path, codex_home, fake_responses, [])
    yield session
    for vim in session.vims:
        vim.close()
    assert kill_leftovers(codex_home) == [], "codex-lsp outlived Vim"


def open_with_flake8_problem(session: Session, vimrc: str | None = None) -> Vim:
    (session.root / "app.py").write_text(SOURCE)
    vim = session.vim("app.py", vimrc=vimrc)
    vim.wait_until("len(CodexTestProblems('app.py'))", "flake8's problem in ALE")
    return vim


MENU_PROMPT = r"^Type number and <Enter> \(empty cancels\):\s*\Z"


def code_action_menu(vim: Vim, ex: str = "ALECodeAction") -> list[str]:
    """Run ``:ALECodeAction`` (or ``ex``) and return the titles of ALE's numbered menu, in order."""
    assert not re.search(MENU_PROMPT, vim.screen(), re.MULTILINE), "a menu is still open"
    vim.command(ex)
    screen = vim.wait_screen(MENU_PROMPT, "ALE's code-action menu").string
    menu = screen[screen.rindex("Code Fixes:") :]
    return re.findall(r"^\d+\) (.*?)\s*$", menu, re.MULTILINE)


def cancel_menu(vim: Vim) -> None:
    """Answer ALE's menu with an empty line (which cancels it) and wait for the menu to go."""
    vim.keys("Enter")
    vim.wait_for(lambda: not re.search(MENU_PROMPT, vim.screen(), re.MULTILINE), "the menu to close")


def pick(vim: Vim, menu: list[str], title: str) -> None:
    """Type the number of ``title`` and Enter at ALE's menu."""
    vim.type(str(menu.index(title) + 1))
    vim.keys("Enter")


def sent(vim: Vim, method: str) -> list[dict[str, Any]]:
    """The params of every ``method`` message ALE sent codex-lsp, in order."""
    return [m["params"] for d, m in vim.lsp_messages() if d == "sent" and m.get("method") == method]


def shown(vim: Vim) -> str:
    """What ALE showed of the server's messages: the screen, its preview windows and every echo so far.

    A short message is an ``echo``, which the next echo replaces (ALE's own, for the problem under the
    cursor, among them) and ``:messages`` does not keep; Vim's record of its message area has it.
    """
    previews = vim.state("app.py")["previews"]
    return "\n".join([vim.screen(), *("\n".join(lines) for lines in previews), vim.echoed()])


# --- the tests ---


def test_fix_is_offered_for_flake8s_problem_and_refused_clearly_without_an_edit_fallback(
    session: Session,
) -> None:
    vimrc = readme_vimrc()
    assert DISK in vimrc
    vim = open_with_flake8_problem(session, vimrc.replace(DISK, ""))
    (problem,) = vim.problems("app.py")
    assert (problem["lnum"], problem["col"], problem["code"], problem["text"]) == (3, 1, "F401", FLAKE8)
    assert problem["end_lnum"] is None  # flake8 gives no end: ALE sends end before start (item 3)

    # The cursor inside a word: ALE sends no diagnostic, and a one-character range with no triggerKind.
    vim.command("ALENext")
    vim.keys("l")
    menu = code_action_menu(vim)
    assert menu[0] == LINE_TITLE, menu  # item 2: no triggerKind counts as invoked
    cancel_menu(vim)
    # On the first character of the problem (where :ALEFirst puts it) ALE sends flake8's diagnostic.
    vim.command("ALEFirst")
    menu = code_action_menu(vim)
    assert menu[0] == FIX_TITLE, menu  # item 3: the inverted range is not dropped

    inside, at_start = sent(vim, "textDocument/codeAction")
    for request in (inside, at_start):
        assert "triggerKind" not in request["context"]
    assert inside["context"]["diagnostics"] == []
    assert inside["range"] == {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 6}}
    (diagnostic,) = at_start["context"]["diagnostics"]
    assert diagnostic["range"] == {"start": {"line": 2, "character": 0}, "end": {"line": 0, "character": 0}}

    pick(vim, menu, FIX_TITLE)
    vim.wait_for(lambda: REFUSAL in shown(vim), "the refusal in Vim")  # item 1
    message = shown(vim)
    assert "codex.editFallback" in message
    assert "Error:codex: " + REFUSAL in message.replace("\n", "")
    assert session.requests(prewarm=True) == []  # refused up front: nothing reached the model server
    assert (session.root / "app.py").read_text() == SOURCE
    assert vim.state("app.py")["text"] == SOURCE

    # What ALE 3.3 declares, as it says it.
    ((_, initialize), *_) = [(d, m) for d, m in vim.lsp_messages() if m.get("method") == "initialize"]
    params = initialize["params"]
    assert "clientInfo" not in params
    assert params["initializationOptions"] == {}
    capabilities = params["capabilities"]
    assert capabilities["workspace"]["applyEdit"] is False
    assert capabilities["workspace"]["configuration"] is False
    assert "window" not in capabilities
    assert "experimental" not in capabilities
    refused = [m for d, m in vim.lsp_messages() if d == "received" and "error" in m]
    assert [m["error"]["code"] for m in refused] == [-32803]


def test_fix_with_the_disk_fallback_writes_the_file_and_vim_reloads_it(session: Session) -> None:
    greeted = FIXED + 'print("bye")\n'
    session.fake.load(
        script(
            [[patch("app.py", '-import os\n-\n print("hi")\n')], [say("Removed it.")]],
            [[patch("app.py", ' print("hi")\n+print("bye")\n')], [say("Added it.")]],
        )
    )
    vim = open_with_flake8_problem(session)
    vim.command("ALENext")
    menu = code_action_menu(vim)
    pick(vim, menu, FIX_TITLE)
    vim.wait_for(lambda: (session.root / "app.py").read_text() == FIXED, "Codex to write app.py")
    vim.wait_for(lambda: "Codex: Removed it." in shown(vim), "the turn's answer in Vim")
    assert "Info:codex: Codex changed app.py on disk" in shown(vim)
    assert vim.state("app.py")["text"] == SOURCE  # Vim has not looked at the disk yet
    vim.command("checktime")
    vim.wait_until(f"CodexTestState('app.py').text ==# {json.dumps(FIXED)}", "Vim to reload app.py")
    assert vim.state("app.py")["modified"] == 0
    vim.wait_until("empty(CodexTestProblems('app.py'))", "flake8 to find nothing left")
    (fix, *_) = session.requests()
    assert FLAKE8 in fix  # flake8's words reached the model
    # Nothing ALE did not ask for: no edit requests, progress, documents to show or streamed events.
    methods = {m["method"] for d, m in vim.lsp_messages() if d == "received" and "method" in m}
    assert methods == {"window/logMessage", "window/showMessage"}, methods

    # :CodexAsk reloads what its turn changed by itself (the README's handler runs :checktime).
    vim.command("CodexAsk say bye at the end")
    vim.wait_until(f"CodexTestState('app.py').text ==# {json.dumps(greeted)}", "Vim to reload app.py")
    assert (session.root / "app.py").read_text() == greeted
    assert vim.state("app.py")["modified"] == 0


def test_ask_and_explain_show_their_answers_in_vim(session: Session) -> None:
    long_answer = "\n".join(f"Line {n} of the explanation." for n in range(1, 9))
    session.fake.load(script([[say("It prints hi.")]], [[say(long_answer)]]))
    (session.root / "app.py").write_text(SOURCE)
    vim = session.vim("app.py")
    # Lines 3-5 selected, then :CodexAsk (typing ':' in Visual mode inserts '<,'>).
    vim.command("3")
    vim.keys("V", "2", "j")
    vim.command("CodexAsk what does this part print?")
    vim.wait_for(lambda: "Info:codex: Codex: It prints hi." in shown(vim), "the short answer, echoed")
    (ask,) = sent(vim, "workspace/executeCommand")
    assert ask["command"] == "codex.ask"
    (arguments,) = ask["arguments"]
    assert arguments["prompt"] == "what does this part print?"
    assert arguments["uri"] == (session.root / "app.py").as_uri()
    assert arguments["range"] == {"start": {"line": 2, "character": 0}, "end": {"line": 5, "character": 0}}

    # A selection, then :'<,'>ALECodeAction: the refactor actions; "explain" answers at length.
    vim.command("5")
    vim.keys("V")
    menu = code_action_menu(vim, "ALECodeAction")
    assert menu[-3:] == SELECTION_ACTIONS, menu
    pick(vim, menu, "Codex: explain this code")
    preview = vim.wait_until(
        "filter(CodexTestState('app.py').previews, {_, p -> join(p) =~# 'Line 8 of'})",
        "the long answer in ALE's preview window",
    )
    assert "\n".join(preview[0]) == f"Info:codex: Codex: {long_answer}"
    asked, explained = session.requests()
    assert "what does this part print?" in asked
    assert "Explain what the selected code does." in explained


def test_codex_stop_interrupts_a_running_turn(session: Session) -> None:
    slow = {"output": [say("Thinking it over. " * 40), patch("app.py", "-import os\n")]}
    session.fake.load(
        Script.model_validate({"turns": [{"requests": [{**slow, "delay_ms": 50, "chunk_size": 4}]}]})
    )
    (session.root / "app.py").write_text(SOURCE)
    vim = session.vim("app.py")
    vim.command("CodexAsk rewrite this file")
    vim.wait_for(session.requests, "the turn to reach the model")
    vim.command("CodexStop")
    (ask,) = sent(vim, "workspace/executeCommand")[:1]
    assert ask["command"] == "codex.ask"

    def turn_results() -> list[dict[str, Any]]:
        return [
            m["result"]
            for d, m in vim.lsp_messages()
            if d == "received" and isinstance(m.get("result"), dict) and "status" in m["result"]
        ]

    (result,) = vim.wait_for(turn_results, "the ask's answer")
    assert result["status"] == "interrupted"
    # Both are said (the snippet's echo and the server's message); the later one stays on screen.
    vim.wait_for(lambda: "Codex: stopped 1 turn(s)" in vim.echoed(), "what :CodexStop says")
    vim.wait_for(lambda: "Codex: The turn was interrupted." in vim.echoed(), "what the server says")
    assert (session.root / "app.py").read_text() == SOURCE
    assert vim.state("app.py")["text"] == SOURCE
    assert len(session.requests()) == 1  # nothing further reached the model

    # Quitting Vim as a person does ends codex-lsp too (ALE stops its servers; stdin closes).
    vim.command("qa!")
    vim.wait_for(
        lambda: not processes_with_env("CODEX_HOME", str(session.codex_home)), "codex-lsp to exit with Vim"
    )


def test_the_disk_fallback_leaves_a_file_with_unsaved_changes_alone(session: Session) -> None:
    session.fake.load(
        script([[patch("app.py", '-import os\n-\n print("hi")\n')], [say("I could not change app.py.")]])
    )
    vim = open_with_flake8_problem(session)
    vim.wait_for(lambda: sent(vim, "textDocument/didOpen"), "ALE to open app.py in codex-lsp")
    vim.keys("G", "o")
    vim.type("# a draft")
    vim.keys("Escape")
    drafted = SOURCE + "# a draft\n"
    vim.wait_for(  # ALE lints the changed buffer, and tells codex-lsp its text on the way
        lambda: drafted in [p["contentChanges"][-1]["text"] for p in sent(vim, "textDocument/didChange")],
        "ALE to send the unsaved text",
    )
    vim.command("ALEFirst")
    pick(vim, code_action_menu(vim), FIX_TITLE)
    vim.wait_for(lambda: "Codex: I could not change app.py." in shown(vim), "the turn's answer")
    assert (session.root / "app.py").read_text() == SOURCE
    state = vim.state("app.py")
    assert (state["text"], state["modified"]) == (drafted, 1)
    _, told = session.requests()  # the model heard why its patch did not land
    assert "app.py has changes the editor has not saved" in told


def test_the_diff_fallback_shows_the_change_and_writes_nothing(session: Session) -> None:
    session.fake.load(
        script([[patch("app.py", '-import os\n-\n print("hi")\n')], [say("This removes the import.")]])
    )
    vim = open_with_flake8_problem(session, readme_vimrc().replace("'disk'", "'diff'"))
    vim.command("ALEFirst")
    pick(vim, code_action_menu(vim), FIX_TITLE)
    preview = vim.wait_until(
        "filter(CodexTestState('app.py').previews, {_, p -> join(p, \"\\n\") =~# '\\n-import os'})",
        "the diff in ALE's preview window",
    )
    assert "+++ b/app.py" in "\n".join(preview[0])
    assert (session.root / "app.py").read_text() == SOURCE
    assert vim.state("app.py")["text"] == SOURCE
