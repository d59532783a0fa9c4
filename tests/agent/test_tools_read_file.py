"""read_file: numbered windows of what the editor shows, caps with a way to continue, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.read_file import ReadFileTool, split_lines
from tests.agent.fakes import DiskWorkspace, call_tool, tool_context, write_files

TOOL = ReadFileTool()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_files(tmp_path, {"src/app.py": "".join(f"line {n}\n" for n in range(1, 11))})
    return tmp_path


async def test_whole_file_with_header_and_numbers(root: Path) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), path="src/app.py")
    lines = result.output.splitlines()
    assert result.success
    assert lines[0] == "src/app.py (lines 1-10 of 10)"
    assert lines[1] == "L1: line 1"
    assert lines[-1] == "L10: line 10"
    assert len(lines) == 11


async def test_line_range_is_inclusive(root: Path) -> None:
    result = await call_tool(
        TOOL, tool_context(DiskWorkspace(root)), path="src/app.py", start_line=3, end_line=5
    )
    assert result.output.splitlines() == [
        "src/app.py (lines 3-5 of 10)",
        "L3: line 3",
        "L4: line 4",
        "L5: line 5",
    ]


async def test_end_line_past_the_end_is_clamped(root: Path) -> None:
    result = await call_tool(
        TOOL, tool_context(DiskWorkspace(root)), path="src/app.py", start_line=9, end_line=99
    )
    assert result.output.splitlines()[0] == "src/app.py (lines 9-10 of 10)"


async def test_unsaved_buffer_wins_over_disk(root: Path) -> None:
    workspace = DiskWorkspace(root, buffers={"src/app.py": "edited in the editor\n"})
    result = await call_tool(TOOL, tool_context(workspace), path="src/app.py")
    assert result.output.splitlines() == ["src/app.py (lines 1-1 of 1)", "L1: edited in the editor"]


async def test_absolute_path_inside_workspace_is_accepted(root: Path) -> None:
    ctx = tool_context(DiskWorkspace(root))
    result = await call_tool(TOOL, ctx, path=str(root / "src" / "app.py"), start_line=2, end_line=2)
    assert result.output.splitlines() == ["src/app.py (lines 2-2 of 10)", "L2: line 2"]


async def test_line_cap_names_the_next_start_line(root: Path) -> None:
    ctx = tool_context(DiskWorkspace(root), AgentSettings(read_max_lines=4))
    result = await call_tool(TOOL, ctx, path="src/app.py", start_line=2)
    lines = result.output.splitlines()
    assert lines[0] == "src/app.py (lines 2-5 of 10)"
    assert lines[1:5] == ["L2: line 2", "L3: line 3", "L4: line 4", "L5: line 5"]
    assert "start_line=6" in lines[5]
    follow = await call_tool(TOOL, ctx, path="src/app.py", start_line=6)
    assert follow.output.splitlines()[0] == "src/app.py (lines 6-9 of 10)"


async def test_byte_cap_cuts_between_lines(tmp_path: Path) -> None:
    write_files(tmp_path, {"big.txt": "".join(f"{n:04d} " + "x" * 95 + "\n" for n in range(1, 101))})
    ctx = tool_context(DiskWorkspace(tmp_path), AgentSettings(read_max_bytes=1024))
    result = await call_tool(TOOL, ctx, path="big.txt")
    body = result.output.splitlines()
    shown = [line for line in body if line.startswith("L")]
    assert len(result.output.encode()) < 1024 + 200
    assert 5 <= len(shown) <= 10
    assert body[0] == f"big.txt (lines 1-{len(shown)} of 100)"
    assert f"start_line={len(shown) + 1}" in body[-1]


async def test_single_huge_line_is_cut_on_a_character_boundary(tmp_path: Path) -> None:
    write_files(tmp_path, {"min.js": "é" * 5000 + "\nsecond\n"})
    ctx = tool_context(DiskWorkspace(tmp_path), AgentSettings(read_max_bytes=1024))
    result = await call_tool(TOOL, ctx, path="min.js")
    lines = result.output.splitlines()
    assert lines[0] == "min.js (lines 1-1 of 2)"
    assert lines[1].startswith("L1: éé")
    assert "line cut" in lines[1]
    assert "start_line=2" in lines[-1]
    assert "\ufffd" not in result.output


@pytest.mark.parametrize(
    ("files", "path", "expected"),
    [
        ({}, "nope.py", "File not found: nope.py"),
        ({"pkg/a.py": "x"}, "pkg", "is a directory"),
        ({"img.png": b"\x89PNG\r\n\x1a\n\0\0\0"}, "img.png", "binary"),
        ({"latin.txt": "caf\xe9".encode("latin-1")}, "latin.txt", "not a UTF-8 text file"),
        ({}, "../outside.txt", "outside the workspace"),
        ({}, "/etc/passwd", "outside the workspace"),
    ],
)
async def test_failures_are_error_outputs(
    tmp_path: Path, files: dict[str, str | bytes], path: str, expected: str
) -> None:
    write_files(tmp_path, files)
    result = await call_tool(TOOL, tool_context(DiskWorkspace(tmp_path)), path=path)
    assert not result.success
    assert expected in result.output


async def test_symlink_leaving_the_workspace_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("secret\n")
    root = tmp_path / "ws"
    root.mkdir()
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), path="link.txt")
    assert not result.success
    assert "secret" not in result.output


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"path": "src/app.py", "start_line": 11}, "past the end"),
        ({"path": "src/app.py", "start_line": 5, "end_line": 3}, "before start_line"),
        ({"path": "src/app.py", "start_line": 0}, "start_line"),
        ({"start_line": 1}, "path"),
    ],
)
async def test_bad_arguments_are_error_outputs(
    root: Path, arguments: dict[str, object], expected: str
) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), **arguments)
    assert not result.success
    assert expected in result.output


async def test_empty_file(tmp_path: Path) -> None:
    write_files(tmp_path, {"empty.txt": ""})
    result = await call_tool(TOOL, tool_context(DiskWorkspace(tmp_path)), path="empty.txt")
    assert result.success
    assert result.output == "empty.txt (empty file, 0 lines)"


def test_split_lines_matches_editor_numbering() -> None:
    assert split_lines("a\r\nb\n") == ["a", "b"]
    assert split_lines("a\nb") == ["a", "b"]
    assert split_lines("a\n\n") == ["a", ""]
    assert split_lines("form\x0cfeed\n") == ["form\x0cfeed"]
