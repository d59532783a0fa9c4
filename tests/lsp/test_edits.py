"""File changes as workspace edits: the shape each client takes, minimal ranges in its encoding,
file operations through the editor or the disk, and no edit from a stale text."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path

from codex_lsp.lsp.capabilities import ClientCaps
from codex_lsp.lsp.documents import DocumentStore
from codex_lsp.lsp.host.edits import Current, EditConflict, inverse, plan_edit
from codex_lsp.lsp.host.workspace import BufferFileSource, Expected
from codex_lsp.patch import (
    ChangeKind,
    FileChange,
    PatchStaleError,
    PathKind,
    Snapshot,
    compute_changes,
    parse_patch,
    write_changes,
)

VSCODE = ClientCaps(
    apply_edit=True,
    document_changes=True,
    create_files=True,
    rename_files=True,
    delete_files=True,
    change_annotations=True,
)
NEOVIM = ClientCaps(
    apply_edit=True,
    document_changes=True,
    create_files=True,
    rename_files=True,
    delete_files=True,
    position_encoding="utf-8",
)
MINIMAL = ClientCaps(apply_edit=True)


class View:
    def __init__(self, files: dict[str, str], versions: dict[str, int] | None = None) -> None:
        self.files = files
        self.versions = versions or {}

    def current(self, path: str) -> Current:
        version = self.versions.get(path)
        return Current(f"file:///ws/{path}", self.files.get(path), version, version is not None)


def changes_for(files: dict[str, str], patch: str) -> tuple[FileChange, ...]:
    class Source:
        def resolve(self, raw: str) -> str:
            return raw

        def kind(self, path: str):  # type: ignore[no-untyped-def]
            from codex_lsp.patch import PathKind

            return PathKind.FILE if path in files else PathKind.MISSING

        def read_text(self, path: str) -> str:
            return files[path]

    return compute_changes(parse_patch(patch), Source()).changes


def update(path: str, old: str, new: str) -> str:
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch"


LINE = "😀漢e\u0301 = nam\n"


@pytest.mark.parametrize(
    ("caps", "character"),
    [(VSCODE, 11), (NEOVIM, 16), (ClientCaps(position_encoding="utf-32", apply_edit=True), 10)],
)
def test_update_is_a_minimal_edit_in_the_negotiated_encoding(caps: ClientCaps, character: int) -> None:
    files = {"a.py": "x = 1\n" + LINE}
    changes = changes_for(files, update("a.py", LINE.rstrip("\n"), LINE.rstrip("\n").replace("nam", "name")))
    plan = plan_edit(changes, View(files, {"a.py": 7}), caps, "Codex: fix")
    assert plan.edit is not None
    if caps.document_changes:
        (doc_edit,) = plan.edit.document_changes or []
        assert isinstance(doc_edit, types.TextDocumentEdit)
        assert doc_edit.text_document.version == 7
        (edit,) = doc_edit.edits
    else:
        ((uri, (edit,)),) = (plan.edit.changes or {}).items()
        assert uri == "file:///ws/a.py"
    assert edit.range == types.Range(types.Position(1, character), types.Position(1, character))
    assert isinstance(edit, types.TextEdit | types.AnnotatedTextEdit)
    assert edit.new_text == "e"
    assert plan.expected == {"a.py": "x = 1\n" + LINE.replace("nam", "name")}


def test_annotations_only_where_supported() -> None:
    files = {"a.py": "a\n"}
    changes = changes_for(files, update("a.py", "a", "b"))
    annotated = plan_edit(changes, View(files), VSCODE, "Codex: rename").edit
    plain = plan_edit(changes, View(files), NEOVIM, "Codex: rename").edit
    assert annotated is not None
    assert plain is not None
    assert annotated.change_annotations is not None
    assert annotated.change_annotations["codex"].label == "Codex: rename"
    assert plain.change_annotations is None
    (doc_edit,) = plain.document_changes or []
    assert isinstance(doc_edit, types.TextDocumentEdit)
    assert doc_edit.text_document.version is None  # not open: no version


FILE_OPS = (
    "*** Begin Patch\n*** Add File: new.py\n+hello\n*** Delete File: old.py\n"
    "*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"
)


def test_file_operations_through_the_editor() -> None:
    files = {"old.py": "bye\n", "src.py": "one\ntwo\n"}
    plan = plan_edit(changes_for(files, FILE_OPS), View(files, {"src.py": 3}), NEOVIM, "Codex: ops")
    assert plan.disk == ()
    assert plan.edit is not None
    kinds = [type(op).__name__ for op in plan.edit.document_changes or []]
    # The engine lists the move first; its text edit goes to the open buffer before the rename.
    assert kinds == ["TextDocumentEdit", "RenameFile", "CreateFile", "TextDocumentEdit", "DeleteFile"]
    ops = plan.edit.document_changes or []
    assert isinstance(ops[0], types.TextDocumentEdit)
    assert ops[0].text_document.version == 3
    assert isinstance(ops[1], types.RenameFile)
    assert ops[1].new_uri == "file:///ws/dst.py"
    assert plan.expected == {"new.py": "hello\n", "old.py": None, "src.py": None, "dst.py": "uno\ntwo\n"}


def test_file_operations_on_disk_for_a_client_without_them() -> None:
    files = {"old.py": "bye\n", "src.py": "one\ntwo\n", "keep.py": "k\n"}
    patch = FILE_OPS.replace("*** End Patch", "*** Update File: keep.py\n@@\n-k\n+K\n*** End Patch")
    plan = plan_edit(changes_for(files, patch), View(files), MINIMAL, "Codex: ops")
    assert [(c.kind, c.path, c.move_to) for c in plan.disk] == [
        (ChangeKind.MOVE, "src.py", "dst.py"),
        (ChangeKind.ADD, "new.py", None),
        (ChangeKind.DELETE, "old.py", None),
    ]
    assert plan.edit is not None
    assert set(plan.edit.changes or {}) == {"file:///ws/keep.py"}
    undo = inverse(plan.disk)
    assert [(c.kind, c.path) for c in undo] == [
        (ChangeKind.ADD, "old.py"),
        (ChangeKind.DELETE, "new.py"),
        (ChangeKind.MOVE, "dst.py"),
    ]


def test_a_buffer_changed_elsewhere_gets_the_edit_moved() -> None:
    files = {"a.py": "a = 1\nb = 2\n"}
    changes = changes_for(files, update("a.py", "b = 2", "b = 3"))
    typed = {"a.py": "# note\na = 1\nb = 2\n"}
    plan = plan_edit(changes, View(typed, {"a.py": 9}), VSCODE, "x")
    assert plan.expected["a.py"] == "# note\na = 1\nb = 3\n"


def test_a_buffer_changed_where_the_patch_edits_is_a_conflict() -> None:
    files = {"a.py": "a = 1\nb = 2\n"}
    changes = changes_for(files, update("a.py", "b = 2", "b = 3"))
    with pytest.raises(EditConflict, match="changed in the editor"):
        plan_edit(changes, View({"a.py": "a = 1\nb = 22\n"}, {"a.py": 9}), VSCODE, "x")


def test_a_file_that_appeared_or_vanished_is_a_conflict() -> None:
    files = {"old.py": "bye\n", "src.py": "one\n"}
    with pytest.raises(EditConflict, match="created meanwhile"):
        plan_edit(changes_for(files, FILE_OPS), View({**files, "new.py": "x"}), VSCODE, "x")
    with pytest.raises(EditConflict, match="no longer exists"):
        plan_edit(changes_for(files, FILE_OPS), View({"src.py": "one\n"}), VSCODE, "x")


MOVE_OVER = "*** Begin Patch\n*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"


@pytest.mark.parametrize("caps", [VSCODE, MINIMAL], ids=["rename", "disk"])
def test_a_move_over_a_file_changed_or_created_since_is_a_conflict(caps: ClientCaps) -> None:
    """The file a move replaces is checked like the one it edits: typed into since, or created since
    (where the patch found none), the move is refused rather than overwrite it."""
    over = {"src.py": "one\n", "dst.py": "old\n"}
    plan = plan_edit(changes_for(over, MOVE_OVER), View(over), caps, "x")
    assert plan.expected == {"src.py": None, "dst.py": "uno\n"}
    if caps is VSCODE:
        assert plan.edit is not None
        [rename] = [op for op in plan.edit.document_changes or [] if isinstance(op, types.RenameFile)]
        assert rename.options == types.RenameFileOptions(overwrite=True)
    with pytest.raises(EditConflict, match=r"dst\.py was changed in the editor.*not moving src\.py over it"):
        plan_edit(changes_for(over, MOVE_OVER), View({**over, "dst.py": "typed\n"}), caps, "x")
    alone = {"src.py": "one\n"}
    with pytest.raises(EditConflict, match=r"dst\.py was changed in the editor"):
        plan_edit(changes_for(alone, MOVE_OVER), View({**alone, "dst.py": "new\n"}), caps, "x")

    class BinaryThere(View):  # a file that is not text appeared at the destination
        def current(self, path: str) -> Current:
            if path == "dst.py":
                return Current("file:///ws/dst.py", None, exists=True)
            return super().current(path)

    with pytest.raises(EditConflict, match=r"dst\.py was changed in the editor"):
        plan_edit(changes_for(alone, MOVE_OVER), BinaryThere(alone), caps, "x")


def test_deleting_a_file_that_is_not_text() -> None:
    """The engine may delete a binary file without its text (``old_text`` ``None``)."""

    class Binary(View):
        def current(self, path: str) -> Current:
            return Current(f"file:///ws/{path}", None, exists=path == "blob.bin")

    change = FileChange(ChangeKind.DELETE, "blob.bin", None, None)
    plan = plan_edit((change,), Binary({}), NEOVIM, "x")
    assert plan.edit is not None
    assert [type(op).__name__ for op in plan.edit.document_changes or []] == ["DeleteFile"]
    with pytest.raises(EditConflict, match="no longer exists"):
        plan_edit((FileChange(ChangeKind.DELETE, "gone.bin", None, None),), Binary({}), NEOVIM, "x")


# -- versions: the snapshot a change was computed against, and the version its edit names --------------


def buffer_source(root: Path, buffers: dict[str, tuple[str, int]]) -> tuple[BufferFileSource, Expected]:
    """The server's file source over ``root`` with ``buffers`` (path → text, version) open."""
    documents = DocumentStore()
    for path, (text, version) in buffers.items():
        uri = from_fs_path(str(root / path)) or ""
        documents.open(types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text))
    expected = Expected()
    return BufferFileSource(root, documents, expected), expected


