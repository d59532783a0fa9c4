"""A patch's file changes as one ``WorkspaceEdit`` shaped for this client, checked against the current text.

Each change is checked against what the user sees *now* — the open buffer, else the disk — right
before it is sent (no ``await`` in between, so the version sent is the one the server last saw). A
buffer still in the state the patch was computed against (the change's ``base`` snapshot: same
version, same text) gets the edits as computed, named with that version; text the user changed
elsewhere gets the edits carried over (:func:`~codex_lsp.lsp.host.rebase.rebase`), named with the
newer version they now fit; text changed where the edits go raises :class:`EditConflict` and
nothing is sent. Ranges are computed here from the change's old text and
its edit offsets, with LSP's line breaks and the negotiated position encoding, trimmed to the
characters that really change.

Shapes, by client capability:

- ``documentChanges`` (versioned ``TextDocumentEdit``s; open buffers carry their version) with
  ``CreateFile`` / ``RenameFile`` / ``DeleteFile`` for each operation the client supports;
- ``changes`` (uri → edits) for clients without ``documentChanges``;
- file operations the client cannot do are returned as :attr:`EditPlan.disk` for the server to
  write itself (atomically, with the patch writer), while the text edits still go to the editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from lsprotocol import types

from codex_lsp.lsp.capabilities import ClientCaps
from codex_lsp.lsp.host.rebase import Edit, apply_edits, checked_edits, rebase, trimmed
from codex_lsp.lsp.positions import LineIndex
from codex_lsp.patch import ChangeKind, FileChange, Snapshot

__all__ = ["Current", "CurrentView", "EditConflict", "EditPlan", "inverse", "lsp_text_edits", "plan_edit"]

ANNOTATION = "codex"


class Current(NamedTuple):
    """What a path holds now: its text (``None``: missing or not text), its buffer version when open,
    and whether a file is there at all."""

    uri: str
    text: str | None
    version: int | None = None
    is_open: bool = False
    exists: bool | None = None
    """``None``: as ``text`` says (a file exists when it has text)."""

    @property
    def present(self) -> bool:
        return self.text is not None if self.exists is None else self.exists


class CurrentView(Protocol):
    """Where the plan reads the current state of a workspace path."""

    def current(self, path: str) -> Current: ...


class EditConflict(Exception):
    """The workspace moved under the patch; the message is written for the model."""


@dataclass
class EditPlan:
    """What applying a patch takes: an edit for the editor and/or file operations for the server."""

    edit: types.WorkspaceEdit | None
    disk: tuple[FileChange, ...] = ()
    """File operations the server writes itself (the client cannot do them)."""
    expected: dict[str, str | None] = field(default_factory=dict)
    """path → its text once the edit is applied (``None``: deleted), for reads until the editor
    reports the file open or the disk changes."""


def lsp_text_edits(
    text: str, edits: Sequence[Edit], caps: ClientCaps, annotated: bool
) -> list[types.TextEdit | types.AnnotatedTextEdit]:
    """``edits`` of ``text`` as LSP text edits in the negotiated encoding."""
    index = LineIndex(text, caps.position_encoding)
    result: list[types.TextEdit | types.AnnotatedTextEdit] = []
    for edit in edits:
        start, end = index.position(edit.start), index.position(edit.end)
        rng = types.Range(types.Position(*start), types.Position(*end))
        if annotated:
            result.append(types.AnnotatedTextEdit(range=rng, new_text=edit.new, annotation_id=ANNOTATION))
        else:
            result.append(types.TextEdit(range=rng, new_text=edit.new))
    return result


def inverse(changes: Sequence[FileChange]) -> tuple[FileChange, ...]:
    """The changes that undo ``changes`` (applied in reverse order)."""
    undo: list[FileChange] = []
    for change in reversed(changes):
        if change.kind is ChangeKind.ADD:
            undo.append(FileChange(ChangeKind.DELETE, change.path, change.new_text, None))
        elif change.kind is ChangeKind.DELETE:
            undo.append(FileChange(ChangeKind.ADD, change.path, None, change.old_text))
        elif change.kind is ChangeKind.MOVE and change.move_to and change.replaced is not None:
            # The move overwrote a file: its text goes back, and the source is written again beside it.
            undo.append(FileChange(ChangeKind.UPDATE, change.move_to, change.new_text, change.replaced.text))
            undo.append(FileChange(ChangeKind.ADD, change.path, None, change.old_text))
        elif change.kind is ChangeKind.MOVE and change.move_to:
            undo.append(
                FileChange(ChangeKind.MOVE, change.move_to, change.new_text, change.old_text, change.path)
            )
        else:
            undo.append(FileChange(ChangeKind.UPDATE, change.path, change.new_text, change.old_text))
    return tuple(undo)


class _Builder:
    """Accumulates one workspace edit in the shape the client takes."""

    def __init__(self, caps: ClientCaps, label: str) -> None:
        self.caps = caps
        self.label = label
        self.annotated = caps.document_changes and caps.change_annotations
        self.document_changes: list[
            types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile
        ] = []
        self.changes: dict[str, list[types.TextEdit]] = {}
        self.disk: list[FileChange] = []
        self.expected: dict[str, str | None] = {}

    def text(self, current: Current, text: str, edits: Sequence[Edit], version: int | None = None) -> None:
        """Edits of ``text`` (the text of ``current``'s path at buffer ``version``, if open)."""
        if not edits:
            return
        lsp_edits = lsp_text_edits(text, edits, self.caps, self.annotated)
        if self.caps.document_changes:
            document = types.OptionalVersionedTextDocumentIdentifier(uri=current.uri, version=version)
            self.document_changes.append(
                types.TextDocumentEdit(text_document=document, edits=list(lsp_edits))
            )
        else:
            plain = [e for e in lsp_edits if isinstance(e, types.TextEdit)]  # never annotated here
            self.changes.setdefault(current.uri, []).extend(plain)

    def operation(self, op: types.CreateFile | types.RenameFile | types.DeleteFile) -> None:
        if self.annotated:
            op.annotation_id = ANNOTATION
        self.document_changes.append(op)

    def build(self) -> EditPlan:
        edit: types.WorkspaceEdit | None = None
        if self.document_changes:
            annotations = None
            if self.annotated:
                annotations = {ANNOTATION: types.ChangeAnnotation(label=self.label, needs_confirmation=False)}
            edit = types.WorkspaceEdit(document_changes=self.document_changes, change_annotations=annotations)
        elif self.changes:
            edit = types.WorkspaceEdit(changes=self.changes)
        return EditPlan(edit, tuple(self.disk), self.expected)


class _Placed(NamedTuple):
    """A change's edits positioned in the text a path holds now, and the buffer version of that text
    (``None``: the file is not open; the edit is not versioned)."""

    edits: list[Edit]
    version: int | None


def _minimal(text: str, edits: Sequence[Edit]) -> list[Edit]:
    return [edit for edit in (trimmed(text, e) for e in edits) if edit.start != edit.end or edit.new]


def _placed(change: FileChange, current: Current) -> _Placed:
    """The change's edits against ``current`` and the version they are for, or :class:`EditConflict`.

    While the buffer is still the state the patch was computed against (``change.base``: same
    version, same text) the edits stand as computed, for that version. Otherwise they are carried
    over to the current text (:func:`~codex_lsp.lsp.host.rebase.rebase`) and name the current
    version — the text they are now positioned in. The text is compared even when the versions
    agree: a document closed and reopened starts its versions again.
    """
    assert current.text is not None
    old, new = change.old_text or "", change.new_text or ""
    edits = checked_edits(old, new, [(e.start, e.end, e.text) for e in change.edits])
    version = current.version if current.is_open else None
    base = change.base
    if version is not None and base is not None and (base.version, base.text) == (version, current.text):
        return _Placed(_minimal(current.text, edits), base.version)
    moved = rebase(old, current.text, edits)
    if moved is None:
        raise EditConflict(
            f"{change.path} was changed in the editor while the patch was prepared, in the lines the "
            "patch edits."
        )
    return _Placed(_minimal(current.text, moved), version)


def _existing(view: CurrentView, path: str) -> Current:
    current = view.current(path)
    if current.text is None:
        raise EditConflict(f"{path} no longer exists.")
    return current


def _update(builder: _Builder, view: CurrentView, change: FileChange) -> None:
    current = _existing(view, change.path)
    assert current.text is not None
    placed = _placed(change, current)
    builder.text(current, current.text, placed.edits, placed.version)
    builder.expected[change.path] = apply_edits(current.text, placed.edits)


def _add(builder: _Builder, view: CurrentView, change: FileChange) -> None:
    current = view.current(change.path)
    if current.present:
        raise EditConflict(f"{change.path} was created meanwhile; read it and patch it instead.")
    text = change.new_text or ""
    builder.expected[change.path] = text
    if builder.caps.create_files:
        builder.operation(types.CreateFile(uri=current.uri))
        builder.text(current, "", [Edit(0, 0, text)])
    else:
        builder.disk.append(FileChange(ChangeKind.ADD, change.path, None, text))


def _delete(builder: _Builder, view: CurrentView, change: FileChange) -> None:
    current = view.current(change.path)
    if not current.present:
        raise EditConflict(f"{change.path} no longer exists.")
    if change.old_text is not None and current.text != change.old_text:  # None: a file that is not text
        raise EditConflict(f"{change.path} was changed in the editor since it was read; not deleting it.")
    builder.expected[change.path] = None
    if builder.caps.delete_files:
        builder.operation(types.DeleteFile(uri=current.uri))
    else:
        builder.disk.append(FileChange(ChangeKind.DELETE, change.path, current.text, None))


def _move(builder: _Builder, view: CurrentView, change: FileChange) -> None:
    current = _existing(view, change.path)
    assert current.text is not None
    assert change.move_to is not None
    placed = _placed(change, current)
    new_text = apply_edits(current.text, placed.edits)
    target = view.current(change.move_to)
    # A move onto a file replaces it: that file must still be as the patch found it (absent, or with the
    # text the move replaces), or text typed into it since would be overwritten unseen.
    replaced = change.replaced.text if change.replaced is not None else None
    if (target.present, target.text) != (change.replaced is not None, replaced):
        raise EditConflict(
            f"{change.move_to} was changed in the editor while the patch was prepared; not moving "
            f"{change.path} over it."
        )
    builder.expected.update({change.path: None, change.move_to: new_text})
    if builder.caps.rename_files:
        builder.text(current, current.text, placed.edits, placed.version)
        overwrite = types.RenameFileOptions(overwrite=True) if target.text is not None else None
        builder.operation(types.RenameFile(old_uri=current.uri, new_uri=target.uri, options=overwrite))
    else:
        overwritten = Snapshot(target.text) if target.text is not None else None
        builder.disk.append(
            FileChange(
                ChangeKind.MOVE, change.path, current.text, new_text, change.move_to, replaced=overwritten
            )
        )


_STEPS = {
    ChangeKind.UPDATE: _update,
    ChangeKind.ADD: _add,
    ChangeKind.DELETE: _delete,
    ChangeKind.MOVE: _move,
}


def plan_edit(changes: Sequence[FileChange], view: CurrentView, caps: ClientCaps, label: str) -> EditPlan:
    """Turn ``changes`` into what must be sent and written; raise :class:`EditConflict` if stale."""
    builder = _Builder(caps, label)
    for change in changes:
        _STEPS[change.kind](builder, view, change)
    return builder.build()
