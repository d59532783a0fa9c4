"""What a turn tells the model besides the user's words: project instructions, permissions, the
environment, and where the user is in the editor.

- **AGENTS.md**, as Codex 0.169 reads it: the global ``$CODEX_HOME/AGENTS.override.md`` or ``AGENTS.md``
  (the first non-empty, trimmed), then one project file per directory from the git root down to the
  workspace root (``AGENTS.override.md``, ``AGENTS.md``, then ``project_doc_fallback_filenames``; the
  first non-empty wins), joined root-first under ``project_doc_max_bytes`` (0 leaves the project files
  out). Sent as a user message wrapping ``<INSTRUCTIONS>``: ``# AGENTS.md instructions for <cwd>`` when
  project files were read, the global text first and ``--- project-doc ---`` between the two; without
  project files the heading names no folder.
- The developer message after the base prompt: ``developer_instructions`` then Codex's
  ``<permissions instructions>`` (:mod:`codex_lsp.agent.permissions`).
- ``<environment_context>``: cwd, and the shell when the agent has one.
- Editor context and "Fix with Codex" requests, rendered from what the editor shows (unsaved
  buffer text included, read through the :class:`Workspace`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_lsp.agent.interfaces import Diagnostic, EditorContext, OpenBuffer, Selection, Workspace
from codex_lsp.agent.tools.read_file import split_lines
from codex_lsp.agent.tools.text import fence, truncate_utf8, utf8_len
from codex_lsp.agent.tools.walk import find_git_root
from codex_lsp.patch import PatchError

if TYPE_CHECKING:
    from codex_lsp.model import PromptSettings

__all__ = [
    "agents_md_message",
    "default_codex_home",
    "developer_context_message",
    "environment_context_message",
    "global_instructions",
    "instructions_message",
    "project_doc_paths",
    "project_docs",
    "render_editor_context",
    "render_fix_request",
    "user_message",
]

OVERRIDE_NAME = "AGENTS.override.md"
DEFAULT_NAME = "AGENTS.md"
PROJECT_DOC_SEPARATOR = "\n\n--- project-doc ---\n\n"
"""Between the global instructions and the project's, as Codex joins them."""
FIX_CONTEXT_LINES = 3
FIX_MAX_RANGE_LINES = 20
FIX_MAX_SHOWN = 200
"""Diagnostics a fix turn shows with the code around them; the next ones get one line each."""
FIX_MAX_LISTED = 2_000
"""Diagnostics a fix turn names at all; the rest are counted. "Fix all" of 100,000 problems would
otherwise be a prompt of tens of megabytes, which no model takes (and no one turn fixes)."""


def default_codex_home() -> Path:
    """``$CODEX_HOME``, else ``~/.codex``."""
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")


def _read_nonempty(path: Path) -> str | None:
    """The text of ``path`` when it is a file (links followed) with more than whitespace."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return None
    return text if text.strip() else None


def _first_nonempty(directory: Path, names: Iterable[str]) -> tuple[Path, str] | None:
    for name in names:
        text = _read_nonempty(directory / name)
        if text is not None:
            return directory / name, text
    return None


def global_instructions(codex_home: Path) -> str | None:
    """The user's own instructions for every project, trimmed."""
    found = _first_nonempty(codex_home, (OVERRIDE_NAME, DEFAULT_NAME))
    return found[1].strip() if found else None


def project_doc_paths(root: Path, fallback_names: Sequence[str] = ()) -> list[Path]:
    """The project instruction files that apply to ``root``, root-most first (one per directory)."""
    root = root.resolve()
    top = find_git_root(root) or root
    below = root.relative_to(top).parts
    directories = [top.joinpath(*below[:depth]) for depth in range(len(below) + 1)]
    names = (OVERRIDE_NAME, DEFAULT_NAME, *fallback_names)
    found = (_first_nonempty(directory, names) for directory in directories)
    return [hit[0] for hit in found if hit is not None]