def test_the_buffer_source_snapshots_buffers_with_their_version(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "open.py").write_text("on disk\n", encoding="utf-8")
    (root / "closed.py").write_text("closed\n", encoding="utf-8")
    (root / "edited.py").write_text("before\n", encoding="utf-8")
    source, expected = buffer_source(root, {"open.py": ("in the buffer\n", 4)})
    assert source.snapshot("open.py") == Snapshot("in the buffer\n", 4)
    closed = source.snapshot("closed.py")
    assert (closed.text, closed.version) == ("closed\n", None)
    assert closed.stamp is not None, "a file read from disk carries its stamp"
    expected.set(str(root / "edited.py"), "after\n")  # an applied edit the editor has not reported yet
    assert source.snapshot("edited.py") == Snapshot("after\n")
    expected.set(str(root / "closed.py"), None)
    with pytest.raises(FileNotFoundError):
        source.snapshot("closed.py")
    (change,) = compute_changes(
        parse_patch(update("open.py", "in the buffer", "in THE buffer")), source
    ).changes
    assert change.base == Snapshot("in the buffer\n", 4), "the change knows the buffer version it fits"


def versioned_edit(
    plan_text: str, current: str, version: int, *, computed_at: int = 4
) -> types.TextDocumentEdit:
    """The versioned edit for ``b = 2`` → ``b = 3`` computed against ``plan_text`` at buffer version
    ``computed_at``, planned when the buffer holds ``current`` at ``version``."""

    class Source:
        def resolve(self, raw: str) -> str:
            return raw

        def kind(self, path: str) -> PathKind:
            return PathKind.FILE

        def read_text(self, path: str) -> str:
            return plan_text

        def snapshot(self, path: str) -> Snapshot:
            return Snapshot(plan_text, 4)

    changes = compute_changes(parse_patch(update("a.py", "b = 2", "b = 3")), Source()).changes
    plan = plan_edit(changes, View({"a.py": current}, {"a.py": version}), VSCODE, "x")
    assert plan.edit is not None
    (doc_edit,) = plan.edit.document_changes or []
    assert isinstance(doc_edit, types.TextDocumentEdit)
    assert plan.expected["a.py"] == current.replace("b = 2", "b = 3")
    return doc_edit


