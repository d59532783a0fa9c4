"""Settings from ``initializationOptions`` and ``workspace/configuration`` over config.toml, bad
values reported once each with the defaults kept, and shell approvals through the editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import Editor, call, editor_session, load, outputs, say, settled, write_codex_home

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]


async def status(ed: Editor) -> dict[str, Any]:
    result: dict[str, Any] = await ed.execute("codex.status")
    return result


async def test_bad_initialization_options_are_reported_and_defaults_kept(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    options = {
        "transport": "carrier-pigeon",
        "shell": {"enabled": "yes", "allow": ["pytest"]},
        "editMode": "yolo",
        "approvalPolicy": "sometimes",
    }
    async with editor_session(tmp_path, fake, "minimal", init_options=options) as ed:
        current = await status(ed)
        assert current["transport"] == "websocket"
        assert current["shellEnabled"] is False
        assert current["editMode"] == "auto"
        messages = [m.message for m in ed.client.messages]
        assert (
            "codex.transport = 'carrier-pigeon' is not one of auto, websocket, http; using 'auto'" in messages
        )
        assert "codex.shell.enabled = 'yes' is not true or false; using False" in messages
        assert "codex.editMode = 'yolo' is not one of auto, review; using 'auto'" in messages
        assert (
            "codex.approvalPolicy = 'sometimes' is not one of untrusted, on-request, never; using the default"
            in messages
        )
        assert len(messages) == 4
        load(fake, [say("still working")])
        assert (await ed.execute("codex.ask", {"prompt": "hi"}))["status"] == "completed"


@pytest.mark.parametrize("profile", ["vscode", "neovim", "minimal"])
async def test_configuration_is_read_again_when_it_changes(
    tmp_path: Path, fake: FakeResponsesServer, profile: Any
) -> None:
    configuration = {"model": "gpt-from-config"} if profile != "minimal" else None
    async with editor_session(
        tmp_path, fake, profile, init_options={"model": "gpt-from-init"}, configuration=configuration
    ) as ed:
        expected = "gpt-from-config" if profile != "minimal" else "gpt-from-init"
        await settled(ed, "model", expected)
        ed.configure({"model": "gpt-changed", "transport": "http"})
        current = await settled(ed, "model", "gpt-changed")
        assert current["transport"] == "http"
        load(fake, [say("over http")])
        before = len(fake.requests)
        result = await ed.execute("codex.ask", {"prompt": "hi"})
        assert result["status"] == "completed", result
        (request,) = fake.requests[before:]
        assert request.transport == "http"
        assert request.body["model"] == "gpt-changed"
        ed.configure({"reasoningEffort": "ludicrous"})
        await ed.until(lambda: any("reasoningEffort" in m.message for m in ed.client.messages))
        assert any(
            "codex.reasoningEffort = 'ludicrous' is not one of" in m.message for m in ed.client.messages
        )


async def test_provider_and_base_url_over_config_toml(tmp_path: Path, fake: FakeResponsesServer) -> None:
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    text = (home / "config.toml").read_text().replace(fake.base_url, "http://127.0.0.1:9/v1")
    (home / "config.toml").write_text(text)
    async with editor_session(tmp_path, fake, "neovim", init_options={"baseUrl": fake.base_url}) as ed:
        ed.answer = "Send for this session"  # the key goes to a URL config.toml does not name: consent
        load(fake, [say("reached through the editor's base URL")])
        assert (await ed.execute("codex.ask", {"prompt": "hi"}))["status"] == "completed"
        (question,) = ed.questions
        assert f"to {fake.base_url}, not to http://127.0.0.1:9/v1" in question.message
        ed.configure({"provider": "nowhere"})
        await ed.until(
            lambda: any(
                "codex.provider = 'nowhere' names no provider" in m.message for m in ed.client.messages
            )
        )
        result = await ed.execute("codex.ask", {"prompt": "hi"})
        assert result["status"] == "failed"
        assert "names no provider" in result["error"]


@pytest.mark.parametrize(
    ("profile", "answer", "policy", "asked", "ran"),
    [
        ("vscode", "Approve", "ask", True, True),
        ("neovim", "Approve for this turn", "ask", True, True),
        ("vscode", "Deny", "ask", True, False),
        ("neovim", None, "ask", True, False),
        ("vscode", "!error", "ask", True, False),
        ("vscode", "Approve", "deny", False, False),
        ("minimal", "Approve", "ask", False, False),
    ],
)
async def test_shell_commands_are_approved_in_the_editor(
    tmp_path: Path,
    fake: FakeResponsesServer,
    profile: Any,
    answer: str | None,
    policy: str,
    asked: bool,
    ran: bool,
) -> None:
    options = {"shell": {"enabled": True}, "approvalPolicy": policy}
    async with editor_session(tmp_path, fake, profile, init_options=options) as ed:
        ed.answer = answer
        load(fake, [call("shell", {"command": ["touch", "made-by-the-shell"]}), say("done")])
        result = await ed.execute("codex.ask", {"prompt": "touch"})
        assert result["status"] == "completed", result
        assert bool(ed.questions) is asked
        if asked:
            (question,) = ed.questions
            assert "touch made-by-the-shell" in question.message
            assert [a.title for a in question.actions or []] == ["Approve", "Approve for this turn", "Deny"]
        assert (ed.root / "made-by-the-shell").exists() is ran
        if not ran:
            assert "declined" in outputs(fake)[-1]
