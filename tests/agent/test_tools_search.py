"""search: literal/regex, .gitignore honoured, binaries skipped, open buffers searched unsaved."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_lsp.agent.interfaces import OpenBuffer
from codex_lsp.agent.settings import AgentSettings
from codex_lsp.agent.tools.search import SearchTool
from tests.agent.fakes import DiskWorkspace, call_tool, tool_context, write_files

TOOL = SearchTool()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_files(
        tmp_path,
        {
            ".gitignore": "build/\n*.gen.py\n",
            ".git/config": "needle in git\n",
            "b.py": "x = 1\nNeedle = 2\n",
            "a.py": "needle()\nother\nneedle again\n",
            "sub/c.txt": "a needle\n",
            "sub/.gitignore": "private.txt\n",
            "sub/private.txt": "needle hidden\n",
            "build/out.py": "needle built\n",
            "code.gen.py": "needle generated\n",
            "blob.bin": b"needle\0\x01\x02",
        },
    )
    return tmp_path


async def search(root: Path, workspace: DiskWorkspace | None = None, **arguments: object) -> list[str]:
    result = await call_tool(TOOL, tool_context(workspace or DiskWorkspace(root)), **arguments)
    assert result.success, result.output
    return result.output.splitlines()


async def test_literal_search_is_case_insensitive_sorted_and_honours_gitignore(root: Path) -> None:
    assert await search(root, pattern="needle") == [
        "a.py:1: needle()",
        "a.py:3: needle again",
        "b.py:2: Needle = 2",
        "sub/c.txt:1: a needle",
    ]


async def test_case_sensitive(root: Path) -> None:
    assert await search(root, pattern="Needle", case_sensitive=True) == ["b.py:2: Needle = 2"]


async def test_literal_pattern_is_not_a_regex(root: Path) -> None:
    write_files(root, {"d.py": "call(x)\ncallxx\n"})
    assert await search(root, pattern="call(x)") == ["d.py:1: call(x)"]


async def test_regex(root: Path) -> None:
    expected = ["a.py:1: needle()", "a.py:3: needle again"]
    assert await search(root, pattern=r"^needle\b", regex=True, case_sensitive=True) == expected


async def test_bad_regex_is_an_error_output(root: Path) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), pattern="(unclosed", regex=True)
    assert not result.success
    assert "Invalid regular expression" in result.output


async def test_path_limits_to_a_directory_or_a_file(root: Path) -> None:
    assert await search(root, pattern="needle", path="sub") == ["sub/c.txt:1: a needle"]
    assert await search(root, pattern="needle", path="a.py") == ["a.py:1: needle()", "a.py:3: needle again"]


async def test_explicit_file_is_searched_even_when_ignored(root: Path) -> None:
    assert await search(root, pattern="needle", path="build/out.py") == ["build/out.py:1: needle built"]


async def test_glob(root: Path) -> None:
    assert await search(root, pattern="needle", glob="*.txt") == ["sub/c.txt:1: a needle"]
    assert await search(root, pattern="needle", glob="sub/**/*.txt") == ["sub/c.txt:1: a needle"]


async def test_open_buffers_are_searched_in_their_unsaved_text(root: Path) -> None:
    workspace = DiskWorkspace(
        root, buffers={"a.py": "nothing here\nstill needle\n", "new.py": "needle new\n"}
    )
    assert await search(root, workspace, pattern="needle") == [
        "a.py:2: still needle",
        "b.py:2: Needle = 2",
        "new.py:1: needle new",
        "sub/c.txt:1: a needle",
    ]


async def test_ignored_open_buffer_is_not_searched(root: Path) -> None:
    workspace = DiskWorkspace(root, buffers={"build/out.py": "needle in buffer\n"})
    assert "build/out.py" not in "\n".join(await search(root, workspace, pattern="needle"))


async def test_buffers_outside_the_scope_are_not_read(root: Path) -> None:
    workspace = DiskWorkspace(root, buffers={"a.py": "needle\n"})
    await search(root, workspace, pattern="needle", path="sub")
    assert workspace.reads == []


async def test_results_are_capped_with_a_count(root: Path) -> None:
    write_files(root, {"many.txt": "needle\n" * 30})
    ctx = tool_context(DiskWorkspace(root), AgentSettings(search_max_results=5))
    result = await call_tool(TOOL, ctx, pattern="needle")
    lines = result.output.splitlines()
    assert len(lines) == 6
    assert lines[:2] == ["a.py:1: needle()", "a.py:3: needle again"]
    assert lines[-1] == "[29 more matches not shown]"


async def test_long_lines_are_trimmed(root: Path) -> None:
    write_files(root, {"long.txt": "needle " + "y" * 500 + "\n"})
    (line,) = await search(root, pattern="needle", path="long.txt")
    assert len(line) < 230
    assert line.endswith("…")


async def test_no_match(root: Path) -> None:
    assert await search(root, pattern="absent") == ["No matches for 'absent' in .."]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"pattern": "x", "path": "../"}, "outside the workspace"),
        ({"pattern": "x", "path": "missing.py"}, "does not exist"),
        ({"pattern": ""}, "pattern"),
    ],
)
async def test_errors(root: Path, arguments: dict[str, object], expected: str) -> None:
    result = await call_tool(TOOL, tool_context(DiskWorkspace(root)), **arguments)
    assert not result.success
    assert expected in result.output


def test_open_buffer_fake_reports_unsaved(tmp_path: Path) -> None:
    workspace = DiskWorkspace(tmp_path, buffers={"a.py": "x", "b.py": "y"}, saved=["b.py"])
    assert workspace.open_buffers() == [
        OpenBuffer(path="a.py", version=1, dirty=True),
        OpenBuffer(path="b.py", version=1, dirty=False),
    ]
