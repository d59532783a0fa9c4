"""Approvals for file changes through the editor: the policy (Codex's names, from the editor or
config.toml), the always-ask rules, the three answers, no answer, and an interrupt while a question
is open (answered as denied and withdrawn from the editor)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import (
    Editor,
    call,
    editor_session,
    load,
    outputs,
    patch,
    say,
    settled,
    write_codex_home,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]


def edit(path: str, old: str, new: str) -> str:
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch"


TWO_PATCHES = [patch(edit("a.txt", "one", "uno")), patch(edit("b.txt", "two", "dos")), say("done")]


def lay_out(ed: Editor) -> None:
    ed.write("a.txt", "one\n")
    ed.write("b.txt", "two\n")


@pytest.mark.parametrize(
    ("profile", "answer", "asked", "applied"),
    [
        ("vscode", "Approve", 2, True),
        ("neovim", "Approve for this turn", 1, True),
        ("vscode", "Deny", 2, False),
        ("neovim", None, 2, False),
        ("minimal", "Approve", 0, False),
    ],
)
async def test_untrusted_asks_before_every_change(
    tmp_path: Path, fake: FakeResponsesServer, profile: Any, answer: str | None, asked: int, applied: bool
) -> None:
    async with editor_session(tmp_path, fake, profile, init_options={"approvalPolicy": "untrusted"}) as ed:
        lay_out(ed)
        ed.answer = answer
        load(fake, TWO_PATCHES)
        result = await ed.execute("codex.ask", {"prompt": "translate"})
        assert result["status"] == "completed", result
        assert len(ed.questions) == asked
        if asked:
            question = ed.questions[0]
            assert "Codex wants to change a.txt" in question.message
            assert "-one\n+uno" in question.message, "a short diff in the question"
            assert [a.title for a in question.actions or []] == ["Approve", "Approve for this turn", "Deny"]
        assert (ed.text("a.txt"), ed.text("b.txt")) == (("uno\n", "dos\n") if applied else ("one\n", "two\n"))
        if not applied:
            assert all("declined" in output for output in outputs(fake)[-2:])


async def test_always_ask_rules_and_never(tmp_path: Path, fake: FakeResponsesServer) -> None:
    options = {"approvalPolicy": "on-request", "alwaysAsk": {"deletions": True, "paths": ["locked/**"]}}
    async with editor_session(tmp_path, fake, "vscode", init_options=options) as ed:
        lay_out(ed)
        ed.write("locked/c.txt", "three\n")
        ed.answer = "Deny"
        load(
            fake,
            [
                patch(edit("a.txt", "one", "uno")),
                patch("*** Begin Patch\n*** Delete File: b.txt\n*** End Patch"),
                patch(edit("locked/c.txt", "three", "tres")),
                say("done"),
            ],
        )
        await ed.execute("codex.ask", {"prompt": "change"})
        assert ed.text("a.txt") == "uno\n", "an ordinary change applies without asking"
        assert [q.message.split(" (")[0] for q in ed.questions] == [
            "Codex wants to change b.txt",
            "Codex wants to change locked/c.txt",
        ]
        assert "it deletes b.txt" in ed.questions[0].message
        assert ed.text("b.txt") == "two\n"
        assert ed.text("locked/c.txt") == "three\n"

        ed.configure({"approvalPolicy": "never"})
        await settled(ed, "approvalPolicy", "never")
        load(fake, [patch("*** Begin Patch\n*** Delete File: b.txt\n*** End Patch"), say("done")])
        await ed.execute("codex.ask", {"prompt": "delete"})
        assert len(ed.questions) == 2, "never asks nothing"
        assert "the approval policy is never" in outputs(fake)[-1]
        assert ed.text("b.txt") == "two\n"


async def test_config_toml_sets_the_policy_unless_the_editor_does(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """``on-failure`` (deprecated by Codex) is ``on-request``; ``sandbox_mode = "read-only"`` makes every
    change a question, as in Codex; the editor's policy wins over the file's."""
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    config = home / "config.toml"
    config.write_text('approval_policy = "on-failure"\nsandbox_mode = "read-only"\n' + config.read_text())
    async with editor_session(tmp_path, fake, "neovim") as ed:
        lay_out(ed)
        ed.answer = "Approve for this turn"
        status = await ed.execute("codex.status")
        assert (status["approvalPolicy"], status["sandboxMode"]) == ("on-request", "read-only")
        load(fake, TWO_PATCHES)
        await ed.execute("codex.ask", {"prompt": "translate"})
        assert len(ed.questions) == 1
        assert "writing is blocked by the read-only sandbox" in ed.questions[0].message
        assert (ed.text("a.txt"), ed.text("b.txt")) == ("uno\n", "dos\n")
    async with editor_session(tmp_path, fake, "neovim", init_options={"approvalPolicy": "deny"}) as ed:
        status = await ed.execute("codex.status")
        assert status["approvalPolicy"] == "never", "the editor's setting wins; 'deny' is never"
        load(fake, [patch("*** Begin Patch\n*** Add File: c.txt\n+three\n*** End Patch"), say("done")])
        await ed.execute("codex.ask", {"prompt": "add"})
        assert not ed.questions
        assert (
            "read-only sandbox (sandbox_mode = read-only), and the approval policy is never"
            in (outputs(fake)[-1])
        )
        assert not (ed.root / "c.txt").exists()


GRANULAR = (
    "approval_policy = { granular = { sandbox_approval = false, rules = true, mcp_elicitations = false } }\n"
)


async def test_a_granular_policy_runs_turns_and_each_switch_decides_its_questions(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    """Once every turn failed with ``TypeError: unhashable type: 'dict'``. ``sandbox_approval = false``
    refuses a command without asking; ``rules = true`` lets the always-ask rule for deletions ask."""
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    config = home / "config.toml"
    config.write_text(GRANULAR + config.read_text())
    options = {"shell": {"enabled": True}, "alwaysAsk": {"deletions": True}}
    async with editor_session(tmp_path, fake, "vscode", init_options=options) as ed:
        lay_out(ed)
        ed.answer = "Approve"
        status = await ed.execute("codex.status")
        assert status["approvalPolicy"] == {
            "granular": {
                "sandbox_approval": False,
                "rules": True,
                "skill_approval": False,
                "request_permissions": False,
                "mcp_elicitations": False,
            }
        }
        load(
            fake,
            [
                call("shell", {"command": ["touch", "made-by-the-shell"]}),
                patch("*** Begin Patch\n*** Delete File: b.txt\n*** End Patch"),
                say("done"),
            ],
        )
        result = await ed.execute("codex.ask", {"prompt": "go"})
        assert result["status"] == "completed", result
        command_output, patch_output = outputs(fake)[-2:]
        assert "declined without asking" in command_output
        assert "granular with sandbox_approval = false" in command_output
        assert not (ed.root / "made-by-the-shell").exists()
        (question,) = ed.questions
        assert "it deletes b.txt" in question.message
        assert "Exit code: 0" in patch_output
        assert not (ed.root / "b.txt").exists()


async def test_an_interrupt_answers_the_open_question_as_denied(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "vscode", init_options={"approvalPolicy": "untrusted"}) as ed:
        lay_out(ed)
        ed.answer = "!hold"
        load(fake, [patch(edit("a.txt", "one", "uno")), say("never requested")], [say("next")])
        task = asyncio.ensure_future(ed.execute("codex.ask", {"prompt": "translate"}))
        await ed.until(lambda: ed.questions)
        (turn_id,) = (await ed.execute("codex.status"))["runningTurns"]
        assert await ed.execute("codex.interrupt", {"turnId": turn_id}) == {"interrupted": [turn_id]}
        async with asyncio.timeout(1.0):
            result = await task
        assert result["status"] == "interrupted"
        await ed.until(lambda: ed.withdrawn == 1)
        assert ed.text("a.txt") == "one\n"
        assert fake.pending_steps == 2, "no model request after the interrupt"
        await ed.execute("codex.ask", {"prompt": "again", "threadId": result["threadId"]})
        assert "interrupted while the change waited for the user's approval" in outputs(fake)[-1]
