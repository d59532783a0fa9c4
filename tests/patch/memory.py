"""An in-memory :class:`SnapshotSource` for tests, standing in for editor buffers."""

from __future__ import annotations

from collections.abc import Iterable

from codex_lsp.patch import PathKind, Snapshot, TextEdit
from codex_lsp.patch.paths import normalise_path


class MemorySource:
    """Files held in a dict of relative path → text; directories are implied by file paths.

    ``versions`` are the buffers' versions that :meth:`snapshot` reports (``None`` when absent).
    """

    def __init__(self, files: dict[str, str], versions: dict[str, int] | None = None) -> None:
        self.files = dict(files)
        self.versions = dict(versions or {})

    def resolve(self, raw: str) -> str:
        return normalise_path(raw)

    def kind(self, path: str) -> PathKind:
        if path in self.files:
            return PathKind.FILE
        prefix = path + "/"
        return PathKind.DIRECTORY if any(p.startswith(prefix) for p in self.files) else PathKind.MISSING

    def read_text(self, path: str) -> str:
        return self.files[path]

    def snapshot(self, path: str) -> Snapshot:
        return Snapshot(self.read_text(path), self.versions.get(path))


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits (offsets into ``text``) the way an editor would."""
    out: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: e.start):
        assert edit.start >= cursor, "edits overlap"
        out.append(text[cursor : edit.start])
        out.append(edit.text)
        cursor = edit.end
    out.append(text[cursor:])
    return "".join(out)
