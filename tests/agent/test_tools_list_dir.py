"""list_dir: sorted, indented, directories marked, .git and ignored files hidden, capped."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.list_dir import ListDirTool
from tests.agent.fakes import DiskWorkspace, call_tool, tool_context, write_files

TOOL = ListDirTool()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_files(
        tmp_path,
        {
            ".gitignore": "build/\n*.log\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "README.md": "hi\n",
            "debug.log": "noise\n",
            "build/out.bin": "x",
            "src/b.py": "",
            "src/a.py": "",
            "src/pkg/deep/mod.py": "",
            "src/pkg/deep/deeper/x.py": "",
        },
    )
    return tmp_path


async def test_depth_one_lists_direct_children(root: Path) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)))
    assert result.success
    assert result.output.splitlines() == ["./", "  .gitignore", "  README.md", "  src/"]


async def test_depth_three_indents_each_level(root: Path) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), path="src", depth=3)
    assert result.output.splitlines() == [
        "src/",
        "  a.py",
        "  b.py",
        "  pkg/",
        "    deep/",
        "      deeper/",
        "      mod.py",
    ]


async def test_cap_reports_what_was_left_out(root: Path) -> None:
    ctx = tool_context(DiskWorkspace(root), AgentSettings(list_max_entries=2))
    result = await call_tool(TOOL, ctx, path="src", depth=3)
    lines = result.output.splitlines()
    assert lines[:3] == ["src/", "  a.py", "  b.py"]
    assert lines[3].startswith("[4 more entries not shown")


async def test_nested_gitignore_applies_below_it(root: Path) -> None:
    write_files(root, {"src/.gitignore": "pkg/\n", "src/pkg2/keep.py": ""})
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), path="src", depth=2)
    assert "pkg/" not in result.output.split()
    assert "pkg2/" in result.output.split()


async def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = await call_tool(TOOL, tool_context(DiskWorkspace(tmp_path)), path="empty")
    assert result.output.splitlines() == ["empty/", "  (empty)"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"path": "README.md"}, "is a file"),
        ({"path": "missing"}, "does not exist"),
        ({"path": "../"}, "outside the workspace"),
        ({"depth": 4}, "depth"),
        ({"depth": 0}, "depth"),
    ],
)
async def test_errors(root: Path, arguments: dict[str, object], expected: str) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), **arguments)
    assert not result.success
    assert expected in result.output
