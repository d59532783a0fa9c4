"""The editor host in-process: reads held for a tool call, the base check, rollback, interrupts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest
from acp import RequestError
from acp.interfaces import Client

from codex_lsp.acp.editor import AcpEditor, EditorApplier, EditorError, EditorWorkspace
from codex_lsp.patch import PatchFileError, compute_changes, parse_patch

UPDATE_A = "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"
ADD_NEW_AND_UPDATE_B = (
    "*** Begin Patch\n*** Add File: new.py\n+x = 1\n"
    "*** Update File: b.py\n@@\n-other = 1\n+other = 2\n*** End Patch\n"
)
UPDATE_A_AND_B = (
    "*** Begin Patch\n*** Update File: a.py\n@@\n-value = 1\n+value = 2\n"
    "*** Update File: b.py\n@@\n-other = 1\n+other = 2\n*** End Patch\n"
)


@dataclass
class FakeEditor:
    """Buffers by absolute path; writes go to the buffer only (what matters here is what was sent)."""

    buffers: dict[Path, str] = field(default_factory=dict)
    fail: set[Path] = field(default_factory=set)
    writes: list[tuple[Path, str]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    """When set, writes wait for it (to interrupt a patch mid-write)."""
    writing: asyncio.Event = field(default_factory=asyncio.Event)
    read_gate: asyncio.Event | None = None
    """When set, reads wait for it (to interrupt a patch while its files are checked)."""
    reading: asyncio.Event = field(default_factory=asyncio.Event)
    reads: list[Path] = field(default_factory=list)

    async def read(self, path: Path) -> str:
        self.reads.append(path)
        self.reading.set()
        if self.read_gate is not None:
            await self.read_gate.wait()
        if path in self.buffers:
            return self.buffers[path]
        return await asyncio.to_thread(path.read_text, encoding="utf-8")

    async def write(self, path: Path, text: str) -> None:
        self.writing.set()
        if self.gate is not None:
            await self.gate.wait()
        if path in self.fail:
            raise EditorError(f"the editor could not write {path}: refused")
        self.writes.append((path, text))
        self.buffers[path] = text


def workspace(tmp_path: Path, editor: FakeEditor) -> EditorWorkspace:
    (tmp_path / "a.py").write_text("value = 1\n", encoding="utf-8")
    (tmp_path / "b.py").write_text("other = 1\n", encoding="utf-8")
    return EditorWorkspace(tmp_path, editor)


async def test_reads_show_the_editor_text_only_while_held(tmp_path: Path) -> None:
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    editor.buffers[tmp_path / "a.py"] = "value = 1  # unsaved\n"
    # A path refused as outside the workspace, or missing, does not keep a later one from being held.
    async with ws.editor_view(["../outside.py", "missing.py", "a.py"]):
        assert ws.read_text("a.py") == "value = 1  # unsaved\n"
        async with ws.editor_view(["a.py"]):
            pass
        assert ws.read_text("a.py") == "value = 1  # unsaved\n", "an inner hold must not end the outer one"
    assert ws.read_text("a.py") == "value = 1\n"


async def test_a_file_the_editor_holds_stays_a_file_when_the_disk_loses_it(tmp_path: Path) -> None:
    """The editor still shows a.py, deleted on disk (say by a checkout) after its text was fetched: the
    patch is computed on the editor's text, as the editor shows it, not refused as a missing file."""
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    async with ws.editor_view(["a.py"]):
        (tmp_path / "a.py").unlink()
        result = compute_changes(parse_patch(UPDATE_A), ws.file_source())
    assert [(change.path, change.new_text) for change in result.changes] == [("a.py", "value = 2\n")]


async def test_a_path_the_disk_cannot_look_up_is_refused_without_asking_the_editor(tmp_path: Path) -> None:
    """loop.py is a symbolic link to itself: the engine refuses it (it cannot tell what it is), whatever
    text the editor might show for it; the editor is not asked for that text."""
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    editor.buffers[tmp_path / "loop.py"] = "value = 1\n"
    async with ws.editor_view(["loop.py"]):
        with pytest.raises(PatchFileError, match=r"^Cannot access loop\.py"):
            compute_changes(parse_patch(UPDATE_A.replace("a.py", "loop.py")), ws.file_source())
    assert editor.reads == []