def project_docs(root: Path, prompt: PromptSettings) -> str | None:
    """The project instructions joined by blank lines, cut at ``project_doc_max_bytes``."""
    remaining = prompt.project_doc_max_bytes
    parts: list[str] = []
    for path in project_doc_paths(root, prompt.project_doc_fallback_filenames) if remaining else ():
        full = _read_nonempty(path) or ""
        text = truncate_utf8(full, remaining)
        if text.strip():
            parts.append(text)
        remaining -= utf8_len(text)
        if text != full or remaining <= 0:
            break  # the budget is spent: later files would only add fragments
    return "\n\n".join(parts) or None


def user_message(text: str) -> dict[str, Any]:
    """A user-role input item of the Responses API."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def instructions_message(cwd: Path | str | None, text: str) -> dict[str, Any]:
    """The AGENTS.md instructions as Codex sends them: a user message, naming ``cwd`` when given."""
    heading = f"# AGENTS.md instructions for {cwd}" if cwd is not None else "# AGENTS.md instructions"
    return user_message(f"{heading}\n\n<INSTRUCTIONS>\n{text}\n</INSTRUCTIONS>")


def agents_md_message(root: Path, codex_home: Path | None, prompt: PromptSettings) -> dict[str, Any] | None:
    """The global and project instructions for ``root`` as one message, or ``None`` when there are none."""
    home = codex_home or default_codex_home()
    own, project = global_instructions(home), project_docs(root, prompt)
    if project is None:
        return instructions_message(None, own) if own else None
    return instructions_message(root, f"{own}{PROJECT_DOC_SEPARATOR}{project}" if own else project)


def developer_context_message(parts: Sequence[str]) -> dict[str, Any]:
    """The developer message after the base prompt: one text part each (``developer_instructions``, the
    permissions), as Codex sends it."""
    content = [{"type": "input_text", "text": text} for text in parts]
    return {"type": "message", "role": "developer", "content": content}


def environment_context_message(cwd: Path | str, *, shell_enabled: bool) -> dict[str, Any]:
    """The ``<environment_context>`` message: where the agent works, and its shell when it has one (the
    sandbox and the approval policy are in the permissions, :mod:`codex_lsp.agent.permissions`)."""
    fields = {"cwd": str(cwd)}
    if shell_enabled:
        fields["shell"] = Path(os.environ.get("SHELL") or "bash").name
    body = "\n".join(f"  <{key}>{value}</{key}>" for key, value in fields.items())
    return user_message(f"<environment_context>\n{body}\n</environment_context>")


class _Lines:
    """Lines of files as the editor shows them, read once per render."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.cache: dict[str, list[str] | None] = {}

    def of(self, path: str) -> list[str] | None:
        if path not in self.cache:
            try:
                self.cache[path] = split_lines(self.workspace.read_text(path))
            except (OSError, PatchError):
                self.cache[path] = None
        return self.cache[path]


def _position(line: int, character: int) -> str:
    return f"{line + 1}:{character + 1}"


def _labels(diagnostic: Diagnostic) -> str:
    parts = [f"source: {diagnostic.source}" if diagnostic.source else "", _code(diagnostic)]
    joined = ", ".join(part for part in parts if part)
    return f" ({joined})" if joined else ""


def _code(diagnostic: Diagnostic) -> str:
    return f"code: {diagnostic.code}" if diagnostic.code not in (None, "") else ""


def _diagnostic_line(diagnostic: Diagnostic, lines: _Lines) -> list[str]:
    severity = diagnostic.severity or "problem"
    where = f"{diagnostic.path}:{_position(diagnostic.start_line, diagnostic.start_character)}"
    out = [f"- {where}: {severity}: {diagnostic.message}{_labels(diagnostic)}"]
    text = lines.of(diagnostic.path)
    if text is not None and diagnostic.start_line < len(text):
        out.append(f"  {diagnostic.start_line + 1} | {text[diagnostic.start_line]}")
    return out


