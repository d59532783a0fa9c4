"""AGENTS.md discovery (order, fallbacks, budget), the messages Codex sends, and editor context."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_lsp.agent.context import (
    agents_md_message,
    environment_context_message,
    global_instructions,
    instructions_message,
    project_doc_paths,
    project_docs,
    render_editor_context,
    render_fix_request,
)
from codex_lsp.agent.interfaces import Diagnostic, EditorContext, OpenBuffer, Selection
from codex_lsp.model import PromptSettings
from tests.agent.fakes import DiskWorkspace, write_files

DEFAULTS = PromptSettings()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with instructions at three levels; the workspace is ``repo/pkg/app``."""
    write_files(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "AGENTS.md": "root rules\n",
            "pkg/AGENTS.override.md": "pkg override\n",
            "pkg/AGENTS.md": "pkg shadowed\n",
            "pkg/app/AGENTS.md": "app rules\n",
            "pkg/app/src/AGENTS.md": "below the workspace: never read\n",
        },
    )
    (tmp_path / "AGENTS.md").write_text("above the git root: never read\n")
    return tmp_path / "repo"


def test_one_file_per_directory_from_git_root_down(repo: Path) -> None:
    workspace = repo / "pkg" / "app"
    assert project_doc_paths(workspace) == [
        repo / "AGENTS.md",
        repo / "pkg" / "AGENTS.override.md",
        workspace / "AGENTS.md",
    ]
    assert project_docs(workspace, DEFAULTS) == "root rules\n\n\npkg override\n\n\napp rules\n"


def test_git_file_marks_the_root_too(repo: Path) -> None:
    (repo / "pkg" / ".git").write_text("gitdir: ../.git/worktrees/pkg\n")
    assert project_doc_paths(repo / "pkg" / "app")[0] == repo / "pkg" / "AGENTS.override.md"


def test_without_git_only_the_workspace_is_searched(tmp_path: Path) -> None:
    write_files(tmp_path, {"AGENTS.md": "outer\n", "ws/AGENTS.md": "inner\n"})
    assert project_docs(tmp_path / "ws", DEFAULTS) == "inner\n"


def test_empty_files_are_skipped_and_fallbacks_used(repo: Path) -> None:
    (repo / "pkg" / "AGENTS.override.md").write_text("  \n")
    (repo / "AGENTS.md").unlink()
    (repo / "CLAUDE.md").write_text("fallback rules\n")
    settings = PromptSettings(project_doc_fallback_filenames=("CLAUDE.md",))
    assert project_docs(repo / "pkg", settings) == "fallback rules\n\n\npkg shadowed\n"
    assert project_docs(repo / "pkg", DEFAULTS) == "pkg shadowed\n"


def test_directory_named_like_the_file_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.override.md").mkdir()
    (tmp_path / "AGENTS.md").write_text("real\n")
    assert project_docs(tmp_path, DEFAULTS) == "real\n"


def test_symlinked_file_is_followed(tmp_path: Path) -> None:
    (tmp_path / "shared.md").write_text("shared rules\n")
    (tmp_path / "AGENTS.md").symlink_to(tmp_path / "shared.md")
    assert project_docs(tmp_path, DEFAULTS) == "shared rules\n"


def test_budget_cuts_on_a_character_boundary_and_stops(repo: Path) -> None:
    (repo / "AGENTS.md").write_text("é" * 10)
    settings = PromptSettings(project_doc_max_bytes=7)
    assert project_docs(repo / "pkg" / "app", settings) == "ééé"


def test_budget_spans_files(repo: Path) -> None:
    settings = PromptSettings(project_doc_max_bytes=len("root rules\n") + 3)
    assert project_docs(repo / "pkg" / "app", settings) == "root rules\n\n\npkg"


def test_zero_budget_disables_project_docs(repo: Path) -> None:
    assert project_docs(repo / "pkg" / "app", PromptSettings(project_doc_max_bytes=0)) is None