class FailingReads:
    """An ACP client whose ``fs/read_text_file`` fails, as an editor's does for a file it may not read."""

    async def read_text_file(self, **kwargs: object) -> None:
        raise RequestError(-32002, "cannot read a.py: permission denied")


async def test_a_file_the_editor_cannot_read_is_not_written_and_the_model_is_told_why(tmp_path: Path) -> None:
    ws = EditorWorkspace(tmp_path, AcpEditor(cast("Client", FailingReads()), "s1"))
    (tmp_path / "a.py").write_text("value = 1\n", encoding="utf-8")
    async with ws.editor_view(["a.py"]):  # the disk's text, as the editor would not give its own
        result = compute_changes(parse_patch(UPDATE_A), ws.file_source())
        outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert outcome.message == (
        f"the editor could not read {tmp_path / 'a.py'}: cannot read a.py: permission denied"
    )


@pytest.mark.parametrize("patch", [UPDATE_A_AND_B, ADD_NEW_AND_UPDATE_B], ids=["updates", "after-a-new-file"])
async def test_a_file_changed_in_the_editor_after_matching_is_not_written(tmp_path: Path, patch: str) -> None:
    """Every file the patch changes is checked, also those after a new file (which has no text to check)."""
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    async with ws.editor_view(["a.py", "b.py"]):
        result = compute_changes(parse_patch(patch), ws.file_source())
        editor.buffers[tmp_path / "b.py"] = "other = 1\n# typed meanwhile\n"
        outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert (
        outcome.message
        == "b.py changed in the editor while the patch was being prepared; nothing was written"
    )
    assert editor.writes == []


MOVE_A_ONTO_B = (
    "*** Begin Patch\n*** Update File: a.py\n*** Move to: b.py\n@@\n-value = 1\n+value = 2\n*** End Patch\n"
)
ADD_NEW = "*** Begin Patch\n*** Add File: new.py\n+x = 1\n*** End Patch\n"


@pytest.mark.parametrize(
    ("patch", "meanwhile"),
    [(MOVE_A_ONTO_B, "b.py"), (ADD_NEW, "new.py")],
    ids=["move-onto-a-typed-file", "add-onto-a-new-file"],
)
async def test_a_file_a_patch_overwrites_is_checked_too(tmp_path: Path, patch: str, meanwhile: str) -> None:
    """A move's destination, or a new file's path, changed after matching (text typed into the file the
    move replaces; a file saved where the patch creates one): nothing is written, as on disk."""
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    async with ws.editor_view(["a.py", "b.py", "new.py"]):
        result = compute_changes(parse_patch(patch), ws.file_source())
        editor.buffers[tmp_path / meanwhile] = "# typed meanwhile\n"
        (tmp_path / meanwhile).write_text("# typed meanwhile\n", encoding="utf-8")
        outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert outcome.message == (
        f"{meanwhile} changed in the editor while the patch was being prepared; nothing was written"
    )
    assert editor.writes == []


async def test_a_write_shows_in_the_reads_held_for_the_call(tmp_path: Path) -> None:
    """Once written through the editor, a file held for the tool call reads as written, not as fetched."""
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    editor.buffers[tmp_path / "a.py"] = "# unsaved\nvalue = 1\n"
    async with ws.editor_view(["a.py"]):
        result = compute_changes(parse_patch(UPDATE_A), ws.file_source())
        outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
        assert outcome.applied
        assert ws.read_text("a.py") == "# unsaved\nvalue = 2\n", "the editor's text after the write"


async def test_a_failed_write_is_rolled_back_and_said_so(tmp_path: Path) -> None:
    editor = FakeEditor(fail={tmp_path / "b.py"})
    ws = workspace(tmp_path, editor)
    result = compute_changes(parse_patch(UPDATE_A_AND_B), ws.file_source())
    outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert outcome.message.endswith("The files already written were restored; no file was changed.")
    assert editor.writes == [(tmp_path / "a.py", "value = 2\n"), (tmp_path / "a.py", "value = 1\n")]


async def test_a_failed_first_write_says_no_file_was_changed(tmp_path: Path) -> None:
    editor = FakeEditor(fail={tmp_path / "a.py"})
    ws = workspace(tmp_path, editor)
    result = compute_changes(parse_patch(UPDATE_A_AND_B), ws.file_source())
    outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert outcome.message == f"the editor could not write {tmp_path / 'a.py'}: refused. No file was changed."
    assert editor.writes == []


