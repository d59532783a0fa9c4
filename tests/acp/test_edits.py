"""Edits through the editor (``fs/*``) and through the disk: computed on what the user sees, all files
or none, refused in read-only mode."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from acp import text_block
from acp.schema import ReadTextFileResponse, WriteTextFileResponse

from codex_lsp.acp.calls import MAX_TITLE_PATHS, CallInfo, describe_call
from tests.acp.harness import Editor, Run, call, patch_call, say, setup, step
from tests.agent.harness import outputs, user_texts

UPDATE_A = "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"
UPDATE_A_AND_B = (
    "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n"
    "*** Update File: b.py\n@@\n-other = 1\n+other = 2\n*** End Patch\n"
)


def diffs(run: Run) -> list[dict[str, Any]]:
    return [
        content
        for update in run.editor.of_kind("tool_call_update")
        for content in update.get("content", [])
        if content["type"] == "diff"
    ]


def statuses(run: Run) -> list[str]:
    return [update["status"] for update in run.editor.of_kind("tool_call_update") if "status" in update]


async def prompt(run: Run, text: str = "go") -> str:
    session = await run.new_session()
    response = await run.conn.prompt(session_id=session, prompt=[text_block(text)])
    return response.stop_reason


async def test_patch_is_computed_on_the_buffer_text_and_written_through_the_editor(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        editor_text = "# unsaved comment\nvalue = 1\n"
        async with s.agent() as run:
            run.editor.buffers[str(a)] = editor_text
            run.load([step(patch_call(UPDATE_A)), step(say("Done."))])
            assert await prompt(run, "bump it") == "end_turn"
        assert run.editor.writes == [(str(a), "# unsaved comment\nvalue = 2\n")]
        assert diffs(run) == [
            {
                "path": str(a),
                "oldText": editor_text,
                "newText": "# unsaved comment\nvalue = 2\n",
                "type": "diff",
            }
        ]
        start = run.editor.of_kind("tool_call")[0]
        assert (start["kind"], start["title"], start["locations"]) == (
            "edit",
            "Edit a.py",
            [{"path": str(a)}],
        )
        assert statuses(run) == ["completed"]
        assert run.editor.text() == "Done."


async def test_a_path_with_git_s_prefix_is_matched_on_the_buffer_text(tmp_path: Path) -> None:
    """The model wrote ``a/x.py`` as git does; the engine reads it as x.py, which the editor shows with
    unsaved text: the patch is computed on that text and written through the editor (it was computed on
    the disk's, and refused as if the user had typed in x.py meanwhile)."""
    patch = "*** Begin Patch\n*** Update File: a/x.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"
    async with setup(tmp_path) as s:
        x = s.root / "x.py"
        x.write_text("value = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.buffers[str(x)] = "# unsaved\nvalue = 1\n"
            run.load([step(patch_call(patch)), step(say("Done."))])
            assert await prompt(run) == "end_turn"
    assert run.editor.writes == [(str(x), "# unsaved\nvalue = 2\n")]
    assert statuses(run) == ["completed"]
    assert "without git's a/ and b/ prefixes" in outputs(run.generating[-1])[0]


async def test_a_model_codex_does_not_know_edits_the_buffer_with_apply_patch_as_a_function(
    tmp_path: Path,
) -> None:
    """A local model gets ``apply_patch`` as a JSON function whose one argument is ``input`` (the key of
    Codex's JSON form, ``ApplyPatchToolArgs { input }``): the schema sent says so, and a call carrying it
    is shown as the edit of its files and matched on the editor's text, as the freeform call is."""
    async with setup(tmp_path) as s:
        config = s.home / "config.toml"
        config.write_text(config.read_text().replace('model = "gpt-5.5"', 'model = "qwen-local"'))
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.buffers[str(a)] = "# unsaved\nvalue = 1\n"
            run.load([step(call("apply_patch", "call_patch", input=UPDATE_A)), step(say("Done."))])
            assert await prompt(run, "bump it") == "end_turn"
    (tool,) = [t for t in run.generating[0].body["tools"] if t.get("name") == "apply_patch"]
    assert (tool["type"], tool["parameters"]["required"]) == ("function", ["input"])
    assert list(tool["parameters"]["properties"]) == ["input"]
    assert tool["parameters"]["additionalProperties"] is False
    card = run.editor.of_kind("tool_call")[0]
    assert (card["kind"], card["title"], card.get("locations")) == ("edit", "Edit a.py", [{"path": str(a)}])
    assert run.editor.writes == [(str(a), "# unsaved\nvalue = 2\n")], "computed on the buffer's text"
    assert statuses(run) == ["completed"]
    assert outputs(run.generating[-1])[0].startswith("Exit code: 0")


async def test_without_fs_capabilities_the_disk_is_read_and_written(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        async with s.agent(fs=False) as run:
            run.editor.buffers[str(a)] = "# the client never offered this text\nvalue = 1\n"
            run.load([step(patch_call(UPDATE_A)), step(say("Done."))])
            assert await prompt(run) == "end_turn"
        assert a.read_text(encoding="utf-8") == "value = 2\n"
        assert (run.editor.reads, run.editor.writes) == ([], [])
        assert diffs(run)[0]["oldText"] == "value = 1\n"


async def test_a_multi_file_patch_that_does_not_fit_the_buffers_writes_nothing(tmp_path: Path) -> None:
    """b.py matches on disk but not in the editor, where the user changed it: no file is written."""
    async with setup(tmp_path) as s:
        (s.root / "a.py").write_text("value = 1\n", encoding="utf-8")
        b = s.root / "b.py"
        b.write_text("other = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.buffers[str(b)] = "other = 10\n"
            run.load([step(patch_call(UPDATE_A_AND_B)), step(say("Sorry."))])
            assert await prompt(run) == "end_turn"
        assert run.editor.writes == []
        assert (s.root / "a.py").read_text(encoding="utf-8") == "value = 1\n"
        assert statuses(run) == ["failed"]
        assert "b.py" in outputs(run.generating[-1])[0]


async def test_a_failed_write_restores_the_files_already_written(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a, b = s.root / "a.py", s.root / "b.py"
        a.write_text("value = 1\n", encoding="utf-8")
        b.write_text("other = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.fail_writes.add(str(b))
            run.load([step(patch_call(UPDATE_A_AND_B)), step(say("Sorry."))])
            assert await prompt(run) == "end_turn"
        assert run.editor.writes == [(str(a), "value = 2\n"), (str(a), "value = 1\n")]
        assert (a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")) == (
            "value = 1\n",
            "other = 1\n",
        )
        assert statuses(run) == ["failed"]
        told = outputs(run.generating[-1])[0]
        assert "disk full while saving" in told
        assert "restored" in told


async def test_a_failed_deletion_restores_the_files_already_written(tmp_path: Path) -> None:
    """ACP has no request to delete a file: it is removed on disk after the editor wrote the other files.
    old.py is open with unsaved text, so the disk no longer holds what the patch was computed on and the
    removal fails; a.py, already written through the editor, must be written back."""
    patch = (
        "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n"
        "*** Delete File: old.py\n*** End Patch\n"
    )
    async with setup(tmp_path) as s:
        a, old = s.root / "a.py", s.root / "old.py"
        a.write_text("value = 1\n", encoding="utf-8")
        old.write_text("gone = True\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.buffers[str(old)] = "gone = True\n# unsaved\n"
            run.load([step(patch_call(patch)), step(say("Sorry."))])
            assert await prompt(run) == "end_turn"
        assert run.editor.writes == [(str(a), "value = 2\n"), (str(a), "value = 1\n")]
        assert (a.read_text(encoding="utf-8"), old.read_text(encoding="utf-8")) == (
            "value = 1\n",
            "gone = True\n",
        )
        assert statuses(run) == ["failed"]
        told = outputs(run.generating[-1])[0]
        assert "old.py changed on disk" in told
        assert "The files already written were restored" in told


async def test_new_deleted_and_moved_files_through_the_editor(tmp_path: Path) -> None:
    patch = (
        "*** Begin Patch\n*** Add File: pkg/new.py\n+created = True\n"
        "*** Delete File: old.py\n"
        "*** Update File: a.py\n*** Move to: moved.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"
    )
    async with setup(tmp_path) as s:
        (s.root / "a.py").write_text("value = 1\n", encoding="utf-8")
        (s.root / "old.py").write_text("gone = True\n", encoding="utf-8")
        async with s.agent() as run:
            run.load([step(patch_call(patch)), step(say("Done."))])
            assert await prompt(run) == "end_turn"
        assert sorted(str(path.relative_to(s.root)) for path in s.root.rglob("*.py")) == [
            "moved.py",
            "pkg/new.py",
        ]
        assert (s.root / "moved.py").read_text(encoding="utf-8") == "value = 2\n"
        assert sorted(path for path, _ in run.editor.writes) == [
            str(s.root / "moved.py"),
            str(s.root / "pkg/new.py"),
        ]
        assert {d["path"]: d.get("oldText") for d in diffs(run)} == {
            str(s.root / "pkg/new.py"): None,
            str(s.root / "old.py"): "gone = True\n",
            str(s.root / "moved.py"): "value = 1\n",
        }
        # The card names the first three files and counts the rest; its locations are every file the
        # patch names, a move's source as well as its destination; its raw input is the patch.
        card = run.editor.of_kind("tool_call")[0]
        assert card["title"] == "Edit pkg/new.py, old.py, a.py and 1 more"
        assert card["locations"] == [
            {"path": str(s.root / name)} for name in ("pkg/new.py", "old.py", "a.py", "moved.py")
        ]
        assert card["rawInput"] == {"patch": patch}


async def test_a_patch_that_does_not_parse_still_gets_an_edit_card(tmp_path: Path) -> None:
    """The card is titled "Edit files" (it names no file), carries the text the model sent, and fails
    with the parser's complaint."""
    garbled = "*** Begin Patch\nUpdate a.py: value = 2\n"
    async with setup(tmp_path) as s:
        (s.root / "a.py").write_text("value = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.load([step(patch_call(garbled)), step(say("Sorry."))])
            assert await prompt(run) == "end_turn"
    card = run.editor.of_kind("tool_call")[0]
    assert card == {
        "sessionUpdate": "tool_call",
        "toolCallId": "call_patch",
        "title": "Edit files",
        "kind": "edit",
        "status": "in_progress",
        "rawInput": {"patch": garbled},
    }
    assert statuses(run) == ["failed"]
    assert run.editor.writes == []


def patch_of(count: int) -> str:
    updates = "".join(f"*** Update File: f{n}.py\n@@\n-x = 1\n+x = 2\n" for n in range(1, count + 1))
    return f"*** Begin Patch\n{updates}*** End Patch\n"


@pytest.mark.parametrize(
    ("count", "title"),
    [
        (1, "Edit f1.py"),
        (MAX_TITLE_PATHS, "Edit f1.py, f2.py, f3.py"),
        (MAX_TITLE_PATHS + 1, "Edit f1.py, f2.py, f3.py and 1 more"),
        (MAX_TITLE_PATHS + 2, "Edit f1.py, f2.py, f3.py and 2 more"),
    ],
)
def test_an_edit_card_names_at_most_three_files(tmp_path: Path, count: int, title: str) -> None:
    info = describe_call("apply_patch", patch_of(count), tmp_path, custom=True)
    assert (info.title, info.paths) == (title, tuple(f"f{n}.py" for n in range(1, count + 1)))


@pytest.mark.parametrize(
    "arguments", ["", "{not json", "[1]", '{"input": 5}', '{"patch": "*** Begin Patch"}']
)
def test_apply_patch_as_a_function_with_unusable_arguments_gets_an_empty_patch(
    tmp_path: Path, arguments: str
) -> None:
    """Arguments without a string ``input`` still give a card (the tool reports what was wrong): no file
    named, and an empty patch as the raw input, not some placeholder an editor would show."""
    info = describe_call("apply_patch", arguments, tmp_path)
    assert info == CallInfo("Edit files", "edit", raw_input={"patch": ""})


async def test_read_only_mode_refuses_edits_with_a_clear_message(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        async with s.agent() as run:
            run.load([step(patch_call(UPDATE_A)), step(say("I would change value to 2."))])
            session = await run.new_session()
            await run.conn.set_session_mode(session_id=session, mode_id="read-only")
            response = await run.conn.prompt(session_id=session, prompt=[text_block("bump it")])
        assert response.stop_reason == "end_turn"
        assert a.read_text(encoding="utf-8") == "value = 1\n"
        assert run.editor.writes == []
        assert run.editor.of_kind("current_mode_update")[0]["currentModeId"] == "read-only"
        assert statuses(run) == ["failed"]
        assert "read-only mode" in outputs(run.generating[-1])[0]


async def test_read_file_reads_the_editor_buffer(tmp_path: Path) -> None:
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("on disk\n", encoding="utf-8")
        async with s.agent() as run:
            run.editor.buffers[str(a)] = "unsaved in the editor\n"
            run.load([step(call("read_file", path="a.py", start_line=1)), step(say("Read it."))])
            assert await prompt(run) == "end_turn"
        assert "L1: unsaved in the editor" in outputs(run.generating[-1])[0]
        card = run.editor.of_kind("tool_call")[0]
        assert (card["kind"], card["title"], card["locations"]) == ("read", "Read a.py", [{"path": str(a)}])
        assert statuses(run) == ["completed"]
        assert "go" in user_texts(run.generating[0])[-1]


async def test_a_read_from_a_line_points_the_card_at_that_line(tmp_path: Path) -> None:
    """A read that starts further down: its card's location is the file at that line, 0-based as ACP has
    it (``start_line`` is 1-based), so the editor can show where the agent is reading."""
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("one\ntwo\nthree\nfour\n", encoding="utf-8")
        async with s.agent() as run:
            run.load([step(call("read_file", path="a.py", start_line=3)), step(say("Read it."))])
            assert await prompt(run) == "end_turn"
        assert outputs(run.generating[-1])[0] == "a.py (lines 3-4 of 4)\nL3: three\nL4: four"
        card = run.editor.of_kind("tool_call")[0]
        assert (card["title"], card["locations"]) == ("Read a.py", [{"path": str(a), "line": 2}])


@dataclass
class DiskReadingEditor(Editor):
    """An editor like CodeCompanion.nvim 19.22: ``fs/read_text_file`` reads the disk, whatever its buffer
    holds, while ``fs/write_text_file`` replaces the open buffer's text (not saved)."""

    async def read_text_file(
        self, session_id: str, path: str, line: int | None = None, limit: int | None = None, **kwargs: Any
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        return ReadTextFileResponse(content=text)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> WriteTextFileResponse:
        self.writes.append((path, content))
        self.buffers[path] = content
        return WriteTextFileResponse()


async def test_a_client_that_reads_the_disk_but_writes_its_buffer_gets_the_disk_for_both(
    tmp_path: Path,
) -> None:
    """CodeCompanion.nvim (by its clientInfo name): an edit through it would be computed on the disk's text
    and replace the buffer, losing an unsaved line; so the agent reads and writes the disk, and the
    buffer keeps what the user typed (Neovim then says the file changed under a modified buffer)."""
    async with setup(tmp_path) as s:
        a = s.root / "a.py"
        a.write_text("value = 1\n", encoding="utf-8")
        unsaved = "# unsaved\nvalue = 1\n"
        editor = DiskReadingEditor(s.root, buffers={str(a): unsaved})
        async with s.agent(editor=editor, client_name="CodeCompanion.nvim") as run:
            run.load([step(patch_call(UPDATE_A)), step(say("Set value to 2."))])
            assert await prompt(run) == "end_turn"
    assert (editor.reads, editor.writes) == ([], []), "no file request went to the client"
    assert a.read_text(encoding="utf-8") == "value = 2\n", "the edit is on disk"
    assert editor.buffers[str(a)] == unsaved, "the unsaved line is still in the buffer"
    assert statuses(run) == ["completed"]
