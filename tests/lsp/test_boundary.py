"""The workspace boundary: a request's file outside every open folder never hands the agent that folder
silently. ``..``, ``%2e%2e`` and a symbolic link leading out resolve to the same real file and the same
decision; the user consents through a question (remembered for the session) or Codex's own trust in
config.toml, and otherwise the request is refused with ``RequestFailed`` naming the file and the folders.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import (
    WAIT,
    Editor,
    Profile,
    call,
    editor_session,
    load,
    outputs,
    say,
    write_codex_home,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed
ALLOW, DENY = "Allow for this session", "Deny"
SECRET = "SECRET-KEY-OUTSIDE-THE-WORKSPACE"
ETC = os.path.realpath("/etc")


def uri_of(path: Path | str) -> str:
    return from_fs_path(str(path)) or ""


def outside_file(base: Path, name: str = "outside") -> Path:
    """``base/<name>/secret.key``, a file next to the workspace folder ``base/ws``."""
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.key").write_text(SECRET + "\n")
    return folder / "secret.key"


def escapes(base: Path) -> dict[str, str]:
    """Three ways a URI can name ``base/outside/secret.key`` from inside the folder ``base/ws``."""
    outside_file(base)
    ws = (base / "ws").resolve()
    ws.mkdir(parents=True, exist_ok=True)
    link = ws / "link"
    if not link.exists():
        link.symlink_to(base.resolve() / "outside", target_is_directory=True)
    root = uri_of(ws)
    return {
        "dot-dot": f"{root}/../outside/secret.key",
        "percent-encoded dot-dot": f"{root}/%2e%2e/outside/secret.key",
        "symlink inside the folder": f"{root}/link/secret.key",
    }


async def refusal(ed: Editor, command: str, arguments: dict[str, Any]) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as caught:
        await ed.execute(command, arguments)
    return caught.value


def data_of(error: JsonRpcException) -> dict[str, Any]:
    assert isinstance(error.data, dict), error
    return error.data


def nothing_reached_the_model(fake: FakeResponsesServer, before: int) -> None:
    assert len(fake.requests) == before, "a refused request must not start a turn"
    assert all(SECRET not in output for output in outputs(fake))


@pytest.mark.parametrize("how", ["dot-dot", "percent-encoded dot-dot", "symlink inside the folder"])
async def test_a_uri_that_climbs_out_of_the_folder_is_refused_when_the_editor_cannot_ask(
    tmp_path: Path, fake: FakeResponsesServer, how: str
) -> None:
    uri = escapes(tmp_path)[how]
    async with editor_session(tmp_path, fake, "minimal") as ed:
        before = len(fake.requests)
        load(fake, [call("read_file", {"path": "secret.key"}), say("read it")])
        error = await refusal(ed, "codex.ask", {"prompt": "what is in this file?", "uri": uri})
        assert error.code == REQUEST_FAILED
        real = str((tmp_path / "outside" / "secret.key").resolve())
        assert real in error.message
        assert f"outside the open folders ({ed.root})" in error.message
        assert "the editor cannot ask you" in error.message
        assert error.data == {
            "path": real,
            "folder": str((tmp_path / "outside").resolve()),
            "folders": [str(ed.root)],
        }
        nothing_reached_the_model(fake, before)
        thread = await refusal(ed, "codex.newThread", {"uri": uri})
        assert thread.code == REQUEST_FAILED
        assert (await ed.execute("codex.status"))["allowedFolders"] == []


@pytest.mark.parametrize("answer", [DENY, None, "!error"])
async def test_a_file_outside_every_folder_asks_and_anything_but_allow_refuses(
    tmp_path: Path, fake: FakeResponsesServer, answer: str | None
) -> None:
    uri = escapes(tmp_path)["symlink inside the folder"]
    async with editor_session(tmp_path, fake, "vscode") as ed:
        ed.answer = answer
        before = len(fake.requests)
        error = await refusal(ed, "codex.ask", {"prompt": "read it", "uri": uri})
        assert error.code == REQUEST_FAILED
        assert "you did not allow it" in error.message
        (question,) = ed.questions
        assert [action.title for action in question.actions or []] == [ALLOW, DENY]
        assert str((tmp_path / "outside").resolve()) in question.message
        real = (tmp_path / "outside" / "secret.key").resolve()
        assert f"{ed.root}/link/secret.key (really {real})" in question.message
        nothing_reached_the_model(fake, before)


async def test_etc_passwd_is_refused_not_made_the_workspace(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    async with editor_session(tmp_path, fake, "minimal") as ed:
        before = len(fake.requests)
        for command, arguments in (
            ("codex.ask", {"prompt": "list this folder", "uri": "file:///etc/passwd"}),
            ("codex.fixDiagnostics", {"uri": "file:///etc/passwd", "all": True}),
            ("codex.newThread", {"uri": "file:///etc/passwd"}),
        ):
            error = await refusal(ed, command, arguments)
            assert error.code == REQUEST_FAILED, command
            assert error.message.startswith(f"{command}: /etc/passwd is outside the open folders")
            assert data_of(error)["folder"] == ETC
        assert len(fake.requests) == before
        assert all(thread["cwd"] != "/etc" for thread in (await ed.execute("codex.threads"))["threads"])


async def test_a_sibling_folder_that_shares_the_prefix_is_outside(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    evil = tmp_path / "ws-evil"
    evil.mkdir()
    (evil / "x.py").write_text("x = 1\n")
    async with editor_session(tmp_path, fake, "minimal") as ed:
        error = await refusal(ed, "codex.newThread", {"uri": uri_of(evil.resolve() / "x.py")})
        assert error.code == REQUEST_FAILED
        assert data_of(error)["folders"] == [str(ed.root)]


async def test_allowing_an_outside_folder_gives_the_agent_that_folder_for_the_session(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    uri = escapes(tmp_path)["percent-encoded dot-dot"]
    outside = (tmp_path / "outside").resolve()
    (outside / "other.py").write_text("y = 2\n")
    async with editor_session(tmp_path, fake, "neovim") as ed:
        ed.answer = ALLOW
        load(fake, [call("read_file", {"path": "secret.key"}), say("read it")])
        result = await ed.execute("codex.ask", {"prompt": "what is in this file?", "uri": uri})
        assert result["status"] == "completed"
        assert SECRET in outputs(fake)[-1]
        assert len(ed.questions) == 1
        created = await ed.execute("codex.newThread", {"uri": uri_of(outside / "other.py")})
        assert created["cwd"] == str(outside)
        assert len(ed.questions) == 1, "the answer holds for the rest of the session"
        status = await ed.execute("codex.status")
        assert status["allowedFolders"] == [str(outside)]
        assert status["folders"] == [str(ed.root)]


async def test_a_folder_codex_trusts_in_config_toml_needs_no_question(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    trusted = (tmp_path / "trusted").resolve()
    (trusted / "pkg").mkdir(parents=True)
    (trusted / "pkg" / "mod.py").write_text("z = 3\n")
    near = tmp_path / "trusted-not"
    near.mkdir()
    (near / "mod.py").write_text("w = 4\n")
    home = tmp_path / "codex-home"
    write_codex_home(home, fake)
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[projects."{trusted}"]\ntrust_level = "trusted"\n')
        config.write(f'\n[projects."{near.resolve()}"]\ntrust_level = "untrusted"\n')
    async with editor_session(tmp_path, fake, "minimal") as ed:
        created = await ed.execute("codex.newThread", {"uri": uri_of(trusted / "pkg" / "mod.py")})
        assert created["cwd"] == str(trusted / "pkg")
        error = await refusal(ed, "codex.newThread", {"uri": uri_of(near.resolve() / "mod.py")})
        assert error.code == REQUEST_FAILED


async def test_a_folder_opened_through_a_symlink_holds_its_files(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    real = tmp_path / "real-project"
    real.mkdir()
    (real / "app.py").write_text("a = 1\n")
    alias = tmp_path / "alias"
    alias.symlink_to(real, target_is_directory=True)
    async with editor_session(tmp_path, fake, "vscode", folders=(alias,)) as ed:
        ed.answer = DENY
        # the editor names the folder and the file through the link; the server sees one real folder
        created = await ed.execute("codex.newThread", {"uri": uri_of(alias / "app.py")})
        assert created["cwd"] == str(real.resolve())
        assert ed.questions == []
        assert (await ed.execute("codex.status"))["folders"] == [str(ed.root), str(real.resolve())]


async def test_interrupting_the_turn_withdraws_the_folder_question(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    uri = escapes(tmp_path)["dot-dot"]
    async with editor_session(tmp_path, fake, "vscode") as ed:
        ed.answer = "!hold"
        turn = ed.start("codex.ask", {"prompt": "read it", "uri": uri}, "outside-1")
        await ed.until(lambda: ed.questions)
        assert (await ed.execute("codex.interrupt"))["interrupted"]
        await ed.until(lambda: ed.withdrawn)
        result = await asyncio.wait_for(turn, WAIT)
        assert result["status"] == "interrupted"
        assert (await ed.execute("codex.status"))["allowedFolders"] == []


@pytest.mark.parametrize("profile", ["minimal", "vscode"])
async def test_a_file_in_the_open_folder_asks_nothing(
    tmp_path: Path, fake: FakeResponsesServer, profile: Profile
) -> None:
    async with editor_session(tmp_path, fake, profile) as ed:
        ed.write("pkg/app.py", "a = 1\n")
        load(fake, [call("read_file", {"path": "pkg/app.py"}), say("read")])
        result = await ed.execute("codex.ask", {"prompt": "read", "uri": ed.uri("pkg/app.py")})
        assert result["status"] == "completed"
        assert "a = 1" in outputs(fake)[-1]
        assert ed.questions == []
