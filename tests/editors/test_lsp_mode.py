"""Codex in a real Emacs with lsp-mode (Debian 12: Emacs 28.2, lsp-mode 8.0.0) beside ``ruff server``.

Emacs is configured with the README's own block (section "Emacs + lsp-mode"), so what the README tells
people to write is what runs here; the scenarios add only what a test needs (a shorter
``lsp-response-timeout`` around the asks that must outlast it, a record of the messages lsp-mode
exchanges with its servers). codex-lsp is pointed at the fake Responses server through a throwaway
CODEX_HOME; ruff, the real linter, publishes the diagnostic to fix. Each test drives one batch Emacs the
way a person would (``emacs_harness.el``): open the file (answering lsp-mode's project-root question),
M-x lsp-execute-code-action and a pick from its menu, M-x codex-ask, M-x codex-interrupt, C-g.

lsp-mode 8.0 as met here: ``clientInfo`` {name "emacs"}; it declares ``workspace.applyEdit`` and
work-done progress but ``window.showDocument`` null (so long answers come as messages); it sends code
actions without ``triggerKind``, with every server's diagnostics on the current line and the cursor as
the range; it sends a server command to every server of the buffer (ruff too); a synchronous request
gives up after ``lsp-response-timeout`` and then, like C-g, sends ``$/cancelRequest``; it cannot cancel a
progress. Two of its bugs need the README's advice: an edit a server asks for is announced
(``didChange``) to that server only, and the messages read together with an awaited answer are dropped
(emacs-lsp/lsp-mode#4323).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.editors.background import HostedFake
from tests.editors.deps import EditorDepsMissing, editor_deps_unavailable
from tests.editors.emacs_driver import EmacsRun, elisp_string, kill_leftovers, lsp_mode_version, run_emacs
from tests.editors.model_turns import patch, say, steps
from tests.lsp.harness import KEY, write_codex_home
from tests.readme import fenced_blocks, section

SECTION = "Emacs + lsp-mode"
ASYNC_SETTING = ':asyncCommands "auto"'
"""The README's setting; the synchronous scenarios swap it for ``:asyncCommands :json-false``."""
TIMEOUT = 2
"""``lsp-response-timeout`` (10 s by default) around the asks whose turns outlast it: they do so sooner.
Every other request keeps the 10 s, so a busy machine does not fail them."""
FIX_TITLE = "Fix with Codex: `os` imported but unused"
LINE_FALLBACK = "Codex: fix the problems on this line"
SELECTION_ACTIONS = ["Codex: explain this code", "Codex: add docstrings", "Codex: write tests for this code"]