async def test_a_failed_restore_names_the_files_to_check(tmp_path: Path) -> None:
    patch = UPDATE_A_AND_B.replace("*** End Patch", "*** Add File: c.py\n+third = 1\n*** End Patch")

    class GoneAfterTwoWrites(FakeEditor):
        """The editor goes away after two writes: the third fails, and so does every write back."""

        async def write(self, path: Path, text: str) -> None:
            if len(self.writes) == 2:
                raise EditorError(f"the editor could not write {path.name}: it went away")
            await super().write(path, text)

    editor = GoneAfterTwoWrites()
    ws = workspace(tmp_path, editor)
    result = compute_changes(parse_patch(patch), ws.file_source())
    outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert outcome.message == (
        "the editor could not write c.py: it went away. "
        "Restoring the files already written failed for b.py, a.py: check them."
    )
    assert [path.name for path, _ in editor.writes] == ["a.py", "b.py"]


async def test_a_file_a_move_replaced_is_written_back_on_rollback(tmp_path: Path) -> None:
    """a.py moves onto b.py, then c.py's write fails: b.py gets its own text back (it is not removed)."""
    patch = (
        "*** Begin Patch\n*** Update File: a.py\n*** Move to: b.py\n@@\n-value = 1\n+value = 2\n"
        "*** Add File: c.py\n+third = 1\n*** End Patch\n"
    )
    b, c = tmp_path / "b.py", tmp_path / "c.py"
    editor = FakeEditor(fail={c})
    ws = workspace(tmp_path, editor)
    editor.buffers[b] = "other = 1  # unsaved\n"
    async with ws.editor_view(["a.py", "b.py", "c.py"]):
        result = compute_changes(parse_patch(patch), ws.file_source())
        outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert outcome.message.endswith("The files already written were restored; no file was changed.")
    assert editor.writes == [(b, "value = 2\n"), (b, "other = 1  # unsaved\n")]
    assert b.read_text(encoding="utf-8") == "other = 1\n"
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "value = 1\n"


async def test_a_new_file_is_removed_again_on_rollback(tmp_path: Path) -> None:
    patch = (
        "*** Begin Patch\n*** Add File: new.py\n+x = 1\n"
        "*** Update File: b.py\n@@\n-other = 1\n+other = 2\n*** End Patch\n"
    )

    class SavingEditor(FakeEditor):
        async def write(self, path: Path, text: str) -> None:
            await super().write(path, text)
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")

    editor = SavingEditor(fail={tmp_path / "b.py"})
    ws = workspace(tmp_path, editor)
    result = compute_changes(parse_patch(patch), ws.file_source())
    outcome = await EditorApplier(ws).apply(result, turn_id="t", summary="")
    assert not outcome.applied
    assert not (tmp_path / "new.py").exists()


async def test_an_interrupt_during_the_writes_finishes_them_and_reports(tmp_path: Path) -> None:
    editor = FakeEditor(gate=asyncio.Event())
    ws = workspace(tmp_path, editor)
    result = compute_changes(parse_patch(UPDATE_A_AND_B), ws.file_source())
    task = asyncio.create_task(EditorApplier(ws).apply(result, turn_id="t", summary=""))
    await editor.writing.wait()
    task.cancel()  # delivered at once: the write it waits on is opened only afterwards
    assert editor.gate is not None
    editor.gate.set()
    outcome = await task
    assert outcome.applied, "writes that began are finished, never left half done"
    assert [path.name for path, _ in editor.writes] == ["a.py", "b.py"]


async def test_an_interrupt_before_the_writes_changes_nothing(tmp_path: Path) -> None:
    editor = FakeEditor()
    ws = workspace(tmp_path, editor)
    result = compute_changes(parse_patch(UPDATE_A_AND_B), ws.file_source())
    editor.read_gate = asyncio.Event()
    task = asyncio.create_task(EditorApplier(ws).apply(result, turn_id="t", summary=""))
    await editor.reading.wait()  # checking the files against the editor
    task.cancel()
    editor.read_gate.set()
    await asyncio.wait({task})
    assert task.cancelled()
    assert editor.writes == []