def test_the_versioned_edit_names_the_version_the_patch_was_computed_against() -> None:
    text = "a = 1\nb = 2\n"
    assert versioned_edit(text, text, 4).text_document.version == 4


def test_an_edit_carried_to_a_newer_buffer_names_the_newer_version() -> None:
    text = "a = 1\nb = 2\n"
    moved = versioned_edit(text, "# typed\n" + text, 6)
    assert moved.text_document.version == 6
    assert moved.edits[0].range.start.line == 2, "moved below the line the user typed"
    # The user typed and undid it: the text is the same, the buffer is not.
    assert versioned_edit(text, text, 5).text_document.version == 5


def test_a_reopened_buffer_with_the_same_version_is_compared_by_text() -> None:
    """Closing and reopening a document starts its versions again: version 4 is no longer the text
    the patch was computed against, so the edit is carried over, not sent as it was."""
    text = "a = 1\nb = 2\n"
    reopened = versioned_edit(text, "# reopened\n" + text, 4)
    assert reopened.text_document.version == 4
    assert reopened.edits[0].range.start.line == 2


# -- undoing the file operations the server wrote (an edit the editor then refused) ---------------------


def test_undoing_an_update_restores_the_old_text_unless_the_file_changed_since(tmp_path: Path) -> None:
    """``inverse`` of an update writes the old text back, checked against the new text the update
    wrote: a file changed since keeps what it holds now."""
    (tmp_path / "a.py").write_text("new\n", encoding="utf-8")
    (undo,) = inverse((FileChange(ChangeKind.UPDATE, "a.py", "old\n", "new\n"),))
    write_changes(tmp_path, (undo,))
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "old\n"
    (tmp_path / "a.py").write_text("mine\n", encoding="utf-8")
    with pytest.raises(PatchStaleError):
        write_changes(tmp_path, (undo,))
    assert (tmp_path / "a.py").read_text(encoding="utf-8") == "mine\n"


