"""Codex in a real Emacs with Eglot (Debian 12: Emacs 28.2, Eglot 1.9), end to end, in batch mode.

Emacs is configured with the README's own Emacs snippets (section "Emacs"), so what the README tells
people to write is what runs here. codex-lsp is pointed at the fake Responses server through a throwaway
CODEX_HOME; ruff, the real linter, reports the problem to fix through Flymake (Emacs' own
``python-flymake`` backend). Each test drives one Emacs the way a person would — M-x eglot, a region,
M-x eglot-code-actions and a pick from its menu, M-x codex-lsp-ask — and checks the buffer afterwards,
what the model was sent, and that Emacs left no codex-lsp process behind.

Eglot 1.9's quirks met here: it declares no position encoding (so both sides count UTF-16, which a line
with an emoji before the edit checks), no code-action resolve or ``data`` (the server's actions carry
their command whole), no work-done progress, and it asks ``y-or-n-p`` before applying a server's edit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex_lsp.testing import Script, write_chatgpt_home
from tests.editors.accounts import HostedIssuer
from tests.editors.background import HostedFake
from tests.editors.deps import REPO_ROOT, EditorDepsMissing, editor_deps_unavailable, ruff_binary
from tests.editors.emacs_driver import (
    EmacsFailed,
    EmacsRun,
    eglot_version,
    elisp_string,
    kill_leftovers,
    processes_with_env,
    run_emacs,
)
from tests.editors.model_turns import patch, say, script
from tests.lsp.harness import KEY, write_codex_home
from tests.readme import fenced_blocks, section

HELPER_PATH = "/path/to/codex-lsp"
"""Where the README's helper snippet says this repository is."""
FIX_TITLE = "Fix with Codex: F401 [*] `os` imported but unused"
SELECTION_ACTIONS = ["Codex: explain this code", "Codex: add docstrings", "Codex: write tests for this code"]
RECORD_TURNS = """
(defvar codex-test-turns nil "The turn results the helper reported, newest first.")
(add-hook 'codex-lsp-turn-finished-functions (lambda (result) (push result codex-test-turns)))
"""
RECORD_LOGINS = """
(defvar codex-test-logins nil "The sign-in results the helper reported, newest first.")
(add-hook 'codex-lsp-login-finished-functions (lambda (result) (push result codex-test-logins)))
(defun codex-test-said ()
  "The last line of *Messages*: what the command just said (repeats not counted)."
  (with-current-buffer "*Messages*"
    (replace-regexp-in-string
     " [[][0-9]+ times[]]$" ""
     (string-trim (buffer-substring-no-properties (save-excursion (goto-char (point-max))
                                                                  (forward-line -1) (point))
                                                  (point-max))))))
"""