def test_global_override_wins_then_plain_and_is_trimmed(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    write_files(home, {"AGENTS.md": "plain\n", "AGENTS.override.md": "\n override\n\n"})
    assert global_instructions(home) == "override"
    (home / "AGENTS.override.md").write_text("")
    assert global_instructions(home) == "plain"
    assert global_instructions(tmp_path / "missing") is None


def _text(message: dict[str, object] | None) -> str:
    assert message is not None
    content = message["content"]
    assert isinstance(content, list)
    return str(content[0]["text"])


def test_global_text_comes_first_and_is_not_budgeted(repo: Path, tmp_path: Path) -> None:
    """As Codex 0.169 joins them: the global text, ``--- project-doc ---``, the project's (cut at the
    budget), under a heading naming the folder."""
    home = tmp_path / "codex"
    write_files(home, {"AGENTS.md": "my global rules\n"})
    workspace = repo / "pkg" / "app"
    assert _text(agents_md_message(workspace, home, PromptSettings(project_doc_max_bytes=4))) == (
        f"# AGENTS.md instructions for {workspace}\n\n<INSTRUCTIONS>\nmy global rules\n\n"
        "--- project-doc ---\n\nroot\n</INSTRUCTIONS>"
    )
    assert agents_md_message(tmp_path / "nothing", tmp_path / "none", DEFAULTS) is None


def test_without_project_docs_the_heading_names_no_folder(repo: Path, tmp_path: Path) -> None:
    """A zero budget leaves the project's files out; the global ones still go, as Codex sends them."""
    home = tmp_path / "codex"
    write_files(home, {"AGENTS.md": "my global rules\n"})
    message = agents_md_message(repo, home, PromptSettings(project_doc_max_bytes=0))
    assert _text(message) == "# AGENTS.md instructions\n\n<INSTRUCTIONS>\nmy global rules\n</INSTRUCTIONS>"
    assert agents_md_message(repo, tmp_path / "none", PromptSettings(project_doc_max_bytes=0)) is None


def test_codex_home_from_the_environment(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path / "env-home", {"AGENTS.md": "from env\n"})
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "env-home"))
    assert "<INSTRUCTIONS>\nfrom env\n\n--- project-doc ---" in _text(agents_md_message(repo, None, DEFAULTS))


def test_instructions_message_shape() -> None:
    message = instructions_message("/work/app", "be brief")
    assert message == {
        "type": "message",
        "role": "user",
        "content": [
            {
                "type": "input_text",
                "text": "# AGENTS.md instructions for /work/app\n\n<INSTRUCTIONS>\nbe brief\n</INSTRUCTIONS>",
            }
        ],
    }


def test_environment_context_names_the_folder_and_the_shell_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = environment_context_message("/work/app", shell_enabled=False)["content"][0]["text"]
    assert text == "<environment_context>\n  <cwd>/work/app</cwd>\n</environment_context>"
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    text = environment_context_message("/w", shell_enabled=True)["content"][0]["text"]
    assert text == "<environment_context>\n  <cwd>/w</cwd>\n  <shell>zsh</shell>\n</environment_context>"


@pytest.fixture
def workspace(tmp_path: Path) -> DiskWorkspace:
    write_files(tmp_path, {"app.py": "".join(f"line {n}\n" for n in range(1, 21)), "util.py": "import os\n"})
    return DiskWorkspace(tmp_path, buffers={"util.py": "import os\nimport sys  # unsaved\n"})


def diagnostic(path: str, line: int, **extra: object) -> Diagnostic:
    fields: dict[str, object] = {"start_character": 0, "end_line": line, "end_character": 4, "message": "bad"}
    return Diagnostic.model_validate({"path": path, "start_line": line, **fields, **extra})