def test_undoing_a_move_leaves_a_destination_changed_since(tmp_path: Path) -> None:
    (tmp_path / "dst.py").write_text("uno\n", encoding="utf-8")
    (undo,) = inverse((FileChange(ChangeKind.MOVE, "src.py", "one\n", "uno\n", "dst.py"),))
    (tmp_path / "dst.py").write_text("mine\n", encoding="utf-8")
    with pytest.raises(PatchStaleError):
        write_changes(tmp_path, (undo,))
    assert (tmp_path / "dst.py").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "src.py").exists()


def test_a_move_onto_an_existing_file_on_disk_and_its_undo(tmp_path: Path) -> None:
    """A client without file operations: the server itself moves a file onto an existing one, and
    undoing that (the editor refused the rest) puts both files back as they were."""
    files = {"src.py": "one\ntwo\n", "dst.py": "old\n"}
    for path, text in files.items():
        (tmp_path / path).write_text(text, encoding="utf-8")
    move = "*** Begin Patch\n*** Update File: src.py\n*** Move to: dst.py\n@@\n-one\n+uno\n*** End Patch"
    plan = plan_edit(changes_for(files, move), View(files), MINIMAL, "x")
    write_changes(tmp_path, plan.disk)
    assert (tmp_path / "dst.py").read_text(encoding="utf-8") == "uno\ntwo\n"
    assert not (tmp_path / "src.py").exists()
    write_changes(tmp_path, inverse(plan.disk))
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == files