# Test-only Emacs Lisp, after the README's block: what lsp-mode sends codex-lsp and what codex-lsp sends
# it (JSON texts, for the test to read), and helpers that wait for what a person would see.
RECORDER = (
    f"(defvar codex-test-timeout {TIMEOUT})\n"
    + """
(defvar codex-test-sent nil "What lsp-mode sent its servers, newest first (JSON texts).")
(defvar codex-test-received nil "What the servers sent lsp-mode (requests, notifications), newest first.")
(defvar codex-test-progress nil "The values of codex-lsp's $/progress, newest first.")

(defun codex-test--json (workspace json)
  "JSON, a message text, with the server of WORKSPACE: {server, message}."
  (format "{\\"server\\": \\"%s\\", \\"message\\": %s}" (lsp--workspace-server-id workspace) json))

(defun codex-test--sent (message proc)
  (when-let ((workspace (seq-find (lambda (w) (eq (lsp--workspace-proc w) proc))
                                  (lsp--session-workspaces (lsp-session)))))
    (push (codex-test--json workspace (substring message (+ 4 (string-match "\\r\\n\\r\\n" message))))
          codex-test-sent)))
(advice-add 'lsp--send-no-wait :before #'codex-test--sent)

(defun codex-test--received (workspace message)
  (push (codex-test--json workspace (lsp--json-serialize message)) codex-test-received)
  (when (and (eq (lsp--workspace-server-id workspace) 'codex-lsp)
             (equal (lsp-get message :method) "$/progress"))
    (push (lsp-get (lsp-get message :params) :value) codex-test-progress)))
(advice-add 'lsp--on-notification :before #'codex-test--received)
(advice-add 'lsp--on-request :before #'codex-test--received)

(defun codex-test-open (file)
  "Visit FILE as a person would (lsp starts from python-mode-hook); wait for both servers.
lsp-mode's question about the project root is answered `i' (its suggestion), recorded under `root-asked'."
  (cl-letf (((symbol-function 'read-key)
             (lambda (prompt)
               (codex-test-record 'root-asked (car (split-string (substring-no-properties prompt) "\\n")))
               ?i)))
    (find-file file))
  (codex-test-wait (lambda () (and (= 2 (length (lsp-workspaces)))
                                   (seq-every-p (lambda (w) (eq (lsp--workspace-status w) 'initialized))
                                                (lsp-workspaces))))
                   "ruff and codex-lsp to start")
  (codex-test-record 'servers (vconcat (mapcar (lambda (w) (symbol-name (lsp--workspace-server-id w)))
                                               (lsp-workspaces))))
  (codex-test-record 'project (lsp-workspace-root)))

(defun codex-test-diagnostics ()
  "The messages of the diagnostics lsp-mode has for the buffer (from every server)."
  (mapcar (lambda (d) (lsp-get d :message)) (lsp--get-buffer-diagnostics)))

(defun codex-test-said-p (text)
  "Whether *Messages* has TEXT (what the echo area showed)."
  (with-current-buffer "*Messages*"
    (save-excursion (goto-char (point-min)) (search-forward text nil t))))

(defun codex-test-progress-p (kind &optional text)
  "Whether codex-lsp sent a progress of KIND (\\"begin\\", \\"report\\", \\"end\\") whose message has TEXT."
  (seq-some (lambda (value) (and (equal (lsp-get value :kind) kind)
                                 (or (null text) (string-search text (or (lsp-get value :message) "")))))
            codex-test-progress))

(defun codex-test-running ()
  "codex-lsp's running turns, as codex.status says."
  (length (lsp-get (codex-lsp-command "codex.status" [nil]) :runningTurns)))

(defun codex-test-finish ()
  "Record what lsp-mode and codex-lsp exchanged."
  (codex-test-record 'sent (vconcat (reverse codex-test-sent)))
  (codex-test-record 'received (vconcat (reverse codex-test-received))))
"""
)


def readme_config(*, asynchronous: bool = True) -> str:
    """The README's lsp-mode block; with ``asynchronous`` False, commands wait for their turn."""
    (block,) = fenced_blocks(section(SECTION), "elisp")
    assert block.count(ASYNC_SETTING) == 1
    return block if asynchronous else block.replace(ASYNC_SETTING, ":asyncCommands :json-false")


