"""One agent per workspace folder: a request's document picks the folder (multi-root), folders come
and go with ``didChangeWorkspaceFolders``, and a file outside every folder uses its git root once the
user allows it (the boundary itself: ``test_boundary.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path

from codex_lsp.testing import FakeResponsesServer
from tests.lsp.harness import call, editor_session, load, outputs, say

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.filterwarnings("error::pytest_lsp.LspSpecificationWarning"),
]


def folder(path: Path) -> types.WorkspaceFolder:
    path.mkdir(parents=True, exist_ok=True)
    return types.WorkspaceFolder(uri=from_fs_path(str(path)) or "", name=path.name)


async def test_the_document_picks_the_folder(tmp_path: Path, fake: FakeResponsesServer) -> None:
    second = tmp_path / "second"
    (second / "pkg").mkdir(parents=True)
    (second / "pkg" / "mod.py").write_text("SECOND = 2\n")
    async with editor_session(tmp_path / "one", fake, "vscode", folders=(second.resolve(),)) as ed:
        ed.write("pkg/mod.py", "FIRST = 1\n")
        uri = from_fs_path(str((second / "pkg" / "mod.py").resolve())) or ""
        load(fake, [call("read_file", {"path": "pkg/mod.py"}), say("read")])
        assert (await ed.execute("codex.ask", {"prompt": "read", "uri": uri}))["status"] == "completed"
        assert "SECOND = 2" in outputs(fake)[-1]
        created = await ed.execute("codex.newThread", {"uri": uri})
        assert created["cwd"] == str(second.resolve())
        default = await ed.execute("codex.newThread", {})
        assert default["cwd"] == str(ed.root)

        third = tmp_path / "third"
        (third / "pkg").mkdir(parents=True)
        (third / "pkg" / "mod.py").write_text("THIRD = 3\n")
        event = types.WorkspaceFoldersChangeEvent(
            added=[folder(third.resolve())], removed=[folder(second.resolve())]
        )
        ed.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(event=event))
        uri = from_fs_path(str((third / "pkg" / "mod.py").resolve())) or ""
        assert (await ed.execute("codex.newThread", {"uri": uri}))["cwd"] == str(third.resolve())
        status = await ed.execute("codex.status")
        assert str(third.resolve()) in status["folders"]
        assert str(second.resolve()) not in status["folders"]


async def test_a_file_outside_every_folder_the_user_allows_uses_its_git_root(
    tmp_path: Path, fake: FakeResponsesServer
) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "src").mkdir(parents=True)
    git = await asyncio.create_subprocess_exec("git", "init", "-q", str(outside))
    assert await git.wait() == 0
    (outside / "src" / "tool.py").write_text("x = 1\n")
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "note.py").write_text("y = 2\n")
    async with editor_session(tmp_path / "one", fake, "neovim") as ed:
        ed.answer = "Allow for this session"
        in_repo = from_fs_path(str((outside / "src" / "tool.py").resolve())) or ""
        assert (await ed.execute("codex.newThread", {"uri": in_repo}))["cwd"] == str(outside.resolve())
        no_repo = from_fs_path(str((loose / "note.py").resolve())) or ""
        assert (await ed.execute("codex.newThread", {"uri": no_repo}))["cwd"] == str(loose.resolve())
        asked = [question.message for question in ed.questions]
        assert len(asked) == 2
        assert f"the files in {outside.resolve()} for the rest of this session" in asked[0]
        assert f"the files in {loose.resolve()} for the rest of this session" in asked[1]