def test_editor_context_renders_everything(workspace: DiskWorkspace) -> None:
    ctx = EditorContext(
        active_file="util.py",
        selection=Selection(start_line=1, start_character=0, end_line=1, end_character=10, text="import sys"),
        diagnostics=(diagnostic("util.py", 1, severity="warning", source="ruff", code="F401"),),
        open_buffers=(OpenBuffer(path="util.py", dirty=True), OpenBuffer(path="app.py")),
    )
    assert render_editor_context(ctx, workspace).splitlines() == [
        "# Editor context",
        "Active file: util.py",
        "Selection in util.py from 2:1 to 2:11 (line:column, 1-based):",
        "```",
        "import sys",
        "```",
        "Diagnostics (line:column, 1-based):",
        "- util.py:2:1: warning: bad (source: ruff, code: F401)",
        "  2 | import sys  # unsaved",
        "Open buffers: util.py (unsaved changes), app.py",
    ]


def test_editor_context_cursor_and_nothing(workspace: DiskWorkspace) -> None:
    cursor = Selection(start_line=4, start_character=2, end_line=4, end_character=2)
    assert render_editor_context(
        EditorContext(active_file="app.py", selection=cursor), workspace
    ).splitlines() == [
        "# Editor context",
        "Active file: app.py",
        "Cursor in app.py at 5:3 (line:column, 1-based)",
    ]
    assert render_editor_context(EditorContext(), workspace) == ""


def test_selection_with_backticks_gets_a_longer_fence(workspace: DiskWorkspace) -> None:
    selection = Selection(start_line=0, start_character=0, end_line=0, end_character=5, text="```py")
    rendered = render_editor_context(EditorContext(selection=selection), workspace)
    assert "\n````\n```py\n````" in rendered


def test_fix_request_lists_each_diagnostic_with_code_around_it(workspace: DiskWorkspace) -> None:
    problems = [
        diagnostic("app.py", 9, severity="error", source="pyright", code=3, end_line=10),
        diagnostic("util.py", 1),
    ]
    text = render_fix_request(problems, workspace)
    assert text.startswith("Fix these 2 problems reported by the editor.")
    assert "1. app.py 10:1-11:5: error: bad (source: pyright, code: 3)\n```\n" in text
    assert "\n   7 | line 7\n" in text
    assert "\n> 10 | line 10\n> 11 | line 11\n" in text
    assert "\n  14 | line 14\n```" in text
    assert "line 6" not in text
    assert "line 15" not in text
    assert "2. util.py 2:1-2:5: problem: bad\n```\n  1 | import os\n> 2 | import sys  # unsaved\n```" in text


def test_fix_request_for_an_unreadable_file(workspace: DiskWorkspace) -> None:
    text = render_fix_request([diagnostic("gone.py", 0)], workspace)
    assert text.startswith("Fix this problem")
    assert "cannot be read" in text


def test_a_fix_request_of_many_problems_stays_a_prompt(workspace: DiskWorkspace) -> None:
    """The first FIX_MAX_SHOWN with their code, the next ones a line each up to FIX_MAX_LISTED, then a
    count: a "fix all" of 100,000 problems is not a prompt of tens of megabytes."""
    from codex_lsp.agent.context import FIX_MAX_LISTED, FIX_MAX_SHOWN

    many = [diagnostic("app.py", n % 20, message=f"problem {n}") for n in range(FIX_MAX_LISTED + 7)]
    text = render_fix_request(many, workspace)
    assert text.startswith(f"Fix these {len(many)} problems")
    assert text.count("\n```\n") == 2 * FIX_MAX_SHOWN, "one fenced excerpt for each shown"
    assert f"{FIX_MAX_SHOWN}. app.py " in text
    shown_last = text.index(f"{FIX_MAX_SHOWN}. app.py ")
    listed = text.index(f"\n{FIX_MAX_SHOWN + 1}. app.py ")
    assert "```" not in text[listed:], "the next ones without code"
    assert shown_last < listed
    assert f"\n{FIX_MAX_LISTED}. app.py " in text
    assert f"{FIX_MAX_LISTED + 1}. app.py" not in text
    assert text.endswith(
        "7 more problems are not listed here: fix the ones above first; the editor reports what remains."
    )
    assert len(text) < 300_000
    exactly = render_fix_request(many[:FIX_MAX_SHOWN], workspace)
    assert "The next ones" not in exactly
    assert "not listed" not in render_fix_request(many[:FIX_MAX_LISTED], workspace)