@pytest.fixture(scope="module")
def lsp_mode(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The lsp-mode version Emacs loads (the tests skip, or fail under make test, without it)."""
    try:
        return lsp_mode_version(tmp_path_factory.mktemp("lsp-mode-probe"))
    except EditorDepsMissing as error:
        editor_deps_unavailable(error)


@dataclass
class Exchange:
    """The JSON messages between lsp-mode and its servers in one run (codex-lsp's unless said)."""

    sent: list[tuple[str, dict[str, Any]]]
    received: list[tuple[str, dict[str, Any]]]

    @classmethod
    def of(cls, run: EmacsRun) -> Exchange:
        def pairs(texts: list[str]) -> list[tuple[str, dict[str, Any]]]:
            return [(m["server"], m["message"]) for m in map(json.loads, texts)]

        return cls(pairs(run["sent"]), pairs(run["received"]))

    def requests(self, method: str, server: str = "codex-lsp") -> list[dict[str, Any]]:
        return [m for s, m in self.sent if s == server and m.get("method") == method]

    def commands(self, server: str = "codex-lsp") -> list[tuple[str, Any]]:
        """The ``workspace/executeCommand`` requests sent: (command, arguments as sent, or None)."""
        return [
            (m["params"]["command"], m["params"].get("arguments"))
            for m in self.requests("workspace/executeCommand", server)
        ]

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """What lsp-mode answered to ``request`` from codex-lsp."""
        (answer,) = [
            m for s, m in self.sent if s == "codex-lsp" and m.get("id") == request["id"] and "method" not in m
        ]
        return answer

    def got(self, method: str, server: str = "codex-lsp") -> list[dict[str, Any]]:
        return [m for s, m in self.received if s == server and m.get("method") == method]

    def shown(self, server: str = "codex-lsp") -> list[tuple[int, str]]:
        """The ``window/showMessage`` a server sent: (type, text)."""
        return [(m["params"]["type"], m["params"]["message"]) for m in self.got("window/showMessage", server)]


@dataclass
class Session:
    """One Emacs run's surroundings: the project folder, the Codex home and the fake model."""

    root: Path
    home: Path
    codex_home: Path
    fake: HostedFake

    def run(self, scenario: str, *, asynchronous: bool = True) -> tuple[EmacsRun, Exchange]:
        """Run ``scenario`` (the body of the scenario's function) after the README's block, in the project."""
        env = {
            "CODEX_HOME": str(self.codex_home),
            "CODEX_LSP_STATE_DIR": str(self.home / "codex-state"),
            "CODEX_LSP_TEST_KEY": KEY,
            "OPENAI_API_KEY": "",
            "CODEX_API_KEY": "",
        }
        setup = readme_config(asynchronous=asynchronous) + RECORDER
        body = f"{setup}\n(codex-test-run (lambda ()\n(unwind-protect (progn\n{scenario})\n(codex-test-finish))))"
        try:
            run = run_emacs(self.home, body, cwd=self.root, env=env)
            assert Path(run["project"]) == self.root, run["project"]
            assert run["servers"] == ["ruff", "codex-lsp"]
            return run, Exchange.of(run)
        finally:
            assert kill_leftovers(self.codex_home) == [], "codex-lsp outlived Emacs"

    def requests(self) -> list[str]:
        """What the model was sent, one JSON text per generating request."""
        return self.fake.read(lambda s: [json.dumps(r.effective_input) for r in s.generating_requests()])


@pytest.fixture
def session(lsp_mode: str, fake_responses: HostedFake, tmp_path: Path) -> Session:
    root = tmp_path / "project"
    root.mkdir()
    # A repository of its own: lsp-mode suggests the nearest version-control root as the project.
    subprocess.run(["git", "init", "-q", str(root)], check=True, timeout=30)
    codex_home = tmp_path / "codex-home"
    write_codex_home(codex_home, fake_responses.server)
    return Session(root, tmp_path / "emacs-home", codex_home, fake_responses)


def slowly(*output: dict[str, Any], seconds: float) -> dict[str, Any]:
    """A step streamed one character per event, at least ``seconds`` long in all (each item also has a few
    events of its own, and the response some more)."""
    chars = sum(len(o.get("text", o.get("input", ""))) for o in output)
    return {"output": list(output), "chunk_size": 1, "delay_ms": int(seconds * 1000 / (chars + 4))}


# --- the tests ---


def test_fix_with_codex_on_ruffs_diagnostic_lands_in_the_buffer(session: Session) -> None:
    source = "import os\n\nprint('hi')\n"
    (session.root / "app.py").write_text(source)
    session.fake.load(
        steps(
            [{"output": [patch("app.py", "-import os\n-\n print('hi')\n")]}, {"output": [say("Removed it.")]}]
        )
    )
    run, exchange = session.run(
        """
(codex-test-open "app.py")
(codex-test-wait (lambda () (codex-test-diagnostics)) "ruff's diagnostic")
(codex-test-record 'diagnostics (vconcat (codex-test-diagnostics)))
;; A line without a problem: lsp-mode sends no triggerKind, and codex-lsp still offers its fallback.
(goto-char (point-max))
(forward-line -1)
(codex-test-record 'clean-line (vconcat (mapcar #'lsp:code-action-title (lsp-code-actions-at-point))))
(goto-char (point-min))
(search-forward "import o")  ; the cursor on `os`, as a person would put it
(codex-test-choose (lambda (title) (string-prefix-p "Fix with Codex" title))
  (call-interactively #'lsp-execute-code-action))
(codex-test-wait (lambda () (equal (codex-test-text) "print('hi')\\n")) "Codex's edit in the buffer")
(codex-test-wait (lambda () (codex-test-said-p "Codex: Removed it.")) "the turn's answer in the echo area")
(codex-test-record 'modified (codex-test-bool (buffer-modified-p)))
(codex-test-wait (lambda () (null (codex-test-diagnostics))) "ruff to find nothing left")
(codex-test-select (point-min) (point-max))
(codex-test-record 'region (vconcat (mapcar #'lsp:code-action-title (lsp-code-actions-at-point))))
""",
    )
    assert run["diagnostics"] == ["`os` imported but unused\n\nhelp: Remove unused import: `os`"]
    assert LINE_FALLBACK in run["clean-line"]  # item 2: no triggerKind counts as invoked
    # Both servers' actions, merged into one menu.
    assert [t for t in run["offered"] if t.startswith("Fix with Codex")] == [FIX_TITLE], run["offered"]
    assert any(t.startswith("Ruff (F401)") for t in run["offered"]), run["offered"]
    assert run["modified"] is True
    # The region is the one line left: the line's fallback, and the actions for a selection.
    assert [t for t in run["region"] if t.startswith("Codex")] == [LINE_FALLBACK, *SELECTION_ACTIONS]
    assert (session.root / "app.py").read_text() == source  # edited in the buffer, not saved
    for request in exchange.requests("textDocument/codeAction"):
        assert "triggerKind" not in request["params"]["context"]
    # Asked on the clean line, on `os`, on the region: only on `os` was there a diagnostic, ruff's.
    contexts = [r["params"]["context"] for r in exchange.requests("textDocument/codeAction")]
    assert [[(d["source"], d["code"]) for d in c["diagnostics"]] for c in contexts] == [
        [],
        [("Ruff", "F401")],
        [],
    ]
    (edit,) = exchange.got("workspace/applyEdit")
    assert exchange.answer(edit)["result"] == {"applied": True}
    (first, *_) = session.requests()
    assert "`os` imported but unused" in first
    assert any(text.startswith("Codex: Removed it.") for _, text in exchange.shown())
    # The action's command went to codex-lsp alone (lsp-mode would send it to ruff too).
    assert exchange.commands("ruff") == []
    assert exchange.shown("ruff") == []


def test_an_ask_outlasting_the_request_timeout_answers_at_once_and_shows_its_answer(session: Session) -> None:
    (session.root / "app.py").write_text("print('hi')\n")
    long_answer = "\n".join(f"Line {n} of a long answer." for n in range(1, 8))
    session.fake.load(
        steps(
            [slowly(say("The answer is 42."), seconds=TIMEOUT + 1.5)],
            [{"output": [say(long_answer)]}],
        )
    )
    run, exchange = session.run(
        """
(codex-test-open "app.py")
(let ((asked (float-time)))
  (let ((lsp-response-timeout codex-test-timeout))
    (codex-ask "What is the answer?"))
  (codex-test-record 'returned-after (- (float-time) asked))
  (codex-test-record 'turn codex-last-turn)
  (codex-test-wait (lambda () (codex-test-said-p "Codex: The answer is 42.")) "the answer in the echo area")
  (codex-test-record 'answered-after (- (float-time) asked)))
(codex-test-wait (lambda () (codex-test-progress-p "end")) "the turn's progress to end")
(codex-ask "And at length?")
(codex-test-wait (lambda () (codex-test-said-p "Line 7 of a long answer.")) "the long answer")
""",
    )
    init = exchange.requests("initialize")[0]["params"]
    assert init["clientInfo"]["name"] == "emacs"
    assert init["capabilities"]["window"] == {
        "workDoneProgress": True,
        "showMessage": None,
        "showDocument": None,
    }
    assert init["initializationOptions"] == {"codex": {"asyncCommands": "auto"}}
    # The command answered before lsp-mode's timeout; the turn went on past it and its answer showed.
    assert run["returned-after"] < TIMEOUT
    assert run["answered-after"] > TIMEOUT
    assert isinstance(run["turn"], str)
    assert run["turn"]
    assert "Timeout while waiting" not in run["messages"]
    assert "LSP :: Codex: The answer is 42." in run["messages"]
    asks = [args for command, args in exchange.commands() if command == "codex.ask"]
    assert asks == [["What is the answer?"], ["And at length?"]]  # item 5: a string prompt
    assert exchange.requests("$/cancelRequest") == []
    assert "window/workDoneProgress/create" in run["server-methods"]
    # lsp-mode 8.0 cannot show a document: the long answer comes whole as a message.
    assert exchange.got("window/showDocument") == []
    assert any(long_answer in text for _, text in exchange.shown())
    first, _ = session.requests()
    assert "What is the answer?" in first


def test_friendly_arguments_nil_and_strings(session: Session) -> None:
    (session.root / "app.py").write_text("print('hi')\n")
    session.fake.load(steps([{"output": [say("Hello there.")]}]))
    run, exchange = session.run(
        """
(codex-test-open "app.py")
(codex-test-record 'status (codex-lsp-command "codex.status" [nil]))
(codex-test-record 'interrupted (codex-lsp-command "codex.interrupt" [nil]))
(codex-lsp-command "codex.ask" ["Say" "hello"])
(codex-test-wait (lambda () (codex-test-said-p "Codex: Hello there.")) "the answer")
(codex-test-record 'by-id (codex-interrupt "no-such-turn"))
""",
    )
    assert run["status"]["runningTurns"] == []
    assert run["interrupted"] == {"interrupted": []}
    assert run["by-id"] == {"interrupted": []}
    assert exchange.commands() == [
        ("codex.status", [None]),
        ("codex.interrupt", [None]),
        ("codex.ask", ["Say", "hello"]),
        ("codex.interrupt", ["no-such-turn"]),
    ]
    (asked,) = session.requests()
    assert "Say hello" in asked
    assert "failed" not in run["messages"]


def test_codex_interrupt_stops_a_running_turn(session: Session) -> None:
    (session.root / "slow.py").write_text("x = 1\n")
    working = say("Working on it. " + "Still thinking. " * 40, phase="commentary")
    session.fake.load(
        steps(
            [
                {**slowly(working, seconds=20), "output": [working, patch("slow.py", "-x = 1\n+x = 2\n")]},
                {"output": [say("Changed x.")]},
            ]
        )
    )
    run, exchange = session.run(
        """
(codex-test-open "slow.py")
(codex-ask "Rewrite this file")
(codex-test-wait (lambda () (codex-test-progress-p "report" "Working on it.")) "the model to start answering")
(codex-test-record 'stopped (let ((current-prefix-arg '(4))) (call-interactively #'codex-interrupt)))
(codex-test-wait (lambda () (codex-test-progress-p "end")) "the turn's progress to end")
(codex-test-wait (lambda () (= 0 (codex-test-running))) "no turn running")
(codex-test-record 'ends (vconcat (mapcar (lambda (v) (lsp-get v :message))
                                          (seq-filter (lambda (v) (equal (lsp-get v :kind) "end"))
                                                      codex-test-progress))))
(codex-test-record 'text (codex-test-text))
(codex-test-record 'modified (codex-test-bool (buffer-modified-p)))
""",
    )
    turn = next(args for command, args in exchange.commands() if command == "codex.interrupt")
    assert turn == [run["stopped"]["interrupted"][0]]  # C-u: the last ask's turn id, a string argument
    assert run["ends"] == ["interrupted"]
    assert (run["text"], run["modified"]) == ("x = 1\n", False)
    assert exchange.got("workspace/applyEdit") == []
    assert len(session.requests()) == 1  # nothing further went to the model


def test_without_async_commands_the_timeout_and_c_g_cancel_the_turn(session: Session) -> None:
    # What lsp-mode does on its own when a command waits for the turn: at the timeout it gives up and
    # sends $/cancelRequest; C-g (a quit while it waits) does the same. Either way the turn is interrupted.
    (session.root / "app.py").write_text("x = 1\n")
    working = say("Working on it. " + "Still thinking. " * 40, phase="commentary")
    step = {**slowly(working, seconds=20), "output": [working, patch("app.py", "-x = 1\n+x = 2\n")]}
    session.fake.load(steps([step], [step]))  # each turn would go on with a request after the patch
    run, exchange = session.run(
        """
(codex-test-open "app.py")
;; The first command also starts codex-lsp's agent (about 1 s): not in the 2 s the ask may take.
(codex-test-record 'running-before (codex-test-running))
(condition-case failure
    (let ((lsp-response-timeout codex-test-timeout))
      (codex-ask "Rewrite this file")
      (codex-test-record 'timeout :json-false))
  (error (codex-test-record 'timeout (error-message-string failure))))
(codex-test-wait (lambda () (codex-test-progress-p "end")) "the first turn's progress to end")
(setq codex-test-progress nil)
;; C-g as Emacs takes it: the keyboard sets `quit-flag' while lsp-mode waits for the answer (here a
;; timer does, once the model is answering), and the wait signals `quit'.
(let ((keyboard (run-with-timer 0.05 0.05 (lambda ()
                                            (when (codex-test-progress-p "report" "Working on it.")
                                              (setq quit-flag t))))))
  (unwind-protect
      (condition-case nil
          (progn (codex-ask "Rewrite this file again") (codex-test-record 'quit :json-false))
        (quit (codex-test-record 'quit t)))
    (cancel-timer keyboard)))
(codex-test-wait (lambda () (codex-test-progress-p "end")) "the second turn's progress to end")
(codex-test-wait (lambda () (= 0 (codex-test-running))) "no turn running")
(codex-test-record 'text (codex-test-text))
""",
        asynchronous=False,
    )
    assert run["running-before"] == 0
    assert run["timeout"] == "Timeout while waiting for response.  Method: workspace/executeCommand"
    assert run["quit"] is True
    asks = [
        m["id"]
        for m in exchange.requests("workspace/executeCommand")
        if m["params"]["command"] == "codex.ask"
    ]
    cancelled = [m["params"]["id"] for m in exchange.requests("$/cancelRequest")]
    assert cancelled == asks  # the timeout, then C-g: each cancels its ask
    ends = [m["params"]["value"] for m in exchange.got("$/progress") if m["params"]["value"]["kind"] == "end"]
    assert [e["message"] for e in ends] == ["interrupted", "interrupted"]
    assert run["text"] == "x = 1\n"
    assert exchange.got("workspace/applyEdit") == []
    assert len(session.requests()) == 2  # one request per turn: nothing after either stop


def test_the_readme_section_is_what_runs() -> None:
    text = section(SECTION)
    assert "**Fix with Codex**" in text
    assert "**Ask**" in text
    block = readme_config()
    for needed in ('(lsp-stdio-connection \'("codex-lsp" "--stdio"))', ":add-on? t", "(defun codex-ask"):
        assert needed in block
    assert "tests/editors/test_lsp_mode.py" in text


# A language server that answers each workspace/executeCommand and, in the same write, sends a message
# naming the command; any other request gets null.
TWO_AT_ONCE = """
import json, sys
def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body
while True:
    head = b""
    while not head.endswith(b"\\r\\n\\r\\n"):
        byte = sys.stdin.buffer.read(1)
        if not byte:
            sys.exit(0)
        head += byte
    length = int(head.split(b"Content-Length:")[1].split(b"\\r\\n")[0])
    message = json.loads(sys.stdin.buffer.read(length))
    if message.get("method") == "exit":
        sys.exit(0)
    if "id" not in message:
        continue
    if message["method"] == "initialize":
        result = {"capabilities": {"executeCommandProvider": {"commands": ["first", "second", "third"]}}}
    else:
        result = None
    out = frame({"jsonrpc": "2.0", "id": message["id"], "result": result})
    if message["method"] == "workspace/executeCommand":
        said = {"type": 3, "message": "after " + message["params"]["command"]}
        out += frame({"jsonrpc": "2.0", "method": "window/showMessage", "params": said})
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
"""


def test_what_comes_with_an_awaited_answer_is_handled_with_the_readme_block(
    lsp_mode: str, tmp_path: Path
) -> None:
    # lsp-mode 8.0 leaves its process filter when the answer a synchronous request waits for arrives,
    # dropping whatever came in the same read (emacs-lsp/lsp-mode#4323): for codex-lsp, a turn's end
    # after codex.interrupt, or an edit. The README's advice keeps it; without it the message is lost.
    (tmp_path / "notes.txt").write_text("notes\n")
    command = f'(list {elisp_string(sys.executable)} "-c" {elisp_string(TWO_AT_ONCE)})'
    run = run_emacs(
        tmp_path / "home",
        readme_config()
        + f"""
(lsp-register-client
 (make-lsp-client :new-connection (lsp-stdio-connection (lambda () {command}))
                  :major-modes '(text-mode)
                  :server-id 'two-at-once))
(add-hook 'text-mode-hook #'lsp)
(defun codex-test-said-p (text)
  (with-current-buffer "*Messages*"
    (save-excursion (goto-char (point-min)) (search-forward text nil t))))
(codex-test-run
 (lambda ()
   (cl-letf (((symbol-function 'read-key) (lambda (_) ?i)))
     (find-file "notes.txt"))
   (codex-test-wait (lambda () (and (lsp-workspaces)
                                    (eq (lsp--workspace-status (car (lsp-workspaces))) 'initialized)))
                    "the server to start")
   (lsp-request "workspace/executeCommand" '(:command "first"))
   (codex-test-wait (lambda () (codex-test-said-p "after first")) "the message after the answer" 5)
   (advice-mapc (lambda (advice _) (advice-remove 'lsp--parser-on-message advice))
                'lsp--parser-on-message)
   (lsp-request "workspace/executeCommand" '(:command "second"))
   (lsp-request "workspace/executeCommand" '(:command "third"))
   (codex-test-record 'second-said (codex-test-bool (codex-test-said-p "after second")))))
""",
        cwd=tmp_path,
    )
    # Without the advice, the message that came with "second"'s answer was never handled, though
    # "third" was answered after it: lost, not late.
    assert run["second-said"] is False