@pytest.fixture(scope="module")
def eglot(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Eglot version Emacs loads (the tests skip, or fail under make test, without Emacs and Eglot)."""
    try:
        return eglot_version(tmp_path_factory.mktemp("emacs-probe"))
    except EditorDepsMissing as error:
        editor_deps_unavailable(error)


def readme_config(*, helper: bool) -> str:
    """The README's Emacs configuration: the Eglot entry, and the helper's set-up if ``helper``."""
    entry, setup = fenced_blocks(section("Emacs"), "elisp")
    if not helper:
        return entry
    assert HELPER_PATH in setup
    return entry + setup.replace(HELPER_PATH, str(REPO_ROOT))


def flymake_ruff() -> str:
    """Emacs Lisp that has Flymake run the real ruff on Python buffers, next to Eglot's backend."""
    command = [str(ruff_binary()), "check", "--output-format=concise", "--no-cache", "--stdin-filename"]
    return (
        f'(setq python-flymake-command (list {" ".join(elisp_string(c) for c in command)} "stdin" "-"))\n'
        "(add-hook 'eglot-managed-mode-hook\n"
        "          (lambda () (add-hook 'flymake-diagnostic-functions #'python-flymake nil t)))\n"
    )


@dataclass
class Session:
    """One Emacs run's surroundings: the project folder, the Codex home and the fake model."""

    root: Path
    home: Path
    codex_home: Path
    fake: HostedFake

    def run(self, scenario: str, *, setup: str, env: dict[str, str] | None = None) -> EmacsRun:
        """Run ``scenario`` (the body of the scenario's function) after ``setup``, in the project."""
        env = {
            "CODEX_HOME": str(self.codex_home),
            "CODEX_LSP_STATE_DIR": str(self.home / "codex-state"),
            "CODEX_LSP_TEST_KEY": KEY,
            "OPENAI_API_KEY": "",
            "CODEX_API_KEY": "",
            **(env or {}),
        }
        try:
            run = run_emacs(
                self.home, f"{setup}\n(codex-test-run (lambda ()\n{scenario}))", cwd=self.root, env=env
            )
            # The project (workspace folder) is the test's git repository, not a folder above it.
            assert Path(run["project"]) == self.root, run["project"]
            return run
        finally:
            assert kill_leftovers(self.codex_home) == [], "codex-lsp outlived Emacs"

    def requests(self) -> list[str]:
        """What the model was sent, one JSON text per generating request."""
        return self.fake.read(lambda s: [json.dumps(r.effective_input) for r in s.generating_requests()])


@pytest.fixture
def session(eglot: str, fake_responses: HostedFake, tmp_path: Path) -> Session:
    root = tmp_path / "project"
    root.mkdir()
    # A repository of its own, as projects are: Eglot's project (hence codex-lsp's workspace folder) is
    # the nearest version-control root, which must not be some folder above the test's.
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    codex_home = tmp_path / "codex-home"
    write_codex_home(codex_home, fake_responses.server)
    return Session(root, tmp_path / "emacs-home", codex_home, fake_responses)


# --- the tests ---


def test_fix_with_codex_on_ruffs_diagnostic_through_eglot_code_actions(session: Session) -> None:
    source = "import os\n\nprint('hi')\n"
    (session.root / "app.py").write_text(source)
    session.fake.load(
        script([[patch("app.py", "-import os\n-\n print('hi')\n")], [say("Removed the unused import.")]])
    )
    run = session.run(
        """
(codex-test-open "app.py")
(flymake-start)
(codex-test-wait (lambda () (flymake-diagnostics)) "ruff's diagnostic in Flymake")
(codex-test-record 'flymake (mapcar #'flymake-diagnostic-text (flymake-diagnostics)))
(goto-char (point-min))
(search-forward "import o")  ; point on `os`, as a person would put it
(codex-test-choose (lambda (title) (string-prefix-p "Fix with Codex" title))
  (call-interactively #'eglot-code-actions))
(codex-test-wait (lambda () codex-test-turns) "the turn's answer")
(codex-test-record 'turn (car codex-test-turns))
(codex-test-record 'text (codex-test-text))
(codex-test-record 'modified (codex-test-bool (buffer-modified-p)))
(flymake-start)
(codex-test-wait (lambda () (null (flymake-diagnostics))) "ruff to find nothing left")
""",
        setup=readme_config(helper=True) + flymake_ruff() + RECORD_TURNS,
    )
    assert run["flymake"] == ["F401 [*] `os` imported but unused"]
    # Eglot 1.9 asks about the symbol at point (a non-empty range), so the actions for a selection follow.
    assert run["offered"] == [FIX_TITLE, *SELECTION_ACTIONS]
    assert run["turn"]["status"] == "completed"
    assert run["turn"]["message"] == "Removed the unused import."
    assert run["text"] == "print('hi')\n"
    assert run["modified"] is True
    assert (session.root / "app.py").read_text() == source  # edited in the buffer, not saved
    assert [c.split("\n")[0] for c in run["confirmations"]] == ["[eglot] Server wants to edit:"]
    assert str(session.root / "app.py") in run["confirmations"][0]
    (first, *_) = session.requests()
    assert "`os` imported but unused" in first  # Flymake's diagnostic reached the model
    # Eglot 1.9 declares neither work-done progress nor experimental.codex: nothing of either is sent.
    assert "workspace/applyEdit" in run["server-methods"]
    unasked = ("window/workDoneProgress/", "$/progress", "codex/")
    assert [m for m in run["server-methods"] if m.startswith(unasked)] == []
    assert "Timed out" not in run.output


def test_ask_edits_the_region_and_the_next_ask_continues_the_thread(session: Session) -> None:
    # The emoji before the edit on the same line takes two UTF-16 units and one code point: Eglot 1.9
    # and the server must agree on UTF-16 for ".title()" to land right after `name`.
    line = '    return "héllo 🌍, " + name  # 🌍 wave\n'
    (session.root / "greet.py").write_text("def greet(name):\n" + line)
    fixed = line.replace("+ name ", "+ name.title() ")
    session.fake.load(
        script(
            [[patch("greet.py", f" def greet(name):\n-{line}+{fixed}")], [say("greet now title-cases it.")]],
            [[say("I made `greet` call `name.title()`.")]],
        )
    )
    run = session.run(
        """
(codex-test-open "greet.py")
(codex-test-select (point-min) (point-max))
(codex-lsp-ask "Title-case the name in greet")
(codex-test-record 'answered-before-returning (codex-test-bool codex-test-turns))
(codex-test-wait (lambda () codex-test-turns) "the first answer")
(deactivate-mark)
(codex-lsp-ask "What did you change?")
(codex-test-wait (lambda () (cdr codex-test-turns)) "the second answer")
(codex-test-record 'turns (vconcat (reverse codex-test-turns)))
(codex-test-record 'text (codex-test-text))
(codex-test-record 'transcript (with-current-buffer "*codex*" (buffer-string)))
""",
        setup=readme_config(helper=True) + RECORD_TURNS,
    )
    assert run["answered-before-returning"] is False  # the ask returned at once; the turn ran after
    first, second = run["turns"]
    assert (first["status"], second["status"]) == ("completed", "completed")
    assert first["changedFiles"] == ["greet.py"], first
    assert second["threadId"] == first["threadId"]
    assert run["text"] == "def greet(name):\n" + fixed
    assert "> Title-case the name in greet\ngreet now title-cases it." in run["transcript"]
    assert "> What did you change?\nI made `greet` call `name.title()`." in run["transcript"]
    asked, *_, followed = session.requests()
    assert "Title-case the name in greet" in asked
    assert "Title-case the name in greet" in followed  # the second turn carries the first


def test_cancel_stops_a_running_turn_and_leaves_the_buffer(session: Session) -> None:
    (session.root / "slow.py").write_text("x = 1\n")
    slow = {"output": [say("Thinking it over. " * 40), patch("slow.py", "-x = 1\n+x = 2\n")]}
    session.fake.load(
        Script.model_validate({"turns": [{"requests": [{**slow, "delay_ms": 50, "chunk_size": 4}]}]})
    )
    run = session.run(
        """
(codex-test-open "slow.py")
(codex-lsp-ask "Rewrite this file")
(codex-test-wait (lambda () (plist-get (jsonrpc-request (eglot-current-server) :workspace/executeCommand
                                                        '(:command "codex.status" :arguments []))
                                       :runningTurns))
                 "the turn to start")
;; A turn lasts as long as the agent needs: its request has no timeout timer.
(codex-test-record 'timers (seq-count (lambda (continuation) (nth 2 continuation))
                                      (hash-table-values (jsonrpc--request-continuations
                                                          (eglot-current-server)))))
(codex-lsp-cancel)
(codex-test-wait (lambda () codex-test-turns) "the interrupted turn's answer")
(codex-test-record 'turn (car codex-test-turns))
(codex-test-record 'text (codex-test-text))
(codex-test-record 'modified (codex-test-bool (buffer-modified-p)))
""",
        setup=readme_config(helper=True) + RECORD_TURNS,
    )
    assert run["timers"] == 0
    assert run["turn"]["status"] == "interrupted"
    assert (run["text"], run["modified"]) == ("x = 1\n", False)
    assert run["confirmations"] == []


def test_settings_reach_the_server_and_a_shell_command_is_approved_in_the_minibuffer(
    session: Session,
) -> None:
    # Both ways the README gives for settings: the model through initializationOptions, the shell tool
    # through eglot-workspace-configuration. Eglot 1.9 answers window/showMessageRequest but does not
    # declare it; the helper declares it, so codex-lsp asks for approval instead of denying.
    (session.root / "run.py").write_text("print('run')\n")
    shell = {"type": "function_call", "name": "shell", "arguments": {"command": ["echo", "approved run"]}}
    session.fake.load(script([[shell], [say("It printed the line.")]]))
    run = session.run(
        """
(codex-test-open "run.py")
(codex-test-wait (lambda () (eq t (plist-get (jsonrpc-request (eglot-current-server)
                                                              :workspace/executeCommand
                                                              '(:command "codex.status" :arguments []))
                                             :shellEnabled)))
                 "the workspace configuration to enable the shell tool")
(codex-test-choose (lambda (answer) (equal answer "Approve"))
  (codex-lsp-ask "Run echo")
  (codex-test-wait (lambda () codex-test-turns) "the turn's answer"))
(codex-test-record 'turn (car codex-test-turns))
""",
        setup=readme_config(helper=True)
        + "(setf (alist-get 'python-mode eglot-server-programs)\n"
        + '      \'("codex-lsp" "--stdio" :initializationOptions (:model "gpt-emacs")))\n'
        + "(setq-default eglot-workspace-configuration '(:codex (:shell (:enabled t))))\n"
        + RECORD_TURNS,
    )
    assert "Codex wants to run: echo approved run" in run["asked"]
    assert run["offered"] == ["Approve", "Approve for this turn", "Deny"]
    assert run["turn"]["status"] == "completed"
    bodies = session.fake.read(lambda s: [r.body for r in s.generating_requests()])
    assert {body["model"] for body in bodies} == {"gpt-emacs"}
    *_, last = session.requests()
    assert "approved run\\n" in last  # the command ran: its output went back to the model


def test_review_mode_rejects_one_hunk_and_accepts_the_other_after_an_edit(session: Session) -> None:
    filler = "".join(f"\n\ndef step{n}():\n    pass\n" for n in range(3))
    logout = "\n\ndef logout(user):\n    return clear(user)\n"
    source = f"def login(user):\n    return check(user)\n{filler}{logout}"
    (session.root / "auth.py").write_text(source)
    body = (
        "*** Begin Patch\n*** Update File: auth.py\n"
        "@@ def login(user):\n-    return check(user)\n+    return check(user)  # logged\n"
        "@@ def logout(user):\n-    return clear(user)\n+    return clear(user)  # logged\n"
        "*** End Patch\n"
    )
    held = {"type": "custom_tool_call", "name": "apply_patch", "input": body}
    session.fake.load(script([[held], [say("Both calls are logged now.")]]))
    run = session.run(
        """
(codex-test-open "auth.py")
(codex-lsp-ask "Log logins and logouts")
(codex-test-wait (lambda () codex-test-turns) "the turn's answer")
(codex-test-record 'turn (car codex-test-turns))
(codex-test-record 'held (codex-test-text))
(codex-lsp-review)
(codex-test-record 'review (with-current-buffer "*codex review*" (codex-test-text)))
(with-current-buffer "*codex review*"
  (search-forward "check(user)  # logged")
  (codex-lsp-reject-hunk))
(goto-char (point-min))
(insert "# audited\n")  ; the user types meanwhile: the hunk is found by content
(search-forward "return clear")
(codex-lsp-accept-hunk)
(codex-test-record 'text (codex-test-text))
(codex-test-record 'review-after (with-current-buffer "*codex review*" (codex-test-text)))
(codex-test-record 'transcript (with-current-buffer "*codex*" (codex-test-text)))
""",
        setup=readme_config(helper=True)
        + "(setf (alist-get 'python-mode eglot-server-programs)\n"
        + '      \'("codex-lsp" "--stdio" :initializationOptions (:editMode "review")))\n'
        + RECORD_TURNS,
    )
    proposal = run["turn"]["proposalId"]
    assert run["held"] == source  # review mode: nothing written until decided
    assert f"held for review as {proposal}" in run["transcript"]
    review = run["review"]
    assert review.startswith(f"Proposal {proposal}\n")
    assert review.count("[pending]") == 2
    assert "+    return check(user)  # logged" in review
    assert "+    return clear(user)  # logged" in review
    expected = "# audited\n" + source.replace("return clear(user)", "return clear(user)  # logged")
    assert run["text"] == expected
    assert run["review-after"] == "No pending proposal.\n"
    assert run["transcript"].endswith("h1 rejected\nh2 accepted\n")


def test_sign_in_by_device_code_then_account_logout_and_an_api_key(
    session: Session, fake_issuer: HostedIssuer
) -> None:
    # The provider takes the OpenAI sign-in; the fake issuer approves the code at its first poll, as if the
    # user had typed it at once (a batch Emacs cannot wait for the test mid-scenario).
    write_chatgpt_home(session.codex_home, session.fake.chatgpt_base_url)
    fake_issuer.approve_at_once()
    (session.root / "app.py").write_text("print('hi')\n")
    session.fake.load(script([[say("Signed in.")]]))
    key = "sk-proj-emacs-editor-key-0123456789"
    run = session.run(
        f"""
(codex-test-open "app.py")
(codex-lsp-account)
(codex-test-record 'before (codex-test-said))
(codex-test-choose (lambda (method) (equal method "device"))
  (call-interactively #'codex-lsp-login))
;; A sign-in lasts as long as the user takes: its request has no timeout timer.
(codex-test-record 'timers (seq-count (lambda (continuation) (nth 2 continuation))
                                      (hash-table-values (jsonrpc--request-continuations
                                                          (eglot-current-server)))))
(codex-test-wait (lambda () codex-test-logins) "the sign-in to end")
(codex-test-record 'login (car codex-test-logins))
(codex-test-record 'login-said (codex-test-said))
(codex-lsp-ask "Are you there?")
(codex-test-wait (lambda () codex-test-turns) "the turn's answer")
(codex-test-record 'turn (car codex-test-turns))
(codex-test-record 'account (codex-lsp-account))
(codex-test-record 'account-said (codex-test-said))
(codex-lsp-status)
(codex-test-record 'status-said (codex-test-said))
(codex-lsp-logout)
(codex-test-record 'logout-said (codex-test-said))
(codex-lsp-account)
(codex-test-record 'after (codex-test-said))
(cl-letf (((symbol-function 'read-passwd)
           (lambda (prompt &rest _) (codex-test-record 'key-prompt prompt) (copy-sequence "{key}"))))
  (codex-test-choose (lambda (method) (equal method "apikey"))
    (call-interactively #'codex-lsp-login)))
(codex-test-wait (lambda () (cdr codex-test-logins)) "the API key sign-in to end")
(codex-lsp-account)
(codex-test-record 'with-key (codex-test-said))
(codex-test-record 'events (with-current-buffer (jsonrpc-events-buffer (eglot-current-server))
                             (buffer-string)))
""",
        setup=readme_config(helper=True) + RECORD_TURNS + RECORD_LOGINS,
        env=fake_issuer.env(),
    )
    auth = session.codex_home / "auth.json"
    assert run["before"].startswith(f"Codex: Not signed in: no credentials in {auth}.")
    assert run["before"].endswith("Sign in: M-x codex-lsp-login.")
    assert run["asked"].startswith("Sign in to OpenAI with")
    assert run["offered"] == ["device", "browser", "apikey"]
    (code,) = fake_issuer.read(lambda issuer: [d.user_code for d in issuer.devices.values()])
    assert f"open {fake_issuer.url}/codex/device and enter the code {code}" in run["messages"]
    assert run["timers"] == 0
    assert run["login"]["status"] == "signedIn"
    who = "dev@example.com (plan plus, workspace acct-fake-workspace)"
    assert run["login-said"].startswith(f"Codex: signed in with ChatGPT as {who}; access token valid until ")
    assert run["turn"]["status"] == "completed"
    tokens = fake_issuer.read(lambda issuer: dict(issuer.issued[-1]))
    sent = session.fake.read(lambda s: s.generating_requests()[-1].headers)
    assert sent["authorization"] == f"Bearer {tokens['access_token']}"
    assert (run["account"]["mode"], run["account"]["email"]) == ("chatgpt", "dev@example.com")
    assert run["account-said"] == run["login-said"]
    assert run["status-said"] == (
        "Codex: gpt-5.5 via chatgpt-fake, signed in with ChatGPT as dev@example.com, connection used; "
        "0 turn(s) running"
    )
    assert run["logout-said"] == "Codex: signed out"
    (revoke,) = fake_issuer.read(lambda issuer: issuer.on("/oauth/revoke"))
    assert revoke.json()["token"] == tokens["refresh_token"]
    assert run["after"].startswith("Codex: Not signed in: no credentials in ")
    assert run["key-prompt"] == "OpenAI API key: "
    assert run["with-key"] == f"Codex: signed in with an API key ({auth})"
    assert json.loads(auth.read_text()) == {"auth_mode": "apikey", "OPENAI_API_KEY": key}
    assert "codex.login" in run["events"]  # the device sign-in's request is logged as usual
    assert key not in run["events"] + run["messages"] + run.output
    assert not [name for name, token in tokens.items() if token in run["events"] + run["messages"]]


def test_account_says_a_provider_with_its_own_key_does_not_use_the_sign_in(session: Session) -> None:
    (session.root / "app.py").write_text("print('hi')\n")
    run = session.run(
        """
(codex-test-open "app.py")
(codex-test-record 'account (codex-lsp-account))
(codex-test-record 'account-said (codex-test-said))
(codex-lsp-status)
(codex-test-record 'status-said (codex-test-said))
(codex-lsp-logout)
(codex-test-record 'logout-said (codex-test-said))
""",
        setup=readme_config(helper=True) + RECORD_LOGINS,
    )
    assert run["account"]["usesAccount"] is False
    assert run["account-said"] == (
        "Codex: provider fake uses its own key (env CODEX_LSP_TEST_KEY), not the OpenAI sign-in"
    )
    assert run["status-said"].startswith("Codex: gpt-5.5 via fake, key found, connection ")
    assert run["logout-said"] == "Codex: was not signed in"
    assert KEY not in run["messages"]


def test_plain_eglot_runs_a_codex_action_on_a_region_without_the_helper(session: Session) -> None:
    (session.root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    documented = '    """Return the sum of a and b."""\n'
    session.fake.load(
        script(
            [
                [patch("calc.py", f" def add(a, b):\n+{documented}     return a + b\n")],
                [say("Added a docstring.")],
            ]
        )
    )
    run = session.run(
        """
(codex-test-open "calc.py")
(codex-test-select (point-min) (point-max))
(codex-test-choose (lambda (title) (equal title "Codex: add docstrings"))
  (call-interactively #'eglot-code-actions))
(codex-test-record 'helper (codex-test-bool (featurep 'codex-lsp)))
(codex-test-record 'text (codex-test-text))
""",
        setup=readme_config(helper=False),
    )
    assert run["helper"] is False
    assert run["offered"] == SELECTION_ACTIONS
    # Eglot waited for the command, hence for the turn: the edit is in when the command returns.
    assert run["text"] == "def add(a, b):\n" + documented + "    return a + b\n"


# A server that answers the first request and sends a notification in the same write, then waits.
TWO_AT_ONCE = """
import json, sys
head = b""
while not head.endswith(b"\\r\\n\\r\\n"):
    head += sys.stdin.buffer.read(1)
length = int(head.split(b"Content-Length:")[1].split(b"\\r\\n")[0])
request = json.loads(sys.stdin.buffer.read(length))
def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body
reply = {"jsonrpc": "2.0", "id": request["id"], "result": "pong"}
after = {"jsonrpc": "2.0", "method": "after", "params": {}}
sys.stdout.buffer.write(frame(reply) + frame(after))
sys.stdout.buffer.flush()
sys.stdin.buffer.read()
"""


def test_a_message_read_with_a_replys_bytes_is_handled_at_once(eglot: str, tmp_path: Path) -> None:
    # jsonrpc 1.0.14 leaves its process filter when a synchronous request's reply arrives, so what came
    # in the same read waits for the server's next message; the helper has it handled right away. (For
    # codex-lsp that can be a turn's answer after codex-lsp-cancel, or an edit the server waits for.)
    command = f'(list {elisp_string(sys.executable)} "-c" {elisp_string(TWO_AT_ONCE)})'
    run = run_emacs(
        tmp_path / "home",
        readme_config(helper=True)
        + f"""
(require 'codex-lsp)
(codex-test-run
 (lambda ()
   (let* ((seen nil)
          (process (make-process :name "two-at-once" :command {command} :connection-type 'pipe
                                 :coding 'utf-8-emacs-unix :noquery t))
          (connection (jsonrpc-process-connection
                       :name "two-at-once" :process process
                       :notification-dispatcher (lambda (_c method _p) (push method seen))
                       :request-dispatcher #'ignore)))
     (codex-test-record 'reply (jsonrpc-request connection :ping nil))
     (codex-test-wait (lambda () seen) "the notification that came with the reply" 5)
     (codex-test-record 'seen (vconcat (mapcar #'symbol-name seen)))
     (jsonrpc-shutdown connection))))
""",
        cwd=tmp_path,
    )
    assert (run["reply"], run["seen"]) == ("pong", ["after"])


# --- the driver ---


def test_a_wait_that_never_holds_fails_with_what_emacs_said(eglot: str, tmp_path: Path) -> None:
    with pytest.raises(EmacsFailed, match=r"Timed out after 0\.2s waiting for never true") as raised:
        run_emacs(
            tmp_path / "home",
            '(codex-test-run (lambda () (message "visible in the report")'
            ' (codex-test-wait #\'ignore "never true" 0.2)))',
            cwd=tmp_path,
        )
    assert "visible in the report" in str(raised.value)


def test_an_emacs_that_hangs_is_ended(eglot: str, tmp_path: Path) -> None:
    marker = str(tmp_path / "marker")
    with pytest.raises(EmacsFailed, match=r"did not finish within 1\.0 s"):
        run_emacs(
            tmp_path / "home",
            "(codex-test-run (lambda () (sleep-for 60)))",
            cwd=tmp_path,
            env={"CODEX_TEST_MARKER": marker},
            timeout=1.0,
        )
    assert processes_with_env("CODEX_TEST_MARKER", marker) == []