def _selection_lines(active: str | None, selection: Selection) -> list[str]:
    where = f" in {active}" if active else ""
    start = _position(selection.start_line, selection.start_character)
    if (selection.start_line, selection.start_character) == (selection.end_line, selection.end_character):
        return [f"Cursor{where} at {start} (line:column, 1-based)"]
    end = _position(selection.end_line, selection.end_character)
    header = f"Selection{where} from {start} to {end} (line:column, 1-based):"
    return [header, fence(selection.text)] if selection.text else [header]


def _buffer_label(buffer: OpenBuffer) -> str:
    return f"{buffer.path} (unsaved changes)" if buffer.dirty else buffer.path


def render_editor_context(ctx: EditorContext, workspace: Workspace) -> str:
    """The editor state for the model; empty when the editor told us nothing."""
    out: list[str] = []
    if ctx.active_file:
        out.append(f"Active file: {ctx.active_file}")
    if ctx.selection is not None:
        out += _selection_lines(ctx.active_file, ctx.selection)
    if ctx.diagnostics:
        lines = _Lines(workspace)
        out.append("Diagnostics (line:column, 1-based):")
        out += [line for diagnostic in ctx.diagnostics for line in _diagnostic_line(diagnostic, lines)]
    if ctx.open_buffers:
        out.append("Open buffers: " + ", ".join(_buffer_label(buffer) for buffer in ctx.open_buffers))
    return "\n".join(["# Editor context", *out]) if out else ""


def _excerpt(diagnostic: Diagnostic, lines: list[str]) -> str:
    """The lines a diagnostic covers, with a few around them, its lines marked with ``>``."""
    last_marked = min(diagnostic.end_line, diagnostic.start_line + FIX_MAX_RANGE_LINES - 1)
    first = max(diagnostic.start_line - FIX_CONTEXT_LINES, 0)
    last = min(last_marked + FIX_CONTEXT_LINES, len(lines) - 1)
    width = len(str(last + 1))
    rows = []
    for index in range(first, last + 1):
        mark = ">" if diagnostic.start_line <= index <= last_marked else " "
        rows.append(f"{mark} {index + 1:>{width}} | {lines[index]}")
    return fence("\n".join(rows))


def _fix_entry(number: int, diagnostic: Diagnostic, lines: _Lines) -> str:
    head = _fix_line(number, diagnostic)
    text = lines.of(diagnostic.path)
    if text is None or diagnostic.start_line >= len(text):
        return head + "\n(The file cannot be read or is shorter than this range.)"
    return f"{head}\n{_excerpt(diagnostic, text)}"


def _fix_line(number: int, diagnostic: Diagnostic) -> str:
    start = _position(diagnostic.start_line, diagnostic.start_character)
    end = _position(diagnostic.end_line, diagnostic.end_character)
    severity = diagnostic.severity or "problem"
    return f"{number}. {diagnostic.path} {start}-{end}: {severity}: {diagnostic.message}{_labels(diagnostic)}"


def render_fix_request(diagnostics: Sequence[Diagnostic], workspace: Workspace) -> str:
    """The task of a "Fix with Codex" turn: each diagnostic with its range and the code around it — the
    first ``FIX_MAX_SHOWN``; then one line each up to ``FIX_MAX_LISTED``; then how many more there are."""
    count = len(diagnostics)
    noun = "this problem" if count == 1 else f"these {count} problems"
    intro = (
        f"Fix {noun} reported by the editor. Change only what the fix needs and keep the rest "
        "of the code as it is. Positions are line:column, 1-based; lines marked > are the range."
    )
    lines = _Lines(workspace)
    parts = [intro, *(_fix_entry(i, d, lines) for i, d in enumerate(diagnostics[:FIX_MAX_SHOWN], start=1))]
    listed = diagnostics[FIX_MAX_SHOWN:FIX_MAX_LISTED]
    if listed:
        rows = (_fix_line(i, d) for i, d in enumerate(listed, start=FIX_MAX_SHOWN + 1))
        parts.append("The next ones, without their code (read it as you need it):\n" + "\n".join(rows))
    if count > FIX_MAX_LISTED:
        parts.append(
            f"{count - FIX_MAX_LISTED} more problems are not listed here: fix the ones above first; the "
            "editor reports what remains."
        )
    return "\n\n".join(parts)
